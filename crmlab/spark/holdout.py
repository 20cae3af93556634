"""Holdout checks, backtest windows and churn features on a Spark DataFrame: per-customer tables aggregated by Spark.

The twins of :func:`crmlab.ltv.calibration_cutoff`, :func:`crmlab.ltv.calibration_holdout`,
:func:`crmlab.ltv.churn_features` and :func:`crmlab.ltv.buy_again_labels`; the pandas
functions dispatch a Spark DataFrame here. What comes back to the driver:

- :func:`calibration_cutoff`: the first and last order time (two numbers), then the pandas rule;
- :func:`calibration_holdout`: one row per calibration customer (the purchase models fit it);
- :func:`churn_feature_sums`: one row per customer (the churn classifiers fit the features
  derived from it);
- :func:`window_buyers`: the customers who ordered in a window (the classifiers' labels);
- :func:`window_counts`: per customer the periods with an order in a window (the backtest's
  actual purchases).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab import dates
from crmlab.errors import DataError, ParameterError

__all__ = ["calibration_cutoff", "calibration_holdout", "churn_feature_sums", "window_buyers", "window_counts"]


def _require(tx, columns) -> None:
    missing = [c for c in columns if c is not None and c not in tx.columns]
    if missing:
        raise DataError(f"transactions have no {missing[0]!r} column", column=missing[0],
                        fix="load the data with a source file (engine: spark) or pass the column name")


def _customer_index(frame: pd.DataFrame, customer_col: str) -> pd.DataFrame:
    """Index by customer (pandas' string dtype), sorted."""
    out = frame.set_index(customer_col).sort_index()
    out.index = out.index.astype("string")
    return out


def calibration_cutoff(transactions, cutoff: Any = "", *, share: float = 0.7, holdout_days: int = 0,
                       as_of: Any = None, date_col: str = "order_ts") -> pd.Timestamp:
    """:func:`crmlab.ltv.calibration_cutoff` of a Spark DataFrame (the first and last order come back).

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
    cutoff, share, holdout_days, as_of, date_col
        As in pandas.

    Returns
    -------
    pandas.Timestamp
    """
    from pyspark.sql import functions as F

    from crmlab.ltv.summaries import calibration_cutoff as pandas_cutoff

    _require(transactions, [date_col])
    tx, as_of_ts = dates.cutoff(transactions, as_of, date_col)
    row = tx.agg(F.min(date_col).alias("first"), F.max(date_col).alias("last")).first()
    ends = pd.DataFrame({date_col: pd.to_datetime([row["first"], row["last"]])})
    return pandas_cutoff(ends, cutoff, share=share, holdout_days=holdout_days, as_of=as_of_ts, date_col=date_col)


def calibration_holdout(transactions, calibration_end: Any, *, observation_end: Any = None, unit: str = "D",
                        customer_col: str = "customer_id", date_col: str = "order_ts",
                        amount_col: str | None = "amount") -> pd.DataFrame:
    """:func:`crmlab.ltv.calibration_holdout` of a Spark DataFrame (one row per customer comes back).

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
    calibration_end, observation_end, unit, customer_col, date_col, amount_col
        As in pandas.

    Returns
    -------
    pandas.DataFrame
        The pandas columns, indexed by customer.
    """
    from pyspark.sql import functions as F

    from crmlab.ltv.summaries import _check_unit, _periods
    from crmlab.spark.ltv import _period
    from crmlab.spark.ltv import summary as spark_summary

    unit = _check_unit(unit)
    _require(transactions, [customer_col, date_col, amount_col])
    tx = transactions.where(F.col(customer_col).isNotNull())
    cal_end = pd.Timestamp(calibration_end)
    if observation_end is not None:
        obs_end = pd.Timestamp(observation_end)
    else:
        obs_end = pd.Timestamp(transactions.agg(F.max(date_col)).first()[0])
    if obs_end <= cal_end:
        raise ParameterError("calibration_end must be before the observation end", value=str(cal_end.date()),
                             expected=f"a date before {obs_end.date()}", fix="choose an earlier calibration_end")
    ts = F.col(date_col)
    cal_lines = tx.where(ts <= F.lit(cal_end.to_pydatetime()))
    if cal_lines.limit(1).count() == 0:
        raise ParameterError("no transactions before calibration_end", value=str(cal_end.date()),
                             fix="choose a later calibration_end")
    cal_s = spark_summary(cal_lines, unit=unit, observation_end=cal_end, customer_col=customer_col,
                          date_col=date_col, amount_col=amount_col)
    cal = _customer_index(cal_s.toPandas(), "customer_id")
    cal.columns = [f"{c}_cal" for c in cal.columns]
    hold = tx.where((ts > F.lit(cal_end.to_pydatetime())) & (ts <= F.lit(obs_end.to_pydatetime())))
    hold = hold.join(cal_s.select(F.col("customer_id").alias(customer_col)), customer_col, "left_semi")
    money = F.col(amount_col) if amount_col is not None else F.lit(0.0)
    per = hold.groupBy(customer_col, _period(ts, unit).alias("p")).agg(F.sum(money).alias("s"))
    counts = _customer_index(per.groupBy(customer_col).agg(F.count(F.lit(1)).alias("n"),
                                                         F.sum("s").alias("total")).toPandas(), customer_col)
    counts = counts.reindex(cal.index)
    freq = counts["n"].fillna(0).to_numpy(float)
    cal["frequency_holdout"] = freq
    if amount_col is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            cal["monetary_value_holdout"] = np.where(freq > 0, counts["total"].to_numpy(float) / np.maximum(freq, 1),
                                                     0.0)
    end_p = int(_periods(np.array([np.datetime64(obs_end, "ns")]), unit)[0])
    cal_p = int(_periods(np.array([np.datetime64(cal_end, "ns")]), unit)[0])
    cal["duration_holdout"] = float(end_p - cal_p)
    cal.index.name = customer_col
    cal.attrs.update(unit=unit, observation_end=str(obs_end), calibration_end=str(cal_end))
    return cal


def churn_feature_sums(tx, cutoff: pd.Timestamp, period_days: int, customer_col: str = "customer_id",
                       date_col: str = "order_ts", amount_col: str = "amount", order_col: str = "order_id",
                       product_col: str = "product_id", channel_col: str = "channel") -> pd.DataFrame:
    """Per customer, from the orders before ``cutoff``: what :func:`crmlab.ltv.churn_features` derives from.

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
    cutoff : pandas.Timestamp
    period_days : int
    customer_col, date_col, amount_col, order_col, product_col, channel_col : str

    Returns
    -------
    pandas.DataFrame
        Indexed by customer: first, lastd (order days), frequency, total_spend,
        orders_last_period, orders_prev_period, spend_last, spend_prev, products, channels.
    """
    from pyspark.sql import functions as F

    _require(tx, [customer_col, date_col, amount_col])
    c = cutoff.to_pydatetime()
    before = tx.where(F.col(customer_col).isNotNull() & (F.col(date_col) < F.lit(c)))
    day = F.to_date(F.col(date_col))
    key = F.col(order_col) if order_col in tx.columns else day
    o = before.groupBy(F.col(customer_col).alias("c"), key.alias("o")).agg(F.min(day).alias("d"),
                                                                            F.sum(amount_col).alias("a"))
    age = F.datediff(F.to_date(F.lit(c)), F.col("d"))
    last, prev = age < period_days, (age >= period_days) & (age < 2 * period_days)
    f = o.groupBy("c").agg(
        F.min("d").alias("first"), F.max("d").alias("lastd"), F.count(F.lit(1)).cast("double").alias("frequency"),
        F.sum("a").alias("total_spend"), F.sum(last.cast("double")).alias("orders_last_period"),
        F.sum(prev.cast("double")).alias("orders_prev_period"),
        F.sum(F.when(last, F.col("a")).otherwise(0.0)).alias("spend_last"),
        F.sum(F.when(prev, F.col("a")).otherwise(0.0)).alias("spend_prev"))
    breadth = [F.count_distinct(col).cast("double").alias(name)
               for name, col in (("products", product_col), ("channels", channel_col)) if col in tx.columns]
    if breadth:
        f = f.join(before.groupBy(F.col(customer_col).alias("c")).agg(*breadth), "c", "left")
    out = f.toPandas()
    if out.empty:
        raise DataError("no orders before the cut-off", value=str(cutoff.date()), fix="choose a later cut-off")
    out = _customer_index(out, "c")
    for col in ("first", "lastd"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    for name in ("products", "channels"):
        if name not in out.columns:
            out[name] = np.nan
    out.index.name = customer_col
    return out


def window_buyers(tx, start: pd.Timestamp, window_days: int, customer_col: str = "customer_id",
                  date_col: str = "order_ts") -> pd.Index:
    """The customers with an order in ``[start, start + window_days)`` (one id per buyer comes back).

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
    start : pandas.Timestamp
    window_days : int
    customer_col, date_col : str

    Returns
    -------
    pandas.Index
    """
    from pyspark.sql import functions as F

    _require(tx, [customer_col, date_col])
    ts, end = F.col(date_col), (start + pd.Timedelta(days=int(window_days))).to_pydatetime()
    inside = tx.where((ts >= F.lit(start.to_pydatetime())) & (ts < F.lit(end)) & F.col(customer_col).isNotNull())
    ids = inside.select(customer_col).distinct().toPandas()[customer_col]
    return pd.Index(ids.astype("string"))


def window_counts(tx, start: pd.Timestamp, days: int, unit: str, customers: pd.Index,
                  customer_col: str = "customer_id", date_col: str = "order_ts") -> np.ndarray:
    """Per customer of ``customers``, the periods with an order in ``[start, start + days)`` (Spark).

    The twin of the backtest's window counts: one count per buyer comes back.

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
    start : pandas.Timestamp
    days : int
    unit : {"D", "W", "M"}
    customers : pandas.Index
    customer_col, date_col : str

    Returns
    -------
    numpy.ndarray
        Float counts aligned with ``customers`` (0 for the silent ones).
    """
    from pyspark.sql import functions as F

    from crmlab.spark.ltv import _period

    ts, end = F.col(date_col), (start + pd.Timedelta(days=int(days))).to_pydatetime()
    inside = tx.where((ts >= F.lit(start.to_pydatetime())) & (ts < F.lit(end)) & F.col(customer_col).isNotNull())
    pairs = inside.select(F.col(customer_col).alias("c"), _period(ts, unit).alias("p")).distinct()
    counts = _customer_index(pairs.groupBy("c").agg(F.count(F.lit(1)).alias("n")).toPandas(), "c")["n"]
    return counts.reindex(customers, fill_value=0).to_numpy(dtype=float)
