"""BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy way",
Marketing Science 24(2))."""

from __future__ import annotations

import numpy as np
from scipy import special

from crmlab.ltv.base import PurchaseModel, _gl, hyp2f1_distinct
from crmlab.ltv.predict import bgnbd_pmf

__all__ = ["BGNBD"]


class BGNBD(PurchaseModel):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, Marketing Science).

    While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha);
    after every purchase they drop out with probability p ~ Beta(a, b). Assumes purchases
    counted once per period (see :func:`crmlab.ltv.summary`). The CDNOW estimates (weeks) are
    r=0.2426, alpha=4.4136, a=0.7929, b=2.4259 with log-likelihood -9582.43.

    Parameters
    ----------
    penalizer, aggregate, max_iter
        As for every :class:`~crmlab.ltv.base.PurchaseModel`.
    """

    _names = ("r", "alpha", "a", "b")
    _label = "BG/NBD"
    _lifetimes_class = "BetaGeoFitter"
    #: Drop-out chances already survived beyond the x repeat purchases (MBG/NBD: 1).
    _shift = 0

    def _x_terms(self, p, x):
        """The parts of a row's log-likelihood that depend on its frequency alone: A1 + A2,
        and log(a) - log(b + x - 1) of A4 (-inf without repeat purchases, where the history
        cannot have ended in a drop-out)."""
        r, alpha, a, b = p
        A12 = _gl(r + x) - _gl(r) + r * np.log(alpha) + _gl(a + b) + _gl(b + x) - _gl(b) - _gl(a + b + x)
        with np.errstate(divide="ignore"):
            c4 = np.where(x > 0, np.log(a) - np.log(b + x - 1 + (x == 0)), -np.inf)
        return A12, c4

    def _x_grad_terms(self, p, x):
        """The gradient's parts that depend on the frequency alone: d/dr of A1, d/da and d/db
        of A2, and 1 / (b + x - 1) (d/db of A4 is minus it)."""
        r, alpha, a, b = p
        dg = special.digamma
        d_ab, d_abx = dg(a + b), dg(a + b + x)
        return (dg(r + x) - dg(r) + np.log(alpha), d_ab - d_abx, d_ab + dg(b + x) - dg(b) - d_abx,
                1 / (b + x - 1 + (x == 0)))

    def _loglik_rows(self, p, x, tx, T):
        r, alpha = p[0], p[1]
        A12, c4 = self._x_terms(p, x)
        return A12 + np.logaddexp(-(r + x) * np.log(alpha + T), c4 - (r + x) * np.log(alpha + tx))

    def _grad_rows(self, p, x, tx, T):
        r, alpha, a = p[0], p[1], p[2]
        _, c4 = self._x_terms(p, x)
        A3, A4 = -(r + x) * np.log(alpha + T), c4 - (r + x) * np.log(alpha + tx)
        m = np.logaddexp(A3, A4)
        w3, w4 = np.exp(A3 - m), np.exp(A4 - m)
        d_r, d_a, d_b, inv_xb = self._x_grad_terms(p, x)
        g = np.empty((len(np.atleast_1d(x)), 4))
        g[:, 0] = d_r - w3 * np.log(alpha + T) - w4 * np.log(alpha + tx)
        g[:, 1] = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + tx)
        g[:, 2] = d_a + w4 / a
        g[:, 3] = d_b - w4 * inv_xb
        return g

    def _totals(self, data, w):
        """Weighted log-likelihood total and gradient with the log-gammas and digammas taken
        once per distinct frequency.

        A row's terms in x alone (four log-gammas, four digammas) are evaluated on the
        distinct frequencies (a few hundred among the 12 k distinct rows of 1.2 M customers)
        and summed with the customers behind each; log(alpha + T) and log(alpha + t_x) on the
        distinct T and t_x, gathered. Per row remain a few products, one logaddexp and two
        exponentials. The row terms of the last point are kept for its gradient (BFGS asks for
        both at every point).
        """
        x, tx, T = data
        xs, ix = np.unique(x, return_inverse=True)
        txs, itx = np.unique(tx, return_inverse=True)
        Ts, iT = np.unique(T, return_inverse=True)
        wx = np.bincount(ix, weights=w, minlength=len(xs))
        wsum = float(np.sum(w))
        last: dict[bytes, tuple] = {}

        def rows(p: np.ndarray) -> tuple:
            key = p.tobytes()
            if key not in last:
                r, alpha = p[0], p[1]
                A12, c4 = self._x_terms(p, xs)
                rx = r + x
                log_T, log_tx = np.log(alpha + Ts)[iT], np.log(alpha + txs)[itx]
                A3, A4 = -rx * log_T, c4[ix] - rx * log_tx
                last.clear()
                last[key] = (A12, A3, A4, np.logaddexp(A3, A4), rx, log_T, log_tx)
            return last[key]

        def loglik(p: np.ndarray) -> float:
            A12, _, _, m, _, _, _ = rows(p)
            return float(np.sum(wx * A12) + np.sum(w * m))

        def grad(p: np.ndarray) -> np.ndarray:
            r, alpha, a = p[0], p[1], p[2]
            _, A3, A4, m, rx, log_T, log_tx = rows(p)
            W3, W4 = w * np.exp(A3 - m), w * np.exp(A4 - m)
            d_r, d_a, d_b, inv_xb = self._x_grad_terms(p, xs)
            return np.array([
                np.sum(wx * d_r) - np.sum(W3 * log_T) - np.sum(W4 * log_tx),
                wsum * r / alpha - np.sum(W3 * rx / (alpha + Ts)[iT]) - np.sum(W4 * rx / (alpha + txs)[itx]),
                np.sum(wx * d_a) + np.sum(W4) / a,
                np.sum(wx * d_b) - np.sum(W4 * inv_xb[ix]),
            ])

        return loglik, grad

    def _p_alive(self, x, tx, T, p):
        r, alpha, a, b = p
        with np.errstate(divide="ignore", over="ignore"):
            odds = a / (b + x - 1 + (x == 0)) * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        return np.where(x > 0, 1 / (1 + odds), 1.0)

    def _conditional_expected(self, t, x, tx, T, p):
        r, alpha, a, b = p
        z = t / (alpha + T + t)
        hyp = hyp2f1_distinct(r + x, b + x, a + b + x - 1, z)
        front = (a + b + x - 1) / (a - 1)
        inner = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        return front * inner * self._p_alive(x, tx, T, p)

    def _unconditional_expected(self, t, p):
        r, alpha, a, b = p
        hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)

    def _prob_n(self, t, n, x, tx, T, p):
        """P(X(T, T+t) = n | history): the posterior customer (r+x, alpha+T, a, b+x) is new."""
        r, alpha, a, b = p
        pa = self._p_alive(x, tx, T, p)
        return (n == 0) * (1 - pa) + pa * bgnbd_pmf(t, n, r + x, alpha + T, a, b + x + self._shift)
