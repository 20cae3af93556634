"""Rendering notebooks into reports: parameters, layout, failures, dated runs, escaping.

Every render goes into ``tmp_path`` (never the working tree's reports/); the notebooks are
the tiny fixtures in tests/fixtures/ (nb_ok: parameters of every type, a figure, masked
customer IDs, metrics; nb_broken: the second code cell raises; nb_escape: product names
that are HTML).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from crmlab import ParameterError, RenderError, config, privacy, report

FIXTURES = Path(__file__).parent / "fixtures"
OK, BROKEN, ESCAPE = FIXTURES / "nb_ok.ipynb", FIXTURES / "nb_broken.ipynb", FIXTURES / "nb_escape.ipynb"


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


# ----------------------------------------------------------------- parameters (no kernel)


def test_notebook_parameters_reads_types_defaults_and_help():
    params = report.notebook_parameters(OK)
    assert list(params) == ["title", "n", "rate", "flag", "as_of", "show_pii"]
    assert [(p.type, p.default) for p in params.values()] == [
        ("str", "Toy"), ("int", 3), ("float", 0.5), ("bool", False), ("str", "2011-12-09"),
        ("bool", False)]
    assert params["rate"].help == "a rate between 0 and 1"
    assert report.notebook_parameters(FIXTURES / "nb_noparams.ipynb") == {}


def test_parameters_papermill_cannot_parse_are_still_read(tmp_path):
    """papermill's line parser skips a line with a second '=' (here, in the comment)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        'as_of: str = ""  # analysis date; empty = day after the last order\n'
        "cutoff: int | None = None  # optional cut-off\n"
        "weights = [1, 2,\n           3]  # a list over two lines\n")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    path = tmp_path / "p.ipynb"
    nbformat.write(nb, str(path))
    params = report.notebook_parameters(path)
    assert params["as_of"] == report.Parameter(
        "as_of", "str", "", "analysis date; empty = day after the last order", False)
    assert (params["cutoff"].type, params["cutoff"].optional) == ("int", True)
    assert params["weights"].default == [1, 2, 3] and params["weights"].type == "list"
    assert report.check_parameters(path, {"cutoff": "none", "weights": "[4]"}) == {
        "cutoff": None, "weights": [4]}


def test_check_parameters_coerces_command_line_strings():
    got = report.check_parameters(OK, {"n": "7", "rate": "0.25", "flag": "yes", "title": "Q3"})
    assert got == {"n": 7, "rate": 0.25, "flag": True, "title": "Q3"}
    assert type(got["n"]) is int and type(got["rate"]) is float
    # typed values (from a YAML batch file) pass; an int is a fine float
    assert report.check_parameters(OK, {"rate": 1, "flag": False}) == {"rate": 1.0, "flag": False}
    assert report.check_parameters(OK, {"flag": "0"}) == {"flag": False}


