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
