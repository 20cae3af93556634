"""The campaign read-out in sentences, in English or Korean.

Every sentence a campaign result, the notebook or the strategy report shows is built here
from the numbers, so that it stays true when the analysis is run on another test. The
templates are in :mod:`crmlab.campaign.texts` (English) and ``crmlab/i18n/ko/campaign.yml``
(Korean).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from crmlab.campaign.texts import text
from crmlab.report import escape_markdown
from crmlab.results import fmt_number

if TYPE_CHECKING:
    from crmlab.campaign.design import PlanResult
    from crmlab.campaign.memo import ExperimentSetup
    from crmlab.campaign.money import ROIResult
    from crmlab.campaign.readout import MeasureResult
    from crmlab.campaign.segments import SegmentEffectsResult

__all__ = [
    "best_arm_sentence",
    "bullets",
    "cuped_sentence",
    "data_sentence",
    "head_to_head_sentence",
    "holdout_sentences",
    "measure_notes",
    "money_sentence",
    "next_test_sentence",
    "num",
    "p_text",
    "recommend",
    "segment_recommendations",
    "srm_sentence",
    "targeting_sentences",
]


def num(value: Any) -> str:
    """A number as a sentence shows it: never scientific notation (:func:`crmlab.results.fmt_number`).

    Parameters
    ----------
    value : float

    Returns
    -------
    str
    """
    return str(fmt_number(float(value)))


def p_text(p: Any) -> str:
    """A p-value as a sentence shows it: ``p=0.0045``, ``p<0.0001`` (never ``p=5.2e-20``).

    Parameters
    ----------
    p : float

    Returns
    -------
    str
    """
    p = float(p)
    return "p<0.0001" if 0 <= p < 0.0001 else f"p={fmt_number(p)}"


def _pct(v: float, sign: bool = False) -> str:
    return "n/a" if not np.isfinite(v) else (f"{v:+.0%}" if sign else f"{v:.0%}")


def _money(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:,.0f}"


def _names(values: Any, lang: str, none_key: str = "none") -> str:
    return ", ".join(map(str, values)) or text(none_key, lang)


def segment_recommendations(table: pd.DataFrame, interaction: pd.DataFrame, lang: str = "en") -> list[str]:
    """Whom to target, one sentence per interaction row of :func:`~crmlab.campaign.segment_effects`.

    Parameters
    ----------
    table : pandas.DataFrame
        Per-segment lifts with their ``action``.
    interaction : pandas.DataFrame
        Interaction tests with ``p_value``, ``p_adjusted`` and ``differs``.
    lang : str

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
        values = dict(arm=r["arm"], outcome=r["outcome"], dimension=r["dimension"], p=p_text(r["p_value"]),
                      p_adjusted=num(r["p_adjusted"]), names=_names(tg["segment"], lang, "no_segment"))
        msg = text("rec_differs" if r["differs"] else "rec_same", lang, **values)
        if r["differs"] and len(av):
            msg += text("rec_avoid", lang, names=", ".join(map(str, av["segment"])))
        rec.append(msg + ".")
    return rec


def _lift_fmt(kind: str, lang: str):
    if kind == "binary":
        return lambda v: text("points", lang, v=f"{100 * v:.2f}")
    return num


