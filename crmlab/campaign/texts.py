"""The fixed texts of the campaign memo (notebook 04), by key, in English.

The Korean texts are in ``crmlab/i18n/ko/campaign.yml`` under the same keys prefixed with
``campaign.`` (``campaign.intro``). Sentence
templates (``{name}`` fields) are filled by :mod:`crmlab.campaign.narrative` from the numbers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TEXTS", "text"]

TEXTS: dict[str, str] = {
    "title": "Campaign measurement: did the campaign work, for whom, and does it pay?",
    "intro": (
        "**Question.** A campaign was sent to randomised groups of customers and one group was held back. "
        "Which arm should we send, to which customers, is it worth its cost, and how large must the next test "
        "be? Every campaign is judged against its control group and by customer type, not on average.\n\n"
        "**Method.** Sample-ratio check first, then lift per arm with confidence intervals (two-proportion "
        "z-test for rates, Welch's t-test or a bootstrap for amounts), multiple-testing correction, CUPED "
        "variance reduction with a pre-period covariate, effects by segment with an interaction test, money, "
        "and power for the next test."),
    "srm_intro": (
        "Before any lift is read, the arm sizes are checked against the intended equal split with a "
        "chi-square test. A p-value below 0.001 means assignment or logging is broken, and then no lift in "
        "this report can be trusted."),
    "arms_after": (
        "The table shows each arm's size against its intended share and the raw rate or mean of each "
        "outcome. If the check above passed, the arms are comparable and the differences between them are "
        "the campaign's doing."),
    "lift_intro": (
        "Each arm against the control: absolute lift (rates in points, amounts in currency per customer), "
        "relative lift, intervals and p-values corrected for the number of comparisons made."),
    "lift_after": (
        "One row per arm and outcome. `lift_abs` is the difference to the control (for rates, a share: 0.01 "
        "is one percentage point), `lift_rel` the same relative to the control; `significant` uses the "
        "corrected p-value, so it stays honest although several arms and outcomes are tested at once."),
    "skew_after": (
        "Relative lifts are easier to compare across outcomes, absolute lifts are what money is made of. "
        "Where an amount is too skewed for the t-test (a few large orders among many zeros), its interval is "
        "bootstrapped, as the notes say; read those p-values with that care."),
    "cuped_intro": (
        "CUPED subtracts the part of each outcome that the pre-period covariate predicts, which keeps the "
        "estimate unbiased (the covariate was fixed before randomisation) and shrinks its variance."),
    "segments_intro": (
        "The average hides who responds. For each segment column the lift of each arm is estimated within "
        "each segment, and an interaction test asks whether the differences between segments are larger "
        "than chance. Only where that test says the effect differs should targeting by segment be trusted."),
    "segments_after": (
        "One row per segment column and arm: `q` is Cochran's heterogeneity statistic over the segment lifts "
        "and `p_adjusted` its p-value corrected for the number of columns and arms scanned. Only a "
        "difference flagged in `differs` is evidence that the arm works better for some customer types than "
        "for others. Segments marked \"target\" have a lift interval entirely above zero; \"avoid\" entirely "
        "below."),
    "no_segments": "No segment column was analysed: the effect is read on average only.",
    "missing_segments": "The data has no column {columns}: left out of the segment analysis.",
    "missing_covariate": "The data has no column `{column}`: CUPED is skipped.",
    "money_intro": (
        "Incremental conversions and revenue are the lift times the contacts in the arm; the margin on that "
        "revenue against the cost of the contacts gives the net return and ROI. The cost per contact and the "
        "margin are assumptions, stated in the parameters."),
    "h2h_intro": (
        "Several arms beating the control does not tell which one to send. The best arm is tested head to "
        "head against the second best on the same outcomes."),
    "next_intro": (
        "The baseline is the control arm's rate or mean on the decision outcome. The plan gives the "
        "customers per arm needed to detect the stated relative lift, the smallest lift this test could "
        "have detected, and how many customers of the next campaign's audience to hold out as control."),
    "next_after": (
        "`n_per_arm` is the size of each arm for the stated lift, `mde_abs`/`mde_rel` that lift, and "
        "`achieved_power` the power at the rounded size. The holdout table below keeps the control as small "
        "as the power allows, so that as many customers as possible receive the campaign."),
    "closing": (
        "These sentences are generated from the numbers above, so they stay true when the report is run on "
        "another test. Act on the lift against control first, on segment targeting only where the "
        "interaction test supports it, and keep a randomised holdout in every campaign so that the next "
        "readout is as trustworthy as this one."),
    # sentences filled from the numbers (crmlab.campaign.narrative)
    "none": "none",
    "no_segment": "no segment",
    "points": "{v} points",
    "rec_differs": ("{arm} on {outcome}: the effect differs by {dimension} (interaction {p}, adjusted "
                    "{p_adjusted}); target {names}"),
    "rec_same": ("{arm} on {outcome}: no evidence that the effect differs by {dimension} (interaction {p}, "
                 "adjusted {p_adjusted}); judge the arm on its overall lift (segments with a clearly positive "
                 "lift: {names})"),
    "rec_avoid": "; avoid {names}",
    "srm_do_not_act": "Do not act on this test: {message}",
    "send": ("Send {best}: it lifts {outcome} by {lift} over {control} ({rel}; {level}% interval {low} to "
             "{high}; adjusted {p})."),
    "no_lift": ("No arm lifts {outcome} significantly over {control} (best: {best}, adjusted {p}); do not "
                "roll out on this evidence."),
    "h2h_beats": "{best} also beats {other} head to head by {diff} ({p}).",
    "h2h_tie": "{best} and {other} cannot be told apart head to head (difference {diff}, {p}).",
    "seg_differs": "By {dimension} the effect of {best} differs (interaction adjusted {p}): target {names}.",
    "seg_same": ("By {dimension} there is no evidence that the effect of {best} differs (interaction adjusted "
                 "{p}); send it to all, clearly positive in: {names}."),
    "money_line": "Money: {best} returns a net {net} on a cost of {cost} (ROI {roi}, interval {low} to {high}): it {verdict}.",
    "pays_always": "pays for itself even at the low end of its interval",
    "pays_on_average": "pays on average but its interval includes a loss",
    "does_not_pay": "does not pay at these costs and margin",
    "next_line": ("Next test: {n} customers per arm detect a lift of {mde} on a baseline of {baseline} with "
                  "power {power} at alpha {alpha}."),
    "holdout_ok": "Hold out {h} of {audience} customers ({share}) and contact the other {rest}.",
    "holdout_small": ("The audience of {audience} is too small to detect a lift of {mde_abs} ({mde_rel}) with "
                      "power {power}: even a 50/50 split reaches a power of only {achieved}. Test on a larger "
                      "audience or accept a larger minimum detectable effect."),
    "srm_passed": "Sample ratio check passed: chi-square {chi2}, {p} against the intended split.",
    "srm_failed": ("Sample ratio mismatch (chi-square {chi2}, {p}): assignment or logging is broken; do not "
                   "trust the lifts below until the cause is found."),
    "skew_note": ("{outcome}, {arm} vs {control}: the amount is too skewed for the t-test; intervals are "
                  "percentile bootstrap intervals, read the Welch p-value with care."),
    "cuped_note": "CUPED on {covariate}: variance of the lift reduced by {reductions}.",
    "correction_note": "p_adjusted: {correction} correction over {n} comparisons.",
    "best_arm": ("On **{outcome}**, **{best}** has the largest lift: {control_value} in the control against "
                 "{arm_value} ({rel}, interval {low} to {high}, adjusted {p}). {notes}"),
    "cuped_none": "No covariate given: CUPED skipped.",
    "reduction_for": "{v} for {outcome}",
    "cuped": ("CUPED on `{covariate}` reduces the variance of the lift by {reductions}. The reduction is "
              "roughly the squared correlation between `{covariate}` and the outcome: the stronger the "
              "pre-period predicts the outcome, the smaller the test needed for the same precision. A small "
              "reduction says this covariate is not worth the added complexity; past behaviour in the same "
              "outcome (pre-period visits or purchases) usually predicts better."),
    "money_none": "No money outcome measured.",
    "money": ("At {cost_per_contact} per contact and a {margin} margin, **{best}** cost {cost} for {contacts} "
              "contacts and returned a net {net} (ROI {roi}, interval {low} to {high}). The interval comes from "
              "the revenue lift's interval: if its low end is negative, the campaign may not pay and the next "
              "test should be sized to settle it."),
    "h2h_none": "Only one treatment arm: no head-to-head comparison.",
    "h2h": "Head to head, {best} against {other} on {outcome}: difference {diff} ({p}).",
    "next_test": ("To detect a {mde} lift on a baseline of {baseline} with {power} power, the next test needs "
                  "**{n} customers per arm**. With {this_n} per arm, this test could detect lifts of {this_mde} "
                  "or more. {holdout}"),
    "targeting_intro": (
        "Lift by segment says which groups respond on average; an uplift model ranks every customer by how "
        "much the e-mail changes *their* behaviour, from the columns known before sending. It is fitted on "
        "half of the randomised customers and judged on the other half: the uplift among the best-ranked 30 % "
        "and the Qini coefficient (0 = random ranking, 1 = perfect). A contact cost and the value of a "
        "response turn the ranking into the share worth contacting."),
    "targeting_outcome": (
        "**{outcome}** ({arm} vs {control}; read on {n} held-out customers): uplift among the best-ranked "
        "30 % {u30} against {u_all} among all, Qini coefficient {qini}. {decision}"),
    "targeting_contact": (
        "Contact the **{share}** with the highest predicted uplift: incremental profit {profit} (interval "
        "{low} to {high}) against sending to nobody, and {vs_all} ({vlow} to {vhigh}) against sending to all "
        "(which earns {all})."),
    "targeting_nobody": (
        "At {cost} per contact no share of customers earns back its cost: send to nobody (sending to all "
        "earns {all})."),
    "targeting_fallback_arm": "The arm `{asked}` is not in the data: the model targets `{arm}`, the best arm.",
    "targeting_fallback_outcomes": "None of {asked} is among the outcomes: uplift is modelled on {outcomes}.",
    "design_intro": (
        "The act step closes the loop: the next campaign goes to the customers the model ranks highest, with "
        "a randomised holdout drawn within each customer type and sized by the power calculation, so that "
        "its result can be read out like this test. The audience (customer, group, segment, offer, send "
        "time) and the design are written to files; `campaign.readout(design, transactions, window)` "
        "measures the campaign from the orders that follow."),
    "design_demo": (
        "**Illustration.** The orders below are simulated from the rates measured in this test (the holdout "
        "at the control's rate, the treated 25 % higher), only to show the readout; with real transactions "
        "the same call reads the real result."),
    "data": ("**Data.** {name}: **{n} customers** in {k} arms of `{arm}` ({counts}); control **{control}**; "
             "outcomes {outcomes}; the decision rests on **{outcome}**."),
}


def text(key: str, lang: str = "en", **values: Any) -> str:
    """The memo text ``key`` in ``lang``, its ``{fields}`` filled from ``values``.

    Parameters
    ----------
    key : str
        A key of :data:`TEXTS`.
    lang : str
        ``en`` or ``ko`` (Korean from ``crmlab/i18n/ko/campaign.yml``; English when missing).
    **values
        Values of the template's fields.

    Returns
    -------
    str
    """
    from crmlab import i18n

    full = f"campaign.{key}"
    found = i18n.t(full, lang) if i18n.check_lang(lang) != "en" else full
    template = found if found != full else TEXTS[key]
    return template.format(**values) if values else template
