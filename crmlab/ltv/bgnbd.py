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

    def _parts(self, p, x, tx, T):
        r, alpha, a, b = p
        A1 = _gl(r + x) - _gl(r) + r * np.log(alpha)
        A2 = _gl(a + b) + _gl(b + x) - _gl(b) - _gl(a + b + x)
        A3 = -(r + x) * np.log(alpha + T)
        A4 = np.log(a) - np.log(b + x - 1 + (x == 0)) - (r + x) * np.log(alpha + tx)
        A4 = np.where(x > 0, A4, -np.inf)
        return A1, A2, A3, A4

    def _loglik_rows(self, p, x, tx, T):
        A1, A2, A3, A4 = self._parts(p, x, tx, T)
        return A1 + A2 + np.logaddexp(A3, A4)

    def _grad_rows(self, p, x, tx, T):
        r, alpha, a, b = p
        A1, A2, A3, A4 = self._parts(p, x, tx, T)
        m = np.logaddexp(A3, A4)
        w3 = np.exp(A3 - m)
        w4 = np.exp(A4 - m)
        dg = special.digamma
        g = np.empty((len(np.atleast_1d(x)), 4))
        g[:, 0] = dg(r + x) - dg(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + tx)
        g[:, 1] = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + tx)
        g[:, 2], g[:, 3] = self._grad_dropout(a, b, x, w4)
        return g

    @staticmethod
    def _grad_dropout(a, b, x, w4):
        """Gradient rows for the dropout parameters a and b (the part MBG/NBD changes)."""
        dg = special.digamma
        xb = b + x - 1 + (x == 0)
        return (dg(a + b) - dg(a + b + x) + w4 / a,
                dg(a + b) + dg(b + x) - dg(b) - dg(a + b + x) - w4 / xb)

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