def recommend(
    measured: MeasureResult,
    outcome: str,
    *,
    head_to_head: MeasureResult | None = None,
    segments: SegmentEffectsResult | None = None,
    money: ROIResult | None = None,
    next_test: PlanResult | None = None,
    holdout_plan: PlanResult | None = None,
    lang: str = "en",
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
    lang : str
        ``en`` or ``ko``.

    Returns
    -------
    list of str
        Sentences, the most important first.
    """
    lines: list[str] = []
    if measured.srm["failed"]:
        lines.append(text("srm_do_not_act", lang, message=srm_sentence(measured, lang).strip("*")))
    ranked = measured.ranking(outcome)
    best = ranked[0]
    row = measured.lift(outcome, best)
    fmt = _lift_fmt(measured.kinds[outcome], lang)
    if row["significant"] and row["lift_abs"] > 0:
        lines.append(text("send", lang, best=best, outcome=outcome, lift=fmt(row["lift_abs"]),
                          control=measured.control, rel=_pct(row["lift_rel"], True),
                          level=f"{100 * (1 - measured.alpha):.0f}", low=fmt(row["ci_low"]),
                          high=fmt(row["ci_high"]), p=p_text(row["p_adjusted"])))
    else:
        lines.append(text("no_lift", lang, outcome=outcome, control=measured.control, best=best,
                          p=p_text(row["p_adjusted"])))
    if head_to_head is not None and len(ranked) > 1:
        h = head_to_head.lift(outcome, best)
        key = "h2h_beats" if h["p_value"] < measured.alpha and h["lift_abs"] > 0 else "h2h_tie"
        lines.append(text(key, lang, best=best, other=head_to_head.control, diff=fmt(h["lift_abs"]),
                          p=p_text(h["p_value"])))
    if segments is not None:
        lines.extend(_segment_lines(segments, best, outcome, lang))
    if money is not None and best in money.table.index:
        lines.extend(_money_lines(money, best, lang))
    if next_test is not None:
        p = next_test.table.iloc[0]
        lines.append(text("next_line", lang, n=f"{int(p['n_per_arm']):,}", mde=_pct(p["mde_rel"], True),
                          baseline=num(p["baseline"]), power=_pct(p["power"]), alpha=p["alpha"]))
    if holdout_plan is not None:
        lines.extend(holdout_sentences(holdout_plan, lang))
    return lines


def _segment_lines(segments: SegmentEffectsResult, best: Any, outcome: str, lang: str) -> list[str]:
    """One sentence per segment dimension: whether to target the best arm by it."""
    lines = []
    inter = segments.interaction
    inter = inter[(inter["arm"] == best) & (inter["outcome"] == outcome)]
    tab = segments.table
    for _, r in inter.iterrows():
        t = tab[(tab["arm"] == best) & (tab["outcome"] == outcome)
                & (tab["dimension"] == r["dimension"])]
        tg = t[t["action"] == "target"].sort_values("lift_abs", ascending=False)
        lines.append(text("seg_differs" if r["differs"] else "seg_same", lang, dimension=r["dimension"],
                          best=best, p=p_text(r["p_adjusted"]), names=_names(tg["segment"], lang)))
    return lines


def _money_lines(money: ROIResult, best: Any, lang: str) -> list[str]:
    """Whether the best arm pays, when the money read-out has an ROI for it."""
    lines = []
    r = money.table.loc[best]
    if "roi" in r and np.isfinite(r.get("roi", np.nan)):
        verdict = ("pays_always" if r["roi_low"] > 0 else "pays_on_average" if r["roi"] > 0 else "does_not_pay")
        lines.append(text("money_line", lang, best=best, net=f"{r['net_return']:,.0f}", cost=f"{r['cost']:,.0f}",
                          roi=_pct(r["roi"]), low=_pct(r["roi_low"]), high=_pct(r["roi_high"]),
                          verdict=text(verdict, lang)))
    return lines


def holdout_sentences(holdout_plan: PlanResult, lang: str = "en") -> list[str]:
    """What :func:`~crmlab.campaign.holdout` advises: how many to hold out, or that the audience is too small.

    Parameters
    ----------
    holdout_plan : PlanResult
    lang : str

    Returns
    -------
    list of str
    """
    if lang == "en":
        return list(holdout_plan.notes)
    p = holdout_plan.table.iloc[0]
    if p["feasible"]:
        return [text("holdout_ok", lang, h=f"{int(p['holdout']):,}", audience=f"{int(p['audience']):,}",
                     share=f"{p['holdout_share']:.1%}", rest=f"{int(p['contacted']):,}")]
    return [text("holdout_small", lang, audience=f"{int(p['audience']):,}", mde_abs=num(p["mde_abs"]),
                 mde_rel=_pct(p["mde_rel"], True), power=_pct(p["power"]), achieved=_pct(p["achieved_power"]))]


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


def data_sentence(setup: ExperimentSetup, lang: str = "en") -> str:
    """What the test is: its name, customers per arm, control, outcomes, and what was left out.

    Parameters
    ----------
    setup : ExperimentSetup
        From :func:`crmlab.campaign.memo.experiment_setup`.
    lang : str

    Returns
    -------
    str
        Markdown.
    """
    exp, arm = setup.data, setup.arm
    counts = ", ".join(f"{escape_markdown(k)} {v:,}" for k, v in exp[arm].value_counts().items())
    lines = [text("data", lang, name=escape_markdown(setup.name), n=f"{len(exp):,}", k=exp[arm].nunique(),
                  arm=arm, counts=counts, control=escape_markdown(setup.control),
                  outcomes=", ".join(f"`{o}`" for o in setup.outcomes), outcome=setup.outcome)]
    if setup.missing_segments:
        lines.append(text("missing_segments", lang, columns=", ".join(f"`{c}`" for c in setup.missing_segments)))
    if setup.missing_covariate:
        lines.append(text("missing_covariate", lang, column=setup.missing_covariate))
    return "\n\n".join(lines)


def srm_sentence(measured: MeasureResult, lang: str = "en") -> str:
    """The sample-ratio check's message, in bold when it failed (Markdown).

    Parameters
    ----------
    measured : MeasureResult
    lang : str

    Returns
    -------
    str
    """
    srm = measured.srm
    if lang == "en":
        msg = srm["message"]
    else:
        msg = text("srm_failed" if srm["failed"] else "srm_passed", lang, chi2=f"{srm['chi2']:.2f}",
                   p=p_text(srm["p_value"]))
    return ("**" + msg + "**") if srm["failed"] else msg


def measure_notes(measured: MeasureResult, lang: str = "en") -> list[str]:
    """The read-out's notes beyond the sample-ratio message: skewed amounts, CUPED, correction.

    Parameters
    ----------
    measured : MeasureResult
    lang : str

    Returns
    -------
    list of str
    """
    if lang == "en":
        return [n for n in measured.notes if n != measured.srm["message"]]
    comp = measured.comparisons
    notes = _skew_notes(measured, lang)
    vr = measured.variance_reduction
    if vr is not None:
        notes.append(text("cuped_note", lang, covariate=measured.covariate,
                          reductions=", ".join(f"{100 * v:.1f}% ({o})" for o, v in vr.items())))
    if measured.correction not in (None, "none") and len(comp) > 1:
        notes.append(text("correction_note", lang, correction=measured.correction, n=len(comp)))
    return notes


def best_arm_sentence(measured: MeasureResult, outcome: str, lang: str = "en") -> str:
    """Which arm lifts ``outcome`` most, by how much, and the skewness notes (Markdown).

    Parameters
    ----------
    measured : MeasureResult
    outcome : str
        The decision outcome.
    lang : str

    Returns
    -------
    str
    """
    best = measured.ranking(outcome)[0]
    top = measured.lift(outcome, best)
    return text("best_arm", lang, outcome=outcome, best=best, control_value=num(top["control_value"]),
                arm_value=num(top["arm_value"]), rel=_pct(top["lift_rel"], True),
                low=_pct(top["rel_ci_low"], True), high=_pct(top["rel_ci_high"], True),
                p=p_text(top["p_adjusted"]), notes=" ".join(_skew_notes(measured, lang)))


def _skew_notes(measured: MeasureResult, lang: str) -> list[str]:
    if lang == "en":
        return [n for n in measured.notes if "too skewed" in n]
    return [text("skew_note", lang, outcome=r["outcome"], arm=r["arm"], control=measured.control)
            for _, r in measured.comparisons.iterrows() if "bootstrap" in str(r.get("ci_method", ""))]


def cuped_sentence(measured: MeasureResult, lang: str = "en") -> str:
    """How much CUPED reduced the variance, and what that says about the covariate.

    Parameters
    ----------
    measured : MeasureResult
    lang : str

    Returns
    -------
    str
    """
    covariate = measured.covariate
    if not covariate:
        return text("cuped_none", lang)
    vr = measured.variance_reduction
    return text("cuped", lang, covariate=covariate,
                reductions=", ".join(text("reduction_for", lang, v=f"{v:.1%}", outcome=o) for o, v in vr.items()))


def money_sentence(money: ROIResult | None, best: Any, lang: str = "en") -> str:
    """What the best arm cost and returned, from :func:`~crmlab.campaign.roi` (Markdown).

    Parameters
    ----------
    money : ROIResult or None
    best : object
        The best arm.
    lang : str

    Returns
    -------
    str
    """
    if money is None:
        return text("money_none", lang)
    mrow = money.table.loc[best]
    nan = float("nan")
    return text("money", lang, cost_per_contact=num(money.assumptions["cost_per_contact"]),
                margin=_pct(money.assumptions["margin"]), best=best, cost=f"{mrow['cost']:,.0f}",
                contacts=f"{int(mrow['contacts']):,}", net=_money(mrow.get("net_return", nan)),
                roi=_pct(mrow.get("roi", nan)), low=_pct(mrow.get("roi_low", nan)), high=_pct(mrow.get("roi_high", nan)))


def head_to_head_sentence(head_to_head: MeasureResult | None, outcome: str, lang: str = "en") -> str:
    """The best arm against the runner-up on ``outcome`` (Markdown).

    Parameters
    ----------
    head_to_head : MeasureResult or None
        The best arm measured against the runner-up as control.
    outcome : str
    lang : str

    Returns
    -------
    str
    """
    if head_to_head is None:
        return text("h2h_none", lang)
    best = head_to_head.treatments[0]
    row = head_to_head.lift(outcome, best)
    return text("h2h", lang, best=best, other=head_to_head.control, outcome=outcome, diff=num(row["lift_abs"]),
                p=p_text(row["p_value"]))


def next_test_sentence(next_test: PlanResult, this_test: PlanResult, holdout_plan: PlanResult,
                       mde_rel: float, lang: str = "en") -> str:
    """How large the next test must be and what this one could detect (Markdown).

    Parameters
    ----------
    next_test, this_test, holdout_plan : PlanResult
        Size of the next test, MDE of this one, holdout of the next campaign.
    mde_rel : float
        The relative lift the next test is sized for.
    lang : str

    Returns
    -------
    str
    """
    return text("next_test", lang, mde=_pct(mde_rel, True), baseline=num(next_test["baseline"]),
                power=_pct(next_test["power"]), n=f"{int(next_test['n_per_arm']):,}",
                this_n=f"{int(this_test['n_per_arm']):,}", this_mde=_pct(this_test["mde_rel"], True),
                holdout=" ".join(holdout_sentences(holdout_plan, lang)))


def targeting_sentences(plan: dict, control: Any, cost: float, lang: str = "en") -> list[str]:
    """The uplift-targeting findings of :func:`~crmlab.campaign.memo.targeting_plan`, one line
    per outcome, fallbacks first.

    Parameters
    ----------
    plan : dict
        ``arm``, ``results`` and ``notes`` from the targeting plan.
    control : object
        The control arm's label.
    cost : float
        Cost per contact.
    lang : str

    Returns
    -------
    list of str
    """
    lines = [text(f"targeting_{key}", lang, **vals) for key, vals in plan["notes"]]
    for outcome, res in plan["results"].items():
        b = res.best
        if b["share"] > 0:
            decision = text("targeting_contact", lang, share=_pct(b["share"]), profit=_money(b["profit"]),
                            low=_money(b["profit_low"]), high=_money(b["profit_high"]),
                            vs_all=_money(b["vs_all"]), vlow=_money(b["vs_all_low"]),
                            vhigh=_money(b["vs_all_high"]), all=_money(b["send_all"]))
        else:
            decision = text("targeting_nobody", lang, cost=num(cost), all=_money(b["send_all"]))
        m = res.metrics
        lines.append(text("targeting_outcome", lang, outcome=outcome, arm=plan["arm"], control=control,
                          n=f"{m['holdout_size']:,}", u30=num(m["uplift_at_30"]),
                          u_all=num(res.table["uplift"].iloc[-1]), qini=num(m["qini_coefficient"]),
                          decision=decision))
    return lines
