"""Two runs side by side for a strategy workshop: KPIs, segment migration, CLV, rules, campaigns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.plots import get_ax
from crmlab.segments import SEGMENTS, migration


def kpi_deltas(a: Mapping[str, Any], b: Mapping[str, Any], keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Numeric metrics of two runs side by side: A, B, change and relative change."""
    keys = keys or [k for k in a if k in b]
    rows = {}
    for k in keys:
        va, vb = a.get(k), b.get(k)
        if isinstance(va, bool) or isinstance(vb, bool):
            continue
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)):
            rows[k] = {"A": va, "B": vb, "change": vb - va, "relative_change": (vb - va) / va if va else np.nan}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["A", "B", "change", "relative_change"])
    out.index.name = "metric"
    return out


def _items(value: Any) -> frozenset:
    """A rule side as a set of item labels: tuples, lists and arrays (a parquet round trip)."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return frozenset()
    if isinstance(value, (str, bytes)):
        return frozenset([value])
    return frozenset(str(v) for v in value)


def _rule_keys(rules: pd.DataFrame, key: str | None, segment: bool) -> pd.Series:
    if key is not None:
        keys = rules[key].map(lambda v: (v,))
    else:
        keys = pd.Series([(_items(a), _items(c)) for a, c in zip(rules["antecedents"], rules["consequents"])],
                         index=rules.index, dtype=object)
    if segment:
        keys = pd.Series([(s, *k) for s, k in zip(rules["segment"], keys)], index=rules.index, dtype=object)
    return keys


def rules_diff(a: pd.DataFrame | None, b: pd.DataFrame | None, key: str | None = None) -> dict[str, pd.DataFrame]:
    """Rules that appeared (in B only), disappeared (A only) and stayed (with lift in both).

    Two rules are the same rule when they have the same antecedent set and the same
    consequent (the order of the items and the rule's text do not matter: product names
    change, item order differs between miners); rules of different segments differ when both
    tables have a ``segment`` column. Tables without ``antecedents``/``consequents`` are
    matched on their ``rule`` text. An empty table (or None) has no rules.

    Parameters
    ----------
    a, b : pandas.DataFrame or None
        Rule tables (``BasketModel.rules_`` or a saved copy with the same columns).
    key : str, optional
        Match on this column instead (e.g. ``"rule"``); default: antecedent set + consequent
        when both tables have them, otherwise ``"rule"``.

    Returns
    -------
    dict
        ``appeared`` (rows of B), ``disappeared`` (rows of A) and ``stayed`` (rows of A, with
        ``lift_A`` and ``lift_B`` when the tables have a lift).
    """
    a = pd.DataFrame() if a is None else a
    b = pd.DataFrame() if b is None else b
    filled = [t for t in (a, b) if len(t)]
    if key is None and not all({"antecedents", "consequents"} <= set(t.columns) for t in filled):
        key = "rule"
    segment = bool(filled) and all("segment" in t.columns for t in filled)
    ka = _rule_keys(a, key, segment) if len(a) else pd.Series([], dtype=object)
    kb = _rule_keys(b, key, segment) if len(b) else pd.Series([], dtype=object)
    in_b, in_a = set(kb), set(ka)
    a_in_b = ka.map(lambda k: k in in_b).astype(bool).to_numpy()
    b_in_a = kb.map(lambda k: k in in_a).astype(bool).to_numpy()
    stayed = a[a_in_b].copy()
    if "lift" in a.columns and "lift" in b.columns:
        lift_b = dict(zip(kb, b["lift"]))
        stayed = stayed.rename(columns={"lift": "lift_A"})
        stayed["lift_B"] = [lift_b[k] for k in ka[a_in_b]]
    return {
        "appeared": b[~b_in_a].reset_index(drop=True),
        "disappeared": a[~a_in_b].reset_index(drop=True),
        "stayed": stayed.reset_index(drop=True),
    }


def plot_migration(matrix: pd.DataFrame, ax: Any = None, *, shares: bool = True):
    """Heatmap of a segment migration matrix (rows: before, columns: after); returns the Axes.

    With ``shares`` each row is shown as the share of that segment's customers, so small and
    large segments read alike; the counts are written in the cells.
    """
    ax = get_ax(ax, (9, 7))
    m = matrix.loc[matrix.sum(axis=1) > 0, matrix.sum(axis=0) > 0]
    values = m.div(m.sum(axis=1), axis=0) if shares else m
    im = ax.imshow(values.to_numpy(float), cmap="Blues", aspect="auto", vmin=0)
    ax.set_xticks(range(m.shape[1]), m.columns, rotation=45, ha="right")
    ax.set_yticks(range(m.shape[0]), m.index)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m.iat[i, j]:
                ax.text(j, i, f"{m.iat[i, j]:,}", ha="center", va="center", fontsize=7,
                        color="white" if values.iat[i, j] > 0.5 * values.to_numpy().max() else "black")
    ax.set_xlabel("segment in run B")
    ax.set_ylabel("segment in run A")
    ax.set_title("Where each segment's customers went")
    ax.figure.colorbar(im, ax=ax, label="share of the row" if shares else "customers")
    return ax


def compare_runs(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Compare two runs' strategy outputs for a workshop.

    ``a`` and ``b`` are dicts with ``metrics`` (flat dict) and ``tables`` (name -> DataFrame:
    ``customer_segments`` with customer_id and segment, ``clv_by_segment``, ``rules``,
    ``campaign``), as :func:`crmlab.report.load_run` gives for a strategy report.
    """
    ta, tb = a.get("tables", {}), b.get("tables", {})
    out: dict[str, Any] = {"kpis": kpi_deltas(a.get("metrics", {}), b.get("metrics", {}))}
    if "customer_segments" in ta and "customer_segments" in tb:
        sa = ta["customer_segments"].set_index("customer_id")["segment"]
        sb = tb["customer_segments"].set_index("customer_id")["segment"]
        out["migration"] = migration(sa, sb)
    if "clv_by_segment" in ta and "clv_by_segment" in tb:
        ca = ta["clv_by_segment"].set_index("segment")
        cb = tb["clv_by_segment"].set_index("segment")
        col = "avg_clv"
        both = pd.DataFrame({"A": ca[col], "B": cb[col]}).reindex(list(SEGMENTS)).dropna(how="all")
        both["change"] = both["B"] - both["A"]
        out["clv_by_segment"] = both
    if "rules" in ta and "rules" in tb:
        out["rules"] = rules_diff(ta["rules"], tb["rules"])
    if "campaign" in ta and "campaign" in tb:
        out["campaign"] = pd.concat({"A": ta["campaign"], "B": tb["campaign"]}, axis=1)
    return out
