"""Association rules with Spark ML's FPGrowth and crmlab's rules on top.

FPGrowth (Li et al. 2008, "PFP: parallel FP-growth for query recommendation") mines the
frequent itemsets in Spark; only the itemsets and the item counts come back to the driver.
The rules are then built by :class:`crmlab.basket.BasketModel` itself from those itemsets:
one-item consequents, every measure of :data:`crmlab.basket.MEASURES`, redundancy and
significance pruning, the same ranking, so the rule table is the pandas engines' one.

The minimum support is applied as a count, as in crmlab: FPGrowth gets a support just below
``min_count / n`` so its ``ceil(minSupport * n)`` is crmlab's ``min_count``.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from crmlab.basket import BasketModel
from crmlab.basket.baskets import LEVELS
from crmlab.basket.engines import frequency_order
from crmlab.errors import DataError

__all__ = ["fit_rules", "baskets_frame", "history_pairs", "rules_by_segment_parts"]


def baskets_frame(transactions, level: str = "product", basket: str = "order_id"):
    """One row per basket with the array of its distinct items (lines that are not purchases out).

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        Canonical order lines, or a frame with an ``items`` array column (returned as is).
    level : str
        ``"product"``, ``"name"``, ``"category"`` or a column name.
    basket : str
        Column that identifies a basket.

    Returns
    -------
    (pyspark.sql.DataFrame, int)
        Columns ``basket`` and ``items``; and the order lines left out.
    """
    from pyspark.sql import functions as F

    if "items" in transactions.columns:
        return transactions.select(F.array_distinct("items").alias("items")), 0
    item = LEVELS.get(level, level)
    for col in (basket, item):
        if col not in transactions.columns:
            raise DataError(f"the {col} column is missing", column=col,
                            fix="pass level= and basket= naming columns of the order lines")
    keep = F.lit(True)
    if "is_cancellation" in transactions.columns:
        keep = keep & ~F.coalesce(F.col("is_cancellation"), F.lit(False))
    if "quantity" in transactions.columns:
        keep = keep & F.coalesce(F.col("quantity") > 0, F.lit(False))
    flagged = transactions.select(F.col(basket).alias("basket"), F.col(item).cast("string").alias("item"),
                                  keep.alias("_keep"))
    excluded = flagged.where(~F.col("_keep")).count()
    lines = flagged.where(F.col("_keep") & F.col("basket").isNotNull() & F.col("item").isNotNull())
    return lines.groupBy("basket").agg(F.collect_set("item").alias("items")), int(excluded)


def _item_counts(baskets) -> pd.Series:
    from pyspark.sql import functions as F

    counts = baskets.select(F.explode("items").alias("item")).groupBy("item").count().toPandas()
    s = pd.Series(counts["count"].to_numpy(np.int64), index=pd.Index(counts["item"].to_list(), dtype=object),
                  name="baskets")
    order = frequency_order(s.index.to_list(), s.to_numpy())
    return s.iloc[order]


def _names(transactions, item_column: str) -> dict | None:
    """Product name per product id: the most frequent name, ties by name (as pandas)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if item_column != "product_id" or "product_name" not in transactions.columns:
        return None
    pairs = transactions.where(F.col("product_id").isNotNull() & F.col("product_name").isNotNull())
    counted = pairs.groupBy("product_id", "product_name").count()
    w = Window.partitionBy("product_id").orderBy(F.col("count").desc(), F.col("product_name"))
    top = counted.select("product_id", "product_name", F.row_number().over(w).alias("r")).where("r = 1").toPandas()
    return dict(zip(top["product_id"], top["product_name"].astype(str))) if len(top) else None


def _levels(itemsets: pd.DataFrame, frequent: pd.Index) -> dict:
    """FPGrowth's itemsets as crmlab's levels: sorted item-id rows and counts per length."""
    ids = dict(zip(frequent, range(len(frequent))))
    levels: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    lengths = itemsets["items"].map(len).to_numpy()
    for length in np.unique(lengths):
        pick = itemsets.loc[lengths == length]
        rows = np.array([[ids[i] for i in items] for items in pick["items"]], dtype=np.int64).reshape(-1, length)
        levels[int(length)] = (np.sort(rows, axis=1), pick["freq"].to_numpy(np.int64))
    if 1 not in levels:
        levels[1] = (np.zeros((0, 1), dtype=np.int64), np.zeros(0, dtype=np.int64))
    return levels


