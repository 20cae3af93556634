"""Predictions every purchase model offers: P(X(t) = n), P(active in the next t), expected
purchases, the expected next-order date.

The conditional predictions use one fact of all three models: a customer who is alive at T
after x repeat purchases is, from then on, a *new* customer whose parameters are the
posterior ones. For BG/NBD the posterior is (r + x, alpha + T, a, b + x) (Fader, Hardie &
Lee 2005, sec. 4 and Fader & Hardie's note "Deriving the conditional PMF of the BG/NBD
model", 2007); for MBG/NBD it is the BG/NBD with (r + x, alpha + T, a, b + x + 1) (the first
drop-out chance is behind the customer); for Pareto/NBD the conditional PMF is eq. (16) of
Fader & Hardie's note 028, "Deriving the conditional PMF of the Pareto/NBD model" (2014),
the form lifetimes implements. So

    P(X(T, T + t) = n | history) = (1 - P(alive)) [n = 0] + P(alive) P_new(X(t) = n; posterior)

The methods live on :class:`~crmlab.ltv.base.PurchaseModel` through the mixin
:class:`PredictionsMixin`; each accepts one customer (scalars) or a summary table, and
works on the distinct histories (a million customers cost their few thousand distinct rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from crmlab.errors import ParameterError
from crmlab.ltv.summaries import _PER_MONTH, aggregate

__all__ = ["PredictionsMixin", "bgnbd_pmf", "mbgnbd_pmf"]

_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def _nb_terms(r, alpha, t, j):
    """Gamma(r + j) / (Gamma(r) j!) (alpha / (alpha + t))^r (t / (alpha + t))^j, in logs."""
    return (special.gammaln(r + j) - special.gammaln(r) - special.gammaln(j + 1)
            + r * np.log(alpha / (alpha + t)) + j * np.log(np.where(t > 0, t, 1.0) / (alpha + t)))


def bgnbd_pmf(t: Any, n: int, r: Any, alpha: Any, a: Any, b: Any) -> np.ndarray:
    """P(X(t) = n) of a BG/NBD customer just acquired (Fader, Hardie & Lee 2005, eq. 8).

    Parameters
    ----------
    t : float or array-like
        Horizon (> 0).
    n : int
        Number of repeat purchases.
    r, alpha, a, b : float or array-like
        Parameters (arrays broadcast: posterior parameters per customer).

    Returns
    -------
    numpy.ndarray
    """
    n = int(n)
    t = np.asarray(t, dtype=float)
    lb = special.betaln
    first = np.exp(lb(a, b + n) - lb(a, b) + _nb_terms(r, alpha, t, n))
    if n == 0:
        return first * np.ones_like(t)
    tail = sum(np.exp(_nb_terms(r, alpha, t, j)) for j in range(n))
    return first + np.exp(lb(a + 1, b + n - 1) - lb(a, b)) * (1 - tail)


def mbgnbd_pmf(t: Any, n: int, r: Any, alpha: Any, a: Any, b: Any) -> np.ndarray:
    """P(X(t) = n) of an MBG/NBD customer just acquired (Batislam, Denizel & Filiztekin 2007;
    the form of lifetimes' ``ModifiedBetaGeoFitter.probability_of_n_purchases_up_to_time``).

    Parameters
    ----------
    t : float or array-like
        Horizon (> 0).
    n : int
        Number of repeat purchases.
    r, alpha, a, b : float or array-like
        Parameters.

    Returns
    -------
    numpy.ndarray
    """
    n = int(n)
    t = np.asarray(t, dtype=float)
    lb = special.betaln
    first = np.exp(lb(a, b + n + 1) - lb(a, b) + _nb_terms(r, alpha, t, n))
    tail = sum((np.exp(_nb_terms(r, alpha, t, j)) for j in range(n)), np.zeros_like(t))
    return first + np.exp(lb(a + 1, b + n) - lb(a, b)) * (1 - tail)


def _scalar_or_array(out: np.ndarray, scalar: bool):
    return float(np.asarray(out).reshape(-1)[0]) if scalar else np.asarray(out, dtype=float)


class PredictionsMixin:
    """P(X(t)=n), P(active), expected purchases and next-order dates for a purchase model.

    A model provides ``_prob_n(t, n, x, tx, T, p)``, the conditional P(X(T, T+t) = n) for
    each history; a new customer is the history (0, 0, 0).
    """

    def _mean_wait(self, x, tx, T, p):
        """Mean wait to the next purchase of a customer alive at T: the posterior purchase
        rate is Gamma(r + x, alpha + T) in BG/NBD, MBG/NBD and Pareto/NBD."""
        shape = p[0] + x
        return np.where(shape > 1, (p[1] + T) / np.where(shape > 1, shape - 1, 1), np.nan)

    def _histories(self, data: Any, frequency: Any, recency: Any, T: Any):
        """Distinct histories, the map back to the rows, and whether the input was one customer."""
        if data is None and frequency is None:
            x = tx = TT = np.zeros(1)
            scalar = True
        else:
            scalar = data is None and np.ndim(frequency) == 0
            x, tx, TT = (np.atleast_1d(v) for v in self._xtT(data, frequency, recency, T))
        (ux, utx, uT), _, inv = aggregate(x, tx, TT)
        return (ux, utx, uT), inv, scalar

    def prob_purchases(self, t: float, n: int, data: pd.DataFrame | None = None, *, frequency: Any = None,
                       recency: Any = None, T: Any = None):
        """Probability of exactly ``n`` repeat purchases in the next ``t`` units.

        Without a history: P(X(t) = n) of a customer just acquired. With a history
        (``data`` or ``frequency``/``recency``/``T``): P(X(T, T + t) = n | history).

        Parameters
        ----------
        t : float
            Horizon in the model's time unit (> 0).
        n : int
            Number of purchases (>= 0).
        data : pandas.DataFrame, optional
            Summary table (``ltv.summary``).
        frequency, recency, T : float or array-like, optional
            One customer (scalars) or many (arrays).

        Returns
        -------
        float or numpy.ndarray
            A float for one customer (or a new one), else one probability per row.
        """
        self._check_fitted()
        if float(t) <= 0 or int(n) < 0:
            raise ParameterError("need t > 0 and n >= 0", value=f"t={t}, n={n}")
        rows, inv, scalar = self._histories(data, frequency, recency, T)
        with np.errstate(all="ignore"):
            out = self._prob_n(float(t), int(n), *rows, self.params_.to_numpy())
        return _scalar_or_array(np.clip(out, 0.0, 1.0)[inv], scalar)

    def prob_active(self, t: float, data: pd.DataFrame | None = None, *, frequency: Any = None,
                    recency: Any = None, T: Any = None):
        """Probability of at least one purchase in the next ``t`` units: 1 - P(X(T, T+t) = 0).

        Parameters
        ----------
        t : float
            Horizon in the model's time unit.
        data, frequency, recency, T
            As for :meth:`prob_purchases` (no history: a customer just acquired).

        Returns
        -------
        float or numpy.ndarray
        """
        p0 = self.prob_purchases(t, 0, data, frequency=frequency, recency=recency, T=T)
        return 1.0 - p0

    def expected_purchases_up_to(self, t: float, data: pd.DataFrame | None = None, *, frequency: Any = None,
                                 recency: Any = None, T: Any = None):
        """Expected repeat purchases in the next ``t`` units; without a history, those of a
        customer just acquired (:meth:`expected_purchases_new`).

        Parameters
        ----------
        t : float
            Horizon in the model's time unit.
        data, frequency, recency, T
            As for :meth:`prob_purchases`.

        Returns
        -------
        float or numpy.ndarray
        """
        self._check_fitted()
        p = self.params_.to_numpy()
        if data is None and frequency is None:
            return float(self._unconditional_expected(np.asarray(float(t)), p))
        rows, inv, scalar = self._histories(data, frequency, recency, T)
        with np.errstate(all="ignore"):
            out = self._conditional_expected(np.asarray(float(t)), *rows, p)
        return _scalar_or_array(out[inv], scalar)

    def next_order_date(self, data: pd.DataFrame, *, as_of: Any = None, horizon_months: int = 24,
                        unit: str | None = None) -> pd.DataFrame:
        """Expected next-order date per customer.

        ``next_order`` is the date by which the customer has even odds of having ordered
        again (the median of the time to the next purchase, counting drop-out): the t where
        :meth:`prob_active` reaches 0.5, found by bisection; NaT when the odds stay below
        even over ``horizon_months`` (the model expects no next order). ``expected_wait``
        is the mean wait if the customer is alive (ignoring a later drop-out): (alpha + T) /
        (r + x - 1) units for the Gamma-rate models, NaN when r + x <= 1; for BG/BB the
        mean of the geometric wait under the posterior purchase probability.

        Parameters
        ----------
        data : pandas.DataFrame
            Summary table (its ``attrs["observation_end"]`` dates it).
        as_of : date-like, optional
            Date the waits count from; default the day after the observation end.
        horizon_months : int
            Longest wait considered.
        unit : {"D", "W", "M"}, optional
            Time unit; default the table's or the model's.

        Returns
        -------
        pandas.DataFrame
            Per customer: p_alive, prob_active_horizon, median_wait (units), expected_wait
            (units), next_order (date or NaT).
        """
        self._check_fitted()
        unit = unit or data.attrs.get("unit") or self.unit_ or "D"
        start = (pd.Timestamp(as_of) if as_of is not None
                 else pd.Timestamp(data.attrs.get("observation_end", pd.Timestamp.today())).normalize()
                 + pd.Timedelta(days=1))
        rows, inv, _ = self._histories(data, None, None, None)
        p = self.params_.to_numpy()
        hmax = float(horizon_months) * _PER_MONTH[unit]
        with np.errstate(all="ignore"):
            ph = 1 - self._prob_n(hmax, 0, *rows, p)
            lo, hi = np.zeros(len(rows[0])), np.full(len(rows[0]), hmax)
            for _ in range(40):
                mid = (lo + hi) / 2
                up = (1 - self._prob_n(mid, 0, *rows, p)) >= 0.5
                hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
            median = np.where(ph >= 0.5, hi, np.nan)
            mean = self._mean_wait(*rows, p)
        days = median[inv] * _DAYS[unit]
        out = pd.DataFrame({
            "p_alive": self._p_alive(*rows, p)[inv], "prob_active_horizon": ph[inv],
            "median_wait": median[inv], "expected_wait": mean[inv],
        }, index=data.index)
        out["next_order"] = start + pd.to_timedelta(np.round(days), unit="D")
        return out
