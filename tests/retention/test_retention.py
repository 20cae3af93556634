"""Tests for crmlab.retention: hand-computed cohort and survival numbers, simulated Cox data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlab import retention
from crmlab.errors import DataError, ParameterError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def toy():
    """A: Jan 5, Feb 10, Mar 10, Apr 1. B: Jan 20. C: Feb 3, Mar 15. D: Feb 25, Feb 26, Apr 10."""
    rows = [
        ("A", "2011-01-05"), ("A", "2011-02-10"), ("A", "2011-03-10"), ("A", "2011-04-01"),
        ("B", "2011-01-20"),
        ("C", "2011-02-03"), ("C", "2011-03-15"),
        ("D", "2011-02-25"), ("D", "2011-02-26"), ("D", "2011-04-10"),
    ]
    return pd.DataFrame({
        "customer_id": pd.array([r[0] for r in rows], dtype="string"),
        "order_id": pd.array([f"o{i}" for i in range(len(rows))], dtype="string"),
        "order_ts": pd.to_datetime([r[1] for r in rows]),
        "amount": [10.0, 20, 30, 40, 50, 5, 15, 8, 2, 100],
    })


def test_cohort_matrix_exact_by_hand(toy):
    """Jan cohort {A, B}: A active in months 0,1,2,3 -> counts 2,1,1,1. Feb cohort {C, D}:
    C in months 0,1, D in months 0,2 -> counts 2,1,1 and nothing observable at k=3."""
    co = retention.cohort_matrix(toy)
    assert list(co.counts.index) == ["2011-01", "2011-02"]
    np.testing.assert_array_equal(co.counts.loc["2011-01"].to_numpy(), [2, 1, 1, 1])
    feb = co.counts.loc["2011-02"]
    np.testing.assert_array_equal(feb.iloc[:3].to_numpy(), [2, 1, 1])
    assert np.isnan(feb.iloc[3])
    np.testing.assert_allclose(co.rates.loc["2011-01"].to_numpy(), [1, 0.5, 0.5, 0.5])
    assert co.sizes.tolist() == [2, 2]
    # customer-weighted average over the cohorts observed: k=1 -> (1+1)/(2+2), k=3 -> 1/2;
    # by default the cells in the last (partial) calendar month, April, are left out
    avg = co.average_rates(exclude_last_period=False)
    assert avg[1] == pytest.approx(0.5) and avg[3] == pytest.approx(0.5)
    avg = co.average_rates()
    assert avg[1] == pytest.approx(0.5) and np.isnan(avg[3])
    assert avg[2] == pytest.approx(0.5)  # Jan cohort only (Feb cohort's k=2 is April)


def test_cohort_matrix_cumulative_by_hand(toy):
    """'In period k or later': Feb cohort C last active at k=1, D at k=2 -> 2, 2, 1."""
    co = retention.cohort_matrix(toy, mode="cumulative")
    np.testing.assert_array_equal(co.counts.loc["2011-02"].iloc[:3].to_numpy(), [2, 2, 1])
    np.testing.assert_array_equal(co.counts.loc["2011-01"].to_numpy(), [2, 1, 1, 1])
    # cumulative never rises with k
    r = co.rates.to_numpy()
    assert np.all(np.nan_to_num(np.diff(r, axis=1), nan=0) <= 1e-12)


def test_cohort_quarters_and_plot(toy):
    import matplotlib

    matplotlib.use("Agg")
    co = retention.cohort_matrix(toy, period="Q")
    assert list(co.counts.index) == ["2011-Q1"]
    assert co.counts.iloc[0].tolist() == [4, 2]
    ax = co.plot()
    assert ax.get_xlabel().startswith("quarters")
    with pytest.raises(ParameterError):
        retention.cohort_matrix(toy, mode="sometimes")


def test_churn_table_by_hand(toy):
    """as_of = day after the last order (2011-04-11), churn after 30 days without a purchase.
    B (last Jan 20, 81 days) churned, duration 0; A active, duration Apr 11 - Jan 5 = 96 days;
    C last Mar 15 (27 days) active, 67 days; D active, 45 days."""
    ct = retention.churn_table(toy, churn_days=30)
    assert ct["churned"].to_dict() == {"A": False, "B": True, "C": False, "D": False}
    assert ct["duration_days"].to_dict() == {"A": 96, "B": 0, "C": 67, "D": 45}
    assert ct.loc["A", "orders"] == 4 and ct.loc["A", "revenue"] == 100
    assert ct.loc["D", "first_order_value"] == 8 and ct.loc["D", "first_order_lines"] == 1
    # from 2011-03-01: active then (bought in the 30 days before) are A (Feb 10... 19 days),
    # D (Feb 26); C's last purchase before Mar 1 is Feb 3 (26 days) -> active too; B is not.
    f = retention.churn_table(toy, churn_days=30, from_date="2011-03-01")
    assert sorted(f.index) == ["A", "C", "D"]
    assert f.loc["A", "duration_days"] == 41


def test_kaplan_meier_by_hand():
    """Durations 2,3,3+,5,6+,8 (+ = censored). By hand: S(2)=5/6, S(3)=5/6*4/5=2/3,
    S(5)=2/3*2/3=4/9, S(8)=0; median 5; Greenwood se at t=2: (5/6)*sqrt(1/(6*5))."""
    t = pd.DataFrame({"duration_days": [2, 3, 3, 5, 6, 8], "churned": [1, 1, 0, 1, 0, 1]})
    km = retention.survival(t, min_group=1, horizons=(4,))
    c = km.curves["all customers"]
    np.testing.assert_allclose(c["time"], [2, 3, 5, 8])
    np.testing.assert_allclose(c["survival"], [5 / 6, 2 / 3, 4 / 9, 0], atol=1e-12)
    np.testing.assert_allclose(c["at_risk"], [6, 5, 3, 1])
    assert km.fits["all customers"].surv_prob_se[0] == pytest.approx(5 / 6 * np.sqrt(1 / 30))
    assert km.table.loc["all customers", "median_days"] == 5
    assert km.table.loc["all customers", "survival_4d"] == pytest.approx(2 / 3)
    assert km.survival_at(5.5)["all customers"] == pytest.approx(4 / 9)
    assert (c["lower"] <= c["survival"] + 1e-12).all() and (c["upper"] >= c["survival"] - 1e-12).all()


def test_survival_by_group_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    t = pd.DataFrame({"duration_days": [1, 2, 3, 4, 10, 20, 30, 40],
                      "churned": [1, 1, 1, 1, 1, 0, 1, 0], "g": list("aaaabbbb")})
    km = retention.survival(t, by="g", min_group=2)
    assert km.table["customers"].to_dict() == {"a": 4, "b": 4}
    # group a: S = .75, .5, .25, 0 at 1..4; statsmodels' median is the first time S < 0.5
    assert km.table.loc["a", "median_days"] == 3
    ax = km.plot()
    assert len(ax.get_lines()) == 2
    # group b: churns at 10 (4 at risk) and 30 (2 at risk: 20 was censored), the last customer
    # followed to 40: the drawn curve runs flat to day 40 at S = 3/4 * 1/2 = 3/8 (by hand),
    # not only to the last churn
    line_b = ax.get_lines()[1]
    assert line_b.get_xdata()[-1] == 40
    assert line_b.get_ydata()[-1] == pytest.approx(3 / 8)
    with pytest.raises(DataError):
        retention.survival(t, by="nope")


def test_cox_recovers_simulated_hazard_ratio():
    """Exponential lifetimes with hazard 0.01/day, doubled for the treated group, 30% censored
    at random: PHReg's hazard ratio for the group is 2 within sampling error (n=4000)."""
    rng = np.random.default_rng(42)
    n = 4000
    g = rng.integers(0, 2, n)
    noise = rng.normal(size=n)
    life = rng.exponential(1 / (0.01 * np.where(g == 1, 2.0, 1.0)))
    cens = rng.exponential(1 / 0.004, n)
    t = pd.DataFrame({"duration_days": np.minimum(life, cens), "churned": life <= cens,
                      "group": g, "noise": noise, "tier": np.where(g == 1, "hi", "lo")})
    cox = retention.churn_drivers(t, ["group", "noise"])
    hr = cox.table.loc["group", "hazard_ratio"]
    assert hr == pytest.approx(2.0, rel=0.1)
    assert cox.table.loc["group", "lower"] < 2.0 < cox.table.loc["group", "upper"]
    assert cox.table.loc["noise", "lower"] < 1.0 < cox.table.loc["noise", "upper"]
    # a categorical covariate is coded against its most common level
    cat = retention.churn_drivers(t, ["tier"])
    assert len(cat.table) == 1 and cat.table.index[0].startswith("tier=")
    with pytest.raises(DataError):
        retention.churn_drivers(t.assign(k=1.0), ["k"])


