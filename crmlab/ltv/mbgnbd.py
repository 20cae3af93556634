"""MBG/NBD purchase model (Batislam, Denizel & Filiztekin 2007, "Empirical validation and
comparison of models for customer base analysis", IJRM 24(3))."""

from __future__ import annotations

import numpy as np
from scipy import special

from crmlab.ltv.base import _gl, hyp2f1_distinct
from crmlab.ltv.bgnbd import BGNBD

__all__ = ["MBGNBD"]


class MBGNBD(BGNBD):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where a customer may also drop
    out right after the first purchase, so zero-repeat customers are not assumed alive.
    CDNOW estimates (weeks): r=0.525, alpha=6.183, a=0.891, b=1.614 (R BTYDplus).

    Parameters
    ----------
    penalizer, aggregate, max_iter
        As for every :class:`~crmlab.ltv.base.PurchaseModel`.
    """

    _label = "MBG/NBD"
    _lifetimes_class = "ModifiedBetaGeoFitter"
    _shift = 1

    def _x_terms(self, p, x):
        """A1 + A2 and log(a) - log(b + x) of A4: one drop-out chance more than BG/NBD's."""
        r, alpha, a, b = p
        A12 = _gl(r + x) - _gl(r) + r * np.log(alpha) + _gl(a + b) + _gl(b + x + 1) - _gl(b) - _gl(a + b + x + 1)
        return A12, np.log(a) - np.log(b + x)

    def _x_grad_terms(self, p, x):
        r, alpha, a, b = p
        dg = special.digamma
        d_ab, d_abx = dg(a + b), dg(a + b + x + 1)
        return (dg(r + x) - dg(r) + np.log(alpha), d_ab - d_abx, d_ab + dg(b + x + 1) - dg(b) - d_abx,
                1 / (b + x))

    def _p_alive(self, x, tx, T, p):
        r, alpha, a, b = p
        with np.errstate(over="ignore"):
            odds = a / (b + x) * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        return 1 / (1 + odds)

    def _conditional_expected(self, t, x, tx, T, p):
        r, alpha, a, b = p
        z = t / (alpha + T + t)
        hyp = hyp2f1_distinct(r + x, b + x + 1, a + b + x, z)
        front = (a + b + x) / (a - 1)
        inner = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        return front * inner * self._p_alive(x, tx, T, p)

    def _unconditional_expected(self, t, p):
        r, alpha, a, b = p
        hyp = special.hyp2f1(r, b + 1, a + b, t / (alpha + t))
        return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)
