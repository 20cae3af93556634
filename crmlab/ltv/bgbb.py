"""BG/BB model of discrete-time purchasing (Fader, Hardie & Shang 2010, "Customer-base
analysis in a discrete-time noncontractual setting", Marketing Science 29(6), 1086-1108).

Each period is one transaction opportunity (a yearly donation, an issue of a magazine, a
weekly market): while alive a customer buys in an opportunity with probability p ~ Beta(alpha,
beta), and before each opportunity drops out with probability theta ~ Beta(gamma, delta). The
summary is the same as the continuous models' with whole periods: ``frequency`` x (repeat
opportunities with a purchase), ``recency`` t_x (opportunity of the last purchase, 0 for
none) and ``T`` n (opportunities since the first purchase); build it with
:func:`crmlab.ltv.summary` (``unit`` = the opportunity: "D", "W" or "M") or from a 0/1
purchase matrix with :func:`summary_from_histories`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from crmlab.errors import DataError
from crmlab.ltv.base import PurchaseModel

__all__ = ["BGBB", "bgbb_pmf", "summary_from_histories"]

_lb = special.betaln


def bgbb_pmf(n_star: int, x_star: int, alpha: Any, beta: Any, gamma: Any, delta: Any) -> np.ndarray:
    """P(X(n*) = x*) for a customer just acquired (FHS 2010, eq. 8).

    Parameters
    ----------
    n_star : int
        Opportunities ahead.
    x_star : int
        Purchases among them.
    alpha, beta, gamma, delta : float or array-like
        Parameters (arrays broadcast).

    Returns
    -------
    numpy.ndarray
    """
    n, x = int(n_star), int(x_star)
    lc = special.gammaln
    comb = lambda a, b: lc(a + 1) - lc(b + 1) - lc(a - b + 1)  # noqa: E731
    first = (np.exp(comb(n, x) + _lb(alpha + x, beta + n - x) - _lb(alpha, beta)
                    + _lb(gamma, delta + n) - _lb(gamma, delta)) if x <= n else 0.0 * alpha)
    rest = sum((np.exp(comb(i, x) + _lb(alpha + x, beta + i - x) - _lb(alpha, beta)
                       + _lb(gamma + 1, delta + i) - _lb(gamma, delta)) for i in range(x, n)),
               0.0 * np.asarray(alpha, dtype=float))
    return first + rest


def summary_from_histories(histories: pd.DataFrame) -> pd.DataFrame:
    """BG/BB summary from a 0/1 purchase matrix, one row per customer, one column per period.

    The first period with a purchase is the customer's trial (opportunity 0, not counted);
    the periods after it are the opportunities.

    Parameters
    ----------
    histories : pandas.DataFrame
        0/1 (or bool) values, columns in time order.

    Returns
    -------
    pandas.DataFrame
        frequency, recency, T per customer (customers without any purchase are dropped),
        ``attrs["unit"]`` = "P" is not set (whole periods).
    """
    h = np.asarray(histories, dtype=float)
    if h.ndim != 2 or not np.isin(h, (0.0, 1.0)).all():
        raise DataError("purchase histories must be a 0/1 matrix, customers by periods")
    bought = h > 0
    keep = bought.any(axis=1)
    first = bought.argmax(axis=1)
    last = h.shape[1] - 1 - bought[:, ::-1].argmax(axis=1)
    out = pd.DataFrame({
        "frequency": bought.sum(axis=1) - 1.0,
        "recency": (last - first).astype(float),
        "T": (h.shape[1] - 1 - first).astype(float),
    }, index=histories.index if isinstance(histories, pd.DataFrame) else None)
    return out.loc[keep]


class BGBB(PurchaseModel):
    """BG/BB (Fader, Hardie & Shang 2010, Marketing Science 29(6)): discrete opportunities,
    purchase probability p ~ Beta(alpha, beta), drop-out probability theta ~ Beta(gamma, delta).

    Likelihood (FHS 2010, eq. 5); P(alive) at opportunity n (eq. 11 with m = 0, as lifetimes'
    ``BetaGeoBetaBinomFitter.conditional_probability_alive(0, ...)``); conditional expectation
    (eq. 13). The donation data of the paper (11,104 first-time supporters of 1995, six
    yearly opportunities 1996-2001) give alpha=1.204, beta=0.750, gamma=0.657, delta=2.783,
    LL = -33,225.6. All predictions of :class:`~crmlab.ltv.base.PurchaseModel` work, with ``t``
    in whole opportunities (P(X = n) rounds it).

    Parameters
    ----------
    penalizer, aggregate, max_iter
        As for every :class:`~crmlab.ltv.base.PurchaseModel`.
    """

    _names = ("alpha", "beta", "gamma", "delta")
    _label = "BG/BB"
    _lifetimes_class = "BetaGeoBetaBinomFitter"

    def _loglik_rows(self, p, x, tx, T):
        alpha, beta, gamma, delta = p
        ab, gd = _lb(alpha, beta), _lb(gamma, delta)
        terms = [_lb(alpha + x, beta + T - x) - ab + _lb(gamma, delta + T) - gd]
        for i in range(int(np.max(T - tx, initial=0))):
            ok = i <= T - tx - 1
            terms.append(np.where(ok, _lb(alpha + x, beta + tx - x + i) - ab + _lb(gamma + 1, delta + tx + i) - gd,
                                  -np.inf))
        return special.logsumexp(np.stack(terms), axis=0)

    def _p_alive(self, x, tx, T, p):
        alpha, beta, gamma, delta = p
        return np.exp(_lb(alpha + x, beta + T - x) - _lb(alpha, beta) + _lb(gamma, delta + T) - _lb(gamma, delta)
                      - self._loglik_rows(p, x, tx, T))

    @staticmethod
    def _new_expected(n, alpha, beta, gamma, delta):
        lg = special.gammaln
        ratio = np.exp(lg(gamma + delta) - lg(gamma + delta + n) + lg(1 + delta + n) - lg(1 + delta))
        return alpha / (alpha + beta) * delta / (gamma - 1) * (1 - ratio)

    def _conditional_expected(self, t, x, tx, T, p):
        alpha, beta, gamma, delta = p
        # FHS eq. 13 = P(alive at n) x E[X(n*)] of the posterior customer (alpha+x, beta+n-x, gamma, delta+n)
        return self._p_alive(x, tx, T, p) * self._new_expected(t, alpha + x, beta + T - x, gamma, delta + T)

    def _unconditional_expected(self, t, p):
        return self._new_expected(t, *p)

    def _prob_n(self, t, n, x, tx, T, p):
        alpha, beta, gamma, delta = p
        pa = self._p_alive(x, tx, T, p)
        new = bgbb_pmf(int(round(t)), n, alpha + x, beta + T - x, gamma, delta + T)
        return (n == 0) * (1 - pa) + pa * new

    def _mean_wait(self, x, tx, T, p):
        a, b = p[0] + x, p[1] + T - x
        return np.where(a > 1, (a + b - 1) / np.where(a > 1, a - 1, 1), np.nan)

    def fit(self, data: pd.DataFrame | None = None, **kwargs: Any) -> BGBB:
        """Fit by maximum likelihood on a summary in whole opportunities.

        Parameters
        ----------
        data : pandas.DataFrame, optional
            frequency, recency, T (or lifetimes' ``periods``) and optional ``weights``
            (:func:`crmlab.ltv.summary`, :func:`summary_from_histories`, or lifetimes'
            donations table).
        **kwargs
            ``frequency``, ``recency``, ``T``, ``weights``, ``unit`` as for
            :meth:`PurchaseModel.fit`.

        Returns
        -------
        BGBB
        """
        if data is not None and "periods" in data.columns and "T" not in data.columns:
            data = data.rename(columns={"periods": "T"})
        if data is not None:
            cols = [c for c in ("frequency", "recency", "T") if c in data.columns]
            if cols and not np.all(np.mod(data[cols].to_numpy(dtype=float), 1) == 0):
                raise DataError("BG/BB counts whole opportunities: frequency, recency and T must be integers",
                                fix="build the summary with ltv.summary(unit=...) or summary_from_histories")
        return super().fit(data, **kwargs)
