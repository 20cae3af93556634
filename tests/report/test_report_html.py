"""The HTML report: sanitised outputs, script-free figures, text from the data escaped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from html_tags import tags as _tags

from crmlab import report

FIXTURES = Path(__file__).parents[1] / "fixtures"
ESCAPE = FIXTURES / "nb_escape.ipynb"


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


def test_the_header_names_a_given_file_without_the_folders_of_the_machine(tmp_path):
    """A source given on the command line reaches the kernel as an absolute path; the header
    shows its file name only (params.yaml keeps the full path), other values as given."""
    from crmlab.report.html import header_html

    shop = tmp_path / "private-folder" / "shop.yml"
    shop.parent.mkdir()
    shop.write_text("name: shop\n")
    page = header_html("01-customer-analysis", "ok", {"source": str(shop), "top_n": 20, "note": "/not/a/file"},
                       "2026-11-30T12:00:00", None, False, None)
    assert "source = &#x27;shop.yml&#x27;" in page and "private-folder" not in page
    assert "top_n = 20" in page and "/not/a/file" in page
