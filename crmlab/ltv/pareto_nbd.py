"""Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987, Management Science
33(1)); likelihood and expectations as derived in Fader & Hardie (2005), "A note on deriving
the Pareto/NBD model and related expressions"."""

from __future__ import annotations

import numpy as np
from scipy import special

from crmlab.ltv.base import PurchaseModel, _gl, hyp2f1_distinct

__all__ = ["ParetoNBD"]


class ParetoNBD(PurchaseModel):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987): Poisson purchases with rate
    lambda ~ Gamma(r, alpha) and an exponential lifetime with rate mu ~ Gamma(s, beta).
    Likelihood, P(alive) and conditional expectation as in Fader & Hardie (2005), "A note
    on deriving the Pareto/NBD model", eqs. (18)-(22), (41). CDNOW estimates (weeks):
    r=0.553, alpha=10.578, s=0.606, beta=11.669, log-likelihood -9595.0.

    Parameters
    ----------
    penalizer, aggregate, max_iter
        As for every :class:`~crmlab.ltv.base.PurchaseModel`.
    """

    _names = ("r", "alpha", "s", "beta")
    _label = "Pareto/NBD"
    _lifetimes_class = "ParetoNBDFitter"

    @staticmethod
    def _log_A0(p, x, tx, T):
        r, alpha, s, beta = p
        if alpha < beta:
            lo, hi, tt = alpha, beta, r + x
        else:
            lo, hi, tt = beta, alpha, s + 1
        rsx = r + s + x
        d = hi - lo
        p1 = hyp2f1_distinct(rsx, tt, rsx + 1, d / (hi + tx))
        p2 = hyp2f1_distinct(rsx, tt, rsx + 1, d / (hi + T))
        q1, q2 = hi + tx, hi + T
        # log(p1 / q1^rsx - p2 / q2^rsx), both terms positive, the first larger
        l1 = np.log(p1) - rsx * np.log(q1)
        l2 = np.log(p2) - rsx * np.log(q2)
        with np.errstate(divide="ignore"):
            return l1 + np.log1p(-np.exp(l2 - l1))

    def _loglik_rows(self, p, x, tx, T):
        r, alpha, s, beta = p
        rsx = r + s + x
        A1 = _gl(r + x) - _gl(r) + r * np.log(alpha) + s * np.log(beta)
        la0 = self._log_A0(p, x, tx, T)
        # where tx == T (bought in the last period) A0 vanishes: the second term drops out
        la0 = np.where(tx < T, la0, -np.inf)
        A2 = np.logaddexp(-(r + x) * np.log(alpha + T) - s * np.log(beta + T),
                          np.log(s) + la0 - np.log(rsx))
        return A1 + A2

    def _p_alive(self, x, tx, T, p):
        r, alpha, s, beta = p
        la0 = np.where(tx < T, self._log_A0(p, x, tx, T), -np.inf)
        with np.errstate(over="ignore"):
            z = np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T) + s * np.log(beta + T) + la0
            return 1 / (1 + np.exp(z))

    def _conditional_expected(self, t, x, tx, T, p):
        r, alpha, s, beta = p
        front = (r + x) * (beta + T) / ((alpha + T) * (s - 1))
        inner = 1 - ((beta + T) / (beta + T + t)) ** (s - 1)
        return front * inner * self._p_alive(x, tx, T, p)

    def _unconditional_expected(self, t, p):
        r, alpha, s, beta = p
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    def _prob_n(self, t, n, x, tx, T, p):
        """P(X(T, T+t) = n | history): Fader & Hardie, note 028 (2014), eq. (16), as in
        lifetimes' ``ParetoNBDFitter.conditional_probability_of_n_purchases_up_to_time``."""
        r, alpha, s, beta = p
        if alpha < beta:
            hi, pp = beta, r + x + n
        else:
            hi, pp = alpha, s + 1 + 0 * x
        d = abs(alpha - beta)
        base = r * np.log(alpha) + s * np.log(beta) - _gl(r)
        log_l = self._loglik_rows(p, x, tx, T)
        rsx = r + s + x
        log_b1 = base + _gl(r + x + n) - (r + x + n) * np.log(alpha + T + t) - s * np.log(beta + T + t)
        bl = special.betaln(r + x + n, s + 1)
        log_b2 = (base + _gl(rsx) + bl + np.log(special.hyp2f1(rsx, pp, rsx + n + 1, d / (hi + T)))
                  - _gl(s) - rsx * np.log(hi + T))
        terms = [i * np.log(t) - _gl(i + 1) + base + _gl(rsx + i) + bl
                 + np.log(special.hyp2f1(rsx + i, pp, rsx + n + 1, d / (hi + T + t)))
                 - _gl(s) - (rsx + i) * np.log(hi + T + t) for i in range(n + 1)]
        log_b3 = special.logsumexp(np.stack(terms), axis=0)
        p_alive = self._p_alive(x, tx, T, p)
        first = np.exp(n * np.log(t) - _gl(n + 1) + log_b1 - log_l)
        rest = np.exp(log_b2 - log_l) - np.exp(log_b3 - log_l)
        return (n == 0) * (1 - p_alive) + first + rest
