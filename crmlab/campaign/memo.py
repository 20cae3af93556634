"""The steps of the campaign memo (notebook 04) that go beyond one library call.

The notebook shows results and explains them; what it decides (which money to count, which
arm meets which head to head, how the next test is sized, which numbers are published) is
written here once, where it is tested, instead of in cells.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab.campaign.design import PlanResult, holdout, plan
from crmlab.campaign.money import ROIResult, roi
from crmlab.campaign.readout import MeasureResult, measure

if TYPE_CHECKING:
    from crmlab.campaign.segments import SegmentEffectsResult

__all__ = ["cuped_table", "decision_money", "head_to_head", "memo_metrics", "next_test_plans",
           "split_names"]


def split_names(text: str) -> list[str]:
    """Column names from a comma-separated parameter (blanks dropped).

    Parameters
    ----------
    text : str
        ``"visit, conversion,spend"``.

    Returns
    -------
    list of str
    """
    return [s.strip() for s in text.split(",") if s.strip()]


def cuped_table(measured: MeasureResult) -> pd.DataFrame | None:
    """Plain and CUPED lift side by side, per outcome and arm (None without a covariate).

    Parameters
    ----------
    measured : MeasureResult

    Returns
    -------
    pandas.DataFrame or None
    """
    if not measured.covariate:
        return None
    return (measured.comparisons.set_index(["outcome", "arm"])
            [["lift_abs", "cuped_lift_abs", "cuped_ci_low", "cuped_ci_high", "cuped_p_adjusted",
              "variance_reduction"]])


def decision_money(measured: MeasureResult, outcome: str, *, revenue: str | None,
                   cost_per_contact: float, margin: float) -> ROIResult | None:
    """:func:`~crmlab.campaign.roi` on what can be counted as money.

    The decision outcome counts as conversions when it is binary; ``revenue`` as revenue.

    Parameters
    ----------
    measured : MeasureResult
    outcome : str
        The decision outcome.
    revenue : str or None
        The revenue outcome ("" or None: none).
    cost_per_contact, margin : float
        As in :func:`~crmlab.campaign.roi`.

    Returns
    -------
    ROIResult or None
        None when there is neither a binary decision outcome nor a revenue outcome.
    """
    binary = measured.kinds.get(outcome) == "binary"
    if not (revenue or binary):
        return None
    return roi(measured, cost_per_contact=cost_per_contact, margin=margin,
               conversion=outcome if binary else None, revenue=revenue or None)


def head_to_head(data: pd.DataFrame, measured: MeasureResult, outcome: str, *,
                 random_state: Any = 0) -> MeasureResult | None:
    """The best arm on ``outcome`` measured against the runner-up as control.

    Parameters
    ----------
    data : pandas.DataFrame
        The experiment table ``measured`` was read from.
    measured : MeasureResult
        The read-out against the control; its arm column, outcomes, correction and alpha are
        used again (no covariate).
    outcome : str
        The decision outcome that ranks the arms.
    random_state : int, numpy.random.Generator or None
        Seed for the bootstrap.

    Returns
    -------
    MeasureResult or None
        None when there is only one treatment arm.
    """
    ranked = measured.ranking(outcome)
    if len(ranked) < 2:
        return None
    return measure(data, arm=measured.arm, outcomes=measured.outcomes, control=ranked[1],
                   treatments=[ranked[0]], correction=measured.correction, alpha=measured.alpha,
                   random_state=random_state)


def next_test_plans(data: pd.DataFrame, measured: MeasureResult, outcome: str, *, mde_rel: float,
                    power: float, audience: int = 0) -> dict[str, PlanResult]:
    """Size of the next test, what this one could detect, and the next campaign's holdout.

    The baseline is the control's rate (binary outcome) or mean (amount, with the control's
    standard deviation) on the decision outcome.

    Parameters
    ----------
    data : pandas.DataFrame
        The experiment table ``measured`` was read from.
    measured : MeasureResult
    outcome : str
        The decision outcome.
    mde_rel : float
        Relative lift the next test must detect (0.25: +25 %).
    power : float
        Power of the next test; alpha is the read-out's.
    audience : int
        Customers the next campaign can reach (0: as many as in this test).

    Returns
    -------
    dict
        ``"next_test"`` (:func:`~crmlab.campaign.plan` for ``mde_rel``), ``"this_test"``
        (the MDE at this test's control size) and ``"holdout"``
        (:func:`~crmlab.campaign.holdout`).
    """
    top = measured.lift(outcome, measured.ranking(outcome)[0])
    baseline, alpha = top["control_value"], measured.alpha
    kind = "proportion" if measured.kinds[outcome] == "binary" else "mean"
    sd = None if kind == "proportion" else float(
        data.loc[data[measured.arm] == measured.control, outcome].std())
    return {
        "next_test": plan(baseline, mde=mde_rel, relative=True, power=power, alpha=alpha,
                          kind=kind, sd=sd),
        "this_test": plan(baseline, n_per_arm=int(top["n_control"]), power=power, alpha=alpha,
                          kind=kind, sd=sd),
        "holdout": holdout(audience or len(data), baseline, mde_rel, relative=True, power=power,
                           alpha=alpha, kind=kind, sd=sd),
    }


def memo_metrics(data: pd.DataFrame, measured: MeasureResult, outcome: str, *,
                 segments: SegmentEffectsResult, money: ROIResult | None,
                 head_to_head: MeasureResult | None, plans: dict[str, PlanResult]) -> dict[str, Any]:
    """The headline numbers notebook 04 publishes to ``metrics.json``.

    ``campaign_best_arm`` and ``campaign_best_lift`` (relative lift on the decision outcome)
    are read by the strategy report; ``measure__*`` repeats :meth:`MeasureResult.to_dict`.

    Parameters
    ----------
    data : pandas.DataFrame
        The experiment table.
    measured : MeasureResult
    outcome : str
        The decision outcome.
    segments : SegmentEffectsResult
    money : ROIResult or None
    head_to_head : MeasureResult or None
    plans : dict
        From :func:`next_test_plans`.

    Returns
    -------
    dict
    """
    best = measured.ranking(outcome)[0]
    top = measured.lift(outcome, best)
    inter = segments.interaction
    best_seg = inter[(inter["arm"] == best) & (inter["outcome"] == outcome)]
    vr = measured.variance_reduction
    mrow = money.table.loc[best] if money is not None else None
    return dict(
        n_customers=len(data),
        srm_p_value=measured.srm["p_value"],
        srm_failed=measured.srm["failed"],
        best_arm=best,
        campaign_best_arm=best,  # names read by crmlab.strategy.key_findings
        campaign_best_lift=top["lift_rel"],
        campaign_outcome=outcome,
        best_lift_abs=top["lift_abs"],
        best_lift_rel=top["lift_rel"],
        best_p_adjusted=top["p_adjusted"],
        best_significant=bool(top["significant"]),
        variance_reduction=None if vr is None else float(vr.get(outcome)),
        roi=None if mrow is None else mrow.get("roi"),
        net_return=None if mrow is None else mrow.get("net_return"),
        head_to_head_p_value=None if head_to_head is None else head_to_head.lift(outcome, best)["p_value"],
        segments_differing=", ".join(best_seg.loc[best_seg["differs"], "dimension"]),
        next_test_n_per_arm=int(plans["next_test"]["n_per_arm"]),
        this_test_mde_rel=plans["this_test"]["mde_rel"],
        holdout=int(plans["holdout"]["holdout"]),
        holdout_feasible=bool(plans["holdout"]["feasible"]),
        **{f"measure__{k}": v for k, v in measured.to_dict().items()},
    )
