"""Merchandising views of a fitted model: anchors and companions, product families, bundles.

Every view is a function of a fitted :class:`~crmlab.basket.BasketModel`::

    a = basket.assortment(model)           # Assortment: table (anchor score) and companions
    basket.anchors(model)                  # products that bring others along, strongest first
    basket.families(model, min_lift=5.0)   # products linked by strong rules, one row a family
    basket.top_bundles(model, 5)           # product groups for bundle offers
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.basket.model import BasketModel, check_fitted
from crmlab.results import Result, to_jsonable

__all__ = ["Assortment", "assortment", "anchors", "families", "top_bundles"]


def _companions(model: BasketModel, table: pd.DataFrame, top: int) -> pd.DataFrame:
    """Add each product's rule counts and companions to ``table``; return the product pairs."""
    labels = np.asarray(model.frequent_items_, dtype=object)
    n_f = len(labels)
    R = model.rules_
    ant, con = model.antecedent_items_, model.consequent_items_
    single_con = R["consequent_len"].to_numpy() == 1
    table["rules_in_antecedent"] = np.asarray(ant.sum(axis=0)).ravel()[:n_f]
    table["rules_as_consequent"] = np.asarray(con[single_con].sum(axis=0)).ravel()[:n_f]
    one = (R["antecedent_len"].to_numpy() == 1) & single_con
    pairs = pd.DataFrame({
        "lead": ant[one].indices,
        "follow": con[one].indices,
        "confidence": R["confidence"].to_numpy()[one],
        "lift": R["lift"].to_numpy()[one],
    })
    led = pairs.groupby("lead").agg(leads_to=("follow", "size"), mean_lift=("lift", "mean"))
    table["brings_along"] = led["leads_to"].reindex(range(n_f)).fillna(0).astype(np.int64).to_numpy()
    table["mean_lift_led"] = led["mean_lift"].reindex(range(n_f)).to_numpy()
    pairs = pairs.sort_values(["lead", "confidence", "lift"], ascending=[True, False, False], kind="stable")
    names = model.item_names_
    comp = pairs.groupby("lead").head(top).groupby("lead")["follow"].apply(
        lambda s: ", ".join(str(names.get(labels[i], labels[i])) if names else str(labels[i]) for i in s))
    table["top_companions"] = comp.reindex(range(n_f)).fillna("").to_numpy()
    return pd.DataFrame({
        "product": labels[pairs["lead"].to_numpy()],
        "brings_along": labels[pairs["follow"].to_numpy()],
        "confidence": pairs["confidence"].to_numpy(),
        "lift": pairs["lift"].to_numpy(),
    })


def assortment(model: BasketModel, top: int = 3) -> Assortment:
    """Product-level view: which products anchor baskets and which they bring along.

    For each frequent item: its basket share, how many rules it leads (as the only
    antecedent) and with what lift, how many rules it is brought along in, and its
    ``top`` companions (consequents of its one-item rules, by confidence).

    Parameters
    ----------
    model : BasketModel
        A fitted model.
    top : int
        Companions listed per product.

    Returns
    -------
    Assortment
    """
    check_fitted(model)
    labels = np.asarray(model.frequent_items_, dtype=object)
    table = (pd.DataFrame({"item": labels, "baskets": model.frequent_counts_}) if len(labels)
             else pd.DataFrame({"item": [], "baskets": []}))
    table["basket_share"] = table["baskets"] / model.n_baskets_
    if len(model.rules_):
        companions = _companions(model, table, top)
    else:
        for c in ("rules_in_antecedent", "rules_as_consequent", "brings_along"):
            table[c] = 0
        table["mean_lift_led"] = np.nan
        table["top_companions"] = ""
        companions = pd.DataFrame({"product": [], "brings_along": [], "confidence": [], "lift": []})
    if model.item_names_ is not None:
        table.insert(1, "item_name", table["item"].map(model.item_names_))
        companions.insert(1, "product_name", companions["product"].map(model.item_names_))
        companions["brings_along_name"] = companions["brings_along"].map(model.item_names_)
    # anchor score: how many baskets a product is in, times how many products it pulls
    table["anchor_score"] = table["basket_share"] * table["brings_along"]
    table = table.sort_values(["anchor_score", "baskets"], ascending=False, kind="stable").reset_index(drop=True)
    return Assortment(table, companions.reset_index(drop=True))


def anchors(model: BasketModel, top: int = 3) -> pd.DataFrame:
    """Anchor products: those that lead at least one rule on their own, by anchor score.

    Parameters
    ----------
    model : BasketModel
        A fitted model.
    top : int
        Companions listed per product.

    Returns
    -------
    DataFrame
        The rows of :func:`assortment`'s table with ``brings_along > 0``.
    """
    return assortment(model, top).anchors


