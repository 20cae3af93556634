"""Rules mined within each customer segment: what a segment buys together that the shop does not."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab.basket.model import RULE_COLUMNS, BasketModel
from crmlab.columns import require_columns
from crmlab.results import Result, to_jsonable
from crmlab.spark.session import is_spark_frame

__all__ = ["SegmentRules", "rules_by_segment"]


class SegmentRules(Result):
    """Rules mined separately within each customer segment (:func:`rules_by_segment`).

    Parameters
    ----------
    models : dict
        Fitted :class:`~crmlab.basket.BasketModel` per segment that had enough baskets.
    baskets, customers : dict
        Baskets and customers per segment (every segment).
    skipped : dict
        Segment -> why no rules were mined for it.

    Offers from these rules: :func:`~crmlab.basket.recommend_by_segment`.
    """

    title = "Rules by segment"

    def __init__(self, models: dict, baskets: dict, customers: dict, skipped: dict) -> None:
        self.models = models
        self.baskets = baskets
        self.customers = customers
        self.skipped = skipped
        self.notes = tuple(f"{seg}: {why}" for seg, why in skipped.items())

    @property
    def rules(self) -> pd.DataFrame:
        """All segments' rules in one table with a ``segment`` column."""
        parts = [m.rules_.assign(segment=seg) for seg, m in self.models.items() if len(m.rules_)]
        if not parts:
            return pd.DataFrame(columns=["segment", *RULE_COLUMNS])
        out = pd.concat(parts, ignore_index=True)
        return out[["segment", *[c for c in out.columns if c != "segment"]]]

    @property
    def summary(self) -> pd.DataFrame:
        rows = []
        for seg in list(self.models) + list(self.skipped):
            m = self.models.get(seg)
            top = m.rules_.iloc[0] if m is not None and len(m.rules_) else None
            rows.append({
                "segment": seg,
                "customers": self.customers.get(seg, 0),
                "baskets": self.baskets.get(seg, 0),
                "rules": 0 if m is None else len(m.rules_),
                "top_rule": None if top is None else top["rule"],
                "top_lift": None if top is None else float(top["lift"]),
            })
        return pd.DataFrame(rows).set_index("segment") if rows else pd.DataFrame(
            columns=["customers", "baskets", "rules", "top_rule", "top_lift"])

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({str(s): len(m.rules_) for s, m in self.models.items()})


def _spark_segments(transactions: Any, seg: pd.Series, customer: str, basket: str):
    """``subset(name)`` -> (the segment's Spark lines, baskets, customers), counted in one Spark pass."""
    from pyspark.sql import functions as F

    from crmlab.spark.basket import rules_by_segment_parts

    lines, counts = rules_by_segment_parts(transactions, seg, customer, basket)

    def subset(name: str):
        if name not in counts.index:
            return None, 0, 0
        return (lines.where(F.col("_segment") == name).drop("_segment"), counts.loc[name, "baskets"],
                counts.loc[name, "customers"])

    return subset


def rules_by_segment(transactions: pd.DataFrame, segment_of: pd.Series, customer: str = "customer_id",
                     min_baskets: int = 100, **params: Any) -> SegmentRules:
    """Mine rules separately within each customer segment.

    Parameters
    ----------
    transactions : DataFrame
        Order lines with ``customer`` and ``order_id`` (canonical columns).
    segment_of : Series
        Segment per customer, indexed by customer id (``segments.rfm(...).table["segment"]``).
    min_baskets : int
        Segments with fewer baskets are skipped (and say so in ``notes``): rules on a handful
        of baskets are noise.
    customer : str
        Column that identifies customers.
    **params
        Passed to :class:`BasketModel` (thresholds, level, engine, ...). ``min_support`` is a
        share of the segment's own baskets.

    Returns
    -------
    SegmentRules
    """
    if not is_spark_frame(transactions):
        require_columns(transactions, [customer], what="order lines",
                        fix="pass the transaction table from crmlab.data.load_transactions")
    seg = pd.Series(segment_of)
    order = list(seg.cat.categories) if isinstance(seg.dtype, pd.CategoricalDtype) else list(pd.unique(seg.dropna()))
    basket_col = params.get("basket", "order_id")
    models, baskets, customers, skipped = {}, {}, {}, {}
    subsets = _spark_segments(transactions, seg, customer, basket_col) if is_spark_frame(transactions) else None
    cust_seg = None if subsets else transactions[customer].map(seg.astype(object))
    for name in order:
        if subsets:  # the segment's lines stay in Spark; its baskets and customers were counted there
            sub, nb, nc = subsets(str(name))
        else:
            sub = transactions.loc[(cust_seg == name).to_numpy()]
            nb = sub[basket_col].nunique() if len(sub) else 0
            nc = sub[customer].nunique() if len(sub) else 0
        baskets[name], customers[name] = int(nb), int(nc)
        if nb < min_baskets:
            skipped[name] = f"{nb} baskets, fewer than min_baskets={min_baskets}; no rules mined"
            continue
        models[name] = BasketModel(**params).fit(sub)
    return SegmentRules(models, baskets, customers, skipped)