def fit_rules(model: BasketModel, transactions, *, num_partitions: int | None = None) -> BasketModel:
    """Fit a :class:`crmlab.basket.BasketModel` on Spark data: FPGrowth mines, crmlab makes rules.

    Parameters
    ----------
    model : BasketModel
        Unfitted; its settings (``min_support``, ``min_confidence``, ``max_len``,
        ``exclude``, ``remove_redundant``, ``significance`` ...) are used.
    transactions : pyspark.sql.DataFrame
        Canonical order lines (baskets by ``model.basket``, items by ``model.level``), or one
        row per basket with an ``items`` array.
    num_partitions : int, optional
        FPGrowth's ``numPartitions``.

    Returns
    -------
    BasketModel
        ``model``, fitted: ``rules_``, ``itemsets_``, ``item_counts_`` as the pandas engines
        give them; ``engine_`` is ``"spark-fpgrowth"``.
    """
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F

    model._validate()
    model.engine_ = "spark-fpgrowth"
    model._raw = None
    model.notes = ()
    frame, excluded = baskets_frame(transactions, model.level, model.basket)
    frame = frame.cache()
    n = frame.count()
    if n == 0:
        frame.unpersist()
        raise DataError("there are no baskets", expected="at least one basket")
    model._start(n, None, excluded)
    if "items" not in transactions.columns:
        model.item_column_ = LEVELS.get(model.level, model.level)
        model.item_names_ = _names(transactions, model.item_column_)
    counts = _item_counts(frame)
    model._item_counts = counts
    eligible = counts[counts >= model.min_count_]
    if model.exclude:
        eligible = eligible[~eligible.index.isin(list(model.exclude))]
        frame = frame.select(F.array_except("items", F.array(*[F.lit(str(x)) for x in model.exclude])).alias("items"))
    model._set_frequent(pd.Index(eligible.index, dtype=object))
    levels: dict = {1: (np.arange(len(eligible), dtype=np.int64).reshape(-1, 1), eligible.to_numpy(np.int64))}
    if len(eligible) >= 2 and (model.max_len is None or model.max_len >= 2):
        fp = FPGrowth(itemsCol="items", minSupport=(model.min_count_ - 0.5) / n, minConfidence=1.0)
        if num_partitions:
            fp = fp.setNumPartitions(int(num_partitions))
        sets = fp.fit(frame).freqItemsets
        if model.max_len is not None:
            sets = sets.where(F.size("items") <= int(model.max_len))
        found = sets.where(F.size("items") >= 2).toPandas()
        levels.update({k: v for k, v in _levels(found, model.frequent_items_).items() if k >= 2})
    frame.unpersist()
    model._finish(levels)
    return model




def history_pairs(model: BasketModel, history, customer: str = "customer_id") -> tuple[pd.DataFrame, pd.Index]:
    """What :func:`crmlab.basket.recommend` matches the rules against, from Spark order lines.

    Parameters
    ----------
    model : BasketModel
        A fitted model.
    history : pyspark.sql.DataFrame
        Order lines with ``customer`` and the model's item column.
    customer : str

    Returns
    -------
    (pandas.DataFrame, pandas.Index)
        The distinct (customer, item) pairs among the model's frequent items (other items never
        fire a rule), and every customer with a purchase line (sorted): one row per pair and
        one id per customer come back.
    """
    from pyspark.sql import functions as F

    item_col = model.item_column_ or LEVELS.get(model.level, model.level)
    for col in (customer, item_col):
        if col not in history.columns:
            raise DataError(f"purchase history has no {col!r} column", column=col,
                            fix="pass customer= the column that identifies customers")
    keep = F.col(customer).isNotNull() & F.col(item_col).isNotNull()
    if "is_cancellation" in history.columns:
        keep = keep & ~F.coalesce(F.col("is_cancellation"), F.lit(False))
    if "quantity" in history.columns:
        keep = keep & F.coalesce(F.col("quantity") > 0, F.lit(False))
    lines = history.where(keep).select(F.col(customer).cast("string").alias(customer),
                                       F.col(item_col).cast("string").alias(item_col))
    frequent = [str(x) for x in model.frequent_items_]
    pairs = lines.where(F.col(item_col).isin(frequent)).distinct().toPandas() if frequent else \
        pd.DataFrame({customer: pd.Series(dtype=object), item_col: pd.Series(dtype=object)})
    ids = lines.select(customer).distinct().toPandas()[customer]
    return pairs, pd.Index(sorted(ids), name=customer, dtype=object)


def rules_by_segment_parts(transactions, segment_of: pd.Series, customer: str, basket: str):
    """Per segment: its order lines (Spark), baskets and customers, for :func:`crmlab.basket.rules_by_segment`.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
    segment_of : pandas.Series
        Segment per customer (sent to Spark once: one row per customer).
    customer, basket : str

    Returns
    -------
    (pyspark.sql.DataFrame, pandas.DataFrame)
        The lines with a ``_segment`` column, and baskets and customers per segment.
    """
    from pyspark.sql import functions as F

    for col in (customer, basket):
        if col not in transactions.columns:
            raise DataError(f"order lines have no {col!r} column", column=col,
                            fix="pass customer= (and basket=) naming columns of the order lines")
    seg = pd.DataFrame({customer: pd.Series(segment_of.index, dtype=object).astype(str).to_numpy(),
                        "_segment": pd.Series(segment_of).astype(object).astype(str).to_numpy()})
    spark = transactions.sparkSession
    lines = transactions.join(F.broadcast(spark.createDataFrame(seg)), customer, "inner")
    counts = lines.groupBy("_segment").agg(F.count_distinct(basket).alias("baskets"),
                                           F.count_distinct(customer).alias("customers")).toPandas()
    return lines, counts.set_index("_segment")
