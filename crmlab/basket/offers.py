"""Next-best offers: what to put in front of each customer, from a fitted model's rules.

A rule fires for a customer who has bought every item of its antecedent; its consequent is
offered unless the customer already buys it. Offers are functions of a fitted
:class:`~crmlab.basket.BasketModel` (or of per-segment rules), so the estimator only fits::

    from crmlab import basket
    model = basket.BasketModel(min_support=0.01).fit(tx)
    offers = basket.recommend(model, tx, k=3)   # top-3 products per customer, with the reason
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

from crmlab.basket.baskets import incidence_matrix, item_column, purchases
from crmlab.basket.model import BasketModel, check_fitted
from crmlab.columns import require_columns
from crmlab.errors import ParameterError
from crmlab.results import Result, to_jsonable
from crmlab.spark.session import is_spark_frame

if TYPE_CHECKING:
    from crmlab.basket.segments import SegmentRules

__all__ = ["Offers", "recommend", "recommend_by_segment"]


def _fmt_items(items: tuple, names: Mapping | None) -> str:
    if names is not None:
        items = tuple(str(names.get(i, i)) for i in items)
    return "{" + ", ".join(map(str, items)) + "}"


def _history_matrix(model: BasketModel, history: Any, customer: str) -> tuple[sparse.csr_matrix, pd.Index]:
    """Customer x frequent-item incidence of what each customer already bought."""
    items = model.frequent_items_
    if is_spark_frame(history):  # the (customer, frequent item) pairs and the customers, from Spark
        from crmlab.spark.basket import history_pairs

        frame, cids = history_pairs(model, history, customer)
        ccodes = cids.get_indexer(frame[customer])
        icodes = items.get_indexer(frame[frame.columns[1]])
    elif isinstance(history, pd.DataFrame):
        require_columns(history, [customer], what="purchase history",
                        fix="pass customer= the column that identifies customers")
        item_col = model.item_column_ or item_column(history, model.level)
        if item_col not in history.columns:
            item_col = item_column(history, model.level)
        frame, _ = purchases(history)
        frame = frame[[customer, item_col]].dropna()
        ccodes, cids = pd.factorize(frame[customer], sort=True)
        icodes = items.get_indexer(frame[item_col])
        cids = pd.Index(cids, name=customer)
    else:
        if isinstance(history, Mapping):
            keys, values = list(history.keys()), list(history.values())
        else:
            values = list(history)
            keys = list(range(len(values)))
        cids = pd.Index(keys, name=customer)
        values = [[v] if isinstance(v, str) else list(v) for v in values]
        lengths = np.array([len(v) for v in values], dtype=np.int64)
        flat = [x for v in values for x in v]
        ccodes = np.repeat(np.arange(len(values)), lengths)
        icodes = items.get_indexer(pd.Index(flat, dtype=object)) if flat else np.array([], dtype=np.int64)
    ok = icodes >= 0
    H = incidence_matrix(np.asarray(ccodes)[ok], icodes[ok], len(cids), max(1, len(items)))
    return H, cids


def _best_offers(H: sparse.csr_matrix, ant: sparse.csr_matrix, target: np.ndarray, conf: np.ndarray,
                 lift: np.ndarray, k: int, chunk: int) -> pd.DataFrame | None:
    """Per customer (row of ``H``) the ``k`` best items of the rules that fire and are not owned.

    Returns columns c (customer row), i (item), r (rule), conf, lift, rank; None when no
    rule fires.
    """
    ant_len = np.asarray(ant.sum(axis=1)).ravel()
    antT = ant.T.tocsc().astype(np.int32)
    Hi = H.astype(np.int32)
    pieces = []
    for start in range(0, H.shape[0], chunk):
        hits = (Hi[start:start + chunk] @ antT).tocoo()
        fired = hits.data == ant_len[hits.col]
        cust, rule = hits.row[fired] + start, hits.col[fired]
        item = target[rule]
        owned = np.asarray(H[cust, item]).ravel() > 0
        cust, rule, item = cust[~owned], rule[~owned], item[~owned]
        if len(cust) == 0:
            continue
        part = pd.DataFrame({"c": cust, "i": item, "r": rule, "conf": conf[rule], "lift": lift[rule]})
        part = part.sort_values(["c", "conf", "lift", "r"], ascending=[True, False, False, True], kind="stable")
        part = part.drop_duplicates(["c", "i"])
        pieces.append(part.groupby("c", sort=False).head(k))
    if not pieces:
        return None
    best = pd.concat(pieces, ignore_index=True)
    best["rank"] = best.groupby("c").cumcount() + 1
    return best


def recommend(model: BasketModel, history: Any, k: int = 3, customer: str = "customer_id",
              rules: pd.DataFrame | None = None, chunk: int = 2048) -> Offers:
    """Next-best offers: each customer's top-``k`` products from the rules they trigger.

    A rule fires for a customer who has bought every item of its antecedent; its
    consequent is offered unless the customer already buys it. Each product keeps the
    rule with the highest confidence (then lift) as its reason; products are ranked by
    that confidence, then lift. Only rules with one item on the right-hand side offer.

    Parameters
    ----------
    model : BasketModel
        A fitted model.
    history : DataFrame or mapping or list
        Order lines with ``customer`` and the model's item column, or a mapping
        customer -> items bought, or a list of item lists (customers numbered 0..).
    k : int
        Offers per customer.
    customer : str
        Column that identifies customers (and the name of that column in the result).
    rules : DataFrame, optional
        A subset of ``model.rules_`` (e.g. non-redundant ones) to use instead of all rules.
    chunk : int
        Customers matched against the rules at a time (bounds memory).

    Returns
    -------
    Offers
    """
    check_fitted(model)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError("k must be a whole number >= 1", value=k)
    H, cids = _history_matrix(model, history, customer)
    R, ant, con = model.rules_, model.antecedent_items_, model.consequent_items_
    if rules is not None:
        pos = np.asarray(rules.index)
        R, ant, con = R.loc[pos], ant[pos], con[pos]
    single = (R["consequent_len"].to_numpy() == 1) if len(R) else np.array([], dtype=bool)
    R, ant, con = R.loc[R.index[single]], ant[single], con[single]
    empty = pd.DataFrame({customer: pd.Series(dtype=object), "rank": pd.Series(dtype=np.int64),
                          "item": pd.Series(dtype=object), "confidence": pd.Series(dtype=float),
                          "lift": pd.Series(dtype=float), "because": pd.Series(dtype=object)})
    best = None
    if len(R) and H.shape[0]:
        target = con.indices[con.indptr[:-1]] if con.nnz else np.array([], dtype=np.int64)
        best = _best_offers(H, ant, target, R["confidence"].to_numpy(), R["lift"].to_numpy(), k, chunk)
    if best is None:
        return Offers(empty, k, len(cids), model.item_names_)
    labels = np.asarray(model.frequent_items_, dtype=object)
    rule_body = R["antecedents"].to_numpy()
    table = pd.DataFrame({
        customer: np.asarray(cids, dtype=object)[best["c"].to_numpy()],
        "rank": best["rank"].to_numpy(),
        "item": labels[best["i"].to_numpy()],
        "confidence": best["conf"].to_numpy(),
        "lift": best["lift"].to_numpy(),
        "because": [_fmt_items(a, model.item_names_) for a in rule_body[best["r"].to_numpy()]],
    })
    if model.item_names_ is not None:
        table.insert(3, "item_name", table["item"].map(model.item_names_))
    return Offers(table, k, len(cids), model.item_names_)


def recommend_by_segment(segment_rules: SegmentRules, history: pd.DataFrame, segment_of: pd.Series,
                         k: int = 3, customer: str = "customer_id") -> Offers:
    """Offers for each customer from the rules of their own segment.

    Parameters
    ----------
    segment_rules : SegmentRules
        Rules mined per segment (:func:`~crmlab.basket.rules_by_segment`).
    history : DataFrame
        Order lines with ``customer`` and the item column.
    segment_of : Series
        Segment per customer, indexed by customer id.
    k : int
        Offers per customer.
    customer : str
        Column that identifies customers.

    Returns
    -------
    Offers
        With a ``segment`` column; customers of segments without rules get no offer here.
    """
    seg = pd.Series(segment_of)
    parts, n_customers, names = [], 0, None
    for name, model in segment_rules.models.items():
        ids = seg.index[seg.astype(object) == name]
        if is_spark_frame(history):  # the segment's lines stay in Spark
            from pyspark.sql import functions as F

            sub = history.where(F.col(customer).isin([str(i) for i in ids]))
            if not len(ids) or sub.limit(1).count() == 0:
                continue
        else:
            sub = history.loc[history[customer].isin(ids)]
            if len(sub) == 0:
                continue
        offers = recommend(model, sub, k=k, customer=customer)
        n_customers += offers.n_customers
        names = names or model.item_names_
        if len(offers.table):
            parts.append(offers.table.assign(segment=name))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=[customer, "rank", "item", "confidence", "lift", "because", "segment"])
    return Offers(table, k, n_customers, names)


class Offers(Result):
    """Next-best offers per customer (:func:`recommend`, :func:`recommend_by_segment`).

    Parameters
    ----------
    table : DataFrame
        One row per (customer, offer): the customer column, rank, item (and item_name when
        names are known), confidence and lift of the rule that suggests it and ``because``
        (its antecedent); a ``segment`` column for offers per segment.
    k : int
        Most offers per customer.
    n_customers : int
        Customers looked at (with or without an offer).
    names : dict or None
        Product name per item.

    Attributes
    ----------
    customers_with_offer : int
        Customers with at least one offer.
    summary : DataFrame
        The products offered most often.
    """

    title = "Next-best offers"

    def __init__(self, table: pd.DataFrame, k: int, n_customers: int, names: dict | None = None) -> None:
        self.table = table
        self.k = k
        self.n_customers = n_customers
        self.names = names
        reached = table.iloc[:, 0].nunique() if len(table) else 0
        self.customers_with_offer = int(reached)
        self.notes = (
            f"{reached:,} of {n_customers:,} customers trigger at least one rule "
            f"(up to {k} offers each).",
        )

    @property
    def summary(self) -> pd.DataFrame:
        if len(self.table) == 0:
            return pd.DataFrame({"customers": pd.Series(dtype=np.int64),
                                 "mean_confidence": pd.Series(dtype=float),
                                 "mean_lift": pd.Series(dtype=float)})
        g = self.table.groupby("item", sort=False).agg(
            customers=("rank", "size"), first_choice=("rank", lambda r: int((r == 1).sum())),
            mean_confidence=("confidence", "mean"), mean_lift=("lift", "mean"))
        if self.names is not None:
            g.insert(0, "item_name", g.index.map(lambda i: self.names.get(i, i)))
        return g.sort_values(["customers", "mean_confidence"], ascending=False, kind="stable").head(20)

    def by_segment(self, column: str = "segment") -> pd.DataFrame:
        """Per segment: customers reached, offers, mean confidence and lift, and the product
        offered most often.

        Parameters
        ----------
        column : str
            The segment column of ``table`` (offers from :func:`recommend_by_segment`).

        Returns
        -------
        DataFrame
            One row per segment with customers, offers, mean_confidence, mean_lift, top_offer.
        """
        if column not in self.table.columns:
            raise ParameterError("these offers have no segment column", column=column,
                                 fix="use basket.recommend_by_segment(rules_by_segment(...), ...) for offers per segment")
        t = self.table
        if len(t) == 0:
            return pd.DataFrame(columns=["customers", "offers", "mean_confidence", "mean_lift", "top_offer"])
        cust = t.columns[0]
        label = t["item_name"].fillna(t["item"].astype(str)) if "item_name" in t.columns else t["item"].astype(str)
        top = t.assign(_label=label).groupby(column, observed=True, sort=False)["_label"].agg(
            lambda x: x.value_counts().index[0])
        out = t.groupby(column, observed=True, sort=False).agg(
            customers=(cust, "nunique"), offers=("item", "size"),
            mean_confidence=("confidence", "mean"), mean_lift=("lift", "mean"))
        out["top_offer"] = top
        return out

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({"customers": self.n_customers, "customers_with_offer": self.customers_with_offer,
                            "offers": len(self.table)})
