"""crmlab.basket.itemsets: the look-ups the rule table is built from, on Groceries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crmlab import data
from crmlab.basket.engines import MINERS
from crmlab.basket.itemsets import ItemsetStore
from crmlab.stats import fisher_greater


@pytest.fixture(scope="module")
def store():
    baskets = data.load_groceries()
    labels, levels = MINERS["rusket"].mine_lists(baskets, math.ceil(0.001 * len(baskets) - 1e-9), None)
    return ItemsetStore(levels, len(labels))


def test_drop_positions_equal_direct_lookups(store):
    """Every itemset without its item j, found level by level, is where a direct look-up of
    the shorter row finds it (and it is always found: itemsets are downward closed)."""
    assert store.max_len >= 5
    for length in range(2, store.max_len + 1):
        rows = store.rows[length]
        for j, pos in enumerate(store.drop_positions(length)):
            direct = store.find(np.delete(rows, j, axis=1))
            assert (direct >= 0).all()
            np.testing.assert_array_equal(pos, direct)


def test_fisher_tails_equal_scipy():
    """One-sided Fisher p-values (upper and lower tails, long and short sums) equal
    scipy's hypergeometric survival function."""
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(2)
    n = 9835
    d = rng.integers(1, 3000, 500)
    K = rng.integers(1, 3000, 500)
    lo, hi = np.maximum(0, d + K - n), np.minimum(d, K)
    a = np.concatenate([hi[:250] - rng.integers(0, 40, 250), lo[250:] + rng.integers(0, hi[250:] - lo[250:] + 1)])
    a = np.clip(a, lo, hi)
    assert (a > d * K / n).any() and (a <= d * K / n).any()  # both tails
    got = fisher_greater(a, d, K, n)
    ref = stats.hypergeom.sf(a - 1, n, K, d)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-15)
