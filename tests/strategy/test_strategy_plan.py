"""crmlab.strategy: segment strategy table, targets scorecard, run comparison (constructed cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import strategy
from crmlab.errors import DataError, ParameterError


def rfm_table():
    t = pd.DataFrame(
        {
            "segment": ["Champions", "Champions", "At Risk", "At Risk", "At Risk", "Lost"],
            "monetary": [500.0, 300.0, 100.0, 60.0, 40.0, 0.0],
        },
        index=pd.Index(list("abcdef"), name="customer_id"),
    )
    return t


PLAYBOOK = {
    "churn_threshold": 0.5,
    "segments": {
        "Champions": {"action": "reward", "channel": "email", "priority": 1},
        "At Risk": {"action": "win back", "channel": "mail", "priority": 3},
        "Lost": {"action": "nothing", "channel": "none", "priority": 9},
    },
    "rules": [{"name": "slipping", "when": "churn_risk > 0.5", "channel": "phone"}],
}


def test_segment_strategy_numbers_and_rules():
    values = pd.DataFrame(
        {"clv": [100, 80, 20, 10, 0, 0], "prob_alive": [0.9, 0.8, 0.4, 0.3, 0.6, 0.1]},
        index=list("abcdef"),
    )
    prefs = pd.DataFrame(
        {"preferred_weekday": ["Mon", "Mon", "Thu", "Thu", "Fri", "Sun"], "preferred_hour": [9, 9, 12, 12, 8, 20]},
        index=list("abcdef"),
    )
    offers = pd.Series({"Champions": "{A} => {B}", "At Risk": "{C} => {D}"})
    s = strategy.segment_strategy(
        rfm_table(), playbook=PLAYBOOK, customer_values=values, preferred_times=prefs,
        offers=offers, campaign_response=pd.Series({"At Risk": "+2.1 pts"}),
    ).table
    assert list(s.index) == ["Champions", "At Risk", "Lost"]  # empty segments left out, order kept
    assert s.loc["Champions", "customers"] == 2
    assert s.loc["Champions", "revenue_share"] == pytest.approx(0.8)
    assert s.loc["At Risk", "avg_clv"] == pytest.approx(10.0)
    assert s.loc["At Risk", "prob_alive"] == pytest.approx(1.3 / 3)
    assert s.loc["At Risk", "churn_risk"] == pytest.approx(2 / 3)  # 0.4 and 0.3 below 0.5
    assert s.loc["At Risk", "send_time"] == "Thu 12:00"
    assert s.loc["At Risk", "best_offer"] == "{C} => {D}"
    assert s.loc["At Risk", "campaign_response"] == "+2.1 pts"
    # The override rule hits At Risk (2/3 > 0.5) and Lost (1.0), not Champions.
    assert s["channel"].to_dict() == {"Champions": "email", "At Risk": "phone", "Lost": "phone"}
    assert s.loc["At Risk", "action"] == "win back" and s.loc["At Risk", "rule"] == "slipping"
    assert pd.isna(s.loc["Champions", "rule"])
    # With churn_days, long silence counts as risk too (f is Lost, silent 200 days; a is not).
    t = rfm_table().assign(recency_days=[5, 10, 20, 20, 20, 200])
    t.loc["e", "recency_days"] = 120
    s2 = strategy.segment_strategy(t, playbook=dict(PLAYBOOK, churn_days=90), customer_values=values).table
    assert s2.loc["At Risk", "churn_risk"] == pytest.approx(1.0)  # c, d by P(alive); e by silence
    assert s2.loc["Champions", "churn_risk"] == 0.0


def test_bad_rule_is_reported():
    pb = dict(PLAYBOOK, rules=[{"when": "no_such_column > 1"}])
    with pytest.raises(DataError, match="playbook rule 1 cannot be evaluated"):
        strategy.segment_strategy(rfm_table(), playbook=pb)


def test_shipped_playbook_and_targets_load():
    pb = strategy.load_playbook()
    assert set(pb["segments"]) == set(strategy.SEGMENTS)
    targets = strategy.load_targets()
    assert {t.metric for t in targets} >= {"repeat_rate", "best_customer_retention", "avg_clv", "campaign_roi"}


def test_playbook_errors(tmp_path):
    p = tmp_path / "pb.yml"
    p.write_text("segments:\n  Champs:\n    action: x\n")
    with pytest.raises(DataError, match=r"pb\.yml, column 'segments': unknown segment\(s\) \['Champs'\]"):
        strategy.load_playbook(p)
    p.write_text("segments: [a\n")
    with pytest.raises(DataError, match="not valid YAML"):
        strategy.load_playbook(p)
    t = tmp_path / "t.yml"
    t.write_text("targets:\n  - metric: repeat_rate\n    goal: high\n    by: 2024-01-01\n")
    with pytest.raises(DataError, match="target 1 has a goal that is not a number"):
        strategy.load_targets(t)


def test_scorecard_hand_computed():
    # Exactly linear: +0.05 every 91 days from 0.50 on 2024-01-01.
    hist = pd.DataFrame(
        {"repeat_rate": [0.50, 0.55, 0.60], "churn": [0.30, 0.28, 0.26]},
        index=pd.to_datetime(["2024-01-01", "2024-04-01", "2024-07-01"]),
    )
    T = strategy.Target
    targets = [
        T("repeat_rate", 0.70, pd.Timestamp("2025-01-01"), "on track"),   # 0.5 + .05*366/91 = 0.7011
        T("repeat_rate", 0.75, pd.Timestamp("2025-01-01"), "off track"),
        T("repeat_rate", 0.55, pd.Timestamp("2025-01-01"), "met"),
        T("repeat_rate", 0.90, pd.Timestamp("2024-06-01"), "missed"),
        T("churn", 0.20, pd.Timestamp("2025-01-01"), "lower is better", higher_is_better=False),
        T("churn", 0.22, pd.Timestamp("2025-01-01"), "lower is better", higher_is_better=False),
    ]
    rows = [strategy.scorecard(hist, [t]).table.iloc[0] for t in targets]
    assert [r["status"] for r in rows] == ["on track", "off track", "met", "missed", "off track", "on track"]
    first = rows[0]
    assert first["current"] == 0.60 and first["previous"] == 0.55
    assert first["change"] == pytest.approx(0.05)
    assert first["gap"] == pytest.approx(0.10)
    assert first["projected"] == pytest.approx(0.5 + 0.05 * 366 / 91)
    assert first["trend_per_30_days"] == pytest.approx(0.05 / 91 * 30)
    assert rows[2]["gap"] == 0.0
    # churn falls 0.02 per 91 days: 0.30 - 0.02*366/91 = 0.2196, short of 0.20, within 0.22
    assert rows[4]["projected"] == pytest.approx(0.30 - 0.02 * 366 / 91)
    single = strategy.scorecard(hist.iloc[:1], [targets[0]]).table.iloc[0]
    assert single["status"] == "no trend" and np.isnan(single["previous"])
    with pytest.raises(ParameterError, match="no history for target metric 'aov'"):
        strategy.scorecard(hist, [T("aov", 1, pd.Timestamp("2025-01-01"), "x")])


def test_compare_runs_constructed():
    a = {
        "metrics": {"customers": 100, "revenue": 1000.0, "as_of": "2011-06-01"},
        "tables": {
            "customer_segments": pd.DataFrame({"customer_id": ["a", "b", "c"], "segment": ["Champions", "Loyal", "Lost"]}),
            "clv_by_segment": pd.DataFrame({"segment": ["Champions", "Loyal"], "avg_clv": [100.0, 50.0]}),
            "rules": pd.DataFrame({"rule": ["{x} => {y}", "{p} => {q}"], "lift": [3.0, 2.0]}),
        },
    }
    b = {
        "metrics": {"customers": 120, "revenue": 900.0, "as_of": "2011-09-01"},
        "tables": {
            "customer_segments": pd.DataFrame({"customer_id": ["a", "b", "d"], "segment": ["Loyal", "Loyal", "New"]}),
            "clv_by_segment": pd.DataFrame({"segment": ["Champions", "Loyal"], "avg_clv": [110.0, 40.0]}),
            "rules": pd.DataFrame({"rule": ["{x} => {y}", "{m} => {n}"], "lift": [3.5, 4.0]}),
        },
    }
    c = strategy.compare_runs(a, b)
    k = c["kpis"]
    assert k.loc["customers", "change"] == 20 and k.loc["revenue", "relative_change"] == pytest.approx(-0.1)
    assert "as_of" not in k.index
    m = c["migration"]
    assert m.loc["Champions", "Loyal"] == 1 and m.loc["Loyal", "Loyal"] == 1
    assert m.loc["Lost", "(gone)"] == 1 and m.loc["(not a customer)", "New"] == 1
    assert c["clv_by_segment"].loc["Loyal", "change"] == -10.0
    assert c["rules"]["appeared"]["rule"].tolist() == ["{m} => {n}"]
    assert c["rules"]["disappeared"]["rule"].tolist() == ["{p} => {q}"]
    assert c["rules"]["stayed"][["lift_A", "lift_B"]].iloc[0].tolist() == [3.0, 3.5]


def test_key_findings_ranked_and_numbered():
    f = strategy.key_findings({"repeat_rate": 0.66, "top_10pct_revenue_share": 0.61, "avg_clv": 1234.0,
                               "best_customer_share": 0.37, "best_revenue_share": 0.82}, n=3)
    assert f == [
        "37% of customers (Champions, Loyal, Can't Lose Them) bring 82% of revenue.",
        "The top 10% of customers bring 61% of revenue.",
        "66% of customers have ordered more than once.",
    ]


def test_metric_history_sees_only_the_past():
    """Each row equals what a run on that date would compute; CLV only at the last points."""
    from conftest import FIXTURES

    from crmlab import customers, data

    tx = data.clean(data.load_transactions(FIXTURES / "online_retail_sample.csv.gz", columns="online_retail")).data
    h = strategy.metric_history(tx, periods=3, clv_points=2, margin=0.3)
    assert list(h.index[:-1]) == [pd.Timestamp("2011-04-01"), pd.Timestamp("2011-07-01"), pd.Timestamp("2011-10-01")]
    assert h.index[-1] == pd.Timestamp("2011-12-10")
    for d, row in h.iterrows():
        past = tx[tx["order_ts"] < d]
        assert row["repeat_rate"] == pytest.approx(customers.kpis(past).to_dict()["repeat_rate"])
        recent = past[past["order_ts"] >= d - pd.Timedelta(days=90)]
        assert row["active_customers"] == recent["customer_id"].nunique()
    assert h["avg_clv"].notna().tolist() == [False, False, True, True]
    assert h["best_customer_retention"].dropna().between(0, 1).all()


def test_campaign_response_column_fills_from_a_designed_campaign(tmp_path):
    """Close the loop: a campaign drawn with a holdout, orders in its window (Champions respond +0.20,
    others not at all), and the plan's campaign-response column says so per segment."""
    import numpy as np

    from crmlab import campaign

    rng = np.random.default_rng(5)
    n = 8000
    cust = pd.DataFrame({"customer_id": [f"c{i:05d}" for i in range(n)],
                         "segment": rng.choice(["Champions", "Loyal"], n), "score": rng.random(n)})
    d = campaign.design_audience(cust, campaign="spring", offer="10% off", send_date="2024-05-06",
                                 holdout_share=0.5, random_state=1)
    d.write(tmp_path / "spring.csv")
    aud = d.audience
    p = np.where((aud["group"] == "treatment") & (aud["segment"] == "Champions"), 0.4, 0.2)
    buy = rng.random(len(aud)) < p
    tx = pd.DataFrame({"customer_id": aud["customer_id"][buy].to_numpy(),
                       "order_id": [f"o{i}" for i in range(buy.sum())],
                       "order_ts": pd.Timestamp("2024-05-07"), "amount": 20.0})
    resp = strategy.campaign_response(tmp_path / "spring.json", tx)
    champions = float(resp["Champions"].split("%")[0]) / 100
    loyal = float(resp["Loyal"].split("%")[0]) / 100
    assert abs(champions - 0.20) < 0.05 and abs(loyal) < 0.05
