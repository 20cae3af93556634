"""Churn features from one summary of the order lines, at any cut-off: the same numbers as the lines before it.

``churn_features`` (and the backtest and churn-risk model, which ask for it at up to three
cut-offs) summarise the lines once (:class:`crmlab.ltv.churn_risk._OrderLines`) instead of
filtering and grouping all of them at every cut-off. The reference below is the function as it
was before (one pass over the lines before the cut-off); every feature, NaN and the index order
must come out the same, to the last bit.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from crmlab import ltv
from crmlab.ltv import churn_risk

backtest_module = importlib.import_module("crmlab.ltv.backtest")  # crmlab.ltv.backtest is the function

COLS = dict(customer_col="customer_id", date_col="order_ts", amount_col="amount", order_col="order_id",
            product_col="product_id", channel_col="channel")


def _reference_orders(tx, customer_col, date_col, amount_col, order_col):
    key = order_col if order_col in tx.columns else None
    day = tx[date_col].dt.normalize()
    frame = pd.DataFrame({"c": tx[customer_col].to_numpy(), "o": tx[key].to_numpy() if key else day.to_numpy(),
                          "d": day.to_numpy(), "a": tx[amount_col].to_numpy(dtype=float)})
    return frame.groupby(["c", "o"], sort=False, observed=True).agg(d=("d", "min"), a=("a", "sum")).reset_index()


def reference_features(tx, cutoff, *, period_days=90, customer_col="customer_id", date_col="order_ts",
                       amount_col="amount", order_col="order_id", product_col="product_id", channel_col="channel"):
    """churn_features as it was: the lines before the cut-off filtered and grouped at each call."""
    c = pd.Timestamp(cutoff)
    before = tx.loc[tx[date_col] < c]
    o = _reference_orders(before, customer_col, date_col, amount_col, order_col)
    age = (c - o["d"]).dt.days.to_numpy()
    o["last"] = age < period_days
    o["prev"] = (age >= period_days) & (age < 2 * period_days)
    g = o.groupby("c", sort=False)
    f = pd.DataFrame({"first": g["d"].min(), "lastd": g["d"].max(), "frequency": g.size().astype(float),
                      "total_spend": g["a"].sum(), "orders_last_period": g["last"].sum().astype(float),
                      "orders_prev_period": g["prev"].sum().astype(float),
                      "spend_last": o["a"].where(o["last"], 0.0).groupby(o["c"]).sum(),
                      "spend_prev": o["a"].where(o["prev"], 0.0).groupby(o["c"]).sum()})
    for name, col in (("products", product_col), ("channels", channel_col)):
        f[name] = (before.groupby(customer_col, observed=True)[col].nunique().astype(float)
                   if col in before.columns else np.nan)
    f.index.name = customer_col
    return churn_risk._features_from_sums(f, c)


def _same(tx, cutoffs, period_days=90, **cols):
    """churn_features and one shared summary at every cut-off both equal the reference, bit for bit."""
    every = {**COLS, **cols}
    lines = churn_risk._lines(tx, every)
    for cut in cutoffs:
        ref = reference_features(tx, cut, period_days=period_days, **every)
        assert list(ref.columns) == list(churn_risk.FEATURES)
        pd.testing.assert_frame_equal(ltv.churn_features(tx, cut, period_days=period_days, **every), ref,
                                      check_exact=True)
        pd.testing.assert_frame_equal(churn_risk._features(tx, lines, cut, period_days, every), ref, check_exact=True)


@pytest.fixture(scope="module")
def online_retail():
    from crmlab import data as d

    return d.clean(d.load_source(d.read_source("online_retail"))).data


@pytest.fixture
def straddle():
    """Order 1 of A has lines at 09:00 and 15:00 on 2011-03-01 (a 12:00 cut-off splits it);
    B buys product P three times (one distinct product); C has a line without a product and a
    line without an order id; one line has no customer. No channel column."""
    rows = [("A", "1", "2011-03-01 09:00", "P", 10.0), ("A", "1", "2011-03-01 15:00", "Q", 5.0),
            ("A", "1", "2011-03-01 09:00", "R", 0.25), ("A", "2", "2011-01-10 10:00", "P", 7.0),
            ("B", "3", "2011-02-01 10:00", "P", 1.0), ("B", "4", "2011-02-20 10:00", "P", 2.0),
            ("B", "5", "2011-02-27 10:00", "P", 3.0), ("C", "6", "2011-02-28 23:00", None, 4.0),
            ("C", None, "2011-02-10 08:00", "S", 6.0), (None, "7", "2011-02-11 08:00", "T", 9.0),
            ("D", "8", "2011-03-02 08:00", "T", 1.0)]
    return pd.DataFrame({"customer_id": pd.array([r[0] for r in rows], dtype="string"),
                         "order_id": pd.array([r[1] for r in rows], dtype="string"),
                         "order_ts": pd.to_datetime([r[2] for r in rows]),
                         "product_id": pd.array([r[3] for r in rows], dtype="string"),
                         "amount": [r[4] for r in rows]})


def test_an_order_split_by_the_cut_off_counts_its_lines_before_it(straddle):
    f = ltv.churn_features(straddle, "2011-03-01 12:00", period_days=30)
    # A: order 2 (7.0) and the 09:00 lines of order 1 (10.0 + 0.25), dated 2011-03-01
    assert f.loc["A", "frequency"] == 2 and f.loc["A", "total_spend"] == 17.25
    assert f.loc["A", "products"] == 2 and f.loc["A", "recency_days"] == 0
    assert f.loc["B", "products"] == 1 and f.loc["B", "frequency"] == 3
    # C: the line without an order id is no order but its product counts; the other line has no product
    assert f.loc["C", "frequency"] == 1 and f.loc["C", "products"] == 1
    assert list(f.index) == ["A", "B", "C"] and f["channels"].isna().all()
    after = ltv.churn_features(straddle, "2011-03-01 16:00", period_days=30)
    assert after.loc["A", "total_spend"] == 22.25 and after.loc["A", "products"] == 3


def test_toy_equals_the_reference_at_every_cut_off(straddle):
    cuts = ["2011-01-10 10:00:01", "2011-02-10 08:00", "2011-02-10 08:00:01", "2011-03-01", "2011-03-01 09:00",
            "2011-03-01 12:00", "2011-03-01 15:00", "2011-03-01 15:00:01", "2011-03-03"]
    _same(straddle, cuts, period_days=30)
    _same(straddle, cuts, period_days=7, order_col="none")  # orders are customer-days
    with_channel = straddle.assign(channel=pd.array(["web", "web", "shop", None, "web", "web", "web", "shop",
                                                     "app", "web", "web"], dtype="string"))
    _same(with_channel, cuts, period_days=30)
    shuffled = with_channel.sample(frac=1.0, random_state=3).reset_index(drop=True)  # row order decides sums
    _same(shuffled, cuts, period_days=30)
    numbers = shuffled.assign(customer_id=shuffled["customer_id"].map({"A": 30, "B": 2, "C": 11, "D": 5}))
    _same(numbers.dropna(subset=["customer_id"]).astype({"customer_id": int}), cuts, period_days=30)
    with pytest.raises(Exception, match="no orders before the cut-off"):
        ltv.churn_features(straddle, "2011-01-10")


def test_online_retail_features_equal_the_reference(online_retail):
    _same(online_retail, ["2011-01-01", "2011-03-01 12:00", "2011-06-13", "2011-09-11", "2011-12-01 10:31",
                          "2011-12-10"])
    _same(online_retail, ["2011-07-04 15:30"], period_days=30, order_col="none")


def test_cdnow_features_equal_the_reference():
    from crmlab import data as d

    tx = d.clean(d.load_source(d.read_source("cdnow"))).data
    assert tx["product_id"].isna().all()
    _same(tx, ["1997-02-01", "1997-06-30 12:00", "1997-10-01", "1998-07-01"])


@pytest.fixture(scope="module")
def results(online_retail):
    return (ltv.backtest(online_retail, unit="D", horizon_days=90),
            ltv.churn_risk_model(online_retail, window_days=90))


def test_backtest_and_churn_risk_keep_their_numbers(results):
    """The numbers of the functions before the features came from one summary (recorded then)."""
    bt, risk = results
    gb = bt.per_cutoff.set_index("model").loc["gradient boosting"]
    assert [str(c.date()) for c in gb["cutoff"]] == ["2011-06-13", "2011-09-11"]
    np.testing.assert_allclose(gb["mae"], [0.9372855968638741, 0.9407062968604053], rtol=1e-12)
    np.testing.assert_allclose(gb["auc_buy_again"], [0.740615358115275, 0.7245722965343634], rtol=1e-12)
    np.testing.assert_allclose(gb["predicted_total"], [3834.13665545666, 3411.369306561781], rtol=1e-12)
    auc = risk.comparison["auc"]
    assert risk.measure == "Pareto/NBD P(active 90d)" and risk.info["holdout_customers"] == 3370
    np.testing.assert_allclose([auc["gradient boosting"], auc["naive past rate"], auc[risk.measure]],
                               [0.7205764696541692, 0.7192648253350334, 0.7347503834161598], rtol=1e-12)
    assert len(risk.table) == 4338
    np.testing.assert_allclose(risk.table["churn_risk"].sum(), 2195.4762791997555, rtol=1e-12)


def test_backtest_and_churn_risk_equal_the_reference(results, online_retail, monkeypatch):
    """Whole tables: the same with the features computed the old way at every cut-off."""
    def old(tx, lines, cutoff, period_days, cols):
        return reference_features(tx, cutoff, period_days=period_days, **cols)

    monkeypatch.setattr(churn_risk, "_features", old)
    monkeypatch.setattr(backtest_module, "_features", old)
    bt, risk = ltv.backtest(online_retail, unit="D", horizon_days=90), ltv.churn_risk_model(online_retail,
                                                                                            window_days=90)
    pd.testing.assert_frame_equal(results[0].per_cutoff, bt.per_cutoff, check_exact=True)
    pd.testing.assert_frame_equal(results[1].comparison, risk.comparison, check_exact=True)
    pd.testing.assert_frame_equal(results[1].table, risk.table, check_exact=True)
