"""Tests of crmlab.campaign: published numbers, equality with statsmodels/scipy, invariants."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from crmlab import campaign
from crmlab.errors import DataError, ParameterError

ARMS = ["No E-Mail", "Womens E-Mail", "Mens E-Mail"]


@pytest.fixture(scope="module")
def hill() -> pd.DataFrame:
    return campaign.load_experiment("hillstrom")


@pytest.fixture(scope="module")
def hill_result(hill):
    return campaign.measure(hill, arm="segment", outcomes=["visit", "conversion", "spend"],
                            control="No E-Mail", covariate="history", random_state=1)


def _two_arm(n_c, x_c, n_t, x_t, spend=None):
    """A toy experiment with given sizes and conversions per arm."""
    arm = ["control"] * n_c + ["treatment"] * n_t
    conv = [1] * x_c + [0] * (n_c - x_c) + [1] * x_t + [0] * (n_t - x_t)
    return pd.DataFrame({"arm": arm, "conversion": conv})


# ------------------------------------------------------------------ Hillstrom anchors


def test_hillstrom_counts_match_anchors(hill, hill_result):
    """ANCHORS.md, Hillstrom e-mail test: 64,000 customers, Mens 21,307, Womens 21,387,
    No E-Mail 21,306; visit rate 0.14678, conversion 0.00903, mean spend 1.05091
    (9,394 visits, 578 conversions, total spend 67,258)."""
    arms = hill_result.arms
    assert arms.loc["Mens E-Mail", "n"] == 21307
    assert arms.loc["Womens E-Mail", "n"] == 21387
    assert arms.loc["No E-Mail", "n"] == 21306
    assert arms["n"].sum() == 64000
    w = arms["n"] / arms["n"].sum()
    assert (arms["visit"] * w).sum() == pytest.approx(0.14678, abs=5e-6)
    assert (arms["conversion"] * w).sum() == pytest.approx(0.00903, abs=5e-6)
    assert (arms["spend"] * w).sum() == pytest.approx(1.05091, abs=5e-6)
    assert round((arms["visit"] * arms["n"]).sum()) == 9394
    assert round((arms["conversion"] * arms["n"]).sum()) == 578
    assert (arms["spend"] * arms["n"]).sum() == pytest.approx(67258, abs=1)
    assert hill_result.kinds == {"visit": "binary", "conversion": "binary", "spend": "amount"}
    assert not hill_result.srm["failed"]
    # three equal arms of 64,000: chi-square of the observed sizes by hand
    exp = 64000 / 3
    chi2 = sum((n - exp) ** 2 / exp for n in (21307, 21387, 21306))
    assert hill_result.srm["chi2"] == pytest.approx(chi2, rel=1e-12)


@pytest.mark.parametrize("outcome", ["visit", "conversion"])
def test_ztest_equals_statsmodels_on_hillstrom(hill, hill_result, outcome):
    """Two-proportion z-test and Wald/Katz intervals equal statsmodels called directly."""
    ctrl = hill.loc[hill["segment"] == "No E-Mail", outcome]
    for arm in ARMS[1:]:
        trt = hill.loc[hill["segment"] == arm, outcome]
        z, p = proportions_ztest([trt.sum(), ctrl.sum()], [len(trt), len(ctrl)])
        row = hill_result.lift(outcome, arm)
        assert row["statistic"] == pytest.approx(z, rel=1e-10)
        assert row["p_value"] == pytest.approx(p, rel=1e-8)
        lo, hi = confint_proportions_2indep(trt.sum(), len(trt), ctrl.sum(), len(ctrl),
                                            method="wald", compare="diff")
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi), rel=1e-10)
        rlo, rhi = confint_proportions_2indep(trt.sum(), len(trt), ctrl.sum(), len(ctrl),
                                              method="log", compare="ratio")
        assert (row["rel_ci_low"], row["rel_ci_high"]) == pytest.approx((rlo - 1, rhi - 1), rel=1e-9)
        assert row["lift_abs"] == pytest.approx(trt.mean() - ctrl.mean(), rel=1e-12)


def test_welch_equals_scipy_on_hillstrom(hill, hill_result):
    """Welch's t statistic, df, p-value and interval on spend equal scipy.stats.ttest_ind."""
    ctrl = hill.loc[hill["segment"] == "No E-Mail", "spend"].to_numpy()
    for arm in ARMS[1:]:
        trt = hill.loc[hill["segment"] == arm, "spend"].to_numpy()
        res = stats.ttest_ind(trt, ctrl, equal_var=False)
        ci = res.confidence_interval(0.95)
        row = hill_result.lift("spend", arm)
        assert row["test"] == "Welch t"
        assert row["statistic"] == pytest.approx(res.statistic, rel=1e-9)
        assert row["p_value"] == pytest.approx(res.pvalue, rel=1e-7)
        assert row["df"] == pytest.approx(res.df, rel=1e-9)
        assert (row["t_ci_low"], row["t_ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
        # skewness from sufficient statistics equals scipy on the raw arrays
        assert row["skew_arm"] == pytest.approx(stats.skew(trt), rel=1e-8)
        assert row["skew_control"] == pytest.approx(stats.skew(ctrl), rel=1e-8)


def test_spend_too_skewed_gets_bootstrap_note_and_interval(hill_result):
    """Hillstrom spend has skewness ~26 in the control arm, so 355 * 26**2 >> 21,306
    customers: the t-test is doubtful, a note says so and the interval is bootstrapped."""
    row = hill_result.lift("spend", "Mens E-Mail")
    assert row["ci_method"].startswith("bootstrap")
    assert row["skew_control"] > 20
    assert any("too skewed" in n and "Mens E-Mail" in n for n in hill_result.notes)
    # the bootstrap interval contains the estimate and is near (not equal to) the t interval
    assert row["ci_low"] < row["lift_abs"] < row["ci_high"]
    assert row["ci_low"] != row["t_ci_low"]
    width_b, width_t = row["ci_high"] - row["ci_low"], row["t_ci_high"] - row["t_ci_low"]
    assert 0.8 < width_b / width_t < 1.25
    # binary outcomes are never bootstrapped
    assert hill_result.lift("visit", "Mens E-Mail")["ci_method"] == "Wald"


def test_bootstrap_is_seeded_and_reproducible(hill):
    a = campaign.measure(hill, outcomes=["spend"], random_state=7).lift("spend", "Mens E-Mail")
    b = campaign.measure(hill, outcomes=["spend"], random_state=7).lift("spend", "Mens E-Mail")
    c = campaign.measure(hill, outcomes=["spend"], random_state=8).lift("spend", "Mens E-Mail")
    assert a["ci_low"] == b["ci_low"] and a["ci_high"] == b["ci_high"]
    assert a["ci_low"] != c["ci_low"]


def test_bootstrap_means_spread_matches_standard_error():
    """The zero-skipping bootstrap (exact) and its bounded m-out-of-n variant both reproduce
    the standard error of a mean, sqrt(var / n), on zero-inflated lognormal spend."""
    rng = np.random.default_rng(3)
    n = 50_000
    y = np.where(rng.random(n) < 0.02, rng.lognormal(3, 1, n), 0.0)
    se = y.std() / math.sqrt(n)
    nz = y[y != 0]
    exact = campaign._bootstrap_means(nz, n, 4000, np.random.default_rng(1))
    assert exact.mean() == pytest.approx(y.mean(), rel=0.01)
    assert exact.std() == pytest.approx(se, rel=0.05)
    bounded = campaign._bootstrap_means(nz, n, 4000, np.random.default_rng(1), budget=400_000)
    assert bounded.std() == pytest.approx(se, rel=0.08)
    assert bounded.mean() == pytest.approx(y.mean(), rel=0.01)


# ------------------------------------------------------------------ hand-computed lift


def test_lift_intervals_on_hand_computed_example():
    """Control 100/1000 (10 %), treatment 120/1000 (12 %), by hand:
    diff 0.02, se = sqrt(.1*.9/1000 + .12*.88/1000) = 0.0139857, 95 % CI 0.02 -/+ 1.959964*se
    = [-0.0074115, 0.0474115]; ratio 1.2, se(log) = sqrt(1/120 - 1/1000 + 1/100 - 1/1000)
    = 0.1278019, CI 1.2*exp(-/+1.959964*0.1278019) - 1 = [-0.065894, 0.541581];
    pooled p = 0.11, z = 0.02 / sqrt(.11*.89*(2/1000)) = 1.429301, p = 0.152918."""
    r = campaign.measure(_two_arm(1000, 100, 1000, 120), arm="arm", outcomes=["conversion"],
                         control="control")
    row = r.lift("conversion", "treatment")
    assert row["lift_abs"] == pytest.approx(0.02, abs=1e-12)
    assert row["ci_low"] == pytest.approx(-0.0074115, abs=1e-6)
    assert row["ci_high"] == pytest.approx(0.0474115, abs=1e-6)
    assert row["lift_rel"] == pytest.approx(0.2, abs=1e-12)
    assert row["rel_ci_low"] == pytest.approx(-0.065894, abs=2e-6)
    assert row["rel_ci_high"] == pytest.approx(0.541581, abs=2e-6)
    assert row["statistic"] == pytest.approx(1.429301, abs=1e-6)
    assert row["p_value"] == pytest.approx(0.152918, abs=1e-6)
    assert not row["significant"]


def test_welch_on_hand_computed_example():
    """Amounts control [1,2,3,4] (mean 2.5, var 5/3), treatment [2,4,6,8,10] (mean 6, var 10):
    diff 3.5, se = sqrt(10/5 + (5/3)/4) = 1.5546, df = se^4 / ((2)^2/4 + (5/12)^2/3) = 5.6887."""
    df = pd.DataFrame({"arm": ["c"] * 4 + ["t"] * 5, "y": [1, 2, 3, 4, 2, 4, 6, 8, 10.0]})
    row = campaign.measure(df, arm="arm", outcomes=["y"], control="c", n_boot=0).lift("y", "t")
    se = math.sqrt(2 + 5 / 12)
    assert row["lift_abs"] == pytest.approx(3.5)
    assert row["se"] == pytest.approx(se, rel=1e-12)
    assert row["df"] == pytest.approx(se**4 / (4 / 4 + (5 / 12) ** 2 / 3), rel=1e-12)
    assert row["statistic"] == pytest.approx(3.5 / se, rel=1e-12)


# ------------------------------------------------------------------ SRM and corrections


@pytest.mark.parametrize("sizes, p, failed", [((5100, 4900), 0.0455, False),
                                              ((5200, 4800), 6.3e-5, True)])
def test_srm_examples(sizes, p, failed):
    """ANCHORS.md, experiment statistics: an intended 50/50 split observed as 5,100 vs 4,900
    gives p=0.0455 and 5,200 vs 4,800 gives p=6.3e-5 (chi-square, 1 df)."""
    res = campaign.srm_check(sizes)
    assert res["p_value"] == pytest.approx(p, rel=0.01)
    assert res["failed"] is failed
    assert res["p_value"] == pytest.approx(stats.chisquare(sizes).pvalue, rel=1e-12)
    df = _two_arm(sizes[0], 500, sizes[1], 520)
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
    df = _two_arm(1000, 50, 9000, 500)
    r = campaign.measure(df, arm="arm", outcomes=["conversion"], control="control",
                         intended_split={"control": 0.1, "treatment": 0.9})
    assert r.srm["chi2"] == pytest.approx(0.0, abs=1e-12)
    r2 = campaign.measure(df, arm="arm", outcomes=["conversion"], control="control",
                          intended_split=[0.1, 0.9])
    assert r2.srm["chi2"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("correction, method", [("holm", "holm"), ("bh", "fdr_bh")])
def test_corrected_p_values_equal_statsmodels(hill, correction, method):
    r = campaign.measure(hill, correction=correction, n_boot=0)
    p = r.comparisons["p_value"].to_numpy()
    assert len(p) == 6
    np.testing.assert_allclose(r.comparisons["p_adjusted"], multipletests(p, method=method)[1],
                               rtol=1e-12)
    assert (r.comparisons["p_adjusted"] >= r.comparisons["p_value"] - 1e-15).all()


@pytest.mark.parametrize("correction, method",
                         [("holm", "holm"), ("bh", "fdr_bh"), ("bonferroni", "bonferroni")])
def test_corrections_over_many_arms_and_outcomes(correction, method):
    """Six arms x two outcomes = 10 comparisons with a mix of real and null effects."""
    rng = np.random.default_rng(2)
    n = 12_000
    arm = rng.integers(0, 6, n)
    df = pd.DataFrame({
        "arm": np.array(["ctrl", "a", "b", "c", "d", "e"])[arm],
        "buy": (rng.random(n) < 0.05 + 0.006 * arm).astype(int),
        "value": rng.gamma(2, 5, n) + 0.3 * (arm == 2),
    })
    r = campaign.measure(df, arm="arm", outcomes=["buy", "value"], control="ctrl",
                         correction=correction, n_boot=0)
    p = r.comparisons["p_value"].to_numpy()
    assert len(p) == 10
    np.testing.assert_allclose(r.comparisons["p_adjusted"], multipletests(p, method=method)[1],
                               rtol=1e-12)


# ------------------------------------------------------------------ CUPED


def _simulated(seed, n=4000, effect=0.5):
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 10.0, n)
    arm = rng.integers(0, 2, n)
    y = 5 + 0.8 * x + effect * arm + rng.normal(0, 8, n)
    return pd.DataFrame({"arm": np.where(arm == 1, "t", "c"), "y": y, "x": x})


def test_cuped_equals_ancova_ols():
    """CUPED with the within-arm pooled theta is the arm coefficient of OLS y ~ arm + x."""
    df = _simulated(11)
    r = campaign.measure(df, arm="arm", outcomes=["y"], control="c", covariate="x", n_boot=0)
    X = sm.add_constant(np.column_stack([(df["arm"] == "t").astype(float), df["x"]]))
    fit = sm.OLS(df["y"].to_numpy(), X).fit()
    row = r.lift("y", "t")
    assert row["cuped_lift_abs"] == pytest.approx(fit.params[1], rel=1e-9)
    assert row["cuped_theta"] == pytest.approx(fit.params[2], rel=1e-9)


def test_cuped_shrinks_variance_and_stays_unbiased_over_seeded_simulations():
    """300 seeded experiments (known effect 0.5, corr(x, y) about 0.82): the CUPED estimates
    average the true effect, vary much less than the plain difference of means, and the
    reported variance reduction matches the one observed across simulations."""
    plain, cuped, reported = [], [], []
    for seed in range(300):
        r = campaign.measure(_simulated(seed), arm="arm", outcomes=["y"], control="c",
                             covariate="x", n_boot=0)
        row = r.lift("y", "t")
        plain.append(row["lift_abs"])
        cuped.append(row["cuped_lift_abs"])
        reported.append(row["variance_reduction"])
    plain, cuped = np.array(plain), np.array(cuped)
    se_mc = cuped.std(ddof=1) / math.sqrt(len(cuped))
    assert abs(cuped.mean() - 0.5) < 3 * se_mc
    assert abs(plain.mean() - 0.5) < 3 * plain.std(ddof=1) / math.sqrt(len(plain))
    observed = 1 - cuped.var(ddof=1) / plain.var(ddof=1)
    assert observed > 0.5
    assert np.mean(reported) == pytest.approx(observed, abs=0.08)


def test_cuped_on_hillstrom_reports_reduction(hill_result):
    """history is a weak predictor of the campaign outcomes: a small but positive reduction."""
    vr = hill_result.comparisons["variance_reduction"]
    assert ((vr >= 0) & (vr < 0.05)).all()
    assert any(n.startswith("CUPED on history") for n in hill_result.notes)


# ------------------------------------------------------------------ segments


def test_segment_interaction_equals_hc2_wald_test(hill):
    """Cochran's Q over segment lifts equals the Wald test of arm x segment interactions in
    the saturated OLS model with HC2 errors (statsmodels)."""
    sub = hill[hill["segment"].isin(["No E-Mail", "Womens E-Mail"])]
    se = campaign.segment_effects(sub, "channel", arm="segment", outcome="conversion",
                                  control="No E-Mail")
    fit = sm.OLS.from_formula("conversion ~ C(segment) * C(channel)", data=sub).fit(cov_type="HC2")
    names = [n for n in fit.params.index if ":" in n]
    R = np.zeros((len(names), len(fit.params)))
    for i, nm in enumerate(names):
        R[i, list(fit.params.index).index(nm)] = 1
    wald = fit.wald_test(R, scalar=True)
    row = se.interaction.iloc[0]
    assert row["q"] == pytest.approx(float(wald.statistic), rel=1e-8)
    assert row["p_value"] == pytest.approx(float(wald.pvalue), rel=1e-6)
    assert row["df"] == 2


def test_segment_effects_table_and_dict(hill):
    se = campaign.segment_effects(hill, ["newbie", "channel"], outcome=["conversion", "spend"])
    t = se.table
    # segment cells add up to the arms
    web = t[(t["dimension"] == "channel") & (t["outcome"] == "conversion")
            & (t["arm"] == "Mens E-Mail")]
    assert web["n_arm"].sum() == 21307 and web["n_control"].sum() == 21306
    # segment lift equals a direct computation
    phone = hill[hill["channel"] == "Phone"]
    direct = (phone.loc[phone["segment"] == "Mens E-Mail", "conversion"].mean()
              - phone.loc[phone["segment"] == "No E-Mail", "conversion"].mean())
    got = web.set_index("segment").loc["Phone", "lift_abs"]
    assert got == pytest.approx(direct, rel=1e-12)
    assert set(t["action"]) <= {"target", "avoid", "unclear"}
    assert (t.loc[t["action"] == "target", "ci_low"] > 0).all()
    d = se.to_dict()
    assert "conversion__mens_e_mail__channel__phone__lift_abs" in d
    assert "conversion__womens_e_mail__newbie__interaction_p_value" in d
    assert all(not isinstance(v, (dict, list)) for v in d.values())
    json.dumps(d)
    assert len(se.recommendation) == len(se.interaction)
    # interaction p-values are Holm-corrected over the 2 dimensions x 2 outcomes x 2 arms
    inter = se.interaction
    np.testing.assert_allclose(inter["p_adjusted"],
                               multipletests(inter["p_value"], method="holm")[1], rtol=1e-12)
    assert (inter["differs"] == (inter["p_adjusted"] < 0.05)).all()
    assert "<table" in se._repr_html_()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert se.plot("conversion", "Mens E-Mail", dimension="channel", ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "channel: Multichannel"
    plt.close(fig)


# ------------------------------------------------------------------ money


def test_roi_by_hand():
    """1,000 contacts at 0.5 each, control 5 % vs treatment 8 % conversion, spend 100 per
    conversion, margin 40 %: 30 incremental conversions, 3,000 incremental revenue,
    1,200 margin, net 700, ROI 1.4, cost per incremental conversion 16.67, CLV 200 -> 6,000."""
    df = _two_arm(1000, 50, 1000, 80)
    df["spend"] = df["conversion"] * 100.0
    r = campaign.measure(df, arm="arm", outcomes=["conversion", "spend"], control="control",
                         n_boot=0)
    money = campaign.roi(r, cost_per_contact=0.5, margin=0.4, clv=pd.Series([150.0, 250.0]))
    row = money.table.loc["treatment"]
    assert row["incremental_conversions"] == pytest.approx(30)
    assert row["incremental_revenue"] == pytest.approx(3000)
    assert row["incremental_margin"] == pytest.approx(1200)
    assert row["net_return"] == pytest.approx(700)
    assert row["roi"] == pytest.approx(1.4)
    assert row["cost_per_incremental_conversion"] == pytest.approx(500 / 30)
    assert row["incremental_clv"] == pytest.approx(6000)
    assert row["roi_low"] < row["roi"] < row["roi_high"]
    assert money.to_dict()["treatment__roi"] == pytest.approx(1.4)
    with pytest.raises(ParameterError, match="margin"):
        campaign.roi(r, cost_per_contact=0.5, margin=30)
    with pytest.raises(ParameterError, match="cost_per_contact"):
        campaign.roi(r, cost_per_contact=-1, margin=0.3)


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


# ------------------------------------------------------------------ difference in differences


def test_diff_in_diff_matches_statsmodels_and_says_weaker_evidence():
    rng = np.random.default_rng(5)
    units = 400
    u = np.repeat(np.arange(units), 2)
    treated = np.repeat(rng.integers(0, 2, units), 2)
    post = np.tile([0, 1], units)
    level = np.repeat(rng.normal(0, 2, units), 2)
    y = 10 + level + 1.5 * treated + 0.7 * post + 2.0 * treated * post + rng.normal(0, 1, 2 * units)
    df = pd.DataFrame({"customer": u, "treated": treated, "post": post, "y": y})
    r = campaign.diff_in_diff(df, outcome="y", treated="treated", post="post", unit="customer")
    fit = sm.OLS.from_formula("y ~ treated * post", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df["customer"]})
    assert r.estimate == pytest.approx(fit.params["treated:post"], rel=1e-10)
    assert r.se == pytest.approx(fit.bse["treated:post"], rel=1e-10)
    assert r.ci_low < 2.0 < r.ci_high
    assert "weaker evidence" in r.title
    assert r.to_dict()["evidence"] == "observational"
    m = r.means
    assert r.estimate == pytest.approx(m.loc["treated", "change"] - m.loc["comparison", "change"])


# ------------------------------------------------------------------ bad input


def test_missing_arm_column_named():
    with pytest.raises(DataError, match="'group'"):
        campaign.measure(_two_arm(10, 1, 10, 2), arm="group", outcomes=["conversion"],
                         control="control")


def test_missing_control_label_lists_values():
    with pytest.raises(DataError, match=r"column 'arm'.*'holdout'.*control.*treatment"):
        campaign.measure(_two_arm(10, 1, 10, 2), arm="arm", outcomes=["conversion"],
                         control="holdout")


def test_missing_treatment_label():
    with pytest.raises(DataError, match="'email'"):
        campaign.measure(_two_arm(10, 1, 10, 2), arm="arm", outcomes=["conversion"],
                         control="control", treatments=["email"])


def test_arm_with_no_rows():
    df = _two_arm(10, 1, 10, 2)
    df["arm"] = pd.Categorical(df["arm"], categories=["control", "treatment", "sms"])
    with pytest.raises(DataError, match=r"arm has no rows.*'sms'"):
        campaign.measure(df, arm="arm", outcomes=["conversion"], control="control")


def test_non_binary_outcome_for_proportion_test():
    df = _two_arm(10, 1, 10, 2)
    df["conversion"] = df["conversion"] * 3
    with pytest.raises(DataError, match=r"column 'conversion'.*not binary.*3"):
        campaign.measure(df, arm="arm", outcomes=["conversion"], control="control",
                         binary=["conversion"])


def test_missing_outcome_values_and_columns():
    df = _two_arm(10, 1, 10, 2).astype({"conversion": float})
    df.loc[3, "conversion"] = np.nan
    with pytest.raises(DataError, match=r"column 'conversion'.*1 missing"):
        campaign.measure(df, arm="arm", outcomes=["conversion"], control="control")
    with pytest.raises(DataError, match="'revenue'"):
        campaign.measure(df, arm="arm", outcomes=["revenue"], control="control")


@pytest.mark.parametrize("call", [
    lambda: campaign.plan(0.1, n_per_arm=-50),
    lambda: campaign.plan(0.1, mde=-0.01),
    lambda: campaign.holdout(-1000, 0.1, 0.01),
    lambda: campaign.srm_check([5000, -10]),
    lambda: campaign.measure(_two_arm(10, 1, 10, 2), arm="arm", outcomes=["conversion"],
                             control="control", intended_split=[0.5, -0.5]),
])
def test_negative_sizes_are_parameter_errors(call):
    with pytest.raises(ParameterError, match="negative|positive"):
        call()


# ------------------------------------------------------------------ result object


def test_result_display_and_flat_dict(hill_result):
    d = hill_result.to_dict()
    json.dumps(d)
    assert all(not isinstance(v, (dict, list)) for v in d.values())
    assert d["n__mens_e_mail"] == 21307
    assert d["conversion__mens_e_mail__lift_abs"] == pytest.approx(
        hill_result.lift("conversion", "Mens E-Mail")["lift_abs"])
    assert "spend__womens_e_mail__variance_reduction" in d
    s = hill_result.summary
    assert s.index.names == ["outcome", "arm"] and len(s) == 6
    html = hill_result._repr_html_()
    assert "Sample ratio check passed" in html and "<table" in html
    import matplotlib.pyplot as plt

    ax = hill_result.plot("conversion")
    assert len(ax.get_yticklabels()) == 2
    plt.close(ax.figure)


def test_diff_in_diff_bad_input():
    df = pd.DataFrame({"u": [1, 1, 2, 2], "treated": [1, 1, 0, 0], "post": [0, 2, 0, 2],
                       "y": [1.0, 2, 1, 1]})
    with pytest.raises(DataError, match=r"column 'post'.*not 0/1"):
        campaign.diff_in_diff(df, outcome="y", treated="treated", post="post", unit="u")
    df["post"] = [0, 0, 0, 1]
    with pytest.raises(DataError, match="both before and after"):
        campaign.diff_in_diff(df, outcome="y", treated="treated", post="post", unit="u")


def test_segment_response_for_strategy_report():
    """Segments with missing labels get their own row; response() gives one row per segment."""
    rng = np.random.default_rng(4)
    n = 6000
    df = pd.DataFrame({
        "arm": rng.choice(["ctrl", "mail"], n),
        "rfm": rng.choice(["Champions", "At Risk", None], n),
    })
    # mail works only for At Risk customers (+10 points); Champions are unaffected
    base = 0.1 + 0.1 * ((df["arm"] == "mail") & (df["rfm"] == "At Risk"))
    df["buy"] = (rng.random(n) < base).astype(int)
    se = campaign.segment_effects(df, "rfm", arm="arm", outcome="buy", control="ctrl")
    resp = se.response("rfm")
    assert set(resp.index) == {"Champions", "At Risk", "(missing)"}
    assert resp.loc["At Risk", "action"] == "target"
    assert resp.loc["At Risk", "lift_abs"] == pytest.approx(0.1, abs=0.04)
    assert bool(se.interaction.loc[0, "differs"])
    assert "target At Risk" in se.recommendation[0]
    with pytest.raises(ParameterError, match="'channel'"):
        se.response("channel")


def test_tiny_arms_do_not_crash():
    df = pd.DataFrame({"arm": ["c", "c", "t"], "y": [1.0, 2.0, 5.0]})
    row = campaign.measure(df, arm="arm", outcomes=["y"], control="c").lift("y", "t")
    assert row["lift_abs"] == pytest.approx(3.5)
    assert np.isnan(row["p_value"])
