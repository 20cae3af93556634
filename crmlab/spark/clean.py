"""Audited cleaning and the data-quality summary of a Spark DataFrame, counted by Spark.

The same steps, switches, order and audit table as :func:`crmlab.data.clean` and the same
overview as :func:`crmlab.data.quality_summary`; only the counts come back to the driver.

Exact duplicates are counted without an order: every group of identical lines keeps one
line, so the rows removed are ``size - 1`` per group, and the orders and customers they touch
are those of the groups with more than one line (identical lines share their order and
customer). That is what pandas' ``duplicated(keep="first")`` counts too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab.data.clean import CLEANING_STEPS, CleanResult
from crmlab.data.frames import distinct_count
from crmlab.data.quality import DataQuality
from crmlab.errors import DataError
from crmlab.spark.data import attrs_of, not_nan, set_attrs

__all__ = ["clean", "quality_summary"]

_STEPS = tuple(CLEANING_STEPS)


def _require(sdf, columns) -> None:
    missing = [c for c in columns if c not in sdf.columns]
    if missing:
        raise DataError(f"the {missing[0]} column is missing", column=missing[0],
                        fix="load the data with crmlab.spark.data.load_source")


def _flags(sdf, switches: dict[str, bool]):
    """Per line: which step removes it (``hit_<step>``, counted only on lines still present)."""
    from pyspark.sql import functions as F

    cond = {
        "cancellations": F.coalesce(F.col("is_cancellation"), F.lit(False)) if "is_cancellation" in sdf.columns
        else F.lit(False),
        "non_positive_quantity": ~F.coalesce(F.col("quantity") > 0, F.lit(False)),
        "non_positive_price": ~F.coalesce(F.col("unit_price") > 0, F.lit(False)),
        "unknown_customers": F.col("customer_id").isNull(),
    }
    keep = F.lit(True)
    cols = []
    for step in _STEPS[:-1]:
        hit = cond[step] & keep
        cols.append(hit.alias("hit_" + step))
        if switches[step]:
            keep = keep & ~cond[step]
    return sdf.select("*", *cols, keep.alias("_keep"))


def _money():
    """The amount with missing and NaN as 0, for revenue sums."""
    from pyspark.sql import functions as F

    return F.coalesce(not_nan("amount"), F.lit(0.0))


def _touched(flagged, names: list[str]) -> dict[str, dict[str, float]]:
    """Rows, revenue, orders and customers per flag column, in three passes."""
    from pyspark.sql import functions as F

    money = _money()
    row = flagged.agg(F.count(F.lit(1)).alias("_n"),
                      *[F.sum(F.col(c).cast("long")).alias("rows_" + c) for c in names],
                      *[F.sum(F.when(F.col(c), money)).alias("rev_" + c) for c in names]).first()
    orders = flagged.groupBy("order_id").agg(*[F.max(F.col(c).cast("int")).alias(c) for c in names])
    o = orders.agg(*[F.sum(c).alias(c) for c in names]).first()
    custs = flagged.where(F.col("customer_id").isNotNull()).groupBy("customer_id").agg(
        *[F.max(F.col(c).cast("int")).alias(c) for c in names])
    cu = custs.agg(*[F.sum(c).alias(c) for c in names]).first()
    return {"_n": row["_n"], **{c: {"rows": int(row["rows_" + c] or 0), "revenue": float(row["rev_" + c] or 0.0),
                                    "orders": int(o[c] or 0), "customers": int(cu[c] or 0)} for c in names}}


def _duplicates(kept_before, columns: list[str]):
    """Exact duplicate lines among ``kept_before``: rows, revenue, orders, customers touched.

    Returns the counts and the cached table of distinct lines with their ``count``: the one
    shuffle over every column serves both the audit and the de-duplicated data (a second
    ``dropDuplicates`` would repeat it, the costliest step of the cleaning on a large table).
    """
    from pyspark.sql import functions as F

    groups = kept_before.groupBy(*[F.col(f"`{c}`") for c in columns]).count().cache()
    extra = F.col("count") - 1
    money = _money()
    r = groups.where(F.col("count") > 1).agg(
        F.sum(extra).alias("rows"), F.sum(extra * money).alias("revenue"),
        F.count_distinct("order_id").alias("orders"), F.count_distinct("customer_id").alias("customers")).first()
    return {"rows": int(r["rows"] or 0), "revenue": float(r["revenue"] or 0.0), "orders": int(r["orders"] or 0),
            "customers": int(r["customers"] or 0)}, groups


def clean(tx, *, cancellations: bool = True, non_positive_quantity: bool = True, non_positive_price: bool = True,
          unknown_customers: bool = True, duplicates: bool = True) -> CleanResult:
    """:func:`crmlab.data.clean` on a Spark DataFrame: the same steps and audit, counted by Spark.

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
        Canonical order lines (:func:`crmlab.spark.data.load_source`).
    cancellations, non_positive_quantity, non_positive_price, unknown_customers, duplicates : bool
        The step switches, as in pandas.

    Returns
    -------
    CleanResult
        ``.data`` is the cleaned Spark DataFrame (lazy), ``.audit`` the pandas audit table.
    """
    from pyspark.sql import functions as F

    _require(tx, ("order_id", "quantity", "unit_price", "amount", "customer_id"))
    switches = dict(zip(_STEPS, (cancellations, non_positive_quantity, non_positive_price, unknown_customers,
                                 duplicates)))
    columns = list(tx.columns)
    flagged = _flags(tx, switches).cache()
    names = ["hit_" + s for s in _STEPS[:-1]] + ["_keep"]
    counts = _touched(flagged, names)
    n0 = counts["_n"]
    kept_before = flagged.where("_keep").select(*[F.col(f"`{c}`") for c in columns])
    dup, distinct_lines = _duplicates(kept_before, columns)
    rows = [{"step": s, "applied": switches[s], "description": CLEANING_STEPS[s], **counts["hit_" + s]}
            for s in _STEPS[:-1]]
    rows.append({"step": "duplicates", "applied": duplicates, "description": CLEANING_STEPS["duplicates"], **dup})
    kept = dict(counts["_keep"])
    if duplicates:
        kept["rows"] -= dup["rows"]
        kept["revenue"] -= dup["revenue"]
    rows.append({"step": "kept", "applied": True, "description": "lines kept for analysis", **kept})
    audit = pd.DataFrame(rows)
    audit.insert(4, "share_of_rows", audit["rows"] / n0 if n0 else 0.0)
    audit = audit[["step", "applied", "description", "rows", "share_of_rows", "revenue", "orders", "customers"]]
    if duplicates:
        data = distinct_lines.select(*[F.col(f"`{c}`") for c in columns])
    else:
        data = kept_before
        distinct_lines.unpersist()
    flagged.unpersist()
    return CleanResult(set_attrs(data, **attrs_of(tx)), audit)


def quality_summary(tx, cleaned: CleanResult | None = None) -> DataQuality:
    """:func:`crmlab.data.quality_summary` on a Spark DataFrame (every figure counted by Spark).

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
        Canonical order lines.
    cleaned : CleanResult, optional
        From :func:`clean`.

    Returns
    -------
    DataQuality
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    floats = {f.name for f in tx.schema.fields if isinstance(f.dataType, (T.DoubleType, T.FloatType))}

    def missing(c):
        isna = F.col(f"`{c}`").isNull() | (F.isnan(F.col(f"`{c}`")) if c in floats else F.lit(False))
        return F.sum(isna.cast("long")).alias("na_" + c)

    row = tx.agg(F.count(F.lit(1)).alias("rows"),
                 F.sum(F.coalesce(F.col("is_cancellation"), F.lit(False)).cast("long")).alias("cancel")
                 if "is_cancellation" in tx.columns else F.lit(0).alias("cancel"),
                 F.min("order_ts").alias("first"), F.max("order_ts").alias("last"),
                 F.sum(not_nan("amount")).alias("revenue"),
                 *[missing(c) for c in tx.columns]).first()
    distinct = {c: distinct_count(tx, c) for c in ("customer_id", "order_id", "product_id")}
    n = int(row["rows"])
    values: list[Any] = [
        attrs_of(tx).get("source", ""), n, distinct["customer_id"], distinct["order_id"], distinct["product_id"],
        int(row["cancel"] or 0), int(row["na_customer_id"]),
        row["first"].date().isoformat() if row["first"] is not None else None,
        row["last"].date().isoformat() if row["last"] is not None else None,
        float(row["revenue"] or 0.0),
    ]
    index = ["source", "rows", "customers", "orders", "products", "cancellation_rows", "rows_without_customer",
             "first_date", "last_date", "revenue"]
    if cleaned is not None:
        c = cleaned.data.agg(F.count(F.lit(1)).alias("n"), F.count_distinct("customer_id").alias("c")).first()
        values += [int(c["n"]), int(c["c"])]
        index += ["rows_after_cleaning", "customers_after_cleaning"]
    na = pd.Series({c: int(row["na_" + c]) for c in tx.columns})
    miss = pd.DataFrame({"missing": na, "share": na / n if n else na * float("nan")})
    return DataQuality(pd.DataFrame({"value": values}, index=index), miss,
                       cleaned.audit if cleaned is not None else None)
