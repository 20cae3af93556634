"""The one cut-off rule: for a report date, every module counts the same orders."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import data, dates, ltv, retention, segments
from crmlab.errors import DataError, ParameterError


@pytest.fixture
def tx():
    """Three customers; order lines on both sides of 2011-03-01 and one at 00:00 on it."""
    rows = [("A", "1", "2011-01-05 10:00", 10.0), ("A", "2", "2011-02-28 23:59", 20.0),
            ("A", "3", "2011-03-01 00:00", 40.0), ("B", "4", "2011-02-01 12:00", 5.0),
            ("B", "5", "2011-04-01 09:00", 7.0), ("C", "6", "2011-03-15 08:00", 9.0)]
    df = pd.DataFrame(rows, columns=["customer_id", "order_id", "order_ts", "amount"])
    df["order_ts"] = pd.to_datetime(df["order_ts"])
    df["quantity"], df["unit_price"] = 1.0, df["amount"]
    return df


def test_every_module_counts_the_orders_strictly_before_as_of(tx):
    as_of = "2011-03-01"
    kept, ts = dates.cutoff(tx, as_of)
    assert ts == pd.Timestamp("2011-03-01") and set(kept["order_id"]) == {"1", "2", "4"}
    # data: the same lines
    assert set(data.before(tx, as_of)["order_id"]) == {"1", "2", "4"}
    # segments: orders counted per customer; C (first order after as_of) is not a customer yet
    rfm = segments.rfm(tx, as_of=as_of).table
    assert rfm["frequency"].to_dict() == {"A": 2, "B": 1} and rfm.loc["A", "monetary"] == 30.0
    assert rfm.loc["A", "recency_days"] == 0  # whole days: 2011-02-28 23:59 is one minute before as_of
    # retention: the same customers, last purchase before as_of
    churn = retention.churn_table(tx, as_of=as_of, churn_days=30)
    assert set(churn.index) == {"A", "B"}
    # ltv: same customers and repeat counts; observation ends the day before as_of
    summ = ltv.summary(tx, as_of=as_of, unit="D")
    assert set(summ.index) == {"A", "B"} and summ["frequency"].to_dict() == {"A": 1, "B": 0}
    assert summ.loc["A", "T"] == (dates.observation_end(ts) - pd.Timestamp("2011-01-05")).days


def test_empty_as_of_means_the_day_after_the_last_order(tx):
    kept, ts = dates.cutoff(tx, "")
    assert len(kept) == len(tx) and ts == pd.Timestamp("2011-04-02")
    assert segments.rfm(tx).as_of == ts


def test_bad_report_dates(tx):
    with pytest.raises(ParameterError, match="as_of is not a date"):
        dates.cutoff(tx, "2011-13-01")
    with pytest.raises(DataError, match="no transactions before as_of=2011-01-01"):
        dates.cutoff(tx, "2011-01-01")
