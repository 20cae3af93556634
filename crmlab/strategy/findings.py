"""Key findings: the sentences that matter most, each written from its number."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmlab.i18n import check_lang, segment_name
from crmlab.segments import TOP_SEGMENTS


def _candidates(m: Mapping[str, Any], lang: str) -> list[tuple[int, str, str]]:
    """(rank, English, Korean) for every finding whose numbers are present."""
    def has(*keys: str) -> bool:
        return all(m.get(k) is not None for k in keys)

    out: list[tuple[int, str, str]] = []
    if has("best_customer_share", "best_revenue_share"):
        names_en = ", ".join(TOP_SEGMENTS)
        names_ko = ", ".join(segment_name(s, "ko") for s in TOP_SEGMENTS)
        out.append((1, f"{m['best_customer_share']:.0%} of customers ({names_en}) bring "
                       f"{m['best_revenue_share']:.0%} of revenue.",
                    f"고객의 {m['best_customer_share']:.0%}({names_ko})가 매출의 {m['best_revenue_share']:.0%}를 "
                    "차지합니다."))
    if has("top_10pct_revenue_share"):
        out.append((2, f"The top 10% of customers bring {m['top_10pct_revenue_share']:.0%} of revenue.",
                    f"상위 10% 고객이 매출의 {m['top_10pct_revenue_share']:.0%}를 차지합니다."))
    if has("at_risk_value_customers", "at_risk_value_clv"):
        out.append((3, f"{m['at_risk_value_customers']:,} high-value customers are likely lapsing; "
                       f"their expected future value is {m['at_risk_value_clv']:,.0f}.",
                    f"가치가 높은 고객 {m['at_risk_value_customers']:,}명이 이탈 조짐을 보입니다. 이들의 기대 미래 "
                    f"가치는 {m['at_risk_value_clv']:,.0f}입니다."))
    if has("best_customer_retention"):
        out.append((4, f"{m['best_customer_retention']:.0%} of last period's best customers bought again "
                       "this period.",
                    f"지난 기간 최우수 고객의 {m['best_customer_retention']:.0%}가 이번 기간에 다시 구매했습니다."))
    if has("repeat_rate"):
        out.append((5, f"{m['repeat_rate']:.0%} of customers have ordered more than once.",
                    f"고객의 {m['repeat_rate']:.0%}가 두 번 이상 주문했습니다."))
    if has("campaign_best_arm", "campaign_best_lift"):
        out.append((6, f"The {m['campaign_best_arm']} campaign raised the response by "
                       f"{m['campaign_best_lift']:+.1%} against its control group.",
                    f"{m['campaign_best_arm']} 캠페인은 대조군 대비 반응률을 {m['campaign_best_lift']:+.1%} "
                    "높였습니다."))
    if has("top_rule", "top_rule_lift"):
        out.append((7, f"Strongest cross-sell: {m['top_rule']} (lift {m['top_rule_lift']:.1f}).",
                    f"가장 강한 교차판매: {m['top_rule']} (향상도 {m['top_rule_lift']:.1f})."))
    if has("avg_clv"):
        out.append((8, f"An average customer is worth {m['avg_clv']:,.0f} over the forecast horizon.",
                    f"평균 고객의 예측 기간 가치는 {m['avg_clv']:,.0f}입니다."))
    return out


def key_findings(m: Mapping[str, Any], n: int = 5, lang: str = "en") -> list[str]:
    """The findings that matter most, each with its number, from a flat metrics dict.

    Each candidate finding is written only when its numbers are present; they are ranked by
    how directly they move revenue (concentration and retention of the best first).

    Parameters
    ----------
    m : mapping
        Metrics named as in :data:`crmlab.strategy.metrics.METRICS`.
    n : int
        How many findings.
    lang : str
        "en" or "ko".

    Returns
    -------
    list of str
    """
    ko = check_lang(lang) == "ko"
    return [ko_text if ko else en_text for _, en_text, ko_text in sorted(_candidates(m, lang))[:n]]
