"""Statistics shared by the jobs: one multiple-testing adjustment, one exact test.

Method names follow statsmodels (``multipletests``): ``"holm"``, ``"fdr_bh"``,
``"bonferroni"``, and ``"none"`` (or None) for no adjustment. ``"bh"`` is accepted as an
alias of ``"fdr_bh"``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from crmlab.errors import ParameterError

__all__ = ["CORRECTIONS", "adjust_pvalues", "check_correction", "fisher_greater"]

#: accepted names -> canonical statsmodels name (None: no adjustment)
CORRECTIONS: dict[str | None, str | None] = {
    "holm": "holm", "fdr_bh": "fdr_bh", "bh": "fdr_bh", "bonferroni": "bonferroni",
    "none": None, None: None,
}


def check_correction(method: str | None) -> str | None:
    """The canonical name of a p-value correction, or None for no correction.

    Parameters
    ----------
    method : str or None
        ``"holm"``, ``"fdr_bh"`` (alias ``"bh"``), ``"bonferroni"``, ``"none"`` or None.

    Returns
    -------
    str or None

    Raises
    ------
    ParameterError
        For any other name.
    """
    try:
        return CORRECTIONS[method]
    except (KeyError, TypeError):
        raise ParameterError("unknown p-value correction", value=method,
                             expected="one of holm, fdr_bh, bonferroni, none") from None


def adjust_pvalues(p, method: str | None = "holm") -> np.ndarray:
    """Adjust p-values for multiple testing; NaN stays NaN and is not counted.

    Holm (1979) step-down family-wise error control, Benjamini & Hochberg (1995) false
    discovery rate, or Bonferroni. The same numbers as statsmodels ``multipletests`` and R's
    ``p.adjust`` (which arules' ``is.significant`` uses); computed here because
    ``multipletests`` forces a garbage collection on every call, which dominates small readouts.

    Parameters
    ----------
    p : array-like of float
        Raw p-values.
    method : str or None
        See :func:`check_correction`.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, capped at 1, in the input order.
    """
    method = check_correction(method)
    out = np.array(p, dtype=float)
    ok = np.isfinite(out)
    m = int(ok.sum())
    if method is None or m == 0:
        return out
    q = out[ok]
    order = np.argsort(q, kind="stable")
    ps = q[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ps)
    elif method == "fdr_bh":
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * ps[::-1])[::-1]
    else:  # bonferroni
        adj = m * ps
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _log_hypergeom_pmf(x, N, K, d):
    def log_choose(a, b):
        return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

    return log_choose(K, x) + log_choose(N - K, d - x) - log_choose(N, d)


def fisher_greater(count, ant_count, con_count, n) -> np.ndarray:
    """One-sided Fisher exact test that two items occur together more often than chance.

    P(X >= count) for X ~ Hypergeometric(n baskets, con_count successes, ant_count draws),
    the test arules' ``is.significant`` uses. Equal to ``scipy.stats.hypergeom.sf(count - 1,
    n, con_count, ant_count)`` (asserted in the tests); summed here with the pmf-ratio
    recurrence for all rules at once, which measured 20x faster than scipy's vectorised
    ``sf`` on 20,000 rules (0.05 s against 1.1 s). Rules at or below the expected count use
    the lower tail: P(X >= a) = 1 - P(X <= a - 1).

    Parameters
    ----------
    count, ant_count, con_count : array-like of int
        Baskets with both, with the antecedent, with the consequent.
    n : int
        Number of baskets.

    Returns
    -------
    numpy.ndarray
        One p-value per rule, in [0, 1].
    """
    a = np.asarray(count, dtype=float)
    d = np.asarray(ant_count, dtype=float)
    K = np.asarray(con_count, dtype=float)
    N = float(n)
    p = np.empty(len(a))
    upper = a > d * K / N
    if upper.any():
        p[upper] = _tail_sum(a[upper], d[upper], K[upper], N, upper=True)
    lower = ~upper
    if lower.any():
        p[lower] = 1.0 - _tail_sum(a[lower] - 1, d[lower], K[lower], N, upper=False)
    return np.clip(p, 0.0, 1.0)


def _tail_sum(x, d, K, N, upper: bool) -> np.ndarray:
    """P(X >= x) (``upper``) or P(X <= x) of Hypergeometric(N, K, d), term by term from x.

    Each pass extends the sums still running; those that are done (tail end reached, or
    the next term below 1e-17 of the sum) leave the working arrays, so a pass costs the
    rules still summing, not all rules.
    """
    end = np.minimum(d, K) if upper else np.maximum(0.0, d + K - N)
    if upper:
        term = np.exp(_log_hypergeom_pmf(x, N, K, d))
        active = (x < end) & (term > 0)
    else:
        valid = x >= end
        term = np.where(valid, np.exp(_log_hypergeom_pmf(np.maximum(x, end), N, K, d)), 0.0)
        active = valid & (x > end) & (term > 0)
    total = term.copy()
    idx = np.flatnonzero(active)
    x, d, K, end, term, run = x[idx], d[idx], K[idx], end[idx], term[idx], total[idx]
    while len(idx):
        if upper:
            term = term * ((K - x) * (d - x) / ((x + 1) * (N - K - d + x + 1)))
            x = x + 1
        else:
            term = term * (x * (N - K - d + x) / ((K - x + 1) * (d - x + 1)))
            x = x - 1
        run = run + term
        more = ((x < end) if upper else (x > end)) & (term > run * 1e-17)
        if not more.all():
            total[idx] = run
            keep = np.flatnonzero(more)
            idx, x, d, K, end, term, run = idx[keep], x[keep], d[keep], K[keep], end[keep], term[keep], run[keep]
    total[idx] = run
    return total
