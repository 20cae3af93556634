"""Money from a measured campaign: cost, incremental conversions and revenue, margin, ROI
and lifetime value, each with the interval its lift carries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlab.campaign.io import slug
from crmlab.errors import DataError, ParameterError
from crmlab.results import Result, to_jsonable

if TYPE_CHECKING:
    from crmlab.campaign.readout import MeasureResult

__all__ = ["ROIResult", "roi"]


class ROIResult(Result):
    """Incremental conversions, revenue, margin, cost and ROI per treatment arm.

    Built by :func:`roi`.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per treatment arm.
    assumptions : dict
        The cost, margin, fixed cost and CLV the numbers rest on.
    """

    title = "Campaign return on investment"

    def __init__(self, table: pd.DataFrame, assumptions: dict):
        self.table = table
        self.assumptions = assumptions
        self.notes = (
            "Assumptions: " + ", ".join(f"{k}={v}" for k, v in assumptions.items() if v is not None),
            "Incremental = (arm value - control value) x contacts in the arm; intervals carry "
            "the lift intervals through.",
        )

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        """Flat keys ``<arm>__<metric>`` (arm through :func:`~crmlab.campaign.slug`).

        Returns
        -------
        dict
            Plain JSON values (NaN becomes None).
        """
        out: dict[str, Any] = {}
        for arm_label, r in self.table.iterrows():
            for m, v in r.items():
                out[f"{slug(arm_label)}__{m}"] = v
        return to_jsonable(out)


def roi(
    measured: MeasureResult,
    *,
    cost_per_contact: float,
    margin: float,
    conversion: str | None = "conversion",
    revenue: str | None = "spend",
    clv: float | pd.Series | pd.DataFrame | None = None,
    fixed_cost: float = 0.0,
) -> ROIResult:
    """Money from a measured campaign: what the contacts cost and what they brought in.

    Parameters
    ----------
    measured : MeasureResult
        Result of :func:`~crmlab.campaign.measure` containing the conversion and/or revenue
        outcome.
    cost_per_contact : float
        Cost of one contact (e-mail, letter, call), in currency units.
    margin : float
        Gross margin on revenue, as a fraction (0.3 = 30 %).
    conversion, revenue : str or None
        Outcome names in ``measured`` (None to skip one).
    clv : float, pandas.Series or pandas.DataFrame, optional
        Lifetime value of a newly converted customer: a number, or a CLV table (Series, or
        DataFrame with a ``clv`` column, e.g. predicted by ``crmlab.ltv``) whose mean is used.
    fixed_cost : float
        Set-up cost of the campaign per arm (creative, tooling).

    Returns
    -------
    ROIResult
        Per treatment arm: contacts, cost, incremental conversions and revenue (with
        intervals), incremental margin, net return (margin - cost), ROI (net / cost) with
        interval, cost per incremental conversion, break-even revenue lift per contact, and
        with ``clv`` the incremental lifetime value and lifetime ROI.
    """
    if cost_per_contact is None or not np.isfinite(cost_per_contact) or cost_per_contact < 0:
        raise ParameterError("cost_per_contact must be a non-negative number", value=cost_per_contact)
    if margin is None or not 0 <= margin <= 1:
        raise ParameterError("margin must be a fraction between 0 and 1", value=margin,
                             fix="give 0.3 for a 30 % gross margin")
    if fixed_cost < 0:
        raise ParameterError("fixed_cost must not be negative", value=fixed_cost)
    for o in (conversion, revenue):
        if o is not None and o not in measured.outcomes:
            raise ParameterError("outcome was not measured", value=o,
                                 expected=f"one of {measured.outcomes} or None")
    clv_value = _clv_value(clv)
    rows = {t: _arm_money(measured, t, cost_per_contact, margin, conversion, revenue, clv_value,
                          fixed_cost) for t in measured.treatments}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = measured.arm
    return ROIResult(table, {"cost_per_contact": cost_per_contact, "margin": margin,
                             "fixed_cost": fixed_cost, "clv_per_converted": clv_value})


def _clv_value(clv) -> float | None:
    """The lifetime value of one converted customer from a number or a CLV table."""
    if clv is None:
        return None
    if isinstance(clv, pd.DataFrame):
        if "clv" not in clv.columns:
            raise DataError("CLV table has no 'clv' column", column="clv",
                            expected=f"one of {list(clv.columns)}")
        clv = clv["clv"]
    clv_value = float(pd.Series(clv).mean()) if not np.isscalar(clv) else float(clv)
    if not np.isfinite(clv_value):
        raise ParameterError("clv must be a finite number or a table of numbers", value=clv_value)
    return clv_value


def _arm_money(measured, t, cost_per_contact, margin, conversion, revenue, clv_value,
               fixed_cost) -> dict[str, Any]:
    """The money row of treatment arm ``t``."""
    n_t = int(measured.arms.loc[t, "n"])
    cost = cost_per_contact * n_t + fixed_cost
    r: dict[str, Any] = {"contacts": n_t, "cost": cost}
    if conversion is not None:
        c = measured.lift(conversion, t)
        r.update(incremental_conversions=c["lift_abs"] * n_t,
                 incremental_conversions_low=c["ci_low"] * n_t,
                 incremental_conversions_high=c["ci_high"] * n_t)
        inc = r["incremental_conversions"]
        r["cost_per_incremental_conversion"] = cost / inc if inc > 0 else np.nan
    if revenue is not None:
        c = measured.lift(revenue, t)
        inc_rev = c["lift_abs"] * n_t
        lo, hi = c["ci_low"] * n_t, c["ci_high"] * n_t
        net = margin * inc_rev - cost
        r.update(incremental_revenue=inc_rev, incremental_revenue_low=lo,
                 incremental_revenue_high=hi, incremental_margin=margin * inc_rev,
                 net_return=net, net_return_low=margin * lo - cost,
                 net_return_high=margin * hi - cost)
        if cost > 0:
            r.update(roi=net / cost, roi_low=(margin * lo - cost) / cost,
                     roi_high=(margin * hi - cost) / cost)
        r["break_even_revenue_per_contact"] = (cost / n_t) / margin if margin > 0 else np.inf
    if clv_value is not None and conversion is not None:
        r["clv_per_converted"] = clv_value
        r["incremental_clv"] = r["incremental_conversions"] * clv_value
        r["clv_roi"] = (r["incremental_clv"] - cost) / cost if cost > 0 else np.nan
    return r
