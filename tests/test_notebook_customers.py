"""notebooks/01-customer-analysis.ipynb on the demo sample and on other data shapes, checked by
the numbers it publishes."""

from __future__ import annotations

import pytest

from crmlab import customers, data, segments

from conftest import FIXTURES, assert_clean_report, report_text

SAMPLE = FIXTURES / "online_retail_sample.yml"
KOREAN = FIXTURES / "korean_shop.yml"


def test_customer_analysis_notebook(run_notebook):
    nb, m = run_notebook("01-customer-analysis.ipynb", source=str(SAMPLE), as_of="2011-10-01")
    raw = data.load_source(SAMPLE, as_of="2011-10-01")
    tx = data.clean(raw).data
    assert m["rows"] == len(raw) and m["rows_kept"] == len(tx)
    assert m["customers"] == tx["customer_id"].nunique()
    assert m["as_of"] == "2011-10-01"
    assert m["last_date"] < "2011-10-01"
    r = segments.rfm(tx, as_of="2011-10-01").summary
    assert m["segment_champions_customers"] == r.loc["Champions", "customers"]
    assert m["repeat_rate"] == pytest.approx(customers.kpis(tx).to_dict()["repeat_rate"])
    assert 0 < m["top_1pct_revenue_share"] < m["top_20pct_revenue_share"] < 1
    assert m["has_products"] and m["has_country"]
    # Customer IDs shown in the report are pseudonyms by default.
    text = "".join(str(o.get("data", {})) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "C-" in text
    some_id = tx["customer_id"].iloc[0]
    assert f">{some_id}<" not in text
    assert_clean_report(nb, demo=True)


def test_customer_analysis_on_cdnow_without_products_or_country(run_notebook):
    """CDNOW: customer, date, amount only. Sections for products and countries say why they are
    missing; the numbers are CDNOW's (23,570 customers, 1997-01-01 to 1998-06-30)."""
    nb, m = run_notebook("01-customer-analysis.ipynb", source="cdnow")
    raw = data.load_source("cdnow")
    assert raw["customer_id"].nunique() == 23570 and m["rows"] == len(raw) == 69659
    # cleaning drops the zero-value purchases, and with them 68 customers who had only those
    assert m["customers"] == data.clean(raw).data["customer_id"].nunique() == 23502
    assert m["first_date"] == "1997-01-01" and m["last_date"] == "1998-06-30"
    assert not m["has_products"] and not m["has_country"]
    text = report_text(nb)
    assert "no `product_id` column" in text and "no `country` column" in text
    assert "records dates only" in text
    assert "Lines without a customer ID" not in text  # no anonymous revenue in CDNOW
    assert_clean_report(nb)


def test_customer_analysis_in_korean_on_a_korean_export(run_notebook):
    nb, m = run_notebook("01-customer-analysis.ipynb", source=str(KOREAN), lang="ko")
    tx = data.clean(data.load_source(KOREAN)).data
    assert m["customers"] == tx["customer_id"].nunique() == 287
    assert m["revenue"] == pytest.approx(tx["amount"].sum())
    text = report_text(nb)
    for heading in ("데이터 품질", "핵심 지표", "RFM 세그먼트", "권고 사항"):
        assert heading in text
    assert "챔피언" in text and "Recommendations" not in text
    assert_clean_report(nb)
