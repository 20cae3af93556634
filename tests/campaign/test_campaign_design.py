"""Tests of crmlab.campaign.design: sample ratio mismatch, power, holdout."""

from __future__ import annotations

import math
import warnings

import pytest
from scipy import stats

from crmlab import campaign
from crmlab.errors import ParameterError

from campaign_cases import two_arm


# ------------------------------------------------------------------ SRM


@pytest.mark.parametrize("sizes, p, failed", [((5100, 4900), 0.0455, False),
                                              ((5200, 4800), 6.3e-5, True)])
def test_srm_examples(sizes, p, failed):
    """ANCHORS.md, experiment statistics: an intended 50/50 split observed as 5,100 vs 4,900
    gives p=0.0455 and 5,200 vs 4,800 gives p=6.3e-5 (chi-square, 1 df)."""
    res = campaign.srm_check(sizes)
    assert res["p_value"] == pytest.approx(p, rel=0.01)
    assert res["failed"] is failed
    assert res["p_value"] == pytest.approx(stats.chisquare(sizes).pvalue, rel=1e-12)
    df = two_arm(sizes[0], 500, sizes[1], 520)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = campaign.measure(df, arm="arm", outcomes=["conversion"], control="control",
                             intended_split={"control": 0.5, "treatment": 0.5})
    assert r.srm["p_value"] == pytest.approx(p, rel=0.01)
    srm_warnings = [w for w in caught if issubclass(w.category, campaign.SampleRatioMismatchWarning)]
    assert bool(srm_warnings) is failed
    html = r._repr_html_()
    if failed:
        # loud and first: the banner comes before any table, and the first note is the SRM
        assert html.index("SAMPLE RATIO MISMATCH") < html.index("<table")
        assert r.notes[0].startswith("Sample ratio mismatch")
        assert r.to_dict()["srm_failed"] is True
    else:
        assert "SAMPLE RATIO MISMATCH" not in html


def test_srm_uses_intended_unequal_split():
    """A 90/10 split observed as 9,000 vs 1,000 is exactly as intended (chi-square 0)."""
    df = two_arm(1000, 50, 9000, 500)
    r = campaign.measure(df, arm="arm", outcomes=["conversion"], control="control",
                         intended_split={"control": 0.1, "treatment": 0.9})
    assert r.srm["chi2"] == pytest.approx(0.0, abs=1e-12)
    r2 = campaign.measure(df, arm="arm", outcomes=["conversion"], control="control",
                          intended_split=[0.1, 0.9])
    assert r2.srm["chi2"] == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------------------------ planning


def test_power_anchor_3835_per_arm():
    """ANCHORS.md (statsmodels 0.15): 10 % vs 12 %, alpha 0.05 two-sided, power 0.8:
    Cohen's h 0.063982 and 3,835 per arm."""
    p = campaign.plan(0.10, mde=0.02, power=0.8, alpha=0.05)
    assert p["effect_size"] == pytest.approx(0.063982, abs=1e-6)
    assert p["n_per_arm"] == 3835
    assert campaign.plan(0.10, mde=0.2, relative=True)["n_per_arm"] == 3835
    # inverse: the MDE at 3,835 per arm is two points, and the power there is 0.8
    assert campaign.plan(0.10, n_per_arm=3835)["mde_abs"] == pytest.approx(0.02, abs=1e-5)
    pw = campaign.plan(0.10, mde=0.02, n_per_arm=3835, power=None)["power"]
    assert pw == pytest.approx(0.8, abs=1e-3)
    assert campaign.plan(0.10, mde=0.02, n_per_arm=3834, power=None)["power"] < 0.8


def test_plan_for_means_uses_t_test_power():
    from statsmodels.stats.power import TTestIndPower

    p = campaign.plan(1.0, mde=0.2, kind="mean", sd=4.0)
    expected = math.ceil(TTestIndPower().solve_power(0.05, alpha=0.05, power=0.8))
    assert p["n_per_arm"] == expected


def test_holdout_is_the_smallest_that_reaches_power():
    from statsmodels.stats.power import NormalIndPower

    h = campaign.holdout(200_000, 0.10, 0.01)
    n_hold = h["holdout"]
    es = h["effect_size"]
    power = lambda k: NormalIndPower().power(es, nobs1=k, alpha=0.05, ratio=(200_000 - k) / k)  # noqa: E731
    assert power(n_hold) >= 0.8 > power(n_hold - 1)
    assert h["feasible"] and h["contacted"] == 200_000 - n_hold
    small = campaign.holdout(2_000, 0.10, 0.01)
    assert not small["feasible"]
    assert "too small" in small.notes[0]


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("call", [
    lambda: campaign.plan(0.1, n_per_arm=-50),
    lambda: campaign.plan(0.1, mde=-0.01),
    lambda: campaign.holdout(-1000, 0.1, 0.01),
    lambda: campaign.srm_check([5000, -10]),
    lambda: campaign.measure(two_arm(10, 1, 10, 2), arm="arm", outcomes=["conversion"],
                             control="control", intended_split=[0.5, -0.5]),
])
def test_negative_sizes_are_parameter_errors(call):
    with pytest.raises(ParameterError, match="negative|positive"):
        call()
