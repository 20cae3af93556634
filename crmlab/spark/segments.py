"""KPIs, RFM scores and the eleven segments of a Spark DataFrame, computed in Spark.

The scores are exactly those of :func:`crmlab.segments.rfm`: quintiles from percentile ranks
with ties averaged, ``ceil(5 * pct_rank)``. A value's average rank is
``(values below it) + (copies of it + 1) / 2``; Spark counts the customers per distinct value
and the values below it (a running sum over the distinct values), so the same double
arithmetic as pandas (``avg_rank / n * 5``, then ``ceil``) gives the same score. Recency is
whole days from ``as_of`` (floored, as ``Timedelta.days``). Monetary sums are Spark's double
sums: equal customers get equal sums, and the tests check every customer's segment against
pandas on Online Retail.

Only aggregates come back to the driver: the segment summary and the KPIs. The per-customer
table stays in Spark (:attr:`SparkRFMResult.spark_table`); ``.table`` collects it on demand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab import dates
from crmlab.customers import KPIs
from crmlab.errors import DataError, ParameterError
from crmlab.segments import SEGMENT_DESCRIPTIONS, SEGMENT_GRID, SEGMENTS, RFMResult

__all__ = ["kpis", "rfm", "SparkRFMResult", "known_customers", "spark_cutoff"]

_DAY_US = 86_400 * 1_000_000


def known_customers(tx):
    """Order lines with a known customer (Spark), refusing a table without any.

    Parameters
    ----------
    tx : pyspark.sql.DataFrame

    Returns
    -------
    pyspark.sql.DataFrame
    """
    from pyspark.sql import functions as F

    missing = [c for c in ("customer_id", "order_id", "order_ts", "amount") if c not in tx.columns]
    if missing:
        raise DataError(f"the {missing[0]} column is missing", column=missing[0],
                        fix="load the data with crmlab.spark.data.load_source")
    return tx.where(F.col("customer_id").isNotNull())


def spark_cutoff(tx, as_of: Any, date_col: str = "order_ts"):
    """:func:`crmlab.dates.cutoff` in Spark: lines strictly before ``as_of`` and the report date.

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
    as_of : str, Timestamp or None
        None: the day after the last order.
    date_col : str
        The order-date column.

    Returns
    -------
    (pyspark.sql.DataFrame, pandas.Timestamp)
    """
    from pyspark.sql import functions as F

    ts = dates.parse_as_of(as_of)
    if ts is None:
        last = tx.agg(F.max(date_col)).first()[0]
        if last is None:
            raise DataError("no dated transactions", column=date_col,
                            expected="at least one order line with a date")
        return tx, dates.default_as_of(pd.Series([pd.Timestamp(last)]))
    before = tx.where(F.col(date_col) < F.lit(ts.to_pydatetime()))
    if before.limit(1).count() == 0:
        raise DataError(f"no transactions before as_of={ts.date()}", column=date_col, value=str(as_of),
                        fix="choose a later as_of")
    return before, ts


def kpis(tx) -> KPIs:
    """:func:`crmlab.customers.kpis` on a Spark DataFrame.

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
        Canonical (cleaned) order lines.

    Returns
    -------
    KPIs
    """
    from pyspark.sql import functions as F

    t = known_customers(tx)
    per = t.groupBy("customer_id").agg(F.count_distinct("order_id").alias("orders"))
    c = per.agg(F.count(F.lit(1)).alias("customers"), F.avg((F.col("orders") >= 2).cast("double")).alias("rr")).first()
    r = t.agg(F.sum("amount").alias("revenue"), F.count_distinct("order_id").alias("orders"),
              F.min("order_ts").alias("first"), F.max("order_ts").alias("last")).first()
    if not c["customers"]:
        raise DataError("no transactions with a known customer", column="customer_id")
    revenue, orders, customers = float(r["revenue"]), int(r["orders"]), int(c["customers"])
    return KPIs({
        "customers": customers, "orders": orders, "revenue": revenue,
        "average_order_value": revenue / orders, "orders_per_customer": orders / customers,
        "revenue_per_customer": revenue / customers, "repeat_rate": float(c["rr"]),
        "first_date": r["first"].date().isoformat(), "last_date": r["last"].date().isoformat(),
    })


def _quintile_scores(table, col: str, higher_is_better: bool, name: str):
    """``table`` with ``name``: ``ceil(5 * average rank / n)`` (ties averaged), as pandas ranks."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    key = F.col(col) if higher_is_better else -F.col(col)
    counts = table.groupBy(key.alias("_v")).agg(F.count(F.lit(1)).alias("_eq"))
    w = Window.orderBy("_v").rowsBetween(Window.unboundedPreceding, -1)
    ranked = counts.select("_v", "_eq", F.coalesce(F.sum("_eq").over(w), F.lit(0)).alias("_below"))
    n = F.sum("_eq").over(Window.partitionBy(F.lit(1)))
    avg_rank = F.col("_below").cast("double") + (F.col("_eq").cast("double") + 1.0) / 2.0
    score = F.least(F.greatest(F.ceil(avg_rank / n * 5.0), F.lit(1)), F.lit(5)).cast("tinyint")
    scores = ranked.select("_v", score.alias(name))
    return table.join(scores, key == F.col("_v"), "left").drop("_v")


