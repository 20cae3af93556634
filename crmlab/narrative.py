"""Sentences for the customer-analysis and strategy reports, written from the numbers.

Every claim is computed: a sentence about anonymous revenue appears only when there is some,
the segment named as most valuable is the one that is, a country section speaks of the
countries the data has. Each function takes ``lang`` ("en" or "ko") and returns Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


import pandas as pd

from crmlab.i18n import pick as _pick
from crmlab.i18n import segment_name

_CANT_LOSE = "Can't Lose Them"


def kpi_table(kd: Mapping[str, Any], lang: str = "en"):
    """The headline KPIs as a report table: counts with separators, money, the repeat rate in %.

    Parameters
    ----------
    kd : mapping
        ``customers.kpis(...).to_dict()``.
    lang : str

    Returns
    -------
    crmlab.results.ReportTable
    """
    from crmlab.i18n import t
    from crmlab.results import ReportTable, fmt_money, fmt_number, fmt_percent

    shown = {k: (fmt_percent(v) if k == "repeat_rate" else fmt_money(v) if "revenue" in k or "value" in k
                 else fmt_number(v)) for k, v in kd.items()}
    table = pd.DataFrame({t("metric", lang): [t(k, lang) for k in shown], t("value", lang): list(shown.values())})
    return ReportTable(table, {t("value", lang)})


def _slipping(summary: pd.DataFrame) -> int:
    """Customers in the win-back segments (At Risk, Can't Lose Them) of an RFM summary."""
    present = [x for x in ("At Risk", _CANT_LOSE) if x in summary.index]
    return int(summary.loc[present, "customers"].sum()) if present else 0


def data_intro(source_name: str, kpi: Mapping[str, Any], lang: str = "en") -> str:
    """One line saying which data the report describes and its period.

    Parameters
    ----------
    source_name : str
    kpi : mapping
        ``customers.kpis(...).to_dict()``.
    lang : str

    Returns
    -------
    str
    """
    return _pick(
        lang,
        f"*Data: {source_name}, {kpi['first_date']} to {kpi['last_date']}, {kpi['customers']:,} customers.*",
        f"*데이터: {source_name}, {kpi['first_date']} ~ {kpi['last_date']}, 고객 {kpi['customers']:,}명.*",
    )


def cleaning(audit: pd.DataFrame, raw_revenue: float, raw_rows: int, lang: str = "en") -> str:
    """What cleaning kept, and what anonymous revenue means, only when there is any.

    Parameters
    ----------
    audit : pandas.DataFrame
        ``data.clean(...).audit``.
    raw_revenue : float
        Gross revenue of all lines.
    raw_rows : int
    lang : str

    Returns
    -------
    str
    """
    a = audit.set_index("step")
    kept = int(a.loc["kept", "rows"])
    anon = float(a.loc["unknown_customers", "revenue"]) / raw_revenue if raw_revenue else 0.0
    text = _pick(lang, f"**{kept:,} of {raw_rows:,} order lines** are kept for the customer analysis. ",
                 f"주문 라인 **{raw_rows:,}건 중 {kept:,}건**을 고객 분석에 사용합니다. ")
    removed = a.drop(index="kept")
    removed = removed[removed["applied"] & (removed["rows"] > 0)]
    if len(removed):
        top = removed.sort_values("rows", ascending=False).index[0]
        from crmlab.i18n import t

        text += _pick(lang, f"The largest cleaning step is *{top.replace('_', ' ')}* "
                            f"({int(removed.loc[top, 'rows']):,} lines). ",
                      f"가장 큰 정리 단계는 *{t(top, lang)}* ({int(removed.loc[top, 'rows']):,}건)입니다. ")
    if anon >= 0.005:
        text += _pick(lang, f"Lines without a customer ID carry **{anon:.0%} of gross revenue**: that revenue "
                            "cannot be tied to a person; a loyalty or login incentive at checkout would make it "
                            "addressable.",
                      f"고객 번호가 없는 주문이 **총매출의 {anon:.0%}**를 차지합니다. 이 매출은 특정 고객과 연결할 수 "
                      "없으므로, 결제 시 회원 가입이나 로그인 혜택으로 식별 가능한 매출로 바꿀 수 있습니다.")
    else:
        text += _pick(lang, "Every order line carries a customer ID, so all revenue can be tied to customers.",
                      "모든 주문에 고객 번호가 있어 매출 전부를 고객과 연결할 수 있습니다.")
    return text


def kpis(kd: Mapping[str, Any], lang: str = "en") -> str:
    """The headline numbers in a sentence, with what the repeat rate says.

    Parameters
    ----------
    kd : mapping
        ``customers.kpis(...).to_dict()``.
    lang : str

    Returns
    -------
    str
    """
    rr = kd["repeat_rate"]
    if rr >= 0.5:
        meaning = _pick(lang, "repeat business is the base of this business.", "재구매가 사업의 기반입니다.")
    elif rr >= 0.25:
        meaning = _pick(lang, "a solid core comes back, but most customers buy once: the second order is the "
                              "lever.", "일부 고객은 재구매하지만 대부분은 한 번만 구매합니다. 두 번째 주문이 핵심입니다.")
    else:
        meaning = _pick(lang, "most customers buy once: winning the second order matters most.",
                        "대부분의 고객이 한 번만 구매합니다. 두 번째 주문을 얻는 것이 가장 중요합니다.")
    return _pick(
        lang,
        f"{kd['customers']:,} customers placed {kd['orders']:,} orders worth {kd['revenue']:,.0f} between "
        f"{kd['first_date']} and {kd['last_date']}. The average order is worth {kd['average_order_value']:,.0f}, "
        f"and **{rr:.0%} of customers ordered more than once**: {meaning}",
        f"고객 {kd['customers']:,}명이 {kd['first_date']}부터 {kd['last_date']}까지 {kd['orders']:,}건, "
        f"총 {kd['revenue']:,.0f}의 주문을 했습니다. 평균 주문 금액은 {kd['average_order_value']:,.0f}이며, "
        f"**고객의 {rr:.0%}가 두 번 이상 주문했습니다**. {meaning}",
    )


def segments(summary: pd.DataFrame, top: tuple[str, ...], lang: str = "en") -> str:
    """Which segments hold the value, the largest win-back group, computed from the table.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``segments.rfm(...).summary`` (index segment; customers, customer_share, revenue_share).
    top : tuple of str
        The top segments (:data:`crmlab.segments.TOP_SEGMENTS`).
    lang : str

    Returns
    -------
    str
    """
    s = summary[summary["customers"] > 0]
    part = s.reindex([x for x in top if x in s.index])
    names = ", ".join(segment_name(x, lang) for x in part.index)
    richest = s["revenue_share"].idxmax()
    text = _pick(
        lang,
        f"**{names} are {part['customer_share'].sum():.0%} of customers and bring "
        f"{part['revenue_share'].sum():.0%} of revenue.** The single most valuable segment is "
        f"*{richest}* ({s.loc[richest, 'revenue_share']:.0%} of revenue). ",
        f"**{names} 세그먼트는 고객의 {part['customer_share'].sum():.0%}이며 매출의 "
        f"{part['revenue_share'].sum():.0%}를 차지합니다.** 매출 비중이 가장 큰 세그먼트는 "
        f"*{segment_name(richest, lang)}*({s.loc[richest, 'revenue_share']:.0%})입니다. ",
    )
    n = _slipping(s)
    if n:
        text += _pick(lang, f"{n:,} customers are *At Risk* or *Can't Lose Them* (valuable, but not seen for a "
                            "long time): they are the win-back list.",
                      f"{n:,}명이 *{segment_name('At Risk', lang)}* 또는 *{segment_name(_CANT_LOSE, lang)}* "
                      "세그먼트(가치가 높지만 오랫동안 구매하지 않은 고객)에 있습니다. 이들이 재활성화 대상입니다.")
    return text


def concentration(cd: Mapping[str, Any], lang: str = "en") -> str:
    """How concentrated revenue is, and what that asks for.

    Parameters
    ----------
    cd : mapping
        ``customers.concentration(...).to_dict()``.
    lang : str

    Returns
    -------
    str
    """
    t1, t10, t20, g = (cd["top_1pct_revenue_share"], cd["top_10pct_revenue_share"], cd["top_20pct_revenue_share"],
                       cd["gini"])
    if t10 >= 0.4:
        advice = _pick(lang, "The business depends on a few accounts: each of them deserves a named owner and a "
                             "personal retention plan.", "소수 고객에 대한 의존도가 높습니다. 상위 고객마다 담당자와 "
                             "개별 유지 계획이 필요합니다.")
    else:
        advice = _pick(lang, "Value is spread over many customers: programmes for whole segments pay more than "
                             "account management.", "가치가 많은 고객에게 분산되어 있어, 개별 관리보다 세그먼트 단위 "
                             "프로그램이 효과적입니다.")
    return _pick(lang,
                 f"The top 1% of customers bring **{t1:.0%}** of revenue, the top 10% **{t10:.0%}** and the top 20% "
                 f"**{t20:.0%}** (Gini {g:.2f}). {advice}",
                 f"상위 1% 고객이 매출의 **{t1:.0%}**, 상위 10%가 **{t10:.0%}**, 상위 20%가 **{t20:.0%}**를 "
                 f"차지합니다(지니계수 {g:.2f}). {advice}")


def timing(td: Mapping[str, Any], habitual_share: float, has_time_of_day: bool, lang: str = "en") -> str:
    """When orders come in; the hour only when the data records a time of day.

    Parameters
    ----------
    td : mapping
        ``customers.timing(...).to_dict()``.
    habitual_share : float
        Share of customers with half or more of their (three or more) orders on one weekday.
    has_time_of_day : bool
    lang : str

    Returns
    -------
    str
    """
    from crmlab.i18n import t

    day = t(td["busiest_weekday"], lang)
    if has_time_of_day:
        when = _pick(lang, f"Orders peak on **{day}** and around **{td['busiest_hour']}:00**. ",
                     f"주문은 **{day}**, **{td['busiest_hour']}시** 전후에 가장 많습니다. ")
    else:
        when = _pick(lang, f"Orders peak on **{day}**; the data records dates only, so no hour of day is shown. ",
                     f"주문은 **{day}**에 가장 많습니다. 데이터에 시각 정보가 없어 시간대는 표시하지 않습니다. ")
    return when + _pick(
        lang,
        f"{habitual_share:.0%} of customers place at least half of their (three or more) orders on the same weekday: "
        "for them, time offers to land the day before their usual buying day.",
        f"고객의 {habitual_share:.0%}는 (세 번 이상의) 주문 중 절반 이상을 같은 요일에 합니다. 이 고객에게는 평소 구매 "
        "요일 전날에 혜택을 보내는 것이 좋습니다.")


def countries(mix: pd.DataFrame, lang: str = "en") -> str:
    """The leading country and what the rest look like, from the mix table.

    Parameters
    ----------
    mix : pandas.DataFrame
        ``customers.country_mix(...)`` (index country; customers, revenue_share, ...).
    lang : str

    Returns
    -------
    str
    """
    lead = mix.index[0]
    share = float(mix["revenue_share"].iloc[0])
    if len(mix) == 1 or share >= 0.999:
        return _pick(lang, f"All revenue comes from **{lead}**.", f"모든 매출이 **{lead}**에서 발생합니다.")
    rest = mix.iloc[1:].drop(index="Other", errors="ignore")
    per_customer = rest["revenue"] / rest["customers"].where(rest["customers"] > 0) if "revenue" in rest else None
    text = _pick(lang, f"**{lead}** brings {share:.0%} of revenue. ", f"**{lead}**이(가) 매출의 {share:.0%}를 차지합니다. ")
    if per_customer is not None and per_customer.notna().any():
        big = per_customer.idxmax()
        text += _pick(lang, f"Outside it, **{big}** has the highest revenue per customer "
                            f"({per_customer.max():,.0f}): accounts like these are managed one by one.",
                      f"그 밖에서는 **{big}**의 고객당 매출이 가장 높습니다({per_customer.max():,.0f}). "
                      "이런 고객은 개별적으로 관리합니다.")
    return text


def not_in_data(what: str, column: str, lang: str = "en") -> str:
    """The one sentence a report shows for a section whose column the source does not declare.

    Parameters
    ----------
    what : str
        The section ("Country mix").
    column : str
        The canonical column it needs.
    lang : str

    Returns
    -------
    str
    """
    return _pick(lang, f"*{what}: not shown, because the data source has no `{column}` column.*",
                 f"*{what}: 데이터 원본에 `{column}` 열이 없어 표시하지 않습니다.*")


def customer_recommendations(summary: pd.DataFrame, cd: Mapping[str, Any], td: Mapping[str, Any],
                             lang: str = "en") -> list[str]:
    """Recommendations of the customer analysis, each following from a number in the report.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``segments.rfm(...).summary``.
    cd : mapping
        ``customers.concentration(...).to_dict()``.
    td : mapping
        ``customers.timing(...).to_dict()``.
    lang : str

    Returns
    -------
    list of str
    """

    from crmlab.i18n import t

    s = summary[summary["customers"] > 0]
    richest = s["revenue_share"].idxmax()
    out = [_pick(lang,
                 f"**Protect the most valuable segment, {richest}** ({s.loc[richest, 'revenue_share']:.0%} of "
                 "revenue): a retention programme (early access, service) before spending on acquisition.",
                 f"**가장 가치 있는 세그먼트인 {segment_name(richest, lang)}을(를) 지키십시오** "
                 f"(매출의 {s.loc[richest, 'revenue_share']:.0%}): 신규 고객 확보보다 유지 프로그램(우선 구매, "
                 "서비스)을 먼저 운영합니다.")]
    n = _slipping(s)
    if n:
        out.append(_pick(lang, f"**Win back the {n:,} slipping customers** (At Risk, Can't Lose Them) with an offer "
                               "built from what they used to buy, measured against a control group.",
                         f"**이탈 조짐이 있는 고객 {n:,}명을 되찾으십시오**: 과거 구매 상품을 바탕으로 한 제안을 "
                         "보내고, 대조군과 비교해 효과를 측정합니다."))
    if cd["top_1pct_revenue_share"] >= 0.1:
        out.append(_pick(lang, f"**Give the top 1% a named contact**: they bring {cd['top_1pct_revenue_share']:.0%} "
                               "of revenue.",
                         f"**상위 1% 고객에게 전담 담당자를 배정하십시오**: 매출의 {cd['top_1pct_revenue_share']:.0%}를 "
                         "차지합니다."))
    out.append(_pick(lang, f"**Time messages to habits**: orders peak on {td['busiest_weekday']}; send on the day "
                           "before each customer's preferred weekday.",
                     f"**구매 습관에 맞춰 발송하십시오**: 주문은 {t(td['busiest_weekday'], lang)}에 가장 많습니다. 고객별 "
                     "선호 요일 전날에 메시지를 보냅니다."))
    return out