def test_best_customer_retention_by_hand(toy):
    """Monthly, top = customers with at least 2 orders before the month starts. February:
    nobody has 2 orders yet (skipped). March: top {A, D}; A buys in March, D does not -> 1/2.
    April is cut off (data ends Apr 10), so not reported."""
    def two_orders(tx, as_of):
        n = tx.groupby("customer_id")["order_id"].nunique()
        return pd.Series(np.where(n >= 2, "Top", "Rest"), index=n.index)

    res = retention.best_customer_retention(toy, period="M", min_history_days=20,
                                            top_segments=["Top"], segment_fn=two_orders)
    assert len(res.table) == 1
    row = res.table.iloc[0]
    assert str(res.table.index[0]) == "2011-03-01"
    assert (row["top_customers"], row["retained"], row["retention"]) == (2, 1, 0.5)


def test_best_customer_retention_with_rfm_segments():
    """Default segmentation (crmlab.segments.rfm) on the Online Retail sample fixture."""
    from crmlab import data

    tx = data.clean(data.load_transactions(FIXTURES / "online_retail_sample.csv.gz",
                                           columns="online_retail")).data
    res = retention.best_customer_retention(tx, period="Q")
    t = res.table
    assert len(t) >= 2
    assert (t["top_customers"] > 0).all() and t["retention"].between(0, 1).all()
    assert (t["retained"] <= t["top_customers"]).all()


