"""Retention on a Spark DataFrame: what :mod:`crmlab.retention` needs, aggregated by Spark.

:func:`crmlab.retention.cohort_matrix`, :func:`~crmlab.retention.churn_table` and
:func:`~crmlab.retention.best_customer_retention` take a Spark DataFrame and call these; the
pandas code finishes from what comes back:

- :func:`cohort_cells`: customers per (cohort, periods since acquisition), a small table;
- :func:`churn_base`: one row per customer (first and last purchase, orders, revenue, the
  first purchase's value, lines and country), the table the Kaplan-Meier and Cox models fit;
- :func:`best_counter`: per period, the customers in the best segments (RFM by Spark) and how
  many of them bought again: two numbers.

A customer whose first purchase lines name several countries is shown with the smallest name
(pandas: the first line's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from crmlab.errors import DataError, ParameterError
from crmlab.retention._common import _PERIODS

__all__ = ["cohort_cells", "churn_base", "best_counter"]


def _known(tx, columns: Sequence[str], customer_col: str):
    """Lines of known customers, after checking the columns (the twin of retention._common._known)."""
    from pyspark.sql import functions as F

    missing = [c for c in columns if c not in tx.columns]
    if missing:
        raise DataError(f"transactions have no {missing[0]!r} column", column=missing[0],
                        fix="load the data with a source file (engine: spark) or pass the column name")
    return tx.where(F.col(customer_col).isNotNull())


def _period(ts, period: str):
    """The period number of a timestamp column, as :func:`crmlab.retention._common._period_numbers`."""
    from pyspark.sql import functions as F

    months = (F.year(ts) - 1970) * 12 + F.month(ts) - 1
    if period == "M":
        return months
    if period == "Q":
        return F.floor(months / 3).cast("long")
    days = F.datediff(F.to_date(ts), F.lit("1970-01-01").cast("date"))
    return F.floor((days + 3) / 7).cast("long")  # Monday-start weeks


def cohort_cells(tx, period: str, mode: str, customer_col: str = "customer_id",
                 date_col: str = "order_ts") -> tuple[pd.Series, int]:
    """Customers per (cohort, k) and the last period of the data, counted by Spark.

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
    period : {"M", "Q", "W"}
    mode : {"exact", "cumulative"}
        Exact: customers active in period k; cumulative: customers last active in period k.
    customer_col, date_col : str

    Returns
    -------
    (pandas.Series, int)
        Counts indexed by (cohort, k), and the last period number.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if period not in _PERIODS:
        raise ParameterError("unknown cohort period", value=period, expected="'M', 'Q' or 'W'")
    t = _known(tx, [customer_col, date_col], customer_col)
    pairs = t.select(F.col(customer_col).alias("c"), _period(F.col(date_col), period).alias("p")).distinct()
    pairs = pairs.withColumn("cohort", F.min("p").over(Window.partitionBy("c")))
    pairs = pairs.withColumn("k", F.col("p") - F.col("cohort"))
    if mode == "cumulative":
        pairs = pairs.groupBy("c").agg(F.first("cohort").alias("cohort"), F.max("k").alias("k"))
    cells = pairs.groupBy("cohort", "k").agg(F.count(F.lit(1)).alias("n")).toPandas()
    if cells.empty:
        raise DataError("no transactions with a known customer", column=customer_col,
                        fix="clean the data with data.clean and check the customer id column")
    last = int(t.agg(F.max(_period(F.col(date_col), period))).first()[0])
    cells = cells.astype("int64").set_index(["cohort", "k"])["n"].sort_index()
    return cells, last


def _domestic_country(t):
    """The most frequent country over the lines (ties: the smallest name), as pandas' ``mode``."""
    from pyspark.sql import functions as F

    top = (t.where(F.col("country").isNotNull()).groupBy("country").agg(F.count(F.lit(1)).alias("n"))
           .orderBy(F.col("n").desc(), F.col("country").asc()).limit(1).collect())
    return top[0]["country"] if top else None


