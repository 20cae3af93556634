"""Rendering one notebook: the report directory, hidden code, masked IDs, failures.

Every render goes into ``tmp_path`` (never the working tree's reports/); the notebooks are
the tiny fixtures in tests/fixtures/ (nb_ok: parameters of every type, a figure, masked
customer IDs, metrics; nb_broken: the second code cell raises).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from html_tags import tags as _tags

from crmlab import config, privacy, report

FIXTURES = Path(__file__).parents[1] / "fixtures"
OK, BROKEN = FIXTURES / "nb_ok.ipynb", FIXTURES / "nb_broken.ipynb"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """nb_ok rendered once with two parameters given on the 'command line' (strings)."""
    root = tmp_path_factory.mktemp("reports")
    return report.render(OK, {"n": "5", "rate": "0.5"}, output_root=root), root


def test_render_writes_the_report_directory(rendered):
    result, root = rendered
    assert result.ok and result.error is None
    # rate equals its default, so it does not name the directory
    assert result.path == root / "nb_ok" / "n=5"
    assert sorted(p.name for p in result.path.iterdir()) == [
        "kernel.log", "metrics.json", "notebook.ipynb", "params.yaml", "report.html",
        "report.json", "tables"]
    assert yaml.safe_load((result.path / "params.yaml").read_text()) == {
        "title": "Toy", "n": 5, "rate": 0.5, "flag": False, "as_of": "2011-12-09",
        "show_pii": False}
    # hand-computed: total = n * rate = 5 * 0.5
    assert json.loads((result.path / "metrics.json").read_text()) == {
        "n": 5, "total": 2.5, "flag": False, "as_of": "2011-12-09", "title": "Toy"}
    meta = json.loads((result.path / "report.json").read_text())
    assert meta["status"] == "ok" and meta["parameters"] == {"n": 5}
    assert meta["provenance"]["packages"]["pandas"] == pd.__version__
    assert meta["provenance"]["inputs"]["data/hillstrom.csv.gz"] == hashlib.sha256(
        config.HILLSTROM.read_bytes()).hexdigest()
    assert not [p for p in result.path.parent.iterdir() if p.name.startswith(".")]


def test_html_report_hides_code_embeds_figures_and_masks_ids(rendered):
    result, root = rendered
    page = result.html.read_text()
    assert "plt.subplots" not in page and "publish_metrics" not in page  # code hidden
    assert "5 rows at rate 0.50" in page  # the Markdown output is there
    imgs = [a for t, a in _tags(page) if t == "img"]
    assert [i["src"][:26] for i in imgs] == ["data:image/png;base64,iVBO",
                                             "data:image/svg+xml;base64,"]
    assert not re.search(r"<script|https?://cdn", page, re.I)
    assert "Content-Security-Policy" in page
    # customer IDs pseudonymised by default
    masked = privacy.pseudonymise(pd.Series(["17850"]))[0]
    assert "17850" not in page and masked in page
    index = (root / "index.html").read_text()
    assert "nb_ok/n=5/report.html" in index and "n=5" in index and ">ok<" in index


def test_show_pii_passes_the_flag_and_gets_its_own_report(tmp_path):
    result = report.render(OK, output_root=tmp_path, show_pii=True)
    assert result.ok and result.path.name == "show_pii=True"
    page = result.html.read_text()
    assert "17850" in page and "raw customer identifiers" in page


def test_failed_run_keeps_the_last_good_report(tmp_path):
    nb = tmp_path / "toy.ipynb"
    root = tmp_path / "reports"
    shutil.copy(OK, nb)
    good = report.render(nb, output_root=root)
    assert good.ok
    before = (good.path / "report.json").read_text()

    shutil.copy(BROKEN, nb)  # same notebook name and parameter key, now failing
    bad = report.render(nb, output_root=root)
    assert bad.status == "failed"
    assert bad.error == f"cell 3: ValueError: {privacy.HIDDEN}"  # may quote data: hidden
    assert bad.path == root / "toy" / "default.failed"
    assert (good.path / "report.json").read_text() == before  # good report untouched
    assert json.loads((bad.path / "metrics.json").read_text()) == {"reached": 1}
    page = bad.html.read_text()
    assert "raise" in page and privacy.HIDDEN in page  # failing cell's code, the error
    assert "boom with x=1" not in page and "traceback hidden" in page
    assert "This report failed" in page
    assert "publish_metrics(reached=1)" not in page  # other cells' code still hidden
    assert not [p for p in (root / "toy").iterdir() if p.name.startswith(".")]
    index = (root / "index.html").read_text()
    assert "toy/default/report.html" in index and "toy/default.failed/report.html" in index
    assert "boom with x=1" not in index and privacy.HIDDEN in index

    shutil.copy(OK, nb)  # fixed: the failure record goes away
    again = report.render(nb, output_root=root)
    assert again.ok and not (root / "toy" / "default.failed").exists()
