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


def rules_diff(a: pd.DataFrame, b: pd.DataFrame, key: str = "rule") -> dict[str, pd.DataFrame]:
    """Rules that appeared (in B only), disappeared (A only) and stayed (with lift in both)."""
    ka, kb = set(a[key]), set(b[key])
    stayed = a[a[key].isin(kb)].merge(b[[key, "lift"]], on=key, suffixes=("_A", "_B")) if "lift" in a else a[a[key].isin(kb)]
    return {
        "appeared": b[~b[key].isin(ka)].reset_index(drop=True),
        "disappeared": a[~a[key].isin(kb)].reset_index(drop=True),
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
