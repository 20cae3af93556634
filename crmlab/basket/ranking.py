"""Reading a fitted model's rules: the strongest and the most surprising ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.basket.measures import MEASURES
from crmlab.basket.model import BasketModel, check_fitted
from crmlab.errors import ParameterError
from crmlab.stats import adjust_pvalues

__all__ = ["top_rules", "surprising_rules"]


def top_rules(model: BasketModel, n: int = 10, by: str = "lift") -> pd.DataFrame:
    """The ``n`` strongest rules by a measure, with the columns an analyst reads.

    Parameters
    ----------
    model : BasketModel
        A fitted model.
    n : int
        Rules to show.
    by : str
        A column of ``rules_`` (a measure of :data:`~crmlab.basket.measures.MEASURES`).

    Returns
    -------
    DataFrame
        rule, support, confidence, lift and count; ties by rule text.
    """
    check_fitted(model)
    if by not in model.rules_.columns:
        raise ParameterError("unknown rule measure", value=by,
                             expected="one of " + ", ".join(m for m in MEASURES if m != "redundant"))
    cols = ["rule", "support", "confidence", "lift", "count"]
    ranked = model.rules_.sort_values([by, "rule"], ascending=[False, True], kind="stable")
    return ranked.head(n)[cols].reset_index(drop=True)


def surprising_rules(model: BasketModel, n: int = 10, alpha: float = 0.05) -> pd.DataFrame:
    """Rules least expected from the products' popularity.

    Highest Zhang's metric (then leverage) among rules that are not redundant and whose
    Fisher exact test is significant at ``alpha`` after Holm correction.

    Parameters
    ----------
    model : BasketModel
        A fitted model.
    n : int
        Rules to show.
    alpha : float
        Significance level after Holm correction.

    Returns
    -------
    DataFrame
        rule, support, confidence, lift, leverage, zhangs_metric and p_value.
    """
    check_fitted(model)
    r = model.rules_
    p_holm = adjust_pvalues(r["p_value"].to_numpy(), "holm") if len(r) else np.array([])
    sel = r.loc[(~r["redundant"].astype(bool)).to_numpy() & (p_holm <= alpha)]
    cols = ["rule", "support", "confidence", "lift", "leverage", "zhangs_metric", "p_value"]
    return sel.sort_values(["zhangs_metric", "leverage", "rule"], ascending=[False, False, True],
                           kind="stable").head(n)[cols].reset_index(drop=True)
