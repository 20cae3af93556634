"""The campaign read-out in sentences.

Every sentence a campaign result, the notebook or the strategy report shows is built here
from the numbers, so that it stays true when the analysis is run on another test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from crmlab.campaign.design import PlanResult
    from crmlab.campaign.money import ROIResult
    from crmlab.campaign.readout import MeasureResult
    from crmlab.campaign.segments import SegmentEffectsResult

__all__ = [
    "arms_sentence",
    "best_arm_sentence",
    "bullets",
    "cuped_sentence",
    "head_to_head_sentence",
    "money_sentence",
    "next_test_sentence",
    "recommend",
    "segment_recommendations",
    "srm_sentence",
]


def segment_recommendations(table: pd.DataFrame, interaction: pd.DataFrame) -> list[str]:
    """Whom to target, one sentence per interaction row of :func:`~crmlab.campaign.segment_effects`.

    Parameters
    ----------
    table : pandas.DataFrame
        Per-segment lifts with their ``action``.
    interaction : pandas.DataFrame
        Interaction tests with ``p_value``, ``p_adjusted`` and ``differs``.

    Returns
    -------
    list of str
    """
    rec = []
    for _, r in interaction.iterrows():
        t = table[(table["dimension"] == r["dimension"]) & (table["outcome"] == r["outcome"])
                  & (table["arm"] == r["arm"])]
        tg = t[t["action"] == "target"].sort_values("lift_abs", ascending=False)
        av = t[t["action"] == "avoid"]
        names = ", ".join(map(str, tg["segment"])) or "no segment"
        if r["differs"]:
            msg = (f"{r['arm']} on {r['outcome']}: the effect differs by {r['dimension']} "
                   f"(interaction p={r['p_value']:.3g}, adjusted {r['p_adjusted']:.3g}); "
                   f"target {names}")
            if len(av):
                msg += f"; avoid {', '.join(map(str, av['segment']))}"
        else:
            msg = (f"{r['arm']} on {r['outcome']}: no evidence that the effect differs by "
                   f"{r['dimension']} (interaction p={r['p_value']:.3g}, adjusted "
                   f"{r['p_adjusted']:.3g}); judge the arm on its overall lift (segments with a "
                   f"clearly positive lift: {names})")
        rec.append(msg + ".")
    return rec


def recommend(
    measured: MeasureResult,
    outcome: str,
    *,
    head_to_head: MeasureResult | None = None,
    segments: SegmentEffectsResult | None = None,
    money: ROIResult | None = None,
    next_test: PlanResult | None = None,
    holdout_plan: PlanResult | None = None,
) -> list[str]:
    """The read-out in sentences: which arm, to whom, whether it pays, how large the next test.

    Parameters
    ----------
    measured : MeasureResult
        The test read-out from :func:`~crmlab.campaign.measure`.
    outcome : str
        The outcome the decision rests on (e.g. ``"conversion"``).
    head_to_head : MeasureResult, optional
        :func:`~crmlab.campaign.measure` of the best arm against the runner-up (runner-up as
        control).
    segments : SegmentEffectsResult, optional
        :func:`~crmlab.campaign.segment_effects` for the same outcome.
    money : ROIResult, optional
        :func:`~crmlab.campaign.roi` of ``measured``.
    next_test, holdout_plan : PlanResult, optional
        :func:`~crmlab.campaign.plan` and :func:`~crmlab.campaign.holdout` for the next
        campaign.

    Returns
    -------
    list of str
        Sentences, the most important first.
    """
    lines: list[str] = []
    if measured.srm["failed"]:
        lines.append("Do not act on this test: " + measured.srm["message"])
    ranked = measured.ranking(outcome)
    best = ranked[0]
    row = measured.lift(outcome, best)
    kind = measured.kinds[outcome]
    fmt = (lambda v: f"{100 * v:.2f} points") if kind == "binary" else (lambda v: f"{v:,.3g}")
    if row["significant"] and row["lift_abs"] > 0:
        lines.append(
            f"Send {best}: it lifts {outcome} by {fmt(row['lift_abs'])} over {measured.control} "
            f"({row['lift_rel']:+.0%}; {100 * (1 - measured.alpha):.0f}% interval "
            f"{fmt(row['ci_low'])} to {fmt(row['ci_high'])}; adjusted p={row['p_adjusted']:.2g})."
        )
    else:
        lines.append(
            f"No arm lifts {outcome} significantly over {measured.control} (best: {best}, "
            f"adjusted p={row['p_adjusted']:.2g}); do not roll out on this evidence."
        )
    if head_to_head is not None and len(ranked) > 1:
        h = head_to_head.lift(outcome, best)
        other = head_to_head.control
        if h["p_value"] < measured.alpha and h["lift_abs"] > 0:
            lines.append(f"{best} also beats {other} head to head by {fmt(h['lift_abs'])} "
                         f"(p={h['p_value']:.2g}).")
        else:
            lines.append(f"{best} and {other} cannot be told apart head to head "
                         f"(difference {fmt(h['lift_abs'])}, p={h['p_value']:.2g}).")
    if segments is not None:
        lines.extend(_segment_lines(segments, best, outcome))
    if money is not None and best in money.table.index:
        lines.extend(_money_lines(money, best))
    if next_test is not None:
        p = next_test.table.iloc[0]
        lines.append(f"Next test: {int(p['n_per_arm']):,} customers per arm detect a lift of "
                     f"{p['mde_rel']:+.0%} on a baseline of {p['baseline']:.3g} with power "
                     f"{p['power']:.0%} at alpha {p['alpha']}.")
    if holdout_plan is not None:
        lines.extend(holdout_plan.notes)
    return lines


def _segment_lines(segments: SegmentEffectsResult, best: Any, outcome: str) -> list[str]:
    """One sentence per segment dimension: whether to target the best arm by it."""
    lines = []
    inter = segments.interaction
    inter = inter[(inter["arm"] == best) & (inter["outcome"] == outcome)]
    tab = segments.table
    for _, r in inter.iterrows():
        t = tab[(tab["arm"] == best) & (tab["outcome"] == outcome)
                & (tab["dimension"] == r["dimension"])]
        tg = t[t["action"] == "target"].sort_values("lift_abs", ascending=False)
        names = ", ".join(map(str, tg["segment"])) or "none"
        if r["differs"]:
            lines.append(f"By {r['dimension']} the effect of {best} differs "
                         f"(interaction adjusted p={r['p_adjusted']:.2g}): target {names}.")
        else:
            lines.append(f"By {r['dimension']} there is no evidence that the effect of {best} "
                         f"differs (interaction adjusted p={r['p_adjusted']:.2g}); send it to "
                         f"all, clearly positive in: {names}.")
    return lines


def _money_lines(money: ROIResult, best: Any) -> list[str]:
    """Whether the best arm pays, when the money read-out has an ROI for it."""
    lines = []
    r = money.table.loc[best]
    if "roi" in r and np.isfinite(r.get("roi", np.nan)):
        verdict = ("pays for itself even at the low end of its interval" if r["roi_low"] > 0
                   else "pays on average but its interval includes a loss" if r["roi"] > 0
                   else "does not pay at these costs and margin")
        lines.append(f"Money: {best} returns a net {r['net_return']:,.0f} on a cost of "
                     f"{r['cost']:,.0f} (ROI {r['roi']:.0%}, interval {r['roi_low']:.0%} to "
                     f"{r['roi_high']:.0%}): it {verdict}.")
    return lines


# --------------------------------------------------------------------------------------
# the campaign memo (notebook 04), section by section
# --------------------------------------------------------------------------------------


def bullets(lines: Sequence[str]) -> str:
    """Sentences as a Markdown bullet list.

    Parameters
    ----------
    lines : sequence of str

    Returns
    -------
    str
    """
    return "\n".join(f"- {line}" for line in lines)


def arms_sentence(exp: pd.DataFrame, arm: str) -> str:
    """How many customers the test has, and how many in each arm (Markdown).

    Parameters
    ----------
    exp : pandas.DataFrame
        The experiment table.
    arm : str
        The arm column.

    Returns
    -------
    str
    """
    return (f"The test has **{len(exp):,} customers** in {exp[arm].nunique()} arms of `{arm}`: "
            + ", ".join(f"{k} {v:,}" for k, v in exp[arm].value_counts().items()) + ".")


def srm_sentence(measured: MeasureResult) -> str:
    """The sample-ratio check's message, in bold when it failed (Markdown).

    Parameters
    ----------
    measured : MeasureResult

    Returns
    -------
    str
    """
    msg = measured.srm["message"]
    return ("**" + msg + "**") if measured.srm["failed"] else msg


def best_arm_sentence(measured: MeasureResult, outcome: str) -> str:
    """Which arm lifts ``outcome`` most, by how much, and the skewness notes (Markdown).

    Parameters
    ----------
    measured : MeasureResult
    outcome : str
        The decision outcome.

    Returns
    -------
    str
    """
    best = measured.ranking(outcome)[0]
    top = measured.lift(outcome, best)
    return (
        f"On **{outcome}**, **{best}** has the largest lift: {top['control_value']:.4g} in the control "
        f"against {top['arm_value']:.4g} ({top['lift_rel']:+.0%}, interval {top['rel_ci_low']:+.0%} to "
        f"{top['rel_ci_high']:+.0%}, adjusted p={top['p_adjusted']:.2g}). "
        + " ".join(n for n in measured.notes[1:] if "too skewed" in n)
    )


def cuped_sentence(measured: MeasureResult) -> str:
    """How much CUPED reduced the variance, and what that says about the covariate.

    Parameters
    ----------
    measured : MeasureResult

    Returns
    -------
    str
    """
    covariate = measured.covariate
    if not covariate:
        return "No covariate given: CUPED skipped."
    vr = measured.variance_reduction
    return (f"CUPED on `{covariate}` reduces the variance of the lift by "
            + ", ".join(f"{v:.1%} for {o}" for o, v in vr.items())
            + f". The reduction is roughly the squared correlation between `{covariate}` and the outcome: "
            "the stronger the pre-period predicts the outcome, the smaller the test needed for the same "
            "precision. A small reduction says this covariate is not worth the added complexity; past "
            "behaviour in the same outcome (pre-period visits or purchases) usually predicts better.")


def money_sentence(money: ROIResult | None, best: Any) -> str:
    """What the best arm cost and returned, from :func:`~crmlab.campaign.roi` (Markdown).

    Parameters
    ----------
    money : ROIResult or None
    best : object
        The best arm.

    Returns
    -------
    str
    """
    if money is None:
        return "No money outcome measured."
    mrow = money.table.loc[best]
    cost_per_contact, margin = money.assumptions["cost_per_contact"], money.assumptions["margin"]
    nan = float("nan")
    return (f"At {cost_per_contact} per e-mail and a {margin:.0%} margin, **{best}** cost "
            f"{mrow['cost']:,.0f} for {int(mrow['contacts']):,} contacts and returned a net "
            f"{mrow.get('net_return', nan):,.0f} (ROI {mrow.get('roi', nan):.0%}, interval "
            f"{mrow.get('roi_low', nan):.0%} to {mrow.get('roi_high', nan):.0%}). "
            "The interval comes from the revenue lift's interval: if its low end is negative, the campaign "
            "may not pay and the next test should be sized to settle it.")


def head_to_head_sentence(head_to_head: MeasureResult | None, outcome: str) -> str:
    """The best arm against the runner-up on ``outcome`` (Markdown).

    Parameters
    ----------
    head_to_head : MeasureResult or None
        The best arm measured against the runner-up as control.
    outcome : str

    Returns
    -------
    str
    """
    if head_to_head is None:
        return "Only one treatment arm: no head-to-head comparison."
    best = head_to_head.treatments[0]
    row = head_to_head.lift(outcome, best)
    return (f"Head to head, {best} against {head_to_head.control} on {outcome}: difference "
            f"{row['lift_abs']:.4g} (p={row['p_value']:.2g}).")


def next_test_sentence(next_test: PlanResult, this_test: PlanResult, holdout_plan: PlanResult,
                       mde_rel: float) -> str:
    """How large the next test must be and what this one could detect (Markdown).

    Parameters
    ----------
    next_test, this_test, holdout_plan : PlanResult
        Size of the next test, MDE of this one, holdout of the next campaign.
    mde_rel : float
        The relative lift the next test is sized for.

    Returns
    -------
    str
    """
    return (
        f"To detect a {mde_rel:+.0%} lift on a baseline of {next_test['baseline']:.4g} with "
        f"{next_test['power']:.0%} power, the next test needs **{int(next_test['n_per_arm']):,} "
        f"customers per arm**. With {int(this_test['n_per_arm']):,} per arm, this test could detect "
        f"lifts of {this_test['mde_rel']:+.0%} or more. " + " ".join(holdout_plan.notes)
    )
