"""Tests of crmlab.campaign.readout (measure): published numbers, equality with statsmodels/scipy, invariants."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from crmlab import campaign
from crmlab.campaign.moments import bootstrap_means
from crmlab.errors import DataError

from campaign_cases import ARMS, two_arm


@pytest.fixture(scope="module")
def hill() -> pd.DataFrame:
    return campaign.load_experiment("hillstrom")


@pytest.fixture(scope="module")
def hill_result(hill):
    return campaign.measure(hill, arm="segment", outcomes=["visit", "conversion", "spend"],
                            control="No E-Mail", covariate="history", random_state=1)


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
    exact = bootstrap_means(nz, n, 4000, np.random.default_rng(1))
    assert exact.mean() == pytest.approx(y.mean(), rel=0.01)
    assert exact.std() == pytest.approx(se, rel=0.05)
    bounded = bootstrap_means(nz, n, 4000, np.random.default_rng(1), budget=400_000)
    assert bounded.std() == pytest.approx(se, rel=0.08)
    assert bounded.mean() == pytest.approx(y.mean(), rel=0.01)


# ------------------------------------------------------------------ hand-computed lift


def test_lift_intervals_on_hand_computed_example():
    """Control 100/1000 (10 %), treatment 120/1000 (12 %), by hand:
    diff 0.02, se = sqrt(.1*.9/1000 + .12*.88/1000) = 0.0139857, 95 % CI 0.02 -/+ 1.959964*se
    = [-0.0074115, 0.0474115]; ratio 1.2, se(log) = sqrt(1/120 - 1/1000 + 1/100 - 1/1000)
    = 0.1278019, CI 1.2*exp(-/+1.959964*0.1278019) - 1 = [-0.065894, 0.541581];
    pooled p = 0.11, z = 0.02 / sqrt(.11*.89*(2/1000)) = 1.429301, p = 0.152918."""
    r = campaign.measure(two_arm(1000, 100, 1000, 120), arm="arm", outcomes=["conversion"],
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


# ------------------------------------------------------------------ corrections


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


# ------------------------------------------------------------------ bad input


def test_missing_arm_column_named():
    with pytest.raises(DataError, match="'group'"):
        campaign.measure(two_arm(10, 1, 10, 2), arm="group", outcomes=["conversion"],
                         control="control")


def test_missing_control_label_lists_values():
    with pytest.raises(DataError, match=r"column 'arm'.*'holdout'.*control.*treatment"):
        campaign.measure(two_arm(10, 1, 10, 2), arm="arm", outcomes=["conversion"],
                         control="holdout")


def test_missing_treatment_label():
    with pytest.raises(DataError, match="'email'"):
        campaign.measure(two_arm(10, 1, 10, 2), arm="arm", outcomes=["conversion"],
                         control="control", treatments=["email"])


def test_arm_with_no_rows():
    df = two_arm(10, 1, 10, 2)
    df["arm"] = pd.Categorical(df["arm"], categories=["control", "treatment", "sms"])
    with pytest.raises(DataError, match=r"arm has no rows.*'sms'"):
        campaign.measure(df, arm="arm", outcomes=["conversion"], control="control")


def test_non_binary_outcome_for_proportion_test():
    df = two_arm(10, 1, 10, 2)
    df["conversion"] = df["conversion"] * 3
    with pytest.raises(DataError, match=r"column 'conversion'.*not binary.*3"):
        campaign.measure(df, arm="arm", outcomes=["conversion"], control="control",
                         binary=["conversion"])


def test_missing_outcome_values_and_columns():
    df = two_arm(10, 1, 10, 2).astype({"conversion": float})
    df.loc[3, "conversion"] = np.nan
    with pytest.raises(DataError, match=r"column 'conversion'.*1 missing"):
        campaign.measure(df, arm="arm", outcomes=["conversion"], control="control")
    with pytest.raises(DataError, match="'revenue'"):
        campaign.measure(df, arm="arm", outcomes=["revenue"], control="control")


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


def test_tiny_arms_do_not_crash():
    df = pd.DataFrame({"arm": ["c", "c", "t"], "y": [1.0, 2.0, 5.0]})
    row = campaign.measure(df, arm="arm", outcomes=["y"], control="c").lift("y", "t")
    assert row["lift_abs"] == pytest.approx(3.5)
    assert np.isnan(row["p_value"])
