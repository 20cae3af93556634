"""Key findings: the sentences that matter most, each written from its number."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def key_findings(m: Mapping[str, Any], n: int = 5) -> list[str]:
    """The findings that matter most, each with its number, from a flat metrics dict.

    Each candidate finding is written only when its numbers are present; they are ranked by
    how directly they move revenue (concentration and retention of the best first).
    """
    out: list[tuple[int, str]] = []

    def has(*keys: str) -> bool:
        return all(m.get(k) is not None for k in keys)

    if has("best_customer_share", "best_revenue_share"):
        out.append((1, f"{m['best_customer_share']:.0%} of customers (Champions, Loyal, Can't Lose Them) "
                       f"bring {m['best_revenue_share']:.0%} of revenue."))
    if has("top_10pct_revenue_share"):
        out.append((2, f"The top 10% of customers bring {m['top_10pct_revenue_share']:.0%} of revenue."))
    if has("at_risk_value_customers", "at_risk_value_clv"):
        out.append((3, f"{m['at_risk_value_customers']:,} high-value customers are likely lapsing; "
                       f"their expected future value is {m['at_risk_value_clv']:,.0f}."))
    if has("best_customer_retention"):
        out.append((4, f"{m['best_customer_retention']:.0%} of last period's best customers bought again "
                       "this period."))
    if has("repeat_rate"):
        out.append((5, f"{m['repeat_rate']:.0%} of customers have ordered more than once."))
    if has("campaign_best_arm", "campaign_best_lift"):
        out.append((6, f"The {m['campaign_best_arm']} campaign raised the response by "
                       f"{m['campaign_best_lift']:+.1%} against its control group."))
    if has("top_rule", "top_rule_lift"):
        out.append((7, f"Strongest cross-sell: {m['top_rule']} (lift {m['top_rule_lift']:.1f})."))
    if has("avg_clv"):
        out.append((8, f"An average customer is worth {m['avg_clv']:,.0f} over the forecast horizon."))
    return [text for _, text in sorted(out)[:n]]
