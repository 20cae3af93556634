"""English texts for the keys that are not English text themselves (``t("findings")``)."""

ENGLISH: dict[str, str] = {
    "title": "CRM strategy report",
    "headline_kpis": "Headline KPIs",
    "segment_strategy": "Segment strategy",
    "findings": "Five findings that matter",
    "recommendations": "Recommendations",
    "scorecard": "Targets scorecard",
    "customer_share": "% of customers",
    "revenue_pct": "% of revenue",
    "avg_clv": "average CLV",
    "prob_alive": "P(alive)",
    "churn_risk": "churn risk",
    "best_offer": "best cross-sell offer",
    "campaign_response": "campaign response",
    "revenue_share": "revenue share",
    "send_time": "send time",
    "segments_figure": "RFM segments: size and value",
}
ENGLISH["customers.intro"] = (
    "**Question.** Who buys from us, how concentrated is the value, and when and what do our customers buy? "
    "The answers decide whom we protect, whom we develop and when we talk to them. **Method.** Audited "
    "cleaning, KPIs, RFM segmentation into eleven named segments, value concentration (Lorenz curve), "
    "purchase timing, favourite products and the country mix where the data has them."
)
