"""notebooks/01-customer-analysis.ipynb runs through papermill and publishes the right numbers."""

from __future__ import annotations

import pytest

from crmlab import customers, data, segments

from conftest import FIXTURES

SAMPLE = FIXTURES / "online_retail_sample.csv.gz"


def test_customer_analysis_notebook(run_notebook):
    nb, m = run_notebook("01-customer-analysis.ipynb", data=str(SAMPLE), as_of="2011-10-01")
    raw = data.before(data.load_transactions(SAMPLE, columns="online_retail"), "2011-10-01")
    tx = data.clean(raw).data
    assert m["rows"] == len(raw) and m["rows_kept"] == len(tx)
    assert m["customers"] == tx["customer_id"].nunique()
    assert m["as_of"] == "2011-10-01"
    assert m["last_date"] < "2011-10-01"
    r = segments.rfm(tx, as_of="2011-10-01").summary
    assert m["segment_champions_customers"] == r.loc["Champions", "customers"]
    assert m["repeat_rate"] == pytest.approx(customers.kpis(tx).to_dict()["repeat_rate"])
    assert 0 < m["top_1pct_revenue_share"] < m["top_20pct_revenue_share"] < 1
    # Customer IDs shown in the report are pseudonyms by default.
    text = "".join(str(o.get("data", {})) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "C-" in text
    some_id = tx["customer_id"].iloc[0]
    assert f">{some_id}<" not in text
