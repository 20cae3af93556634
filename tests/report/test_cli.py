"""The ``crmlab`` command line: render, params, quality.

Bad input (unknown notebook or parameter, wrong type, bad data) is one line on stderr and
exit status 2, with no traceback; a notebook that fails gives exit status 1 and the others
of the batch still render. Output goes to tmp_path via CRMLAB_REPORTS_DIR.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crmlab import cli

FIXTURES = Path(__file__).parents[1] / "fixtures"
OK, BROKEN = FIXTURES / "nb_ok.ipynb", FIXTURES / "nb_broken.ipynb"
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
LINES = [
    "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n",
    "536366,71053,LANTERN,2,2010-12-01 10:00:00,3.39,13047,France\n",
    "C536367,71053,LANTERN,-1,2010-12-02 09:00:00,3.39,13047,France\n",
]


@pytest.fixture(autouse=True)
def reports(tmp_path, monkeypatch):
    root = tmp_path / "reports"
    monkeypatch.setenv("CRMLAB_REPORTS_DIR", str(root))
    return root


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("crmlab: error: ") and "Traceback" not in err
    return lines[0]


def test_params_lists_names_types_defaults_and_help(capsys):
    code, out, _ = _run(capsys, "params", OK)
    assert code == 0
    rows = [line.split(None, 3) for line in out.splitlines()[2:]]
    assert rows[1] == ["n", "int", "3", "number of rows"]
    assert rows[2] == ["rate", "float", "0.5", "a rate between 0 and 1"]
    assert [r[0] for r in rows] == ["title", "n", "rate", "flag", "as_of", "show_pii"]


@pytest.mark.parametrize("argv, words", [
    (["render", OK, "-p", "n", "many"], ["'n'", "'many'", "expected int", "rate: float = 0.5"]),
    (["render", OK, "-p", "colour", "red"], ["unknown parameter 'colour'", "n: int = 3"]),
    (["render", OK, "-p", "show_pii", "true"], ["--show-pii"]),
    (["render", "no-such-notebook"], ["no-such-notebook", "notebook not found"]),
    (["render", OK, "--as-of", "yesterday"], ["'yesterday'", "YYYY-MM-DD"]),
    (["render", FIXTURES / "nb_noparams.ipynb", "--as-of", "2011-09-01"],
     ["nb_noparams does not declare an as_of parameter", "declare as_of"]),
    (["render", "--all", "-p", "n", "1"], ["single notebook"]),
    (["params", "no-such-notebook"], ["notebook not found"]),
])
def test_bad_input_is_one_line_and_exit_2(capsys, reports, argv, words):
    code, out, err = _run(capsys, *argv)
    assert code == 2
    line = _one_line_error(err)
    for word in words:
        assert word in line
    assert not reports.exists()  # refused before any kernel started


def test_a_typo_in_a_batch_file_renders_nothing(capsys, reports, tmp_path):
    batch = tmp_path / "batch.yml"
    batch.write_text(f"- {OK}\n- notebook: {BROKEN}\n  parameters: {{x: lots}}\n")
    code, out, err = _run(capsys, "render", "--config", batch)
    assert code == 2 and "'x'" in _one_line_error(err) and "'lots'" in err
    assert not reports.exists()


def test_unwritable_output_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the reports folder should be")
    code, out, err = _run(capsys, "render", OK, "--output", blocker / "reports", "--no-progress")
    assert code == 2 and "cannot write the report" in _one_line_error(err)


def test_console_script_exits_2_without_traceback(tmp_path):
    script = Path(sys.executable).with_name("crmlab")
    proc = subprocess.run([str(script), "render", str(OK), "-p", "rate", "high"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "'rate'" in proc.stderr and "expected float" in proc.stderr


def test_render_all_renders_numbered_notebooks_and_reports_failures(capsys, reports, tmp_path):
    nbs = tmp_path / "notebooks"
    (nbs / "exploratory").mkdir(parents=True)
    shutil.copy(BROKEN, nbs / "01-broken.ipynb")
    shutil.copy(OK, nbs / "02-toy.ipynb")
    shutil.copy(OK, nbs / "exploratory" / "03-scratch.ipynb")
    shutil.copy(OK, nbs / "draft.ipynb")
    code, out, err = _run(capsys, "render", "--all", "--notebooks-dir", nbs, "--no-progress",
                          "-j", "2")  # two worker processes
    assert code == 1  # one notebook failed; the other still rendered
    assert sorted(p.name for p in reports.iterdir()) == ["01-broken", "02-toy", "index.html"]
    assert (reports / "02-toy" / "default" / "report.html").is_file()
    assert (reports / "01-broken" / "default.failed" / "report.html").is_file()
    assert "1 rendered, 1 failed" in out
    # a ValueError may quote customer data: its message is hidden without --show-pii
    assert "ValueError: [hidden: render with --show-pii to see it]" in out
    assert str(reports / "02-toy" / "default" / "report.html") in out
    assert out.strip().splitlines()[-1] == f"HTML reports: {reports / 'index.html'}"


def test_scheduled_run_from_a_batch_file(capsys, reports, tmp_path):
    (tmp_path / "nb").mkdir()
    shutil.copy(OK, tmp_path / "nb" / "toy.ipynb")
    schedule = tmp_path / "schedule.yml"
    schedule.write_text("- notebook: nb/toy.ipynb\n  parameters: {n: 6}\n")  # relative to the file
    code, out, err = _run(capsys, "render", "--config", schedule, "--as-of", "2011-09-01",
                          "--no-progress")
    assert code == 0, err
    run = reports / "runs" / "2011-09-01"
    assert f"Run manifest: {run / 'manifest.json'}" in out
    metrics = json.loads((run / "toy" / "n=6" / "metrics.json").read_text())
    assert metrics["as_of"] == "2011-09-01" and metrics["total"] == 3.0
    manifest = json.loads((run / "manifest.json").read_text())
    assert [(e["notebook"], e["key"], e["status"]) for e in manifest["reports"]] == [
        ("toy", "n=6", "ok")]
    assert manifest["config_file"] == str(schedule)


def test_render_one_notebook_with_parameters_and_show_pii(capsys, reports, tmp_path,
                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orders.csv").write_text("a file named relative to the working directory")
    code, out, err = _run(capsys, "render", OK, "-p", "n", "2", "-p", "flag", "true",
                          "-p", "title", "orders.csv", "--show-pii")
    assert code == 0, err
    assert "rendering" in err and "1/1" in err  # the progress bar, on stderr
    (report_dir,) = (reports / "nb_ok").iterdir()
    assert report_dir.name.startswith("flag=True,n=2,show_pii=True,title=orders.csv,")
    metrics = json.loads((report_dir / "metrics.json").read_text())
    assert metrics["n"] == 2 and metrics["total"] == 1.0 and metrics["flag"] is True
    # the kernel runs in the notebook's folder, so the file reached it as an absolute path
    assert metrics["title"] == str(tmp_path / "orders.csv")
    assert "17850" in (report_dir / "report.html").read_text()
    assert "1 rendered, 0 failed" in out


# ----------------------------------------------------------------- quality


def _csv(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_quality_prints_the_summary(capsys, tmp_path):
    path = _csv(tmp_path, "good.csv", HEADER + "".join(LINES))
    code, out, err = _run(capsys, "quality", path, "--columns", "online_retail")
    assert code == 0, err
    rows = dict(line.split(None, 1) for line in out.splitlines()[2:12])
    assert rows["rows"].strip() == "3" and rows["customers"].strip() == "2"
    assert rows["cancellation_rows"].strip() == "1"
    assert float(rows["revenue"]) == pytest.approx(6 * 2.55 + 2 * 3.39 - 3.39)
    assert "Cleaning audit" in out


def test_quality_reads_a_source_file(capsys):
    """The Korean export: CP949, Korean headers, 오전/오후 times, "8,920" prices."""
    code, out, err = _run(capsys, "quality", FIXTURES / "korean_shop.yml")
    assert code == 0, err
    rows = dict(line.split(None, 1) for line in out.splitlines()[2:12])
    assert rows["source"].strip() == "한국 쇼핑몰 주문"
    assert rows["rows"].strip() == "30651" and rows["customers"].strip() == "292"


def test_quality_refuses_a_bad_source_file_naming_the_key(capsys, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\npath: x.csv\nencodng: cp949\n", encoding="utf-8")
    code, out, err = _run(capsys, "quality", bad)
    assert code == 2
    line = _one_line_error(err)
    assert "bad.yml" in line and "unknown key 'encodng'" in line


def test_quality_missing_file(capsys, tmp_path):
    code, out, err = _run(capsys, "quality", tmp_path / "nope.csv", "--columns", "online_retail")
    assert code == 2
    assert "nope.csv" in _one_line_error(err) and "file not found" in err


def test_quality_missing_column(capsys, tmp_path):
    text = (HEADER + "".join(LINES)).replace(",CustomerID", "").replace(",17850", "") \
        .replace(",13047", "")
    path = _csv(tmp_path, "nocustomer.csv", text)
    code, out, err = _run(capsys, "quality", path, "--columns", "online_retail")
    assert code == 2
    line = _one_line_error(err)
    assert "nocustomer.csv" in line and "'CustomerID'" in line


def test_quality_unparseable_date_names_file_column_and_row(capsys, tmp_path):
    lines = list(LINES)
    lines[1] = lines[1].replace("2010-12-01 10:00:00", "the first of May")
    path = _csv(tmp_path, "baddate.csv", HEADER + "".join(lines))
    code, out, err = _run(capsys, "quality", path, "--columns", "online_retail")
    assert code == 2
    line = _one_line_error(err)
    # row 3 of the file: the header is line 1
    assert "baddate.csv" in line and "'InvoiceDate'" in line and "row 3" in line
    assert "'the first of May'" in line
