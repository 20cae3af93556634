"""A notebook's parameters, read and checked before any kernel starts; report keys, batch
files and the report date (a dated render refuses a notebook that does not declare as_of).

The notebooks are the tiny fixtures in tests/fixtures/ (nb_ok: parameters of every type;
nb_noparams: no parameters cell, so no as_of; nb_broken, nb_escape: say in their metadata that
they read no dated data).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crmlab import ParameterError, RenderError, report

FIXTURES = Path(__file__).parents[1] / "fixtures"
OK, NOPARAMS = FIXTURES / "nb_ok.ipynb", FIXTURES / "nb_noparams.ipynb"


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


# ----------------------------------------------------------------- the report date


def test_check_as_of_reads_calendar_dates_only():
    import datetime as dt

    assert report.check_as_of(None) is None
    assert report.check_as_of(" 2011-09-01 ") == "2011-09-01"
    assert report.check_as_of(dt.date(2011, 9, 1)) == "2011-09-01"
    assert report.check_as_of(dt.datetime(2011, 9, 1, 15, 30)) == "2011-09-01"
    for bad in ("1/9/2011", "2011-9-1", "2011-02-30", "yesterday"):
        with pytest.raises(ParameterError, match="YYYY-MM-DD"):
            report.check_as_of(bad)


def test_which_notebooks_read_dated_data():
    assert report.notebook_is_dated(OK) and report.notebook_is_dated(NOPARAMS)
    # these two say so in their metadata: {"crmlab": {"dated": false}}
    assert not report.notebook_is_dated(FIXTURES / "nb_broken.ipynb")
    assert not report.notebook_is_dated(FIXTURES / "nb_escape.ipynb")


def test_dated_render_refuses_a_notebook_without_as_of(tmp_path):
    """It would show data after the report date: refused before any kernel starts."""
    for call in (lambda: report.render(NOPARAMS, output_root=tmp_path, as_of="2011-09-01"),
                 lambda: report.render_batch([OK, NOPARAMS], output_root=tmp_path,
                                             as_of="2011-09-01", progress=False)):
        with pytest.raises(ParameterError) as info:
            call()
        message = str(info.value)
        assert "\n" not in message
        assert message.startswith("notebook nb_noparams does not declare an as_of parameter")
        assert "declare as_of in its parameters cell" in message
    assert list(tmp_path.iterdir()) == []  # nothing was written, not even nb_ok's report
    # without a report date the notebook is fine; so is one that declares as_of
    assert report.check_report_date(NOPARAMS, {}, None) is None
    assert report.check_report_date(OK, report.notebook_parameters(OK), "2011-09-01") is None
