"""Plots of a fitted model's rules: support-confidence scatter, top-rule table, rule network."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from crmlab.basket.model import BasketModel, check_fitted
from crmlab.errors import ParameterError
from crmlab.i18n import t
from crmlab.plots import get_ax

__all__ = ["plot_rules", "plot_top_rules", "plot_rule_network"]


def _rules_of(rules: Any) -> pd.DataFrame:
    if isinstance(rules, BasketModel):
        check_fitted(rules)
        return rules.rules_
    if isinstance(rules, pd.DataFrame):
        return rules
    raise ParameterError("expected a fitted BasketModel or its rules_ table", value=type(rules).__name__)


def plot_rules(rules: Any, ax=None, max_points: int = 20_000, lang: str = "en"):
    """Support-confidence scatter of the rules, coloured by lift (log support axis).

    Parameters
    ----------
    rules : BasketModel or DataFrame
        A fitted model or its ``rules_`` table.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    max_points : int
        Most rules drawn (the highest lift ones).
    lang : str
        Language of titles and labels.

    Returns
    -------
    matplotlib Axes
    """
    r = _rules_of(rules)
    ax = get_ax(ax, (7, 5), layout=None)
    if len(r) == 0:
        ax.text(0.5, 0.5, t("no rules", lang), ha="center", va="center", transform=ax.transAxes)
        return ax
    if len(r) > max_points:
        r = r.nlargest(max_points, "lift")
    sc = ax.scatter(r["support"], r["confidence"], c=r["lift"], cmap="viridis", s=10, alpha=0.7)
    ax.set_xscale("log")
    # plain percentages: the default 10^-2 labels are mathtext, whose minus sign a Hangul font lacks
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.3g}%"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(t("support (share of baskets, log scale)", lang))
    ax.set_ylabel(t("confidence", lang))
    ax.set_title(t("{n} rules: support vs confidence, colour = lift", lang).format(n=f"{len(r):,}"))
    ax.figure.colorbar(sc, ax=ax, label=t("lift", lang))
    return ax


def plot_top_rules(rules: Any, n: int = 10, by: str = "lift", ax=None, width: int = 60, lang: str = "en"):
    """The ``n`` strongest rules as a table drawn on an axis.

    Parameters
    ----------
    rules : BasketModel or DataFrame
        A fitted model or its ``rules_`` table.
    n : int
        Rules shown.
    by : str
        Measure that ranks the rules.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    width : int
        Rule text longer than this is cut.
    lang : str
        Language of title and headers.

    Returns
    -------
    matplotlib Axes
    """
    r = _rules_of(rules)
    ax = get_ax(ax, (10, 0.4 * n + 1), layout=None)
    ax.axis("off")
    if len(r) == 0:
        ax.text(0.5, 0.5, t("no rules", lang), ha="center", va="center", transform=ax.transAxes)
        return ax
    top = r.sort_values(by, ascending=False, kind="stable").head(n)
    text = [s if len(s) <= width else s[: width - 3] + "..." for s in top["rule"]]
    cells = [[t, f"{s:.4f}", f"{c:.2f}", f"{lf:.2f}"]
             for t, s, c, lf in zip(text, top["support"], top["confidence"], top["lift"])]
    table = ax.table(cellText=cells, colLabels=[t(c, lang) for c in ("rule", "support", "confidence", "lift")],
                     loc="center", cellLoc="left", colWidths=[0.7, 0.1, 0.1, 0.1])
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    ax.set_title(t("Top {n} rules by {by}", lang).format(n=len(top), by=t(by, lang)))
    return ax


def plot_rule_network(rules: Any, n: int = 30, by: str = "lift", ax=None, names: Mapping | None = None,
                      seed: int = 0, label_width: int = 22, lang: str = "en"):
    """Network of the ``n`` strongest rules: items are nodes, an arrow runs from each
    antecedent item to the consequent; arrow width grows with lift.

    Parameters
    ----------
    rules : BasketModel or DataFrame
        A fitted model or its ``rules_`` table.
    n : int
        Rules drawn.
    by : str
        Measure that ranks the rules.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    names : mapping, optional
        Label per item; default the model's product names.
    seed : int
        Seed of the layout.
    label_width : int
        Labels longer than this are cut.
    lang : str
        Language of the title.

    Returns
    -------
    matplotlib Axes
    """
    import networkx as nx  # noqa: PLC0415

    model = rules if isinstance(rules, BasketModel) else None
    r = _rules_of(rules)
    if names is None and model is not None:
        names = model.item_names_
    ax = get_ax(ax, (9, 7), layout=None)
    ax.axis("off")
    if len(r) == 0:
        ax.text(0.5, 0.5, t("no rules", lang), ha="center", va="center", transform=ax.transAxes)
        return ax
    top = r.sort_values(by, ascending=False, kind="stable").head(n)
    g = nx.DiGraph()
    for a, c, lift in zip(top["antecedents"], top["consequents"], top["lift"]):
        for x in a:
            for y in c:
                w = g.get_edge_data(x, y, {}).get("lift", 0)
                g.add_edge(x, y, lift=max(w, float(lift)))
    # each group of connected products gets its own cell of a grid, largest first, so
    # unrelated groups do not drift to the corners and the products of a group stay readable
    comps = sorted(nx.weakly_connected_components(g), key=lambda c: (-len(c), sorted(map(str, c))))
    cols = math.ceil(math.sqrt(len(comps)))
    pos = {}
    for k, comp in enumerate(comps):
        sub = g.subgraph(comp)
        local = nx.spring_layout(sub, seed=seed, k=2.0 / math.sqrt(len(comp))) if len(comp) > 1 else {
            next(iter(comp)): np.zeros(2)}
        xy = np.array(list(local.values()), dtype=float).reshape(-1, 2)
        xy -= xy.mean(axis=0)
        span = np.abs(xy).max() or 1.0
        centre = np.array([k % cols, -(k // cols)], dtype=float)
        for node, p in zip(local, xy):
            pos[node] = centre + 0.38 * p / span
    lifts = np.array([d["lift"] for _, _, d in g.edges(data=True)])
    widths = 0.5 + 3 * (lifts - lifts.min()) / (np.ptp(lifts) or 1)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=300, node_color="#9ecae1")
    nx.draw_networkx_edges(g, pos, ax=ax, width=widths, arrows=True, arrowsize=12, edge_color="#555555",
                           node_size=300)

    def label(x):
        s = str(names.get(x, x)) if names else str(x)
        return s if len(s) <= label_width else s[: label_width - 1] + "…"

    nx.draw_networkx_labels(g, pos, labels={x: label(x) for x in g.nodes}, ax=ax, font_size=7)
    ax.set_title(t("Top {n} rules by {by}: antecedent -> consequent", lang).format(n=len(top), by=t(by, lang)))
    return ax
