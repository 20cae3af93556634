"""Difference-in-differences: the effect of a campaign that was not randomised.

Weaker evidence than a controlled test, and labelled so.

References
----------
Angrist & Pischke (2009), *Mostly Harmless Econometrics*, ch. 5; Bertrand, Duflo &
Mullainathan (2004), "How much should we trust differences-in-differences estimates?", QJE
(difference-in-differences with cluster-robust errors).
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from crmlab.campaign.io import WHAT, is_binary, values
from crmlab.columns import require_columns
from crmlab.errors import DataError
from crmlab.results import Result, to_jsonable

__all__ = ["DiDResult", "diff_in_diff"]


class DiDResult(Result):
    """Difference-in-differences estimate of a non-randomised campaign (weaker evidence).

    Built by :func:`diff_in_diff`.

    Parameters
    ----------
    estimate, se, ci_low, ci_high, p_value : float
        The interaction coefficient, its cluster-robust standard error, interval and p-value.
    means : pandas.DataFrame
        Mean outcome by group (treated, comparison) and period (pre, post), and the change.
    n_units, n_rows : int
        Clusters and rows used.
    outcome : str
        The outcome column.
    alpha : float
        Significance level of the interval.
    """

    title = "Difference-in-differences (not randomised: weaker evidence than a controlled test)"

    def __init__(self, estimate, se, ci_low, ci_high, p_value, means, n_units, n_rows, outcome,
                 alpha):
        self.estimate = estimate
        self.se = se
        self.ci_low = ci_low
        self.ci_high = ci_high
        self.p_value = p_value
        self.means = means
        self.n_units = n_units
        self.n_rows = n_rows
        self.outcome = outcome
        self.alpha = alpha
        self.notes = (
            "Evidence grade: observational. The estimate assumes the treated and comparison "
            "groups would have moved in parallel without the campaign (parallel trends); "
            "nothing in the data guarantees it. Prefer a randomised holdout for the next "
            "campaign.",
            "Standard errors are cluster-robust by unit (Bertrand, Duflo & Mullainathan 2004).",
        )

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "outcome": self.outcome, "did_estimate": self.estimate, "se": self.se,
            "ci_low": self.ci_low, "ci_high": self.ci_high, "p_value": self.p_value,
            "n_units": self.n_units, "n_rows": self.n_rows, "evidence": "observational (DiD)",
        }]).set_index("outcome")

    def to_dict(self) -> dict[str, Any]:
        """Flat keys ``did_estimate``, ``did_se``, ``did_ci_low``, ``did_ci_high``,
        ``did_p_value``, ``did_n_units`` and ``evidence`` ("observational").

        Returns
        -------
        dict
            Plain JSON values (NaN becomes None).
        """
        return to_jsonable({
            "did_estimate": self.estimate, "did_se": self.se, "did_ci_low": self.ci_low,
            "did_ci_high": self.ci_high, "did_p_value": self.p_value, "did_n_units": self.n_units,
            "evidence": "observational",
        })

    def _repr_html_(self) -> str:
        fmt = lambda x: f"{x:,.4g}"  # noqa: E731
        notes = "".join(f"<p><i>{html.escape(n)}</i></p>" for n in self.notes)
        return (f"<h4>{html.escape(self.title)}</h4>{notes}"
                + self.summary.to_html(float_format=fmt) + self.means.to_html(float_format=fmt))


def diff_in_diff(
    data: pd.DataFrame,
    *,
    outcome: str,
    treated: str,
    post: str,
    unit: str,
    alpha: float = 0.05,
) -> DiDResult:
    """Effect of a campaign that was not randomised, from pre/post periods.

    Fits ``outcome ~ treated + post + treated:post`` by OLS (statsmodels) with standard errors
    clustered by ``unit`` (customer or store); the interaction is the estimate. This is
    weaker evidence than a randomised test: it rests on parallel trends (Angrist & Pischke
    2009, ch. 5; Bertrand, Duflo & Mullainathan 2004).

    Parameters
    ----------
    data : pandas.DataFrame
        Long table, one row per unit and period.
    outcome : str
        Outcome column.
    treated : str
        0/1 (or bool) column, 1 for units that received the campaign.
    post : str
        0/1 (or bool) column, 1 for periods after the campaign started.
    unit : str
        Column identifying the unit, used for clustering.
    alpha : float
        Significance level; the interval is ``1 - alpha``.

    Returns
    -------
    DiDResult
    """
    import statsmodels.api as sm

    require_columns(data, {"outcome": outcome, "treated": treated, "post": post, "unit": unit},
                    what=WHAT, fix="pass {role}= with the name of the {role} column")
    y = values(data, outcome, None)
    tr = values(data, treated, None, role="treated indicator")
    po = values(data, post, None, role="post-period indicator")
    for col, v in ((treated, tr), (post, po)):
        if not is_binary(v):
            raise DataError("indicator is not 0/1", column=col,
                            value=sorted(pd.unique(v))[:5], expected="0/1 or True/False")
    cells = pd.crosstab(tr, po)
    if cells.shape != (2, 2) or (cells.to_numpy() == 0).any():
        raise DataError("difference-in-differences needs treated and comparison units both "
                        "before and after", column=f"{treated}, {post}",
                        value=cells.to_dict(), fix="check the treated and post columns")
    groups, _ = pd.factorize(data[unit])
    if (groups < 0).any():
        raise DataError("unit has missing values", column=unit, fix="drop rows without a unit")
    X = np.column_stack([np.ones_like(y), tr, po, tr * po])
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
    est, se, p = float(fit.params[3]), float(fit.bse[3]), float(fit.pvalues[3])
    lo, hi = (float(v) for v in fit.conf_int(alpha=alpha)[3])
    means = (pd.DataFrame({"y": y, "group": np.where(tr == 1, "treated", "comparison"),
                           "period": np.where(po == 1, "post", "pre")})
             .pivot_table(index="group", columns="period", values="y", aggfunc="mean")
             [["pre", "post"]])
    means["change"] = means["post"] - means["pre"]
    return DiDResult(est, se, lo, hi, p, means, int(groups.max() + 1), len(y), outcome, alpha)
