"""The retention and CLV notebook runs on the Online Retail sample fixture and publishes its metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_retention_ltv_notebook_on_sample(run_notebook):
    """Executes notebooks/03-retention-ltv.ipynb on the 287-customer fixture (about 25 s) and
    checks the published numbers against what the modules give on the same data."""
    from crmlab import data, retention

    nb, metrics = run_notebook(
        "03-retention-ltv.ipynb",
        data=str(FIXTURES / "online_retail_sample.csv.gz"),
        cutoff="2011-06-30",
        horizon_months=6,
        top_n=10,
    )
    tx = data.clean(data.load_transactions(FIXTURES / "online_retail_sample.csv.gz",
                                           columns="online_retail")).data
    assert metrics["customers"] == tx["customer_id"].nunique() == 287
    expected = retention.cohort_matrix(tx).average_rates()[1]
    assert metrics["cohort_retention_month1"] == pytest.approx(expected)
    assert metrics["chosen_model"] in {"BG/NBD", "Pareto/NBD", "MBG/NBD"}
    assert 0 < metrics["holdout_mae"] < 5 and metrics["holdout_correlation"] > 0.5
    assert metrics["clv_total"] > 0
    assert 0 < metrics["best_customer_retention_mean"] <= 1
    assert metrics["high_value_customers"] >= metrics["high_value_at_risk"]
    # names the strategy layer (crmlab.strategy.key_findings) reads
    for key in ("best_customer_retention", "avg_clv", "at_risk_value_customers", "at_risk_value_clv"):
        assert metrics[key] is not None
    assert metrics["avg_clv"] == pytest.approx(metrics["clv_total"] / metrics["customers"])
    # pseudonymised IDs in the action list, no raw customer id
    html = "".join(str(o.get("data", {}).get("text/html", "")) for c in nb.cells for o in c.get("outputs", []))
    assert "C-" in html
    top = tx.groupby("customer_id")["amount"].sum().nlargest(10).index
    assert not any(f">{cid}</th>" in html for cid in top)