@pytest.mark.parametrize("params, words", [
    ({"nn": "3"}, ["unknown parameter 'nn'", "n: int = 3", "rate: float = 0.5",
                   "title: str = 'Toy'"]),
    ({"n": "3.5"}, ["'n'", "'3.5'", "expected int", "default 3", "valid parameters"]),
    ({"n": True}, ["'n'", "expected int"]),
    ({"rate": "high"}, ["'rate'", "'high'", "expected float"]),
    ({"flag": "maybe"}, ["'flag'", "'maybe'", "expected bool"]),
    ({"title": 5}, ["'title'", "expected str"]),
])
def test_check_parameters_refuses_with_the_valid_list(params, words):
    with pytest.raises(ParameterError) as info:
        report.check_parameters(OK, params)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_render_refuses_bad_input_before_any_kernel_starts(tmp_path):
    with pytest.raises(ParameterError, match="unknown parameter 'nope'"):
        report.render(OK, {"nope": 1}, output_root=tmp_path)
    with pytest.raises(ParameterError, match="--show-pii"):
        report.render(OK, {"show_pii": True}, output_root=tmp_path)
    with pytest.raises(ParameterError, match="YYYY-MM-DD"):
        report.render(OK, output_root=tmp_path, as_of="1/9/2011")
    with pytest.raises(RenderError, match="notebook not found"):
        report.render(tmp_path / "missing.ipynb", output_root=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing was written


def test_report_key_names_a_parameter_set():
    assert report.report_key({}) == "default"
    assert report.report_key({"rate": 0.25, "n": 7}) == "n=7,rate=0.25"
    # a path keeps its file name; a hash keeps different folders apart
    a = report.report_key({"data": "/x/a/sample.csv"})
    b = report.report_key({"data": "/x/b/sample.csv"})
    assert a.startswith("data=sample.csv,") and a != b
    assert "/" not in a and len(report.report_key({"t": "x" * 500})) <= 100
    # nothing is dropped silently: -1 is not 1, "a b" is not "a-b"
    assert report.report_key({"x": -1}) == "x=-1"
    assert report.report_key({"x": "a b"}) != report.report_key({"x": "a-b"}) == "x=a-b"


def test_load_batch_config_reports_bad_files(tmp_path):
    good = tmp_path / "batch.yml"
    good.write_text("- 01-a\n- notebook: 02-b\n  parameters: {min_support: 0.02}\n")
    assert report.load_batch_config(good) == [("01-a", {}), ("02-b", {"min_support": 0.02})]
    bad = tmp_path / "bad.yml"
    bad.write_text("- notebook: x\n  params: {a: 1}\n")
    with pytest.raises(RenderError, match="entry 1"):
        report.load_batch_config(bad)
    with pytest.raises(RenderError, match="batch file not found"):
        report.load_batch_config(tmp_path / "nope.yml")


def test_sanitize_html_keeps_tables_and_figures_and_disarms_scripts():
    table = pd.DataFrame({"product_name": ["mug"], "revenue": [1.0]})._repr_html_()
    clean = report.sanitize_html(table)
    assert "<th>" in clean and "<td>mug</td>" in clean and "<style" in clean
    page = report.sanitize_html(
        '<p>x <script>alert(1)</script> <img src="data:image/png;base64,AA" onerror="e()">'
        '<a href="javascript:alert(1)">j</a></p>')
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert [t for t, _ in _tags(page)] == ["p", "img", "a"]
    assert _tags(page)[1][1] == {"src": "data:image/png;base64,AA"}
    assert _tags(page)[2][1] == {}


def test_publish_tables_writes_only_when_rendering(tmp_path, monkeypatch):
    table = pd.DataFrame({"segment": ["Champions", "Lost"], "avg_clv": [100.0, 5.0]})
    monkeypatch.delenv(report.TABLES_ENV, raising=False)
    assert report.publish_tables(clv_by_segment=table) is None  # interactive: no file
    monkeypatch.setenv(report.TABLES_ENV, str(tmp_path / "tables"))
    report.publish_tables(clv_by_segment=table)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "tables" / "clv_by_segment.parquet"),
                                  table)
    with pytest.raises(ParameterError, match="not a DataFrame"):
        report.publish_tables(rules=[1, 2])


def test_svg_figures_and_widget_state_become_script_free():
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fig")
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">'
           '<script>alert(1)</script><rect width="9" height="9"/></svg>')
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/svg+xml": svg})]
    nb.cells = [cell]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    page = report.notebook_to_html(nb, title="svg")
    (img,) = [a for t, a in _tags(page) if t == "img"]
    assert img["src"].startswith("data:image/svg+xml;base64,")  # an <img> runs no script
    assert "<script" not in page and "<svg" not in page


def test_escape_markdown_keeps_data_text_literal():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    name = "*NEW* <b>mug</b> [x](y) a_b #1 R&D"
    page = markdown2html_mistune("Top: " + report.escape_markdown(name))
    assert page.strip() == "<p>Top: *NEW* &lt;b&gt;mug&lt;/b&gt; [x](y) a_b #1 R&amp;D</p>"


# ----------------------------------------------------------------- rendering


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
    assert bad.error == "cell 3: ValueError: boom with x=1"
    assert bad.path == root / "toy" / "default.failed"
    assert (good.path / "report.json").read_text() == before  # good report untouched
    assert json.loads((bad.path / "metrics.json").read_text()) == {"reached": 1}
    page = bad.html.read_text()
    assert "raise" in page and "boom with x=1" in page  # failing cell's code and traceback
    assert "This report failed" in page
    assert "publish_metrics(reached=1)" not in page  # other cells' code still hidden
    assert not [p for p in (root / "toy").iterdir() if p.name.startswith(".")]
    index = (root / "index.html").read_text()
    assert "toy/default/report.html" in index and "toy/default.failed/report.html" in index
    assert "boom with x=1" in index

    shutil.copy(OK, nb)  # fixed: the failure record goes away
    again = report.render(nb, output_root=root)
    assert again.ok and not (root / "toy" / "default.failed").exists()


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
    assert by_nb["nb_broken"]["error"] == "cell 3: ValueError: boom with x=1"
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


def test_text_from_the_data_is_escaped(tmp_path):
    """A product named <script>alert(1)</script> shows as text in every output form.

    nb_escape displays the name in a pandas table, in a Markdown output (which nbconvert
    would pass through as live HTML), in ``to_html(escape=False)`` and as printed text.
    """
    result = report.render(ESCAPE, output_root=tmp_path)
    assert result.ok
    page = result.html.read_text()
    tags = _tags(page)
    assert "script" not in {t for t, _ in tags}
    assert not [(t, a) for t, a in tags for name in a if name.lower().startswith("on")]
    assert not [a for t, a in tags if t == "img"]  # the <img onerror> from data is not an img
    # parameters line, table, Markdown, raw table, printed text
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 5
    assert "The top product is &lt;script&gt;alert(1)&lt;/script&gt; and then" in page