def _binned(col: str, edges: Sequence[float], higher_is_better: bool, name: str):
    from pyspark.sql import functions as F

    edges = [float(e) for e in edges]
    if len(edges) != 4 or sorted(edges) != edges:
        raise ParameterError("RFM bins need four increasing cut points (five scores)", value=edges,
                             expected="e.g. {'recency': [30, 90, 180, 365]}")
    idx = sum((F.col(col) >= F.lit(e)).cast("int") for e in edges)  # searchsorted side="right"
    return (idx + 1 if higher_is_better else 5 - idx).cast("tinyint").alias(name)


def _segment_expr(r, fm):
    """Segment name from the R and FM scores (the 5 x 5 grid of :mod:`crmlab.segments`)."""
    from pyspark.sql import functions as F

    expr = None
    for i in range(5):
        for j in range(5):
            cond = (r == i + 1) & (fm == j + 1)
            name = SEGMENTS[SEGMENT_GRID[i, j]]
            expr = F.when(cond, name) if expr is None else expr.when(cond, name)
    return expr


class SparkRFMResult(RFMResult):
    """:class:`crmlab.segments.RFMResult` whose per-customer table stays in Spark.

    Parameters
    ----------
    spark_table : pyspark.sql.DataFrame
        One row per customer: customer_id and the columns of ``RFMResult.table``.
    as_of : pandas.Timestamp
        The report date.
    """

    def __init__(self, spark_table, as_of: pd.Timestamp) -> None:  # noqa: D107 - no RFMResult.__init__: table is lazy
        self.spark_table = spark_table
        self.as_of = as_of
        self._table: pd.DataFrame | None = None
        self._summary: pd.DataFrame | None = None

    @property
    def table(self) -> pd.DataFrame:
        """The per-customer table collected to the driver (as pandas' ``rfm(...).table``)."""
        if self._table is None:
            t = self.spark_table.toPandas().set_index("customer_id").sort_index()
            for c in ("r_score", "f_score", "m_score", "fm_score"):
                t[c] = t[c].astype("int8")
            t["frequency"] = t["frequency"].astype("int64")
            t["recency_days"] = t["recency_days"].astype("int64")
            for c in ("first_purchase", "last_purchase"):
                t[c] = t[c].astype("datetime64[ns]")
            t["segment"] = pd.Categorical(t["segment"], categories=list(SEGMENTS), ordered=True)
            t.index = t.index.astype("string")
            self._table = t
        return self._table

    @property
    def summary(self) -> pd.DataFrame:
        """Per segment: customers, share, revenue, revenue share, mean R/F/M (aggregated in Spark)."""
        if self._summary is None:
            from pyspark.sql import functions as F

            g = self.spark_table.groupBy("segment").agg(
                F.count(F.lit(1)).alias("customers"), F.sum("monetary").alias("revenue"),
                F.avg("recency_days").alias("avg_recency_days"), F.avg("frequency").alias("avg_orders"),
                F.avg("monetary").alias("avg_spend")).toPandas().set_index("segment")
            out = g.reindex(list(SEGMENTS))
            out["customers"] = out["customers"].fillna(0).astype("int64")
            out["revenue"] = out["revenue"].fillna(0.0)
            total_n = int(out["customers"].sum())
            out.insert(1, "customer_share", out["customers"] / max(total_n, 1))
            total = out["revenue"].sum()
            out.insert(3, "revenue_share", out["revenue"] / total if total else np.nan)
            out["description"] = [SEGMENT_DESCRIPTIONS[s] for s in out.index]
            out.index.name = "segment"
            self._summary = out
        return self._summary

    def to_dict(self) -> dict[str, Any]:
        s = self.summary
        d: dict[str, Any] = {"customers": int(s["customers"].sum()), "as_of": self.as_of.date().isoformat()}
        for seg, row in s.iterrows():
            key = seg.lower().replace(" ", "_").replace("'", "")
            d[f"segment_{key}_customers"] = int(row["customers"])
            d[f"segment_{key}_revenue_share"] = float(row["revenue_share"]) if row["customers"] else 0.0
        return d


