"""The fast paths of the LTV fits equal the plain computations they replace: Gamma-Gamma's
likelihood from sufficient statistics and BG/NBD's (and MBG/NBD's) per distinct frequency
against the per-row sums, and ``aggregate``'s packed key against grouping by hand."""

from __future__ import annotations

import numpy as np
import pytest

from crmlab import ltv
from crmlab.ltv.base import _Fitter


@pytest.fixture(scope="module")
def repeat_buyers(master):
    s = ltv.summary(master, unit="W")
    keep = (s["frequency"] > 0) & (s["monetary_value"] > 0)
    return s.loc[keep, "frequency"].to_numpy(), s.loc[keep, "monetary_value"].to_numpy()


@pytest.mark.parametrize("params", [[6.25, 3.74, 15.44], [1.0, 1.0, 1.0], [0.3, 20.0, 300.0]])
def test_gamma_gamma_totals_equal_row_sums(repeat_buyers, params):
    """Log-likelihood and gradient from grouped statistics equal the weighted per-row sums
    (1e-12 relative) at the CDNOW estimates and far from them, with uneven weights."""
    x, m = repeat_buyers
    w = np.random.default_rng(0).integers(1, 4, len(x)).astype(float)
    gg = ltv.GammaGamma()
    fast_ll, fast_grad = gg._totals((x, m), w)
    rows_ll, rows_grad = _Fitter._totals(gg, (x, m), w)
    p = np.array(params)
    assert fast_ll(p) == pytest.approx(rows_ll(p), rel=1e-12)
    np.testing.assert_allclose(fast_grad(p), rows_grad(p), rtol=1e-9, atol=1e-9 * np.abs(rows_grad(p)).max())


@pytest.mark.parametrize("model", [ltv.BGNBD, ltv.MBGNBD])
@pytest.mark.parametrize("params", [[0.2426, 4.4136, 0.7929, 2.4259], [1.0, 1.0, 1.0, 1.0], [0.05, 80.0, 3.0, 0.3]])
def test_bgnbd_totals_equal_row_sums(master, model, params):
    """Log-likelihood and gradient with the frequency terms taken once per distinct frequency
    equal the weighted per-row sums (1e-12 relative), with uneven weights, for both models
    (MBG/NBD: zero-repeat customers may have dropped out)."""
    s = ltv.summary(master, unit="W")
    data = tuple(s[c].to_numpy() for c in ("frequency", "recency", "T"))
    w = np.random.default_rng(0).integers(1, 4, len(s)).astype(float)
    m = model()
    fast_ll, fast_grad = m._totals(data, w)
    rows_ll, rows_grad = _Fitter._totals(m, data, w)
    p = np.array(params)
    assert fast_ll(p) == pytest.approx(rows_ll(p), rel=1e-12)
    np.testing.assert_allclose(fast_grad(p), rows_grad(p), rtol=1e-9, atol=1e-11 * np.abs(rows_grad(p)).max())


def test_aggregate_matches_grouping_by_hand():
    """Whole-number and fractional columns (negative, huge, -0.0): the distinct rows in order
    of first appearance, their counts and each row's distinct row, as a dict would give."""
    rng = np.random.default_rng(1)
    cols = [rng.integers(0, 5, 400).astype(float), rng.choice([-1.5, 0.0, -0.0, 2.25, 1e40], 400),
            rng.integers(0, 2**40, 400).astype(float) // 2**38]
    (u0, u1, u2), weights, inverse = ltv.aggregate(*cols)
    seen: dict = {}
    for row in zip(*cols):
        seen.setdefault(row, len(seen))
    expected_inverse = [seen[row] for row in zip(*cols)]
    assert inverse.tolist() == expected_inverse
    assert list(zip(u0, u1, u2)) == list(seen)
    assert weights.tolist() == np.bincount(expected_inverse).tolist()


def test_distinct_counts_equal_aggregate():
    """The fit's counting path (whole-number histories, no weights) finds aggregate's distinct
    rows and counts, in key order; fractional, negative or widely spread values are left to
    aggregate (None)."""
    from crmlab.ltv.summaries import _distinct_counts

    rng = np.random.default_rng(2)
    cols = [rng.integers(0, k, 5000).astype(float) for k in (30, 40, 9)]
    rows, weights = _distinct_counts(*cols)
    unique, counts, _ = ltv.aggregate(*cols)
    assert list(zip(*rows, weights)) == sorted(zip(*unique, counts))
    assert _distinct_counts(cols[0] + 0.5, cols[1]) is None
    assert _distinct_counts(-cols[0], cols[1]) is None
    assert _distinct_counts(cols[0] * 1e6, cols[1] * 1e6) is None
