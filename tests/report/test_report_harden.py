"""Hardening: secret pseudonyms, no customer data in a report's error text, reports that are
never lost (atomic publish, concurrent renders, killed renders), a batch that always finishes,
and bad parameters refused before a kernel starts.

Notebooks are tiny fixtures: nb_tiny (ranges in its parameter comments), nb_load (loads a
source), nb_ok, nb_broken.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from crmlab import CrmlabError, ParameterError, RenderError, cli, privacy, report
from crmlab.report import layout

FIXTURES = Path(__file__).parents[1] / "fixtures"
TINY, LOAD = FIXTURES / "nb_tiny.ipynb", FIXTURES / "nb_load.ipynb"
OK, BROKEN = FIXTURES / "nb_ok.ipynb", FIXTURES / "nb_broken.ipynb"
REPO = Path(__file__).parents[2]
MAP = "columns: {customer_id: c, order_id: o, order_ts: d, amount: p}\n"


# --------------------------------------------------------------------------- privacy

def test_pseudonym_cannot_be_recomputed_with_the_old_constant_key(monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.delenv(privacy.LEGACY_KEY_ENV, raising=False)
    demo = "17850"  # the first customer of the Online Retail demo
    first = privacy.pseudonymise(pd.Series([demo]))[0]
    assert first == privacy.pseudonymise(pd.Series([demo]))[0]  # stable across calls
    old = "C-" + hashlib.sha256(b"crmlab\x00" + demo.encode()).hexdigest()[:10]
    old_hmac = "C-" + hmac.new(b"crmlab", demo.encode(), hashlib.sha256).hexdigest()[:10]
    assert first not in (old, old_hmac)
    key = privacy.secret_path()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) == 64
    ignored = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", str(key)])
    assert ignored.returncode == 0  # kept out of git


def test_key_made_on_first_use_env_key_and_no_key(monkeypatch, tmp_path):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.delenv(privacy.LEGACY_KEY_ENV, raising=False)
    monkeypatch.setattr(privacy, "secret_path", lambda: tmp_path / "p" / ".crmlab" / "secret")
    a = privacy.pseudonymise(pd.Series(["17850", None]))
    assert (tmp_path / "p" / ".crmlab" / "secret").is_file() and pd.isna(a[1])
    assert a[0] == privacy.pseudonymise(pd.Series([17850]))[0]  # same key: same pseudonym
    monkeypatch.setenv(privacy.KEY_ENV, "a long random team secret")
    b = privacy.pseudonymise(pd.Series(["17850"]))[0]
    assert b != a[0] and b == "C-" + hmac.new(b"a long random team secret", b"17850",
                                              hashlib.sha256).hexdigest()[:10]
    monkeypatch.delenv(privacy.KEY_ENV)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(privacy, "secret_path", lambda: blocker / ".crmlab" / "secret")
    with pytest.raises(CrmlabError, match=r"no pseudonym key: cannot create .*Fix: set CRMLAB_PII_KEY"):
        privacy.pseudonymise(pd.Series(["17850"]))


@pytest.mark.parametrize("ename, evalue, secret", [
    ("DataError", "t.csv: cannot parse the file: CSV parse error: Expected 4 columns, got 5: "
                  "12583.0,2,2011-01-02,1,9; expected a comma-separated file", "12583"),
    ("DataError", "t.csv, column 'c', row 3: bad value (found '12583.0'). Fix: export as text",
     "12583"),
    ("DataError", "pw.csv: missing required column(s); expected columns 'c'. Fix: the file has "
                  "'root:x:0:0:root:/root:/bin/bash'; map them under columns:", "root:x"),
    ("KeyError", "12583.0", "12583"),
])
def test_redact_error_keeps_the_problem_not_the_data(ename, evalue, secret):
    shown = privacy.redact_error(ename, evalue)
    assert secret not in shown and privacy.HIDDEN in shown
    assert privacy.redact_error(ename, shown) == shown  # redacting twice changes nothing
    assert privacy.redact_error(ename, evalue, show_pii=True) == evalue
    if ename == "DataError":
        assert shown.startswith(evalue.split(":")[0])  # where it is stays


# --------------------------------------------------------------------------- error text

def _source(tmp_path: Path, head: str, body: str) -> Path:
    (tmp_path / "t.csv").write_text(head + body, encoding="utf-8")
    src = tmp_path / "s.yml"
    src.write_text("path: t.csv\n" + MAP, encoding="utf-8")
    return src


def _all_report_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


@pytest.mark.parametrize("head, body, secret", [
    ("c,o,d,p\n", "A,1,2011-01-01,1\n12583.0,2,2011-01-02,1,9\n", b"12583"),  # ragged row
    ("c,o,d,p\n", "A,1,2011-01-01,1\n77777,2,when-77777,1\n", b"77777"),  # bad value quoted
    ("root:x:0:0:root:/root:/bin/bash\n", "daemon:x:1:1\n", b"root:x"),  # a file's own line
])
def test_no_customer_data_in_any_file_of_a_failed_report(tmp_path, capsys, head, body, secret):
    src = _source(tmp_path, head, body)
    root = tmp_path / "reports"
    code = cli.main(["render", str(LOAD), "-p", "source", str(src), "--output", str(root),
                     "--no-progress"])
    out = capsys.readouterr().out
    assert code == 2  # a data error inside the render is bad input
    assert "DataError" in out and secret.decode() not in out
    meta = json.loads(next(root.rglob("report.json")).read_text())
    assert meta["status"] == "failed" and meta["error_type"] == "DataError"
    assert secret not in _all_report_bytes(root)  # report.json, report.html, notebook, index


def test_show_pii_shows_the_value(tmp_path):
    src = _source(tmp_path, "c,o,d,p\n", "A,1,2011-01-01,1\n12583.0,2,2011-01-02,1,9\n")
    result = report.render(LOAD, {"source": str(src)}, output_root=tmp_path / "r", show_pii=True)
    assert result.status == "failed" and "12583.0" in result.error
    assert b"12583.0" in (result.path / "report.json").read_bytes()
    assert b"12583.0" not in (tmp_path / "r" / "index.html").read_bytes()  # the index: never


def test_a_path_outside_the_project_is_refused_without_quoting_it(tmp_path, capsys):
    root = tmp_path / "reports"
    code = cli.main(["render", str(LOAD), "-p", "source", "../../../../etc/passwd",
                     "--output", str(root), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "not a source file" in err and "root:x" not in err
    assert not root.exists() or b"root:x" not in _all_report_bytes(root)


# --------------------------------------------------------------------------- publishing

def _complete(path: Path) -> dict:
    meta = json.loads((path / "report.json").read_text())
    assert (path / "report.html").is_file() and (path / "metrics.json").is_file()
    return meta


def _kill_while_publishing(parent: Path, fail_at: str) -> None:
    """In a child process: write a new report, then die at one step of publishing it."""
    code = textwrap.dedent(f"""
        import os, shutil, sys
        from pathlib import Path
        from crmlab.report import layout
        parent = Path({str(parent)!r})
        tmp = layout.work_dir(parent, "default")
        shutil.copytree(parent / "default", tmp)
        (tmp / "report.json").write_text('{{"status": "ok", "new": true}}')
        if {fail_at!r} == "exchange":
            layout._exchange = lambda a, b: os._exit(9)
        elif {fail_at!r} == "discard":
            layout._discard = lambda path: os._exit(9)
        else:  # no atomic exchange: die between the two renames
            layout._exchange = lambda a, b: False
            real = Path.rename
            def rename(self, target):
                real(self, target)
                if ".old-" in str(target):
                    os._exit(9)
            Path.rename = rename
        with layout.locked(parent):
            layout.publish(tmp, parent / "default")
    """)
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 9


@pytest.mark.parametrize("fail_at", ["exchange", "discard", "between-renames"])
def test_a_kill_while_publishing_keeps_the_last_good_report(tmp_path, fail_at):
    root = tmp_path / "reports"
    good = report.render(TINY, output_root=root)
    parent = good.path.parent
    _kill_while_publishing(parent, fail_at)
    hidden = [p for p in parent.iterdir() if p.name.startswith(".")]
    assert hidden  # the killed render left something behind
    if fail_at != "between-renames":  # atomic exchange: reachable at every instant
        assert _complete(parent / "default")["status"] == "ok"
    with layout.locked(parent):  # what the next render does first
        layout.clean_leftovers(parent)
    assert _complete(parent / "default")["status"] == "ok"  # last good (old or new) report
    assert not [p for p in parent.iterdir() if p.name.startswith(".")]
    report.write_index(root)
    assert ".tmp-" not in (root / "index.html").read_text()


def test_four_renders_of_one_key_at_once(tmp_path):
    root = tmp_path / "reports"
    cmd = [sys.executable, "-m", "crmlab.cli", "render", str(TINY), "-p", "n", "4",
           "--output", str(root), "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    parent = root / "nb_tiny"
    assert sorted(p.name for p in parent.iterdir()) == ["n=4"]  # one report, no leftovers
    assert _complete(parent / "n=4")["status"] == "ok"
    assert json.loads((parent / "n=4" / "metrics.json").read_text())["n"] == 4


# --------------------------------------------------------------------------- batches

def test_an_exception_in_one_notebook_does_not_stop_the_batch(tmp_path, monkeypatch):
    from crmlab.report import batch as batch_mod

    real = batch_mod.execute

    def flaky(job, root, **kw):
        if job.given.get("n") == 1:
            raise RuntimeError("the disk vanished")
        return real(job, root, **kw)

    monkeypatch.setattr(batch_mod, "execute", flaky)
    batch = report.render_batch([(OK, {"n": 1}), (OK, {"n": 2})], output_root=tmp_path,
                                as_of="2011-09-01", progress=False)
    crashed, ok = batch.results
    assert crashed.status == "failed" and crashed.error.startswith("no report written: RuntimeError")
    assert ok.ok
    manifest = json.loads(batch.manifest.read_text())
    assert [e["status"] for e in manifest["reports"]] == ["failed", "ok"]
    assert "n=2/report.html" in batch.index.read_text()


def test_index_on_a_folder_that_cannot_be_written(tmp_path, capsys):
    (tmp_path / "index.html").mkdir()  # even root cannot replace a folder by a file
    assert cli.main(["index", "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the index" in err
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: a read-only folder is writable")
        assert cli.main(["index", "--output", str(ro)]) == 2
        assert "cannot write the index (Permission denied)" in capsys.readouterr().err
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize("content, match", [
    ("- nb_ok\n- caf\xe9\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset"),
    (b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
     b"reports: [*f]\n", "expands to too many values"),
])
def test_bad_batch_files_are_one_line(tmp_path, capsys, content, match):
    batch = tmp_path / "batch.yml"
    batch.write_bytes(content)
    assert cli.main(["render", "--config", str(batch), "--output", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err and not (tmp_path / "r").exists()


# --------------------------------------------------------------------------- parameters

@pytest.mark.parametrize("value", ["notadate", "2011-13-01", "2011-02-30", "01/02/2011"])
def test_a_bad_as_of_is_refused_before_a_kernel_starts(tmp_path, capsys, monkeypatch, value):
    import importlib

    render_mod = importlib.import_module("crmlab.report.render")  # the module, not the function
    monkeypatch.setattr(render_mod, "_run_kernel", lambda *a: pytest.fail("a kernel started"))
    code = cli.main(["render", str(OK), "-p", "as_of", value, "--output", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "parameter 'as_of' of notebook nb_ok is not a date" in err
    assert not (tmp_path / "r").exists()


def test_parameters_declare_their_range_and_the_check_enforces_it():
    declared = report.notebook_parameters(TINY)
    assert declared["n"].bounds.text == "[1, 50]" and declared["share"].bounds.text == "(0, 1]"
    assert declared["day"].is_date and declared["n"].help == "[1, 50] rows shown"
    assert report.check_parameters(TINY, {"n": "1", "share": "1"}) == {"n": 1, "share": 1.0}
    for name, value in [("n", "-5"), ("n", "51"), ("share", "0"), ("share", "nan"),
                        ("share", "inf")]:
        with pytest.raises(ParameterError, match=rf"'{name}' of notebook nb_tiny is out of range"):
            report.check_parameters(TINY, {name: value})
    with pytest.raises(ParameterError, match="'day' of notebook nb_tiny is not a date"):
        report.check_parameters(TINY, {"day": "2011-13-01"})
    assert report.check_parameters(TINY, {"day": ""}) == {"day": ""}


@pytest.mark.parametrize("text, inside, outside", [
    ("[1, inf) countries", [1, 10 ** 9], [0, -5]),
    ("(0, 1] a share", [1e-9, 1], [0, 1.5]),
    ("(, 0) negative", [-1], [0]),
])
def test_parse_bounds(text, inside, outside):
    from crmlab.report.parameters import parse_bounds

    b = parse_bounds(text)
    assert all(x in b for x in inside) and not any(x in b for x in outside)
    assert parse_bounds("[deprecated] old") is None and parse_bounds("(2, 1) no") is None


def test_render_error_from_an_unwritable_root_names_the_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RenderError, match="cannot write the report"):
        report.render(TINY, output_root=blocker / "r")
