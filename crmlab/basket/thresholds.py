"""When no rule passes the thresholds: the support at which rules appear."""

from __future__ import annotations

from typing import Any

from sklearn.base import clone

from crmlab.basket.model import BasketModel, check_fitted

__all__ = ["SUPPORT_STEPS", "support_for_rules"]

#: Supports tried, largest first, when a model finds no rule.
SUPPORT_STEPS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001)


def support_for_rules(model: BasketModel, transactions: Any, steps: tuple = SUPPORT_STEPS,
                      min_baskets: int = 5) -> tuple[float, int] | None:
    """The largest support below the model's at which its other settings give a rule.

    Refits a clone of ``model`` at each support of ``steps`` below ``model.min_support``,
    largest first, and stops at the first that gives at least one rule. Supports that
    would let a rule rest on fewer than ``min_baskets`` baskets are not tried: such a rule
    is a coincidence, not a pattern to plan an offer around.

    Parameters
    ----------
    model : BasketModel
        A fitted model (typically one with no rules).
    transactions : DataFrame or list of baskets
        What ``model`` was fitted on.
    steps : tuple of float
        Supports to try.
    min_baskets : int
        Fewest baskets a rule may rest on.

    Returns
    -------
    (float, int) or None
        The support and the number of rules it gives; None when no tried support gives one.
    """
    check_fitted(model)
    n = model.n_baskets_
    tried = sorted((s for s in steps if s < model.min_support and s * n >= min_baskets), reverse=True)
    for support in tried:
        trial = clone(model).set_params(min_support=support).fit(transactions)
        if len(trial.rules_):
            return support, len(trial.rules_)
    return None


def lowest_support_tried(model: BasketModel, steps: tuple = SUPPORT_STEPS, min_baskets: int = 5) -> float | None:
    """The smallest support :func:`support_for_rules` tries for ``model`` (None: none tried).

    Parameters
    ----------
    model : BasketModel
    steps : tuple of float
    min_baskets : int

    Returns
    -------
    float or None
    """
    n = model.n_baskets_
    tried = [s for s in steps if s < model.min_support and s * n >= min_baskets]
    return min(tried) if tried else None
