"""What a notebook hands to its report: tables (publish_tables) and text made literal
in Markdown (escape_markdown)."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import ParameterError, report


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


def test_escape_markdown_keeps_data_text_literal():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    name = "*NEW* <b>mug</b> [x](y) a_b #1 R&D"
    page = markdown2html_mistune("Top: " + report.escape_markdown(name))
    assert page.strip() == "<p>Top: *NEW* &lt;b&gt;mug&lt;/b&gt; [x](y) a_b #1 R&amp;D</p>"
