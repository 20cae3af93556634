"""Rule measures: every column of ``BasketModel.rules_`` after the counts.

:data:`MEASURES` maps a column name to a function of the rule table built so far (a dict of
arrays: the counts, ``n`` baskets, ``general`` and ``correction``, plus every measure listed
before it). Measures are computed in the order listed, which is also their column order, so
adding a rule measure is one entry here.

Counts: ``count`` (baskets holding antecedent and consequent), ``antecedent_count``,
``consequent_count``. ``general`` is, per rule, the best confidence of a more general rule
with the same consequent (the empty antecedent included: the consequent's support).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from crmlab.stats import adjust_pvalues, fisher_greater

__all__ = ["MEASURES", "COUNT_COLUMNS", "rule_measures"]

#: Rule table columns that are counts (stored as integers).
COUNT_COLUMNS = ("count", "antecedent_count", "consequent_count")


def _conviction(r: dict) -> np.ndarray:
    """Brin et al. (1997): (1 - s(C)) / (1 - confidence); infinite for exact rules."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r["confidence"] >= 1.0, np.inf, (1 - r["consequent_support"]) / (1 - r["confidence"]))


def _zhang(r: dict) -> np.ndarray:
    """Zhang & Wu (2011): leverage scaled to [-1, 1]."""
    s, sa, sc = r["support"], r["antecedent_support"], r["consequent_support"]
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.maximum(s * (1 - sa), sa * (sc - s))
        return np.where(denom > 0, r["leverage"] / denom, 0.0)


#: Rule measures by column name, in column order: name -> function of the table so far.
MEASURES: dict[str, Callable[[dict], np.ndarray]] = {
    "support": lambda r: r["count"] / r["n"],
    "antecedent_support": lambda r: r["antecedent_count"] / r["n"],
    "consequent_support": lambda r: r["consequent_count"] / r["n"],
    "confidence": lambda r: r["count"] / r["antecedent_count"],
    "lift": lambda r: r["confidence"] / r["consequent_support"],
    # Piatetsky-Shapiro (1991)
    "leverage": lambda r: r["support"] - r["antecedent_support"] * r["consequent_support"],
    "conviction": _conviction,
    "zhangs_metric": _zhang,
    # Bayardo, Agrawal & Gunopulos (2000); arules is.redundant: improvement <= 0
    "improvement": lambda r: r["confidence"] - r["general"],
    "redundant": lambda r: r["improvement"] <= 0,
    # one-sided Fisher exact test and its multiple-testing correction (arules is.significant)
    "p_value": lambda r: fisher_greater(r["count"], r["antecedent_count"], r["consequent_count"], r["n"]),
    "p_adjusted": lambda r: adjust_pvalues(r["p_value"], r["correction"]),
}


def rule_measures(count: np.ndarray, antecedent_count: np.ndarray, consequent_count: np.ndarray,
                  general: np.ndarray, n: int, correction: str | None) -> dict[str, np.ndarray]:
    """Every measure of :data:`MEASURES` for a set of rules.

    Parameters
    ----------
    count, antecedent_count, consequent_count : numpy.ndarray
        Baskets holding the whole rule, its antecedent, its consequent.
    general : numpy.ndarray
        Best confidence of a more general rule with the same consequent.
    n : int
        Number of baskets.
    correction : str or None
        Multiple-testing correction for ``p_adjusted`` (see :func:`crmlab.stats.adjust_pvalues`).

    Returns
    -------
    dict of str -> numpy.ndarray
        The counts (as integers) followed by every measure, in column order.
    """
    r: dict = {"count": np.asarray(count, dtype=float), "antecedent_count": np.asarray(antecedent_count, dtype=float),
               "consequent_count": np.asarray(consequent_count, dtype=float), "general": general, "n": n,
               "correction": correction}
    for name, measure in MEASURES.items():
        r[name] = measure(r)
    out = {c: r[c].astype(np.int64) for c in COUNT_COLUMNS}
    out.update((name, r[name]) for name in MEASURES)
    return out
