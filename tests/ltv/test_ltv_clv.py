"""crmlab.ltv.clv: CLV properties, CLV by group and the at-risk action list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import ltv
from crmlab.errors import ParameterError


def test_clv_properties(cdnow_money):
    """With no discounting, CLV = margin * expected spend * expected purchases over the horizon;
    discounting lowers it; the interval brackets the point estimate."""
    s = cdnow_money.copy()
    s.attrs["unit"] = "W"
    bg = ltv.BGNBD().fit(s)
    gg = ltv.GammaGamma().fit(s)
    v0 = ltv.clv(bg, gg, s, horizon_months=12, margin=0.3, discount_rate=0.0, intervals=False)
    t = v0.table
    weeks = 12 * 365.25 / 12 / 7
    np.testing.assert_allclose(t["expected_purchases"], bg.expected_purchases(weeks, s), rtol=1e-10)
    np.testing.assert_allclose(t["clv"], 0.3 * t["expected_spend"] * t["expected_purchases"], rtol=1e-10)
    v = ltv.clv(bg, gg, s, horizon_months=12, margin=0.3, discount_rate=0.15, n_draws=100, random_state=1)
    assert (v.table["clv"] < t["clv"]).all()
    assert (v.table["clv_lower"] <= v.table["clv"] + 1e-9).all()
    assert (v.table["clv"] <= v.table["clv_upper"] + 1e-9).all()
    lo, hi = v.total_interval_
    assert lo < v.table["clv"].sum() < hi
    assert v.to_dict()["customers"] == len(s)
    with pytest.raises(ParameterError):
        ltv.clv(bg, gg, s, margin=30)


def test_clv_by_segment_and_action_list(cdnow_money):
    """CLV by group adds up to the total; the action list keeps the top past-value share,
    ordered by probability alive (lowest first)."""
    s = cdnow_money.copy()
    s.attrs["unit"] = "W"
    v = ltv.clv(ltv.BGNBD().fit(s), ltv.GammaGamma().fit(s), s, intervals=False)
    groups = pd.Series(np.where(s["frequency"] > 2, "heavy", "light"), index=s.index)
    by = v.by(groups)
    assert by["clv_total"].sum() == pytest.approx(v.table["clv"].sum())
    assert by["customers"].sum() == len(s) and by["clv_share"].sum() == pytest.approx(1)
    past = s["frequency"] * s["monetary_value"]
    risk = ltv.high_value_at_risk(v, past, top_share=0.1, n=15)
    assert len(risk) == 15
    assert (risk["past_value"] >= past.quantile(0.9)).all()
    assert risk["p_alive"].round(3).is_monotonic_increasing
    below = ltv.high_value_at_risk(v, past, top_share=0.1, p_alive_below=0.3, only_at_risk=True)
    assert (below["p_alive"] < 0.3).all() and len(below) > 0


def test_at_risk_rule_and_summary(cdnow_money):
    """One at-risk rule: p_alive below p_alive_below (0.5) or, when the silence is known,
    more than silent_days (90) days without an order; at_risk_summary counts them and adds
    up their CLV."""
    s = cdnow_money.copy()
    s.attrs["unit"] = "W"
    v = ltv.clv(ltv.BGNBD().fit(s), ltv.GammaGamma().fit(s), s, intervals=False)
    past = s["frequency"] * s["monetary_value"]
    silent = (s["T"] - s["recency"]) * 7
    table = ltv.high_value_at_risk(v, past, days_since_last=silent)
    assert len(table) == int((past >= past.quantile(0.8)).sum())
    rule = (table["p_alive"] < 0.5) | (table["days_since_last"] > 90)
    assert table["at_risk"].tolist() == rule.tolist()
    assert 0 < rule.sum() < len(table)
    out = ltv.at_risk_summary(table)
    assert out == {"at_risk_value_customers": int(rule.sum()),
                   "at_risk_value_clv": pytest.approx(float(table.loc[rule, "clv"].sum()))}
    only = ltv.high_value_at_risk(v, past, days_since_last=silent, only_at_risk=True)
    assert len(only) == rule.sum() and only["at_risk"].all()
    # without the silence only P(alive) decides; thresholds are parameters
    no_silence = ltv.high_value_at_risk(v, past, p_alive_below=0.3)
    assert no_silence["at_risk"].tolist() == (no_silence["p_alive"] < 0.3).tolist()
    strict = ltv.high_value_at_risk(v, past, days_since_last=silent, silent_days=10_000, p_alive_below=0.0)
    assert ltv.at_risk_summary(strict) == {"at_risk_value_customers": 0, "at_risk_value_clv": 0.0}