def rfm(tx, as_of: str | pd.Timestamp | None = None,
        bins: Mapping[str, Sequence[float]] | None = None) -> SparkRFMResult:
    """:func:`crmlab.segments.rfm` on a Spark DataFrame: the same scores and segments.

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
        Canonical (cleaned) order lines.
    as_of : str, Timestamp or None
        Report date (default: the day after the last order).
    bins : mapping, optional
        Business cut points per measure, as in pandas.

    Returns
    -------
    SparkRFMResult
        An :class:`~crmlab.segments.RFMResult`; the per-customer table stays in Spark.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    tx, as_of_ts = spark_cutoff(known_customers(tx), as_of)
    bins = dict(bins or {})
    unknown = set(bins) - {"recency", "frequency", "monetary"}
    if unknown:
        raise ParameterError(f"unknown RFM measure(s) in bins: {sorted(unknown)}",
                             expected="recency, frequency, monetary")
    as_of_us = int(as_of_ts.value // 1000)
    table = tx.groupBy("customer_id").agg(
        F.min("order_ts").alias("first_purchase"), F.max("order_ts").alias("last_purchase"),
        F.count_distinct("order_id").alias("frequency"), F.sum("amount").alias("monetary"))
    table = table.persist(StorageLevel.MEMORY_AND_DISK)  # read once by each score
    table = table.withColumn(
        "recency_days", F.floor((F.lit(as_of_us) - F.unix_micros("last_purchase")) / F.lit(_DAY_US)).cast("long"))
    for measure, col, higher, name in (("recency", "recency_days", False, "r_score"),
                                       ("frequency", "frequency", True, "f_score"),
                                       ("monetary", "monetary", True, "m_score")):
        if measure in bins:
            table = table.withColumn(name, _binned(col, bins[measure], higher, name))
        else:
            table = _quintile_scores(table, col, higher, name)
    fm = F.floor((F.col("f_score") + F.col("m_score")) / 2.0 + 0.5).cast("tinyint")
    table = table.withColumn("fm_score", fm)
    table = table.select(
        "customer_id", "recency_days", "frequency", "monetary", "first_purchase", "last_purchase", "r_score",
        "f_score", "m_score", "fm_score",
        F.concat(F.col("r_score").cast("string"), F.col("f_score").cast("string"),
                 F.col("m_score").cast("string")).alias("rfm_score"),
        _segment_expr(F.col("r_score"), F.col("fm_score")).alias("segment"))
    return SparkRFMResult(table, as_of_ts)
