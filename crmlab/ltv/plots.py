"""The plots lifetimes users know, for every purchase model: the P(alive) matrix, the
frequency/recency matrix of expected purchases, and period transactions (model vs actual).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.ltv.base import PurchaseModel, _frame_columns
from crmlab.plots import get_ax

__all__ = ["plot_probability_alive_matrix", "plot_frequency_recency_matrix", "plot_period_transactions",
           "period_transactions"]


def _grid(model: PurchaseModel, max_frequency: int | None, T: float | None):
    model._check_fitted()
    T = float(T if T is not None else {"D": 365, "W": 52, "M": 12}.get(model.unit_ or "W", 52))
    fmax = int(max_frequency if max_frequency is not None else 30)
    f = np.arange(fmax + 1, dtype=float)
    rec = np.arange(int(T) + 1, dtype=float)
    F, R = np.meshgrid(f, rec, indexing="ij")
    valid = ((F == 0) & (R == 0)) | ((F > 0) & (R > 0) & (R >= F * (model._label == "BG/BB")))
    return F, R, T, valid


def _matrix(ax: Any, Z: np.ndarray, title: str, label: str, T: float, unit: str | None):
    img = ax.imshow(Z, origin="lower", aspect="auto", cmap="viridis", interpolation="nearest")
    ax.figure.colorbar(img, ax=ax, label=label)
    ax.set_xlabel(f"recency: {'units' if not unit else {'D': 'days', 'W': 'weeks', 'M': 'months'}[unit]} "
                  f"from first to last purchase (customer age {T:g})")
    ax.set_ylabel("repeat purchases (frequency)")
    ax.set_title(title)
    return ax


def plot_probability_alive_matrix(model: PurchaseModel, *, max_frequency: int | None = None, T: float | None = None,
                                  ax=None):
    """P(alive) for every (frequency, recency) at customer age ``T`` (lifetimes' matrix).

    Parameters
    ----------
    model : PurchaseModel
        Fitted.
    max_frequency : int, optional
        Highest frequency shown (default 30).
    T : float, optional
        Customer age (default one year in the model's unit).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    F, R, T, valid = _grid(model, max_frequency, T)
    Z = np.full(F.shape, np.nan)
    Z[valid] = model.p_alive(frequency=F[valid], recency=R[valid], T=np.full(valid.sum(), T))
    ax = get_ax(ax, (7, 5), layout=None)
    return _matrix(ax, Z, f"{model._label}: probability alive", "P(alive)", T, model.unit_)


def plot_frequency_recency_matrix(model: PurchaseModel, t: float = 1.0, *, max_frequency: int | None = None,
                                  T: float | None = None, ax=None):
    """Expected purchases in the next ``t`` units for every (frequency, recency) at age ``T``.

    Parameters
    ----------
    model : PurchaseModel
        Fitted.
    t : float
        Horizon in the model's unit.
    max_frequency : int, optional
    T : float, optional
        Customer age (default one year in the model's unit).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    F, R, T, valid = _grid(model, max_frequency, T)
    Z = np.full(F.shape, np.nan)
    Z[valid] = model.expected_purchases_up_to(t, frequency=F[valid], recency=R[valid], T=np.full(valid.sum(), T))
    ax = get_ax(ax, (7, 5), layout=None)
    return _matrix(ax, Z, f"{model._label}: expected purchases in the next {t:g} units", "expected purchases", T,
                   model.unit_)


def period_transactions(model: PurchaseModel, data: pd.DataFrame, *, max_frequency: int = 7) -> pd.DataFrame:
    """Customers by number of repeat purchases: actual, and expected under the model.

    The expected count is sum_i P(X(T_i) = x) over the customers, each a new customer
    observed for their own T_i (the analytic version of lifetimes' simulated
    ``plot_period_transactions``); ``max_frequency`` and above are pooled.

    Parameters
    ----------
    model : PurchaseModel
        Fitted on ``data``.
    data : pandas.DataFrame
        Summary table.
    max_frequency : int
        Last (pooled) frequency shown.

    Returns
    -------
    pandas.DataFrame
        actual and model per frequency.
    """
    x, _, T, _ = _frame_columns(data, None, None, None, None)
    uT, counts = np.unique(T, return_counts=True)
    expected = np.zeros(max_frequency + 1)
    for t, c in zip(uT, counts):
        if t <= 0:
            expected[0] += c
            continue
        probs = [model.prob_purchases(float(t), n) for n in range(max_frequency)]
        expected[:max_frequency] += c * np.asarray(probs)
        expected[max_frequency] += c * max(0.0, 1 - sum(probs))
    actual = np.bincount(np.minimum(x, max_frequency).astype(int), minlength=max_frequency + 1)
    idx = [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]
    return pd.DataFrame({"actual": actual, "model": expected}, index=pd.Index(idx, name="repeat purchases"))


def plot_period_transactions(model: PurchaseModel, data: pd.DataFrame, *, max_frequency: int = 7, ax=None):
    """Bar chart of :func:`period_transactions`: customers by repeat purchases, actual vs model.

    Parameters
    ----------
    model : PurchaseModel
    data : pandas.DataFrame
    max_frequency : int
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    t = period_transactions(model, data, max_frequency=max_frequency)
    ax = get_ax(ax, (7, 4), layout=None)
    pos = np.arange(len(t))
    ax.bar(pos - 0.2, t["actual"], width=0.4, color="#333333", label="actual")
    ax.bar(pos + 0.2, t["model"], width=0.4, color="#4C72B0", label=model._label)
    ax.set_xticks(pos)
    ax.set_xticklabels(t.index)
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("customers")
    ax.legend()
    return ax
