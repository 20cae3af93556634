"""Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987, Management Science
33(1)); likelihood and expectations as derived in Fader & Hardie (2005), "A note on deriving
the Pareto/NBD model and related expressions".

The gradient of the log-likelihood is analytic up to one integral. With
``C = Gamma(r+x) alpha^r beta^s / Gamma(r)`` the likelihood of a history is

    L = C [ (alpha+T)^-(r+x) (beta+T)^-s + s I ],
    I = integral over tau in (t_x, T) of f(tau) = (alpha+tau)^-(r+x) (beta+tau)^-(s+1)

(Fader & Hardie 2005, eq. (18) before the integral is written as a 2F1; ``s I`` is their
``s / (r+s+x) A0``). Differentiating under the integral, the derivatives of ``log L`` need
the averages of log(alpha+tau), 1/(alpha+tau), log(beta+tau) and 1/(beta+tau) under the
density proportional to f on (t_x, T); ``I`` itself comes from the 2F1, as in the
likelihood. The averages are taken by a fixed tanh-sinh rule (``_tail_moments``).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from crmlab.ltv.base import PurchaseModel, _gl, hyp2f1_distinct

__all__ = ["ParetoNBD"]


def _tanh_sinh(h: float = 0.125, k_max: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Tanh-sinh nodes and weights on (0, 1), endpoints and underflowing nodes dropped."""
    k = np.arange(-round(k_max / h), round(k_max / h) + 1) * h
    u = np.pi / 2 * np.sinh(k)
    nodes = (np.tanh(u) + 1) / 2
    weights = h * np.pi / 4 * np.cosh(k) / np.cosh(u) ** 2
    keep = (nodes > 0) & (nodes < 1)
    return nodes[keep], weights[keep]


#: 49 nodes: the averages to about 1e-12 relative on CDNOW- and Online Retail-like fits,
#: 1e-8 at alpha/beta = 1e4 (tests/ltv/test_pareto_gradient.py)
_TS_NODES, _TS_WEIGHTS = _tanh_sinh()


def _tail_moments(p, x, tx, T, log_integral: bool = False):
    """Averages of log(alpha+tau), 1/(alpha+tau), log(beta+tau), 1/(beta+tau) under the
    density proportional to f(tau) = (alpha+tau)^-(r+x) (beta+tau)^-(s+1) on (t_x, T), per
    row (rows need t_x < T); with ``log_integral`` also log I, I the integral of f.

    In y = log((lo+tau)/(lo+t_x)), lo = min(alpha, beta), f(tau) dtau is log-concave: its
    log-slope -rho(y) falls from -rho0 (at t_x) to -(r+s+x). The substitution
    exp(-rho0 y) = 1 - (1 - exp(-rho0 Y)) v, v in (0, 1), takes out the exponential decay at
    t_x (which is steep when r+x is large, flat when the history is short); tanh-sinh
    nodes in v absorb what is left, power-law transitions at both ends included. Where
    rho0 > 0 the range stops at y = 50/rho0 (the integrand is below e^-50 of its peak).
    """
    r, alpha, s, beta = p
    pa, pb = r + x, s + 1.0
    lo_t = np.minimum(alpha, beta) + tx
    a_t, b_t = alpha + tx, beta + tx
    Y = np.log1p((T - tx) / lo_t)
    rho0 = pa * lo_t / a_t + pb * lo_t / b_t - 1
    k = np.where(np.abs(rho0) < 1e-9, 1e-9, rho0)
    Ye = np.minimum(Y, np.where(rho0 > 0, 50 / np.maximum(rho0, 1e-300), Y))
    om = -np.expm1(-k * Ye)
    y = np.minimum(-np.log1p(-om * _TS_NODES[:, None]) / k, Ye)
    e = np.expm1(y) * lo_t                      # tau - t_x
    la, lb = np.log1p(e / a_t), np.log1p(e / b_t)  # log((alpha+tau)/(alpha+t_x)), same for beta
    g = _TS_WEIGHTS[:, None] * np.exp((1 + k) * y - pa * la - pb * lb)
    S = g.sum(axis=0)
    moments = (np.log(a_t) + (g * la).sum(axis=0) / S, (g / (a_t + e)).sum(axis=0) / S,
               np.log(b_t) + (g * lb).sum(axis=0) / S, (g / (b_t + e)).sum(axis=0) / S)
    if not log_integral:
        return moments
    return moments, -pa * np.log(a_t) - pb * np.log(b_t) + np.log(lo_t * om / k) + np.log(S)


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
    _hessian_from_gradient = True

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

    def _parts(self, p, x, tx, T):
        """log C, the log of the alive-at-T term and the log of the s I term, per row."""
        r, alpha, s, beta = p
        rsx = r + s + x
        A1 = _gl(r + x) - _gl(r) + r * np.log(alpha) + s * np.log(beta)
        la0 = self._log_A0(p, x, tx, T)
        # where tx == T (bought in the last period) A0 vanishes: the second term drops out
        la0 = np.where(tx < T, la0, -np.inf)
        return A1, -(r + x) * np.log(alpha + T) - s * np.log(beta + T), np.log(s) + la0 - np.log(rsx)

    def _loglik_rows(self, p, x, tx, T):
        A1, l_alive, l_gone = self._parts(p, x, tx, T)
        return A1 + np.logaddexp(l_alive, l_gone)

    def _grad_rows(self, p, x, tx, T, parts=None):
        """Gradient of each row's log-likelihood w.r.t. (r, alpha, s, beta): the derivatives
        of log C and of the alive-at-T term in closed form, those of I as averages under f
        (see the module docstring)."""
        r, alpha, s, beta = p
        _, l_alive, l_gone = self._parts(p, x, tx, T) if parts is None else parts
        m = np.logaddexp(l_alive, l_gone)
        w1, w2 = np.exp(l_alive - m), np.exp(l_gone - m)
        x, tx, T = np.broadcast_arrays(x, tx, T)
        g = np.empty((len(x), 4))
        g[:, 0] = special.digamma(r + x) - special.digamma(r) + np.log(alpha) - w1 * np.log(alpha + T)
        g[:, 1] = r / alpha - w1 * (r + x) / (alpha + T)
        g[:, 2] = np.log(beta) - w1 * np.log(beta + T) + w2 / s
        g[:, 3] = s / beta - w1 * s / (beta + T)
        open_ = tx < T
        if open_.any():
            e_la, e_ia, e_lb, e_ib = _tail_moments(p, x[open_], tx[open_], T[open_])
            w = w2[open_]
            g[open_, 0] -= w * e_la
            g[open_, 1] -= w * (r + x[open_]) * e_ia
            g[open_, 2] -= w * e_lb
            g[open_, 3] -= w * (s + 1) * e_ib
        return g

    def _totals(self, data, w):
        """Weighted log-likelihood total and gradient sharing the 2F1 terms: BFGS asks for
        both at every point, and the 2F1 passes are most of the cost of each."""
        last: dict[bytes, tuple] = {}
        wcol = w[:, None]

        def parts(p: np.ndarray) -> tuple:
            key = p.tobytes()
            if key not in last:
                last.clear()
                last[key] = self._parts(p, *data)
            return last[key]

        def loglik(p: np.ndarray) -> float:
            A1, l_alive, l_gone = parts(p)
            return float(np.sum(w * (A1 + np.logaddexp(l_alive, l_gone))))

        def grad(p: np.ndarray) -> np.ndarray:
            return np.sum(wcol * self._grad_rows(p, *data, parts=parts(p)), axis=0)

        return loglik, grad

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
