"""The strategy report's tables and sentences, written from the numbers, in English or Korean."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from crmlab.i18n import pick as _pick
from crmlab.i18n import segment_name, t
from crmlab.results import ReportTable, fmt_money, fmt_percent, report_table
from crmlab.strategy.build import StrategyInputs


def headline_table(s: StrategyInputs, horizon_months: int, lang: str = "en") -> ReportTable:
    """The headline KPIs as a two-column table (label, value), labels in ``lang``.

    Parameters
    ----------
    s : StrategyInputs
    horizon_months : int
    lang : str

    Returns
    -------
    ReportTable
    """
    m, kpi = s.metrics, s.kpis
    rows = [
        (t("customers", lang), f"{kpi['customers']:,}"),
        (t("orders", lang), f"{kpi['orders']:,}"),
        (t("revenue", lang), fmt_money(kpi["revenue"])),
        (t("average_order_value", lang), fmt_money(kpi["average_order_value"])),
        (t("repeat_rate", lang), fmt_percent(kpi["repeat_rate"], 0)),
        (t("active customers (last 90 days)", lang), f"{int(s.history['active_customers'].iloc[-1]):,}"),
        (t("best-customer retention (last quarter)", lang), fmt_percent(m["best_customer_retention"], 0)),
        (_pick(lang, f"average {horizon_months}-month CLV (margin)", f"평균 {horizon_months}개월 고객생애가치(마진)"),
         fmt_money(m["avg_clv"])),
        (_pick(lang, f"campaign: best arm ({s.best_arm}) conversion lift",
               f"캠페인: 최고 그룹({s.best_arm}) 전환율 향상"), f"{s.best_lift['lift_abs']:+.2%}p"),
    ]
    table = pd.DataFrame(rows, columns=[t("metric", lang), t("value", lang)])
    return ReportTable(table, {t("value", lang)})


PLAN_COLUMNS = ("customers", "revenue_share", "avg_clv", "prob_alive", "churn_risk", "best_offer",
                "campaign_response", "action", "channel", "send_time", "priority")


def plan_table(plan: pd.DataFrame, lang: str = "en", *, products: bool = True,
               no_dropout: bool = False) -> ReportTable:
    """The per-segment plan as the report shows it.

    Parameters
    ----------
    plan : pandas.DataFrame
        :func:`crmlab.strategy.segment_strategy` table.
    lang : str
    products : bool
        False when the data has no products (the offer column then says so).
    no_dropout : bool
        True when the purchase model sees no dropout in this data (P(alive) near 1 for everyone
        is then not a measurement, and the column says so instead of 100%).

    Returns
    -------
    ReportTable
    """
    shown = plan[list(PLAN_COLUMNS)].copy()
    shown["campaign_response"] = shown["campaign_response"].astype(object).where(
        shown["campaign_response"].notna(), t("not measured", lang))
    no_offer = t("(too few baskets for rules)", lang) if products else t("(no product data)", lang)
    shown["best_offer"] = shown["best_offer"].astype(object).where(shown["best_offer"].notna(), no_offer)
    shown["send_time"] = shown["send_time"].map(lambda v: v if pd.isna(v) else " ".join(
        t(part, lang) for part in str(v).split(" ")))
    if no_dropout:
        shown["prob_alive"] = t("no dropout visible", lang)
    shown.index = [segment_name(x, lang) for x in shown.index]
    shown.index.name = "segment"
    return report_table(shown, percent=["revenue_share", "churn_risk"] + ([] if no_dropout else ["prob_alive"]),
                        money=["avg_clv"],
                        integer=["customers", "priority"], lang=lang)


def campaign_sentence(s: StrategyInputs, cost_per_contact: float, margin: float, lang: str = "en") -> str:
    """What the campaign test showed, and whether its response is linked to the segments.

    Parameters
    ----------
    s : StrategyInputs
    cost_per_contact, margin : float
    lang : str

    Returns
    -------
    str
    """
    lift, roi = s.best_lift, float(s.money.table.loc[s.best_arm, "roi"])
    text = _pick(
        lang,
        f"In the campaign test, **{s.best_arm}** converted best: {lift['arm_value']:.2%} against "
        f"{lift['control_value']:.2%} in the control group ({lift['lift_abs']:+.2%} points, interval "
        f"{lift['ci_low']:+.2%} to {lift['ci_high']:+.2%}). At {cost_per_contact} per contact and a "
        f"{margin:.0%} margin its ROI was {roi:.0%}. ",
        f"캠페인 실험에서 **{s.best_arm}**의 전환율이 가장 높았습니다: 대조군 {lift['control_value']:.2%} 대비 "
        f"{lift['arm_value']:.2%} ({lift['lift_abs']:+.2%}p, 구간 {lift['ci_low']:+.2%} ~ {lift['ci_high']:+.2%}). "
        f"접촉당 비용 {cost_per_contact}, 마진 {margin:.0%} 기준 ROI는 {roi:.0%}입니다. ")
    if s.response is None:
        text += _pick(lang, "The test data does not say which RFM segment each of its customers is in, so the plan "
                            "shows the response per segment as not measured until a test is run on these segments.",
                      "실험 데이터에 고객별 RFM 세그먼트가 없어, 이 세그먼트로 실험하기 전까지 계획표의 세그먼트별 "
                      "반응은 '측정 안 됨'으로 표시됩니다.")
    return text


def scorecard_table(card: pd.DataFrame, lang: str = "en") -> ReportTable:
    """The targets scorecard, labels and statuses in ``lang``.

    Parameters
    ----------
    card : pandas.DataFrame
        :func:`crmlab.strategy.scorecard` table.
    lang : str

    Returns
    -------
    ReportTable
    """
    shown = card[["label", "current", "previous", "goal", "by", "gap", "projected", "status"]].copy()
    shown["status"] = shown["status"].map(lambda v: t(v, lang))
    shown["label"] = shown["label"].map(lambda v: t(v, lang))
    return report_table(shown.reset_index(drop=True), lang=lang)


def scorecard_sentence(card: pd.DataFrame, lang: str = "en") -> str:
    """How many targets are off track, named.

    Parameters
    ----------
    card : pandas.DataFrame
    lang : str

    Returns
    -------
    str
    """
    off = card[card["status"].isin(["off track", "missed"])]
    labels = ", ".join(t(x, lang) for x in off["label"])
    if len(off):
        head = _pick(lang, f"**{len(off)} of {len(card)} targets are off track**: {labels}. ",
                     f"**목표 {len(card)}개 중 {len(off)}개가 미달 예상입니다**: {labels}. ")
    else:
        head = _pick(lang, "**Every target is met or on track.** ", "**모든 목표가 달성되었거나 달성 예상입니다.** ")
    return head + _pick(lang, "Each status projects the trend of the past quarters to the goal date; a metric with a "
                              "single point (no history yet) cannot be projected and is marked so.",
                        "각 상태는 지난 분기들의 추세를 목표일까지 연장한 것입니다. 값이 하나뿐인 지표는 추세를 낼 수 "
                        "없어 따로 표시합니다.")


def recommendations(plan: pd.DataFrame, lang: str = "en", n: int = 4) -> list[str]:
    """The plays of the highest-priority segments, then the rule that every play is tested.

    Parameters
    ----------
    plan : pandas.DataFrame
    lang : str
    n : int

    Returns
    -------
    list of str
    """
    from crmlab.report import escape_markdown

    first = plan.sort_values(["priority", "revenue_share"], ascending=[True, False]).head(n)
    lines = []
    for seg, row in first.iterrows():
        when = "" if pd.isna(row["send_time"]) else " ".join(t(p, lang) for p in str(row["send_time"]).split(" "))
        lines.append(_pick(
            lang,
            f"**{seg}** ({int(row['customers']):,} customers, {row['revenue_share']:.0%} of revenue): "
            f"{escape_markdown(str(row['action']))} - via {escape_markdown(str(row['channel']))}"
            + (f", sent {when}" if when else "") + ".",
            f"**{segment_name(seg, lang)}** (고객 {int(row['customers']):,}명, 매출의 {row['revenue_share']:.0%}): "
            f"{escape_markdown(str(row['action']))} - {escape_markdown(str(row['channel']))} 채널"
            + (f", {when} 발송" if when else "") + "."))
    lines.append(_pick(lang, "**Test before rolling out**: every play above goes out with a control group; the campaign "
                             "report sizes the test.",
                       "**전면 시행 전에 실험하십시오**: 위의 모든 실행안은 대조군과 함께 발송하며, 실험 규모는 캠페인 "
                       "보고서가 정합니다."))
    return lines


def call_list_note(pb: Mapping[str, Any], lang: str = "en") -> str:
    """What the call list holds, with the playbook's thresholds.

    Parameters
    ----------
    pb : mapping
        The playbook (``churn_threshold``, ``churn_days``).
    lang : str

    Returns
    -------
    str
    """
    days = int(pb.get("churn_days") or 90)
    return _pick(
        lang,
        "The list above is the high-value customers who are slipping away (probability of being active below "
        f"{float(pb['churn_threshold']):.0%}, or silent for over {days} days), largest past value first: the account "
        "team's call list. Identifiers are pseudonyms unless the report was rendered with `--show-pii`.",
        f"위 목록은 이탈 조짐이 있는 고가치 고객(활동 확률 {float(pb['churn_threshold']):.0%} 미만 또는 {days}일 이상 "
        "구매 없음)을 과거 구매액 순으로 정리한 것으로, 담당 팀의 연락 대상입니다. `--show-pii`로 렌더링하지 않으면 "
        "식별자는 가명입니다.")


def targeting_sentence(r: Any, outcome: str, lang: str = "en") -> str:
    """The uplift-based targeting recommendation (whom to contact next), with its numbers.

    Parameters
    ----------
    r : crmlab.campaign.TargetingResult or None
    outcome : str
        The outcome the model optimised.
    lang : str

    Returns
    -------
    str
    """
    if r is None:
        return _pick(lang, "No uplift model could be fitted on this test (it lacks the outcome or a control arm).",
                     "이 실험으로는 업리프트 모델을 만들 수 없습니다(결과 변수나 대조군이 없음).")
    b = r.best
    if b["share"] == 0:
        return _pick(lang, f"**Targeting ({outcome}):** contacting nobody pays best; no share of customers earns back "
                           "its contact cost.",
                     f"**타기팅({outcome}):** 어떤 고객군도 접촉 비용을 회수하지 못하므로 발송하지 않는 것이 최선입니다.")
    return _pick(
        lang,
        f"**Targeting ({outcome}):** an uplift model on the test says to contact the {b['share']:.0%} of customers "
        f"with the highest predicted uplift: {b['profit']:+,.0f} incremental profit against sending to nobody "
        f"(interval {b['profit_low']:+,.0f} to {b['profit_high']:+,.0f}) and {b['vs_all']:+,.0f} against sending "
        f"to all.",
        f"**타기팅({outcome}):** 실험 데이터의 업리프트 모델에 따르면 예측 업리프트가 가장 높은 고객 {b['share']:.0%}에게 "
        f"발송하는 것이 좋습니다: 미발송 대비 증분 이익 {b['profit']:+,.0f} (구간 {b['profit_low']:+,.0f} ~ "
        f"{b['profit_high']:+,.0f}), 전체 발송 대비 {b['vs_all']:+,.0f}.")


def churn_sentence(churn: Any, lang: str = "en") -> str:
    """Which churn measure the plan uses and why (its holdout evidence), or why none was tested.

    Parameters
    ----------
    churn : crmlab.ltv.ChurnRiskResult or None
    lang : str

    Returns
    -------
    str
    """
    if churn is None:
        return _pick(lang, "Churn risk follows the playbook rule (P(alive) below its threshold or a long silence): the "
                           "history is too short to test a churn measure on a holdout.",
                     "이탈 위험은 플레이북 규칙(활동 확률이 기준 미만이거나 오랜 기간 구매 없음)을 따릅니다. 이력이 짧아 "
                     "홀드아웃으로 이탈 측정 방법을 검증할 수 없습니다.")
    gone = [k for k, v in churn.notes_by_model.items() if v]
    text = _pick(lang, f"**Churn risk** comes from *{churn.measure}*, the measure that ranked next-window buyers best "
                       f"on a holdout (AUC {churn.auc:.2f}; a random ranking scores 0.50). ",
                 f"**이탈 위험**은 홀드아웃에서 다음 기간 구매 고객을 가장 잘 가려낸 *{churn.measure}* 기준입니다 "
                 f"(AUC {churn.auc:.2f}; 무작위 순위는 0.50). ")
    if gone:
        text += _pick(lang, f"The purchase models ({', '.join(gone)}) see no dropout in this data, so their P(alive) is "
                            "not shown as a measurement.",
                      f"구매 모델({', '.join(gone)})은 이 데이터에서 이탈을 보지 못하므로 활동 확률을 측정값으로 "
                      "표시하지 않습니다.")
    return text
