"""Per-arm sufficient statistics and the tests computed from them.

Every test in :mod:`crmlab.campaign` is computed from per-group counts, sums, sums of squares
and cross-products, gathered once with vectorised ``numpy.bincount``; this is what lets a
10-million-row experiment be read out in a few seconds. The tests prove the results equal
statsmodels and scipy called on the raw data.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["BOOTSTRAP_BUDGET", "Moments", "bootstrap_means", "rel_interval", "welch", "ztest_2prop"]

#: Largest number of values drawn in one bootstrap (keeps it bounded on huge arms).
BOOTSTRAP_BUDGET = 4_000_000


class Moments:
    """Per-group count, mean, variance (ddof=1) and skewness of one variable.

    Parameters
    ----------
    codes : numpy.ndarray of int
        Group of each value, 0 .. k-1.
    k : int
        Number of groups.
    y : numpy.ndarray of float
        The values.
    third : bool
        Also gather third moments (for the skewness).
    shift : float, optional
        Subtracted before summing (default: the overall mean, for numerical accuracy).
    binary : bool
        ``y`` is 0/1: with ``shift=0`` the sum of squares is the sum.
    """

    def __init__(self, codes: np.ndarray, k: int, y: np.ndarray, *, third: bool = True,
                 shift: float | None = None, binary: bool = False):
        self.shift = float(y.mean()) if shift is None else shift
        yc = y - self.shift if self.shift != 0.0 else y
        self.n = np.bincount(codes, minlength=k).astype(np.float64)
        self.s1 = np.bincount(codes, weights=yc, minlength=k)
        if binary and self.shift == 0.0:
            # y * y == y for 0/1 values: the sum of squares is the count of ones
            self.s2, self.s3 = self.s1, None
            self.yc = yc
            return
        y2 = yc * yc
        self.s2 = np.bincount(codes, weights=y2, minlength=k)
        if third:
            y2 *= yc
            self.s3 = np.bincount(codes, weights=y2, minlength=k)
        else:
            self.s3 = None
        self.yc = yc  # kept for cross-products (CUPED); dropped by release()

    def release(self) -> None:
        self.yc = None

    @property
    def mean(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.shift + self.s1 / self.n

    @property
    def ss(self) -> np.ndarray:
        """Within-group centred sum of squares."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.maximum(self.s2 - self.s1 * self.s1 / self.n, 0.0)

    @property
    def var(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.ss / (self.n - 1)

    @property
    def skew(self) -> np.ndarray:
        """Sample skewness g1 (population moments, like ``scipy.stats.skew``)."""
        if self.s3 is None:
            return np.full_like(self.n, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = self.s1 / self.n
            m2 = self.s2 / self.n - m * m
            m3 = self.s3 / self.n - 3 * m * self.s2 / self.n + 2 * m**3
            return m3 / m2**1.5


def welch(m1, v1, n1, m0, v0, n0, alpha):
    """Welch's t-test and interval for mean1 - mean0 from means, variances (ddof=1), sizes."""
    if n1 < 2 or n0 < 2:
        return m1 - m0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan
    a, b = v1 / n1, v0 / n0
    se = math.sqrt(a + b)
    diff = m1 - m0
    if se == 0:
        return diff, se, np.nan, np.nan, np.nan, diff, diff
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n0 - 1)) if (a + b) > 0 else np.nan
    t = diff / se
    p = 2 * stats.t.sf(abs(t), df)
    q = stats.t.ppf(1 - alpha / 2, df)
    return diff, se, t, df, p, diff - q * se, diff + q * se


def ztest_2prop(x1, n1, x0, n0, alpha):
    """Two-proportion z-test (pooled variance) and Wald interval (unpooled) for p1 - p0."""
    p1, p0 = x1 / n1, x0 / n0
    p = (x1 + x0) / (n1 + n0)
    se0 = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n0))
    diff = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    z = diff / se0 if se0 > 0 else np.nan
    pval = 2 * stats.norm.sf(abs(z)) if se0 > 0 else np.nan
    q = stats.norm.ppf(1 - alpha / 2)
    return diff, se, z, pval, diff - q * se, diff + q * se


def rel_interval(m1, m0, var_log, alpha):
    """Relative lift m1/m0 - 1 with a delta-method interval on the log ratio.

    For proportions ``var_log = 1/x1 - 1/n1 + 1/x0 - 1/n0`` (Katz et al. 1978), the same as
    statsmodels ``confint_proportions_2indep(compare="ratio", method="log")``.
    """
    if m0 <= 0 or m1 <= 0 or not np.isfinite(var_log):
        rel = m1 / m0 - 1 if m0 != 0 else np.nan
        return rel, np.nan, np.nan
    q = stats.norm.ppf(1 - alpha / 2)
    se = math.sqrt(var_log)
    r = m1 / m0
    return r - 1, r * math.exp(-q * se) - 1, r * math.exp(q * se) - 1


def bootstrap_means(values_nz: np.ndarray, n: int, B: int, rng: np.random.Generator,
                     budget: int = BOOTSTRAP_BUDGET) -> np.ndarray:
    """Bootstrap distribution of the mean of ``n`` values of which ``values_nz`` are non-zero.

    Drawing ``n`` of ``n`` values with replacement picks Binomial(n, k/n) non-zero values, each
    uniform among the k non-zero ones; so only non-zero values are drawn (exact, and fast for
    revenue where most customers spend nothing). When even that exceeds the budget, an
    m-out-of-n bootstrap (m draws with replacement) is rescaled by sqrt(m/n) around the mean
    (Bickel, Goetze & van Zwet 1997).
    """
    k = values_nz.size
    if k == 0:
        return np.zeros(B)
    full_mean = values_nz.sum() / n
    p = k / n
    m = n if B * k <= budget else max(int(budget / (B * p)), 100)
    counts = rng.binomial(m, p, size=B)
    idx = rng.integers(0, k, size=int(counts.sum()))
    owner = np.repeat(np.arange(B), counts)
    means = np.bincount(owner, weights=values_nz[idx], minlength=B) / m
    if m != n:
        means = full_mean + (means - full_mean) * math.sqrt(m / n)
    return means
