"""How good is an uplift ranking, and how many customers is it worth contacting?

Measured on a holdout of a randomised test (customers the model did not see):

* :func:`uplift_curve` and :func:`qini_curve` with :func:`uplift_area` and :func:`qini_area`
  (area between the curve and the random-targeting line) and :func:`qini_coefficient` (that
  area over the perfect ranking's), following scikit-uplift's definitions so figures compare;
* :func:`uplift_at_k`: the uplift among the top ``k`` share of customers ranked by the model;
* the cost-aware policy built on these rankings is in :mod:`crmlab.campaign.targeting`.

Curves (``n`` customers ranked by predicted uplift, best first; ``n_t(k), y_t(k)`` treated
customers and their outcome total among the first ``k``, same for control):

* Qini: ``y_t(k) - y_c(k) n_t(k) / n_c(k)`` (Radcliffe 2007);
* uplift: ``(y_t(k) / n_t(k) - y_c(k) / n_c(k)) k`` (Rzepakowski & Jaroszewicz 2012).

Points are taken at the ends of runs of equal scores (ties are never split).

References
----------
Radcliffe (2007), "Using control groups to target on predicted lift", Direct Marketing
Analytics Journal. Rzepakowski & Jaroszewicz (2012), "Decision trees for uplift modeling",
KAIS 32. scikit-uplift 0.5 ``sklift.metrics`` (the same curve and ``uplift_at_k``
definitions).
"""

from __future__ import annotations

import numpy as np

from crmlab.campaign.uplift import check_uplift_data
from crmlab.errors import ParameterError

__all__ = ["qini_area", "qini_coefficient", "qini_curve", "uplift_area", "uplift_at_k",
           "uplift_curve"]


def _ranked(y, uplift, treatment):
    """Cumulative counts and outcome totals per arm at the end of each run of equal scores."""
    y, t = check_uplift_data(y, y, treatment)
    u = np.asarray(uplift, dtype=np.float64)
    if u.shape != y.shape:
        raise ParameterError("uplift scores and outcomes differ in length", value=(u.size, y.size))
    order = np.argsort(-u)  # unstable is fine: points are only taken at the ends of tie runs
    y, t, u = y[order], t[order], u[order]
    ends = np.r_[np.flatnonzero(np.diff(u)), u.size - 1]
    n_t = np.cumsum(t)[ends].astype(np.float64)
    y_t = np.cumsum(y * t)[ends]
    y_c = np.cumsum(y * (1 - t))[ends]
    n_all = (ends + 1).astype(np.float64)
    return n_all, n_t, n_all - n_t, y_t, y_c


def _div(a, b):
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def qini_curve(y, uplift, treatment) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve: incremental outcomes among the first ``k`` customers by predicted uplift.

    Parameters
    ----------
    y : array-like
        Outcome (0/1 or an amount).
    uplift : array-like
        Predicted uplift (any score; higher is contacted first).
    treatment : array-like
        1 treated, 0 control.

    Returns
    -------
    tuple of numpy.ndarray
        ``(k, qini)`` starting at ``(0, 0)``.
    """
    n, n_t, n_c, y_t, y_c = _ranked(y, uplift, treatment)
    return np.r_[0.0, n], np.r_[0.0, y_t - y_c * _div(n_t, n_c)]


def uplift_curve(y, uplift, treatment) -> tuple[np.ndarray, np.ndarray]:
    """Uplift curve: difference of the arms' mean outcome among the first ``k``, times ``k``.

    Parameters
    ----------
    y, uplift, treatment : array-like
        As in :func:`qini_curve`.

    Returns
    -------
    tuple of numpy.ndarray
        ``(k, uplift)`` starting at ``(0, 0)``.
    """
    n, n_t, n_c, y_t, y_c = _ranked(y, uplift, treatment)
    return np.r_[0.0, n], np.r_[0.0, (_div(y_t, n_t) - _div(y_c, n_c)) * n]


def _area_above_random(x, v) -> float:
    """Trapezoid area under the curve minus that under the line from (0, 0) to its end."""
    return float(np.trapezoid(v, x) - x[-1] * v[-1] / 2)


def qini_area(y, uplift, treatment) -> float:
    """Area between the Qini curve and the random-targeting line (customers x outcomes).

    Parameters
    ----------
    y, uplift, treatment : array-like
        As in :func:`qini_curve`.

    Returns
    -------
    float
    """
    return _area_above_random(*qini_curve(y, uplift, treatment))


def uplift_area(y, uplift, treatment) -> float:
    """Area between the uplift curve and the random-targeting line.

    Parameters
    ----------
    y, uplift, treatment : array-like
        As in :func:`qini_curve`.

    Returns
    -------
    float
    """
    return _area_above_random(*uplift_curve(y, uplift, treatment))


def qini_coefficient(y, uplift, treatment) -> float:
    """Qini area over the perfect ranking's Qini area (1 = perfect, 0 = random).

    The perfect ranking puts treated responders first and control responders last
    (scikit-uplift ``qini_auc_score(negative_effect=True)``).

    Parameters
    ----------
    y, uplift, treatment : array-like
        As in :func:`qini_curve`.

    Returns
    -------
    float
    """
    yv, t = check_uplift_data(y, y, treatment)
    perfect = yv * t - yv * (1 - t)
    best = qini_area(yv, perfect, t)
    return qini_area(yv, uplift, t) / best if best != 0 else np.nan


def uplift_at_k(y, uplift, treatment, k: float = 0.3, strategy: str = "overall") -> float:
    """Uplift among the top ``k`` customers ranked by predicted uplift.

    Parameters
    ----------
    y, uplift, treatment : array-like
        As in :func:`qini_curve`.
    k : float or int
        Share (0 < k <= 1) or number of customers.
    strategy : str
        ``"overall"``: the first ``int(n k)`` customers of both arms together, then treated
        mean minus control mean among them; ``"by_group"``: the first ``int(n_t k)`` treated
        and ``int(n_c k)`` control customers separately (scikit-uplift's two strategies).

    Returns
    -------
    float
    """
    yv, t = check_uplift_data(y, y, treatment)
    u = np.asarray(uplift, dtype=np.float64)
    if strategy not in ("overall", "by_group"):
        raise ParameterError("strategy must be 'overall' or 'by_group'", value=strategy)
    share = isinstance(k, float)
    if (share and not 0 < k <= 1) or (not share and not 0 < k <= yv.size):
        raise ParameterError("k must be a share in (0, 1] or a number of customers", value=k)
    order = np.argsort(u, kind="mergesort")[::-1]
    yv, t = yv[order], t[order]
    if strategy == "overall":
        m = int(yv.size * k) if share else int(k)
        top_y, top_t = yv[:m], t[:m]
        if top_t.min() == top_t.max():
            raise ParameterError("the top k holds only one arm; increase k", value=k)
        return float(top_y[top_t == 1].mean() - top_y[top_t == 0].mean())
    yt, yc = yv[t == 1], yv[t == 0]
    mt = int(yt.size * k) if share else int(k)
    mc = int(yc.size * k) if share else int(k)
    return float(yt[:max(mt, 1)].mean() - yc[:max(mc, 1)].mean())