def churn_base(tx, as_of: Any, from_date: Any, customer_col: str = "customer_id", date_col: str = "order_ts",
               order_col: str = "order_id", amount_col: str = "amount") -> tuple[pd.DataFrame, pd.Timestamp]:
    """The per-customer table :func:`crmlab.retention.churn_table` finishes, aggregated by Spark.

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
    as_of, from_date : date-like or None
    customer_col, date_col, order_col, amount_col : str

    Returns
    -------
    (pandas.DataFrame, pandas.Timestamp)
        Indexed by customer (sorted): first_purchase, last_purchase, orders, revenue,
        first_order_value, first_order_lines, country and domestic (with a country column),
        last_before (with ``from_date``); and the report date.
    """
    from pyspark.sql import functions as F

    from crmlab.spark.segments import spark_cutoff

    t = _known(tx, [customer_col, date_col, amount_col], customer_col)
    t = t.select(F.col(customer_col).alias("c"), F.col(date_col).alias("order_ts"), F.col(amount_col).alias("a"),
                 F.col(order_col if order_col in tx.columns else date_col).alias("o"),
                 *(["country"] if "country" in tx.columns else []))
    t, as_of_ts = spark_cutoff(t, as_of)
    per = t.groupBy("c").agg(F.min("order_ts").alias("first_purchase"), F.max("order_ts").alias("last_purchase"),
                             F.count_distinct("o").alias("orders"), F.sum("a").alias("revenue"))
    at_first = t.join(per.select("c", "first_purchase"), "c").where(F.col("order_ts") == F.col("first_purchase"))
    firsts = at_first.groupBy("c").agg(
        F.sum("a").alias("first_order_value"), F.count(F.lit(1)).alias("first_order_lines"),
        *([F.min("country").alias("country")] if "country" in t.columns else []))
    out = per.join(firsts, "c", "left")
    if from_date is not None:
        start = pd.Timestamp(from_date).to_pydatetime()
        before = t.where(F.col("order_ts") < F.lit(start)).groupBy("c").agg(F.max("order_ts").alias("last_before"))
        out = out.join(before, "c", "left")
    base = out.toPandas().set_index("c").sort_index()
    base.index = base.index.astype("string").rename(customer_col)
    for col in ("first_purchase", "last_purchase", "last_before"):
        if col in base.columns:
            base[col] = pd.to_datetime(base[col]).astype("datetime64[ns]")
    base = base.astype({"orders": "int64", "first_order_lines": "int64", "revenue": "float64"})
    if "country" in base.columns:
        top = _domestic_country(t)
        base["domestic"] = (base["country"] == top).astype(float) if top is not None else float("nan")
    return base, as_of_ts


def best_counter(tx, top_segments: Sequence[str], segment_fn: Callable | None, customer_col: str = "customer_id",
                 date_col: str = "order_ts"):
    """First and last order time, and ``count(start, end)`` for best-customer retention (Spark).

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
        Canonical order lines.
    top_segments : sequence of str
    segment_fn : None
        Only the default segments (:func:`crmlab.segments.rfm`, computed by Spark).
    customer_col, date_col : str
        Must be the canonical names (the RFM job reads them).

    Returns
    -------
    (pandas.Timestamp, pandas.Timestamp, callable)
        ``count(start, end)`` gives the customers in ``top_segments`` at ``start`` and how many
        of them bought in ``[start, end)``.
    """
    from pyspark.sql import functions as F

    from crmlab.spark.segments import rfm

    if segment_fn is not None or (customer_col, date_col) != ("customer_id", "order_ts"):
        raise ParameterError("on a Spark DataFrame best-customer retention uses the RFM segments of the "
                             "canonical columns", value=getattr(segment_fn, "__name__", None) or date_col,
                             fix="leave segment_fn, customer_col and date_col at their defaults")
    t = _known(tx, [customer_col, date_col, "order_id", "amount"], customer_col)
    span = t.agg(F.min(date_col).alias("t0"), F.max(date_col).alias("t1")).first()
    if span["t0"] is None:
        raise DataError("no transactions with a known customer", column=customer_col)
    wanted = [str(x) for x in top_segments]
    ts = F.col(date_col)

    def count(s: pd.Timestamp, e: pd.Timestamp) -> tuple[int, int]:
        start, end = s.to_pydatetime(), e.to_pydatetime()
        seg = rfm(t.where(ts < F.lit(start)), s).spark_table
        top = seg.where(F.col("segment").cast("string").isin(wanted)).select("customer_id")
        active = t.where((ts >= F.lit(start)) & (ts < F.lit(end))).select("customer_id").distinct()
        row = top.join(active.withColumn("_b", F.lit(1)), "customer_id", "left").agg(
            F.count(F.lit(1)).alias("n"), F.count("_b").alias("kept")).first()
        return int(row["n"]), int(row["kept"])

    return pd.Timestamp(span["t0"]), pd.Timestamp(span["t1"]), count
