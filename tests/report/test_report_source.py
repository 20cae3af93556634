"""A notebook's ``source`` parameter, the kernel that runs it, and what reaches the report.

- a bad source file is refused before a kernel starts: one line naming the file and the key,
  exit 2, nothing rendered;
- a database password in a source file never reaches params.yaml, report.json, the page or
  the index (the source shows as given; the data as ``Source.where``);
- the kernel is the checkout's own ``crmlab`` kernel: the rendered notebook's Python and
  crmlab are this environment's and this checkout's, so two checkouts run their own code;
- cell warnings go to kernel.log, not into the business report;
- ``lang=ko`` gives ``<html lang="ko">``, a Korean header, a Hangul font stack; Hangul stays
  in metric keys and report folder names.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import pytest

from crmlab import cli, config, report
from crmlab.errors import ParameterError
from crmlab.report.html import FONT_STACK

render_mod = importlib.import_module("crmlab.report.render")  # the package exports render()

FIXTURES = Path(__file__).parents[1] / "fixtures"
NB = FIXTURES / "nb_source.ipynb"
PASSWORD = "s3cret-pa55"
GOOD = """name: x
path: orders.csv
columns: {customer_id: 고객번호, order_id: 주문번호, order_ts: 주문일시, amount: 금액}
"""


def _source(tmp_path: Path, text: str, name: str = "shop.yml", data: bool = True) -> Path:
    if data:
        (tmp_path / "orders.csv").write_text("고객번호,주문번호,주문일시,금액\n1,1,2011-01-01,5\n",
                                             encoding="utf-8")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, data, words", [
    (GOOD.replace("columns:", "colums:"), True, ["unknown key 'colums'"]),
    (GOOD.replace("amount: 금액", "quantity: 수량"), True, ["columns", "lacks", "amount"]),
    (GOOD + "kind: weird\n", True, ["kind", "unknown value", "'weird'"]),
    (GOOD + "dayfirst: maybe\n", True, ["dayfirst", "true or false"]),
    (GOOD, False, ["path: the data file it names is missing", "orders.csv"]),
])
def test_a_bad_source_file_is_refused_before_a_kernel_starts(capsys, tmp_path, text, data,
                                                             words):
    src = _source(tmp_path, text, data=data)
    out = tmp_path / "reports"
    code = cli.main(["render", str(NB), "-p", "source", str(src), "--output", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("crmlab: error: "), err
    assert str(src) in err[0]  # names the file ...
    for word in words:  # ... and the key
        assert word in err[0]
    assert not out.exists()  # nothing rendered


def test_a_missing_source_file_is_refused(capsys, tmp_path):
    code = cli.main(["render", str(NB), "-p", "source", str(tmp_path / "nope.yml"),
                     "--output", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 2 and "nope.yml: source file not found" in err
    assert not (tmp_path / "reports").exists()


def test_check_parameters_reads_the_source_file(tmp_path):
    good = _source(tmp_path, GOOD)
    assert report.check_parameters(NB, {"source": str(good)}) == {"source": str(good)}
    assert report.check_parameters(NB, {"source": "online_retail"}) == {"source": "online_retail"}
    with pytest.raises(ParameterError, match="not a source file or a shipped source name"):
        report.check_parameters(NB, {"source": "no_such_source"})


def test_the_crmlab_kernel_is_preferred_and_python3_is_the_fallback(monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager

    monkeypatch.setattr(KernelSpecManager, "find_kernel_specs",
                        lambda self: {"python3": "/x/python3", "crmlab": "/x/crmlab"})
    assert render_mod.kernel_name() == "crmlab"
    monkeypatch.setattr(KernelSpecManager, "find_kernel_specs", lambda self: {"python3": "/x"})
    assert render_mod.kernel_name() == "python3"


def test_this_environments_kernels_come_before_the_users(monkeypatch, tmp_path):
    """Jupyter looks in the user's folder before the environment: a per-user ``crmlab``
    kernel of another checkout would win unless JUPYTER_PATH names ours first."""
    own = tmp_path / "share" / "jupyter"
    (own / "kernels" / "crmlab").mkdir(parents=True)
    monkeypatch.setattr(render_mod, "_own_kernel_dir", lambda: own)
    monkeypatch.setenv("JUPYTER_PATH", "/elsewhere")
    with render_mod._own_kernels_first():
        assert os.environ["JUPYTER_PATH"].split(os.pathsep) == [str(own), "/elsewhere"]
    assert os.environ["JUPYTER_PATH"] == "/elsewhere"


def test_report_keys_and_metric_keys_keep_hangul():
    assert report.report_key({"segment": "충성 고객"}).startswith("segment=충성-고객,")
    assert report.report_key({"lang": "ko"}) == "lang=ko"
    key = report.report_key({"x": "가" * 150})
    assert len(key.encode()) <= 200 and key.startswith("x=가가")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("source")
    db = tmp / "db.yml"
    db.write_text(f"name: 본사 주문 DB\nurl: postgresql://crm:{PASSWORD}@db.example/shop\n"
                  "table: orders\ncolumns: {customer_id: c, order_ts: t, amount: a}\n",
                  encoding="utf-8")
    root = tmp / "reports"
    batch = report.render_batch(
        [(NB, {"source": str(db), "lang": "ko"}),
         (NB, {"source": str(FIXTURES / "korean_shop.yml")})],
        output_root=root, progress=False)
    assert [r.status for r in batch.results] == ["ok", "ok"], [r.error for r in batch.results]
    return root, batch.results


def test_a_database_password_is_never_written(rendered):
    root, (ko, _) = rendered
    for path in root.rglob("*"):
        if path.is_file():
            assert PASSWORD not in path.read_text(encoding="utf-8", errors="replace"), path
    page = ko.html.read_text(encoding="utf-8")
    assert "데이터: 본사 주문 DB (postgresql://crm:***@db.example/shop (orders))" in page
    meta = json.loads((ko.path / "report.json").read_text(encoding="utf-8"))
    assert meta["parameters"]["source"].endswith("db.yml")  # the source as given
    assert meta["data"]["name"] == "본사 주문 DB" and "***" in meta["data"]["where"]


def test_the_kernel_runs_this_checkouts_code(rendered):
    """Two checkouts each run their own code: the kernel's Python is this environment's and
    its crmlab is this checkout's (read back from the rendered notebook)."""
    _, (ko, _) = rendered
    metrics = json.loads((ko.path / "metrics.json").read_text(encoding="utf-8"))
    assert Path(metrics["prefix"]).resolve() == Path(sys.prefix).resolve()
    # a virtualenv's python is a link to the base interpreter: compare the unresolved paths
    assert Path(os.path.abspath(metrics["executable"])).is_relative_to(os.path.abspath(sys.prefix))
    assert Path(metrics["crmlab_file"]).resolve().is_relative_to(config.ROOT.resolve())
    nb = json.loads((ko.path / "notebook.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == render_mod.kernel_name()
    if (Path(sys.prefix) / "share" / "jupyter" / "kernels" / "crmlab").is_dir():  # make setup
        assert render_mod.kernel_name() == "crmlab"


def test_warnings_go_to_kernel_log_not_the_report(rendered):
    _, results = rendered
    for r in results:
        page = r.html.read_text(encoding="utf-8")
        assert "visible output" in page  # stdout stays
        assert "only-for-the-analyst" not in page and "UserWarning" not in page
        assert "only-for-the-analyst" in (r.path / "kernel.log").read_text(encoding="utf-8")


def test_korean_reports_declare_their_language_and_a_hangul_font(rendered):
    _, (ko, en) = rendered
    page = ko.html.read_text(encoding="utf-8")
    assert '<html lang="ko">' in page and FONT_STACK in page
    assert "상태: <span" in page and "정상" in page and "매개변수:" in page
    page = en.html.read_text(encoding="utf-8")
    assert '<html lang="en">' in page and FONT_STACK in page and "Status: <span" in page
    assert "Data: 한국 쇼핑몰 주문 (tests/fixtures/korean_shop.csv.gz)" in page
    raw = (ko.path / "metrics.json").read_text(encoding="utf-8")
    assert '"고객 수": 3' in raw and '"매출(원)": 1000' in raw
    assert "lang=ko" in ko.path.name and en.path.name.startswith("source=korean_shop.yml,")