def top_bundles(model: BasketModel, n: int = 5, by: str = "lift") -> pd.DataFrame:
    """The ``n`` strongest product groups for bundle offers.

    Each itemset once (its rules in either direction collapse into one row), from
    non-redundant rules, with the group's support and the best rule's confidence and lift.

    Parameters
    ----------
    model : BasketModel
        A fitted model.
    n : int
        Bundles to show.
    by : str
        Rule measure that ranks the groups.

    Returns
    -------
    DataFrame
        items, support, count, best_rule, confidence, lift.
    """
    check_fitted(model)
    r = model.rules_.loc[~model.rules_["redundant"].astype(bool)] if len(model.rules_) else model.rules_
    if len(r) == 0:
        return pd.DataFrame(columns=["items", "support", "count", "best_rule", "confidence", "lift"])
    names = model.item_names_ or {}
    group = [tuple(sorted(a + c, key=str)) for a, c in zip(r["antecedents"], r["consequents"])]
    r = r.assign(_group=group).sort_values([by, "confidence"], ascending=False, kind="stable")
    r = r.drop_duplicates("_group").head(n)
    return pd.DataFrame({
        "items": ["{" + ", ".join(str(names.get(i, i)) for i in g) + "}" for g in r["_group"]],
        "support": r["support"].to_numpy(),
        "count": r["count"].to_numpy(),
        "best_rule": r["rule"].to_numpy(),
        "confidence": r["confidence"].to_numpy(),
        "lift": r["lift"].to_numpy(),
    })


def families(model: BasketModel, min_lift: float = 5.0, n: int | None = 10) -> pd.DataFrame:
    """Product families: groups of products linked by rules with lift >= ``min_lift``.

    Every rule links all of its products; a family is a connected group of the graph
    (so products bought as a group come out as one family, not as many
    pairwise rules). Sorted by the number of rules holding the family together.

    Parameters
    ----------
    model : BasketModel
        A fitted model.
    min_lift : float
        Lift a rule needs to link its products.
    n : int or None
        Families to show; None for all.

    Returns
    -------
    DataFrame
        family (number), lead_product (the family's most bought product), products, items,
        rules, mean_lift, best_rule.
    """
    import networkx as nx  # noqa: PLC0415

    check_fitted(model)
    r = model.rules_.loc[model.rules_["lift"] >= min_lift] if len(model.rules_) else model.rules_
    cols = ["family", "lead_product", "products", "items", "rules", "mean_lift", "best_rule"]
    if len(r) == 0:
        return pd.DataFrame(columns=cols)
    g = nx.Graph()
    for a, c in zip(r["antecedents"], r["consequents"]):
        items = list(a) + list(c)
        g.add_nodes_from(items)
        g.add_edges_from(zip(items[:-1], items[1:]))
    member = {item: k for k, comp in enumerate(nx.connected_components(g)) for item in comp}
    fam = np.array([member[a[0]] for a in r["antecedents"]])
    names = model.item_names_ or {}
    counts = model.item_counts_
    rows = []
    for k in np.unique(fam):
        sub = r.loc[fam == k]
        items = sorted((i for i, m in member.items() if m == k), key=lambda i: -counts.get(i, 0))
        rows.append({
            "lead_product": str(names.get(items[0], items[0])),
            "products": len(items),
            "items": ", ".join(str(names.get(i, i)) for i in items),
            "rules": len(sub),
            "mean_lift": float(sub["lift"].mean()),
            "best_rule": sub["rule"].iloc[0],
        })
    out = pd.DataFrame(rows).sort_values(["rules", "products"], ascending=False, kind="stable")
    out.insert(0, "family", np.arange(1, len(out) + 1))
    out = out.reset_index(drop=True)
    return out if n is None else out.head(n)


class Assortment(Result):
    """Product-level assortment view (:func:`assortment`).

    Parameters
    ----------
    table : DataFrame
        One row per frequent product with basket share, rules it leads and is in, how many
        products it brings along (one-item rules), their mean lift, top companions and an
        anchor score (basket share x products brought along), highest score first.
    companions : DataFrame
        Every one-item rule as product -> product it brings along, with confidence and lift.
    """

    title = "Assortment: anchors and companions"

    def __init__(self, table: pd.DataFrame, companions: pd.DataFrame) -> None:
        self.table = table
        self.companions = companions

    @property
    def anchors(self) -> pd.DataFrame:
        """The rows of ``table`` for products that lead at least one rule on their own."""
        return self.table.loc[self.table["brings_along"] > 0]

    @property
    def summary(self) -> pd.DataFrame:
        return self.table.head(15).set_index("item")

    def to_dict(self) -> dict[str, Any]:
        anchors = self.anchors
        return to_jsonable({"products": len(self.table), "anchors": len(anchors),
                            "top_anchor": None if len(anchors) == 0 else anchors["item"].iloc[0]})
