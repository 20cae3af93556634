"""Churn risk validated on a holdout (crmlab.ltv.churn_risk)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import FIXTURES
from crmlab import ltv


@pytest.fixture(scope="module")
def sample_tx():
    from crmlab import data

    return data.clean(data.load_source(FIXTURES / "online_retail_sample.yml")).data


@pytest.fixture(scope="module")
def risk(sample_tx):
    return ltv.churn_risk_model(sample_tx, window_days=90)


def test_chosen_measure_beats_a_random_ranking_by_a_stated_margin(risk):
    """On the demo sample (287 customers, 202 in the holdout) the chosen measure's holdout AUC
    is above 0.5 by at least 0.10 and by at least three standard errors of a random ranking's
    AUC (Mann-Whitney null: sqrt((n1 + n0 + 1) / (12 n1 n0)) = 0.041 here)."""
    assert risk.info["holdout_customers"] == 202
    margin = max(0.10, 3 * risk.auc_null_se)
    assert risk.auc >= 0.5 + margin, (risk.measure, risk.auc, margin)
    assert risk.auc == risk.comparison["auc"].max()
    # the chosen measure also catches churners better than chance in its riskiest 20 %
    assert risk.comparison.loc[risk.measure, "churners_in_riskiest_20"] > 0.2
    assert risk.comparison.loc[risk.measure, "buyers_in_riskiest_20"] < 0.2


def test_degenerate_btyd_fits_are_reported_as_no_dropout(risk):
    """Every purchase model degenerates on one year of the demo data; the report says so in words."""
    for model in ("BG/NBD", "Pareto/NBD", "MBG/NBD"):
        assert risk.notes_by_model[model].startswith("no dropout visible in this data")
        assert "P(alive) is 0.99 or more" in risk.notes_by_model[model]
    assert "P(alive)" not in risk.measure
    d = risk.to_dict()
    assert d["churn_measure"] == risk.measure and d["churn_auc"] == pytest.approx(risk.auc)
    assert set(d["churn_no_dropout"]) == {"BG/NBD", "Pareto/NBD", "MBG/NBD"}
    assert risk.measure in risk.why and "AUC" in risk.why


def test_comparison_has_every_measure_and_metric(risk):
    c = risk.comparison
    for m in ("BG/NBD P(alive)", "Pareto/NBD P(active 90d)", "gradient boosting", "naive past rate"):
        assert m in c.index
    for col in ("auc", "brier", "churners_in_riskiest_10", "buyers_in_riskiest_10", "churners_in_riskiest_20"):
        assert c[col].notna().all()
    cal = risk.calibration[risk.measure]
    assert cal["customers"].sum() == 202 and cal["observed"].between(0, 1).all()


def test_scores_every_customer_at_the_report_date(risk, sample_tx):
    t = risk.table
    assert len(t) == sample_tx["customer_id"].nunique()
    assert t["churn_risk"].between(0, 1).all()
    np.testing.assert_allclose(t["churn_risk"] + t["p_buy_window"], 1.0)
    assert t["churn_risk"].std() > 0.05  # a ranking, not one value for everyone


def test_labels_and_features_on_a_toy_log(toy):
    f = ltv.churn_features(toy, "2011-02-15", order_col="none")
    assert f.loc["A", "frequency"] == 4 and f.loc["A", "recency_days"] == 1
    assert f.loc["A", "tenure_days"] == 43 and f.loc["A", "mean_gap_days"] == pytest.approx(42 / 3)
    assert np.isnan(f.loc["B", "mean_gap_days"]) and np.isnan(f.loc["B", "products"])
    y = ltv.buy_again_labels(toy, f.index, "2011-02-15", 5)  # C buys on 02-20: outside [02-15, 02-20)
    assert y.to_dict() == {"A": 0, "B": 0, "C": 0}
    y = ltv.buy_again_labels(toy, f.index, "2011-02-15", 6)
    assert y.to_dict() == {"A": 0, "B": 0, "C": 1}
    with pytest.raises(Exception, match="too little history"):
        ltv.churn_risk_model(toy, window_days=30)


def test_calibration_table_bands():
    t = ltv.churn_risk.calibration_table([0, 1, 1, 0], [0.05, 0.95, 0.91, 0.5])
    assert t["customers"].sum() == 4
    assert t.loc["0.9-1.0", "observed"] == 1.0 and t.loc["0.9-1.0", "predicted"] == pytest.approx(0.93)
    assert isinstance(t.index, pd.CategoricalIndex)
