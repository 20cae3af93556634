"""Pareto/NBD analytic gradient (crmlab.ltv.pareto_nbd): equal to finite differences of the
2F1 log-likelihood, its tail integral equal to an adaptive quadrature, and the fits that use it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import integrate

from crmlab import ltv
from crmlab.ltv.pareto_nbd import ParetoNBD, _tail_moments

CDNOW_FIT = (0.553, 10.578, 0.606, 11.669)


@pytest.fixture(scope="module")
def retail():
    """Distinct (frequency, recency, T) rows of the shipped Online Retail data, by day and week."""
    from crmlab import data

    tx = data.clean(data.load_source(data.read_source("online_retail"))).data
    return {unit: _rows(ltv.summary(tx, unit=unit)) for unit in ("D", "W")}


def _rows(summary):
    a = np.unique(summary[["frequency", "recency", "T"]].to_numpy(float), axis=0)
    return a[:, 0], a[:, 1], a[:, 2]


def _extreme_rows():
    """Short and long histories, up to 300 repeat purchases, t_x from 0 to T."""
    grid = itertools.product([0, 1, 3, 10, 50, 131, 300], [0.0, 0.5, 5, 30, 100], [1, 10, 39, 53, 373])
    a = np.array([g for g in grid if g[1] < g[2] and (g[0] == 0) == (g[1] == 0)] + [(5, 10, 10)], float)
    return a[:, 0], a[:, 1], a[:, 2]


def _fd_gradient(p, x, tx, T, rel):
    """Central differences of the 2F1 log-likelihood per row, Richardson-extrapolated
    (steps rel * p and rel * p / 2), so the truncation error is O(rel^4)."""
    m, p = ParetoNBD(), np.asarray(p, float)
    out = np.empty((len(x), 4))
    for j in range(4):
        def diff(h, j=j):
            e = np.eye(4)[j] * h
            return (m._loglik_rows(p + e, x, tx, T) - m._loglik_rows(p - e, x, tx, T)) / (2 * h)
        h = rel * p[j]
        out[:, j] = (4 * diff(h / 2) - diff(h)) / 3
    return out


def _hyp2f1_sound(p, x, tx, T):
    """Rows where the 2F1 value of I agrees with the quadrature (1e-9 in log), and so the
    2F1 likelihood can be differentiated numerically."""
    r, _, s, _ = p
    ok = np.ones(len(x), bool)
    o = tx < T
    with np.errstate(all="ignore"):
        l_2f1 = ParetoNBD._log_A0(np.asarray(p, float), x[o], tx[o], T[o]) - np.log(r + s + x[o])
        _, l_quad = _tail_moments(p, x[o], tx[o], T[o], log_integral=True)
    ok[o] = np.abs(l_2f1 - l_quad) < 1e-9
    return ok


def _assert_gradient(p, x, tx, T, rel=1e-3, tol=1e-7):
    g = ParetoNBD()._grad_rows(np.asarray(p, float), x, tx, T)
    G = _fd_gradient(p, x, tx, T, rel)
    scale = np.maximum(np.abs(G), 1e-2 * np.abs(G).max(axis=0))
    err = np.abs(g - G) / scale
    assert np.isfinite(g).all()
    assert err.max() < tol, (p, err.max(axis=0))
    np.testing.assert_allclose(g.sum(axis=0), G.sum(axis=0), rtol=1e-8)


@pytest.mark.parametrize("p", [CDNOW_FIT, (1.0, 1.0, 1.0, 1.0)])
def test_gradient_matches_differences_cdnow(cdnow, p):
    """CDNOW (weeks), the 1,016 distinct rows: each row's gradient equals the extrapolated
    central differences of the 2F1 log-likelihood to 1e-7 (measured 5e-10)."""
    _assert_gradient(p, *_rows(cdnow))


@pytest.mark.parametrize("unit, p", [("D", (0.83, 69.1, 0.01, 80.0)), ("D", (1.0, 1.0, 1.0, 1.0)),
                                     ("W", (0.92, 11.6, 0.01, 80.0))])
def test_gradient_matches_differences_online_retail(retail, unit, p):
    """Online Retail by day (up to 131 repeat purchases over 373 days) and by week, near its
    fits (measured 1.5e-8)."""
    _assert_gradient(p, *retail[unit])


def test_gradient_on_the_no_dropout_ridge(retail):
    """Where the Online Retail fits end (s -> 0, beta large: no one drops out) the 2F1 is
    noisy in s and beta, so the differences need a larger step (3e-2, extrapolated); the
    totals agree to 1e-6 (measured 2e-8 for s)."""
    x, tx, T = retail["D"]
    p = (0.8276, 69.09, 1e-5, 8103.0)
    g = ParetoNBD()._grad_rows(np.asarray(p), x, tx, T).sum(axis=0)
    np.testing.assert_allclose(g, _fd_gradient(p, x, tx, T, 3e-2).sum(axis=0), rtol=1e-6)


@pytest.mark.parametrize("p", [(0.5, 1.0, 0.6, 50.0), (0.5, 50.0, 0.6, 1.0), (20.0, 200.0, 0.2, 5.0),
                               (5.0, 1.0, 3.0, 1.0), (0.05, 3.0, 0.05, 3.0)])
def test_gradient_matches_differences_extremes(p):
    """alpha << beta, alpha >> beta, large r, large s, small r and s, up to 300 purchases.
    The 2F1 likelihood itself is wrong for some alpha << beta rows with 50 or more purchases
    (scipy's hyp2f1 near z = 1 with large parameters: log-likelihoods above 0): those rows are
    left out of the comparison, and only they."""
    x, tx, T = _extreme_rows()
    ok = _hyp2f1_sound(p, x, tx, T)
    assert ok[x < 50].all() and (ok.all() or p[1] < p[3])
    _assert_gradient(p, x[ok], tx[ok], T[ok], tol=2e-7)


@pytest.mark.parametrize("p", [CDNOW_FIT, (0.5, 0.01, 0.6, 100.0), (0.5, 100.0, 0.6, 0.01),
                               (20.0, 200.0, 0.2, 5.0), (0.9, 11.6, 1e-5, 8000.0)])
def test_tail_integral_matches_adaptive_quadrature(p):
    """The fixed 49-node rule gives the integral I = int_tx^T (alpha+t)^-(r+x) (beta+t)^-(s+1) dt
    as scipy's adaptive quadrature does (1e-8 in log; 1e-12 at CDNOW-like parameters): the
    averages the gradient uses come from the same nodes."""
    r, alpha, s, beta = p
    x, tx, T = (a[::7] for a in _extreme_rows())
    _, got = _tail_moments(p, x, tx, T, log_integral=True)
    want = []
    for xi, a, b in zip(x, tx, T):
        def log_f(t, xi=xi):
            return -(r + xi) * np.log(alpha + t) - (s + 1) * np.log(beta + t)
        # in y = log(1 + t - t_x), the peak at t_x resolved by break points
        top = np.log1p(b - a)
        v, _ = integrate.quad(lambda y, a=a: np.exp(log_f(a + np.expm1(y)) - log_f(a) + y), 0, top,
                              points=[top * k for k in (1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.3)],
                              epsabs=0, epsrel=1e-13, limit=500)
        want.append(log_f(a) + np.log(v))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 if p == CDNOW_FIT else 1e-8)


def test_fit_uses_the_gradient(cdnow):
    """The fit runs BFGS on the analytic gradient (a few dozen 2F1 passes, not the ~550 of a
    derivative-free search) and stops where the gradient vanishes."""
    calls = {"n": 0}

    class Counting(ParetoNBD):
        def _parts(self, *args):
            calls["n"] += 1
            return super()._parts(*args)

    m = Counting().fit(cdnow)
    assert m.converged_ and calls["n"] < 100
    x, tx, T = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    g = m._grad_rows(m.params_.to_numpy(), x, tx, T).sum(axis=0)
    assert np.abs(g * m.params_.to_numpy()).max() < 1e-4 * len(x)
