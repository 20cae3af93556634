"""Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV: using
iso-value curves for customer base analysis", JMR 42(4); Hardie's note 025)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from crmlab.errors import DataError
from crmlab.ltv.base import _Fitter, _gl, _summary_suffix
from crmlab.ltv.summaries import aggregate

__all__ = ["GammaGamma"]


def _runs_by_frequency(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order putting rows in order of frequency, where each frequency's run starts in that
    order, and the frequencies. Whole frequencies below 2**16 (always, from a summary) by a
    radix sort and a count, without the sorted copy; other values by a stable sort."""
    whole = x.astype(np.int64)
    if len(x) and np.array_equal(whole, x) and 0 <= whole.min() and whole.max() < 1 << 16:
        small = whole.astype(np.uint16)
        del whole
        counts = np.bincount(small)
        values = np.flatnonzero(counts)
        starts = np.concatenate(([0], np.cumsum(counts[values])[:-1]))
        return np.argsort(small, kind="stable"), starts, values.astype(float)  # argsort: a radix sort
    order = np.argsort(x, kind="stable")
    x_sorted = x[order]
    starts = np.flatnonzero(np.concatenate(([True], x_sorted[1:] != x_sorted[:-1])))
    return order, starts, x_sorted[starts]


class GammaGamma(_Fitter):
    """Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, JMR; Hardie
    note 025): spend per transaction ~ Gamma(p, nu), nu ~ Gamma(q, gamma). Fitted on repeat
    buyers (frequency > 0) with their mean repeat spend. Assumes spend independent of
    purchase frequency: check ``spend_frequency_correlation_`` (should be near 0).
    CDNOW (946 repeat buyers): p=6.25, q=3.74, gamma=15.44, log-likelihood -4055.92.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the parameters.
    aggregate : bool, default True
        Fit on distinct (frequency, monetary value) rows with counts as weights.
    max_iter : int, default 1000
        Optimiser iterations.
    """

    _names = ("p", "q", "gamma")
    _label = "Gamma-Gamma"

    def fit(self, data: pd.DataFrame | None = None, *, frequency: Any = None, monetary_value: Any = None,
            weights: Any = None) -> GammaGamma:
        """Fit on a summary table; customers without a repeat purchase are left out, as the
        model requires.

        Parameters
        ----------
        data : pandas.DataFrame, optional
            A :func:`~crmlab.ltv.summary` table with ``monetary_value`` (or the ``_cal``
            columns of a calibration/holdout table).
        frequency, monetary_value : array-like, optional
            The arrays, instead of ``data``.
        weights : array-like, optional
            Customers each row stands for (also read from a ``weights`` column).

        Returns
        -------
        GammaGamma
            ``self``, with ``params_``, ``covariance_``, ``log_likelihood_``, ``converged_``,
            ``result_`` and ``spend_frequency_correlation_``.
        """
        if data is not None:
            sfx = _summary_suffix(data)
            for c in ("frequency", "monetary_value"):
                if c + sfx not in data.columns:
                    raise DataError("summary column missing", column=c + sfx,
                                    fix="build the table with ltv.summary(..., amount_col='amount')")
            frequency, monetary_value = data["frequency" + sfx], data["monetary_value" + sfx]
            if weights is None and "weights" in data.columns:
                weights = data["weights"]
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        repeat = x > 0
        keep = repeat & (m > 0) & np.isfinite(m)
        bad = int(np.count_nonzero(repeat & (m <= 0)))
        if bad:
            warnings.warn(
                f"Gamma-Gamma: {bad} repeat buyers with zero or negative mean spend left "
                "out of the spend fit (the model needs positive spend); clean returns and free "
                "orders first if that is not expected",
                UserWarning, stacklevel=2,
            )
        rows = np.flatnonzero(keep)
        x, m = x[rows], m[rows]
        w = None if weights is None else np.asarray(weights, dtype=float)[rows]
        if len(x) < 3:
            raise DataError("fewer than 3 repeat buyers: the spend model cannot be fitted",
                            fix="use a longer calibration period")
        self.spend_frequency_correlation_ = float(np.corrcoef(x, m)[0, 1])
        from crmlab.ltv.checks import SPEND_CORRELATION_MAX, AssumptionWarning

        if abs(self.spend_frequency_correlation_) > SPEND_CORRELATION_MAX:
            warnings.warn(f"Gamma-Gamma: spend per order and purchase frequency correlate at "
                          f"{self.spend_frequency_correlation_:.2f} (beyond {SPEND_CORRELATION_MAX}); the model "
                          "assumes they are independent (ltv.checks.check_spend_independence)",
                          AssumptionWarning, stacklevel=2)
        if self.aggregate:
            (x, m), counts, inv = aggregate(x, m)
            w = counts if w is None else np.bincount(inv, weights=w)
        elif w is None:
            w = np.ones(len(x))
        self.unit_ = data.attrs.get("unit") if data is not None else None
        self._optimise((x, m), w, np.zeros(3))
        return self

    def _loglik_rows(self, prm, x, m):
        p, q, g = prm
        px = p * x
        return (_gl(px + q) - _gl(px) - _gl(q) + q * np.log(g) + (px - 1) * np.log(m)
                + px * np.log(x) - (px + q) * np.log(g + m * x))

    def _grad_rows(self, prm, x, m):
        p, q, g = prm
        px = p * x
        dg = special.digamma
        out = np.empty((len(np.atleast_1d(x)), 3))
        out[:, 0] = x * (dg(px + q) - dg(px) + np.log(m) + np.log(x) - np.log(g + m * x))
        out[:, 1] = dg(px + q) - dg(q) + np.log(g) - np.log(g + m * x)
        out[:, 2] = q / g - (px + q) / (g + m * x)
        return out

    def _totals(self, data, w):
        """Weighted log-likelihood total and gradient from sufficient statistics.

        Every term but one depends on a row only through its frequency x (a few hundred
        distinct values) or is linear in the parameters (sums of w log m and w x log m,
        computed once), so an evaluation costs one log and one reciprocal per row instead of
        three log-gammas, three digammas and six logs. The rows are put in order of x once
        (a counting sort for whole frequencies), so each row sum is one pass summing every
        frequency's run of rows (``np.add.reduceat``, pairwise within a run), the x-weighted
        sum following from the runs' sums. The row sums depend on gamma alone; they are kept
        for the last few gammas (the finite-difference Hessian revisits three), computed in
        reused buffers.
        """
        x, m = data
        order, starts, xs = _runs_by_frequency(x)
        unit = bool(np.all(w == 1.0))  # unweighted rows: the products with w are the rows
        w_sorted = None if unit else w[order]
        wx_group = np.diff(np.append(starts, len(x))).astype(float) if unit else np.add.reduceat(w_sorted, starts)
        logx = np.log(xs)
        wsum = float(np.sum(w))
        buffer = np.log(m)  # w log m, then w x log m, then the buffer of the logs
        if not unit:
            buffer *= w
        s_logm = float(np.sum(buffer))
        buffer *= x
        s_xlogm = float(np.sum(buffer))
        denom = np.multiply(m, x)
        mx = np.take(denom, order, out=buffer)  # m x in order of x; denom becomes a buffer
        logs = np.empty_like(mx)
        kept: dict[float, tuple[float, float, float, float]] = {}

        def sums(v: np.ndarray) -> tuple[float, float]:
            """Sums of w v and w x v over the rows."""
            runs = np.add.reduceat(v if unit else np.multiply(w_sorted, v, out=v), starts)
            return float(np.sum(runs)), float(np.sum(xs * runs))

        def rows(g: float) -> tuple[float, float, float, float]:
            """Sums of w log(g + m x), w x log(g + m x), w / (g + m x) and w x / (g + m x)."""
            if g not in kept:
                np.add(mx, g, out=denom)
                np.log(denom, out=logs)
                np.reciprocal(denom, out=denom)
                kept[g] = (*sums(logs), *sums(denom))
                if len(kept) > 4:
                    del kept[next(iter(kept))]
            return kept[g]

        def loglik(prm: np.ndarray) -> float:
            p, q, g = prm
            px = p * xs
            s_L, s_xL, _, _ = rows(g)
            per_x = _gl(px + q) - _gl(px) + px * logx
            return float(np.sum(wx_group * per_x) + wsum * (q * np.log(g) - _gl(q))
                         + p * s_xlogm - s_logm - p * s_xL - q * s_L)

        def grad(prm: np.ndarray) -> np.ndarray:
            p, q, g = prm
            px = p * xs
            s_L, s_xL, s_R, s_xR = rows(g)
            dg = special.digamma
            d_pq = dg(px + q)
            return np.array([
                np.sum(wx_group * xs * (d_pq - dg(px) + logx)) + s_xlogm - s_xL,
                np.sum(wx_group * d_pq) + wsum * (np.log(g) - dg(q)) - s_L,
                wsum * q / g - p * s_xR - q * s_R,
            ])

        return loglik, grad

    def expected_spend(self, data: pd.DataFrame | None = None, *, frequency: Any = None,
                       monetary_value: Any = None, params: Any = None) -> np.ndarray:
        """Expected spend per future transaction, shrunk from each customer's mean toward the
        population mean (p*gamma/(q-1)); the population mean for customers without repeats.

        Parameters
        ----------
        data : pandas.DataFrame, optional
            Summary table with frequency and monetary_value (or their ``_cal`` columns).
        frequency, monetary_value : array-like, optional
            The arrays, instead of ``data``.
        params : array-like, optional
            Parameters (p, q, gamma) to use instead of the fitted ones (for draws).

        Returns
        -------
        numpy.ndarray
        """
        self._check_fitted()
        if data is not None:
            sfx = _summary_suffix(data)
            frequency, monetary_value = data["frequency" + sfx], data["monetary_value" + sfx]
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        p, q, g = self.params_.to_numpy() if params is None else params
        return (p * (g + x * m)) / (p * x + q - 1)

    def to_lifetimes(self):
        """lifetimes' ``GammaGammaFitter`` with these parameters (needs the ``dev`` extra).

        Returns
        -------
        lifetimes.GammaGammaFitter
        """
        import lifetimes

        self._check_fitted()
        f = lifetimes.GammaGammaFitter()
        f.params_ = pd.Series(self.params_.to_numpy(), index=["p", "q", "v"])
        return f
