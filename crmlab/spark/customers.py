"""Who the customers are, on a Spark DataFrame: the twins of :mod:`crmlab.customers`.

Spark aggregates; the driver receives only what the pandas result objects hold:

- :func:`concentration`: revenue per customer (one float per customer: the Lorenz curve has
  a point per customer), then :class:`crmlab.customers.Concentration` as in pandas;
- :func:`timing`: orders per weekday and hour (at most 168 cells) and each customer's
  preferred weekday and hour (one row per customer, the send-time table the result holds);
- :func:`favourite_products`: each customer's top ``k`` products (``k`` rows per customer);
- :func:`country_mix`: one row per country, pooled as in pandas;
- :func:`has_time_of_day`: one boolean.

Each order counts once, at its earliest line's timestamp (pandas takes the first line in file
order; the lines of one order share their timestamp in every data set crmlab ships). A
product with several names is shown under the smallest one (pandas: the first in file order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.customers import WEEKDAYS, Concentration, Timing, pool_countries
from crmlab.errors import DataError
from crmlab.spark.segments import known_customers

__all__ = ["concentration", "timing", "has_time_of_day", "favourite_products", "country_mix"]


def concentration(tx, tops: tuple[float, ...] = (0.01, 0.10, 0.20)) -> Concentration:
    """:func:`crmlab.customers.concentration` of a Spark DataFrame (revenue per customer collected).

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
        Canonical, cleaned order lines.
    tops : tuple of float

    Returns
    -------
    Concentration
    """
    from pyspark.sql import functions as F

    per = known_customers(tx).groupBy("customer_id").agg(F.sum("amount").alias("amount")).toPandas()
    return Concentration(per.set_index("customer_id")["amount"].sort_index(), tops)


def has_time_of_day(tx) -> bool:
    """:func:`crmlab.customers.has_time_of_day` of a Spark DataFrame (stops at the first hit).

    Parameters
    ----------
    tx : pyspark.sql.DataFrame

    Returns
    -------
    bool
    """
    from pyspark.sql import functions as F

    ts = F.col("order_ts")
    return tx.where(ts != F.date_trunc("day", ts)).limit(1).count() > 0


def _orders(tx):
    """One row per order: customer_id, wd (Mon = 0) and hr of its earliest line."""
    from pyspark.sql import functions as F

    first = known_customers(tx).groupBy("order_id").agg(F.min("customer_id").alias("customer_id"),
                                                        F.min("order_ts").alias("ts"))
    return first.select("customer_id", ((F.dayofweek("ts") + 5) % 7).alias("wd"), F.hour("ts").alias("hr"))


def _top_per_customer(orders, col: str):
    """Per customer the value of ``col`` with most orders (ties: the smallest) and its count."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    counts = orders.groupBy("customer_id", col).agg(F.count(F.lit(1)).alias(col + "_n"))
    w = Window.partitionBy("customer_id").orderBy(F.col(col + "_n").desc(), F.col(col).asc())
    return counts.withColumn("_r", F.row_number().over(w)).where(F.col("_r") == 1).drop("_r")


def timing(tx) -> Timing:
    """:func:`crmlab.customers.timing` of a Spark DataFrame.

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
        Canonical, cleaned order lines.

    Returns
    -------
    Timing
        The heatmap and the per-customer ``preferred`` table, as pandas builds them.
    """
    from pyspark.sql import functions as F

    orders = _orders(tx).cache()
    try:
        cells = orders.groupBy("wd", "hr").agg(F.count(F.lit(1)).alias("n")).toPandas()
        per = (_top_per_customer(orders, "wd")
               .join(_top_per_customer(orders, "hr").drop("hr_n"), "customer_id")
               .join(orders.groupBy("customer_id").agg(F.count(F.lit(1)).alias("orders")), "customer_id")
               .toPandas())
    finally:
        orders.unpersist()
    if cells.empty:
        raise DataError("no transactions with a known customer", column="customer_id")
    hours = range(int(cells["hr"].min()), int(cells["hr"].max()) + 1)
    heat = (cells.assign(weekday=np.asarray(WEEKDAYS)[cells["wd"].to_numpy(int)])
            .pivot_table(index="weekday", columns="hr", values="n", aggfunc="sum", fill_value=0)
            .reindex(index=list(WEEKDAYS), columns=list(hours), fill_value=0).astype("int64"))
    heat.index.name, heat.columns.name = "weekday", "hour"
    per = per.sort_values("customer_id").set_index("customer_id")
    preferred = pd.DataFrame({
        "preferred_weekday": pd.Categorical(np.asarray(WEEKDAYS)[per["wd"].to_numpy(int)], categories=WEEKDAYS),
        "preferred_hour": per["hr"].to_numpy(int),
        "orders": per["orders"].to_numpy("int64"),
        "weekday_share": per["wd_n"].to_numpy(float) / per["orders"].to_numpy(float),
    }, index=per.index)
    return Timing(heat, preferred)


def favourite_products(tx, k: int = 3) -> pd.DataFrame:
    """:func:`crmlab.customers.favourite_products` of a Spark DataFrame (``k`` rows per customer).

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
        Canonical, cleaned order lines with product_id and product_name.
    k : int

    Returns
    -------
    pandas.DataFrame
        customer_id, rank, product_id, product_name, orders, quantity.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    t = known_customers(tx)
    for col in ("product_id", "product_name"):
        if col not in t.columns:
            raise DataError(f"transactions have no {col!r} column", column=col,
                            fix="map a product column in the source file")
    g = t.groupBy("customer_id", "product_id").agg(
        F.count_distinct("order_id").alias("orders"), F.sum("quantity").alias("quantity"),
        F.min("product_name").alias("product_name"))
    w = Window.partitionBy("customer_id").orderBy(F.col("orders").desc(), F.col("quantity").desc(),
                                                  F.col("product_id").asc())
    top = g.withColumn("rank", F.row_number().over(w)).where(F.col("rank") <= int(k)).toPandas()
    top = top.sort_values(["customer_id", "rank"]).reset_index(drop=True)
    return top[["customer_id", "rank", "product_id", "product_name", "orders", "quantity"]]


def country_mix(tx, top: int = 10) -> pd.DataFrame:
    """:func:`crmlab.customers.country_mix` of a Spark DataFrame (one row per country collected).

    Parameters
    ----------
    tx : pyspark.sql.DataFrame
        Canonical, cleaned order lines with a ``country`` column.
    top : int

    Returns
    -------
    pandas.DataFrame
        Indexed by country: customers, orders, revenue, revenue_share.
    """
    from pyspark.sql import functions as F

    t = known_customers(tx)
    if "country" not in t.columns:
        raise DataError("transactions have no 'country' column", column="country",
                        fix="map a country column in the source file")
    g = (t.where(F.col("country").isNotNull()).groupBy("country")
         .agg(F.count_distinct("customer_id").alias("customers"), F.count_distinct("order_id").alias("orders"),
              F.sum("amount").alias("revenue")).toPandas())
    g = g.set_index("country").astype({"customers": "int64", "orders": "int64", "revenue": "float64"})
    return pool_countries(g.sort_values("revenue", ascending=False, kind="stable"), top)
