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

    def _parts(self, p, x, tx, T):
        r, alpha, a, b = p
        A1 = _gl(r + x) - _gl(r) + r * np.log(alpha)
        A2 = _gl(a + b) + _gl(b + x + 1) - _gl(b) - _gl(a + b + x + 1)
        A3 = -(r + x) * np.log(alpha + T)
        A4 = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + tx)
        return A1, A2, A3, A4

    @staticmethod
    def _grad_dropout(a, b, x, w4):
        dg = special.digamma
        return (dg(a + b) - dg(a + b + x + 1) + w4 / a,
                dg(a + b) + dg(b + x + 1) - dg(b) - dg(a + b + x + 1) - w4 / (b + x))

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