def test_churn_table_as_of_is_the_cutoff_rule(toy):
    """as_of goes through crmlab.dates.cutoff: orders strictly before it count, and as_of=""
    means the default report date (day after the last order)."""
    cut = retention.churn_table(toy, as_of="2011-03-15", churn_days=30)
    assert cut.attrs["as_of"] == "2011-03-15"
    # C's order on 2011-03-15 is on the report date itself, so it does not count yet
    assert cut.loc["C", "last_purchase"] == pd.Timestamp("2011-02-03")
    before = toy[toy["order_ts"] < pd.Timestamp("2011-03-15")]
    pd.testing.assert_frame_equal(cut, retention.churn_table(before, as_of="2011-03-15", churn_days=30))
    pd.testing.assert_frame_equal(retention.churn_table(toy, as_of=""), retention.churn_table(toy))
    with pytest.raises(DataError, match="no transactions before"):
        retention.churn_table(toy, as_of="2010-01-01")


def test_best_customer_retention_defaults_to_best_segments():
    """The default top segments are crmlab.segments.BEST_SEGMENTS, the one definition of
    "best customers"."""
    from crmlab import data, segments

    tx = data.clean(data.load_transactions(FIXTURES / "online_retail_sample.csv.gz",
                                           columns="online_retail")).data
    res = retention.best_customer_retention(tx, period="Q")
    assert res.top_segments == tuple(segments.BEST_SEGMENTS)


def test_survival_never_reports_beyond_the_follow_up():
    """Longest duration 8 days: a 30-day horizon is dropped (with a note), a 5-day one is kept;
    group b is followed for 3 days only, so its 5-day survival is NaN, not its last value."""
    t = pd.DataFrame({"duration_days": [2, 3, 5, 6, 8, 1, 2, 3], "churned": [1, 0, 1, 0, 1, 1, 0, 1],
                      "g": list("aaaaabbb")})
    km = retention.survival(t, by="g", min_group=1, horizons=(5, 30))
    assert list(km.table.filter(like="survival_").columns) == ["survival_5d"]
    assert km.follow_up == 8 and km.dropped_horizons == (30,)
    assert any("at most 8 days" in n and "30" in n for n in km.notes)
    assert km.table.loc["a", "survival_5d"] == pytest.approx(4 / 5 * 2 / 3)  # S(2)=4/5, S(5)=4/5*2/3
    assert np.isnan(km.table.loc["b", "survival_5d"])
    assert np.isnan(km.survival_at(4)["b"]) and km.survival_at(3)["b"] == pytest.approx(0)
    full = retention.survival(t, min_group=1, horizons=(5,))
    assert full.dropped_horizons == () and len(full.notes) == 1


def test_churn_covariates_drop_what_cannot_be_estimated():
    """A covariate the table lacks, one that never varies, and a two-valued one with a single
    customer in one value (the 9e-10 hazard ratio) are dropped with their reasons."""
    rng = np.random.default_rng(0)
    n = 60
    t = pd.DataFrame({"duration_days": rng.exponential(50, n), "churned": rng.random(n) < 0.6,
                      "log_first_order_value": rng.normal(3, 1, n), "first_order_lines": rng.integers(1, 5, n),
                      "domestic": 1.0})
    use, dropped = retention.churn_covariates(t, [*retention.BASELINE_COVARIATES, "domestic", "channel"])
    assert use == ["log_first_order_value", "first_order_lines"]
    assert dropped == {"domestic": "constant", "channel": "missing"}
    t.loc[0, "domestic"] = 0.0
    assert retention.churn_covariates(t, ["domestic"]) == ([], {"domestic": "rare"})
    t["domestic"] = np.r_[np.zeros(30), np.ones(30)]
    t["churned"] = t["domestic"] == 1  # no churn among the non-domestic: separation
    assert retention.churn_covariates(t, ["domestic"])[1] == {"domestic": "rare"}
    t["churned"] = np.tile([True, False], 30)
    assert retention.churn_covariates(t, ["domestic"]) == (["domestic"], {})
    assert retention.churn_drivers(t, ["domestic"]).table["hazard_ratio"].between(0.1, 10).all()
