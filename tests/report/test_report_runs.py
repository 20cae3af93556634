"""Dated runs (manifest, list_runs, load_run) and the index over every report."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from crmlab import RenderError, config, privacy, report

FIXTURES = Path(__file__).parents[1] / "fixtures"
OK, BROKEN = FIXTURES / "nb_ok.ipynb", FIXTURES / "nb_broken.ipynb"


def test_index_ignores_half_written_directories(tmp_path):
    half = tmp_path / "nb_ok" / ".default.tmp-1234"
    half.mkdir(parents=True)
    (half / "report.json").write_text(json.dumps({"notebook": "nb_ok", "status": "ok"}))
    page = report.write_index(tmp_path).read_text()
    assert "tmp-1234" not in page and "None yet" in page


def test_dated_batch_run_with_manifest(tmp_path):
    batch = report.render_batch([BROKEN, (OK, {"n": "4"})], output_root=tmp_path,
                                as_of="2011-09-01", progress=False)
    broken, ok = batch.results
    assert not batch.ok and broken.status == "failed" and ok.ok  # the failure did not stop ok
    assert ok.path == tmp_path / "runs" / "2011-09-01" / "nb_ok" / "n=4"
    assert ok.metrics["as_of"] == "2011-09-01"  # --as-of reached the notebook
    assert "as_of" not in broken.values  # nb_broken does not declare as_of

    manifest = json.loads(batch.manifest.read_text())
    assert manifest["as_of"] == "2011-09-01" and manifest["status"] == "failed"
    by_nb = {e["notebook"]: e for e in manifest["reports"]}
    assert by_nb["nb_ok"]["status"] == "ok" and by_nb["nb_broken"]["status"] == "failed"
    assert by_nb["nb_ok"]["values"]["as_of"] == "2011-09-01"
    assert by_nb["nb_broken"]["error"] == f"cell 3: ValueError: {privacy.HIDDEN}"
    assert manifest["packages"]["pandas"] == pd.__version__
    assert "commit" in manifest["git"]
    assert manifest["started"] <= manifest["finished"]
    groceries = config.GROCERIES
    assert manifest["inputs"]["data/groceries.csv"] == hashlib.sha256(
        groceries.read_bytes()).hexdigest()

    # what `crmlab compare` needs: find the run, its metrics and parameters
    assert report.list_runs(tmp_path) == ["2011-09-01"]
    run = report.load_run("2011-09-01", output_root=tmp_path)
    entry = next(e for e in run["reports"] if e["notebook"] == "nb_ok")
    assert entry["metrics"]["n"] == 4
    assert yaml.safe_load(entry["params_path"].read_text())["as_of"] == "2011-09-01"
    with pytest.raises(RenderError, match="no rendered run"):
        report.load_run("2011-10-01", output_root=tmp_path)
    # one report of the run as data, with the tables it published (IDs pseudonymised)
    toy = report.load_run("2011-09-01", output_root=tmp_path, notebook="nb_ok")
    assert toy["status"] == "ok" and toy["metrics"]["total"] == 2.0
    assert toy["params"]["n"] == 4
    customers = toy["tables"]["customers"]
    assert list(customers["orders"]) == [4, 5]
    assert list(customers["customer_id"]) == list(privacy.pseudonymise(pd.Series(["17850", "13047"])))
    assert by_nb["nb_ok"]["tables"] == ["customers"]
    index = (tmp_path / "index.html").read_text()
    assert "Run 2011-09-01" in index and "runs/2011-09-01/manifest.json" in index
    # runs are listed by date, newest first
    shutil.copytree(tmp_path / "runs" / "2011-09-01", tmp_path / "runs" / "2011-12-01")
    index = report.write_index(tmp_path).read_text()
    assert index.index("Run 2011-12-01") < index.index("Run 2011-09-01")
    assert report.list_runs(tmp_path) == ["2011-09-01", "2011-12-01"]


def test_parallel_batch_publishes_like_the_sequential_one(tmp_path):
    """jobs=2: each report is published whole in its place (no leftover work folders), a
    failure stays beside the others, results come back in batch order."""
    batch = report.render_batch([BROKEN, (OK, {"n": "1"}), (OK, {"n": "2"})], output_root=tmp_path,
                                jobs=2, progress=False)
    broken, one, two = batch.results
    assert broken.status == "failed" and broken.path == tmp_path / "nb_broken" / "default.failed"
    assert one.path == tmp_path / "nb_ok" / "n=1" and one.metrics["n"] == 1
    assert two.path == tmp_path / "nb_ok" / "n=2" and two.metrics["n"] == 2
    assert sorted(p.name for p in (tmp_path / "nb_ok").iterdir()) == ["n=1", "n=2"]
    assert all((r.path / "report.html").is_file() for r in batch.results)
    assert "n=2/report.html" in batch.index.read_text()


def test_parallel_batch_starts_the_longest_notebook_first(tmp_path):
    """Past report.json times order a parallel batch, longest first; never-rendered jobs
    go first in batch order."""
    from crmlab.report.batch import start_order
    from crmlab.report.render import prepare

    jobs = [prepare(OK, {"n": str(n)}, show_pii=False, as_of=None) for n in (1, 2, 3, 4)]
    for n, seconds in ((1, 5.0), (2, 30.0), (4, 12.0)):
        (tmp_path / "nb_ok" / f"n={n}").mkdir(parents=True)
        (tmp_path / "nb_ok" / f"n={n}" / "report.json").write_text(json.dumps({"seconds": seconds}))
    assert start_order(jobs, tmp_path, None) == [2, 1, 3, 0]
    # a dated run without its own history uses the undated reports' times
    assert start_order(jobs, tmp_path, "2011-09-01") == [2, 1, 3, 0]
    assert start_order(jobs, tmp_path / "elsewhere", None) == [0, 1, 2, 3]


def test_a_never_rendered_notebook_is_placed_by_its_own_estimate(tmp_path):
    """Before any report exists (a fresh checkout's first make report) the metadata hint
    ``crmlab.seconds`` orders the batch; a past report's time wins over the hint."""
    from crmlab.report.batch import start_order
    from crmlab.report.render import prepare

    paths = []
    for name, hint in (("quick", 2), ("long", 40), ("plain", None), ("middle", 9)):
        nb = json.loads(OK.read_text())
        if hint is not None:
            nb["metadata"]["crmlab"] = {"seconds": hint}
        path = tmp_path / "books" / f"{name}.ipynb"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(nb))
        paths.append(path)
    jobs = [prepare(str(p), {}, show_pii=False, as_of=None) for p in paths]
    assert [j.expected_seconds for j in jobs] == [2.0, 40.0, None, 9.0]
    # no estimate at all goes first (it may be long), then the longest expected
    assert start_order(jobs, tmp_path / "out", None) == [2, 1, 3, 0]
    (tmp_path / "out" / "quick" / "default").mkdir(parents=True)
    (tmp_path / "out" / "quick" / "default" / "report.json").write_text(json.dumps({"seconds": 60.0}))
    assert start_order(jobs, tmp_path / "out", None) == [2, 0, 1, 3]
    # the shipped notebooks carry their estimate: the retention report starts first
    from crmlab.report.parameters import expected_seconds

    shipped = {p.stem: expected_seconds(p) for p in sorted((Path(__file__).parents[2] / "notebooks").glob("0*.ipynb"))}
    assert max(shipped, key=shipped.get) == "03-retention-ltv" and all(shipped.values())
