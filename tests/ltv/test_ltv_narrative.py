"""crmlab.ltv.narrative: every sentence of the retention and CLV report follows its numbers (toys)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from crmlab import retention
from crmlab.ltv import narrative


def _hr(value_upper: float, value_lower: float) -> pd.DataFrame:
    return pd.DataFrame({"hazard_ratio": [(value_lower + value_upper) / 2, 1.0], "lower": [value_lower, 0.9],
                         "upper": [value_upper, 1.1], "p_value": [0.001 if value_upper < 1 or value_lower > 1
                                                                  else 0.4, 0.5]},
                        index=pd.Index(["log_first_order_value", "first_order_lines"], name="covariate"))


def test_sections_in_both_languages():
    assert narrative.section("cox", "en").startswith("## 3. What drives churn?")
    assert narrative.section("recommendations", "ko") == "## 8. 권고 사항"
    for key in ("title", "cohorts", "survival", "cox", "best", "models", "clv", "action"):
        assert "\n\n" in narrative.section(key, "ko")


def test_cohort_sentence_follows_the_numbers():
    avg = pd.Series({0: 1.0, 1: 0.2, 3: 0.1})
    ever = pd.Series({0: 1.0, 1: 0.5, 3: 0.4})
    text = narrative.cohorts(avg, ever, 0.55)
    assert "**20% of a cohort orders again in its second month**" in text and "55% of customers" in text
    assert "second-order programme" in text
    assert "not the main bottleneck" in narrative.cohorts(avg, ever, 0.1)
    assert "too few months" in narrative.cohorts(pd.Series({0: 1.0}), ever, 0.1)
    assert "두 번째 달에 다시 주문" in narrative.cohorts(avg, ever, 0.55, "ko")


def test_survival_sentence_names_the_follow_up_and_the_segments():
    t = pd.DataFrame({"duration_days": [5, 20, 40, 60] * 5 + [1, 2, 3, 60] * 5,
                      "churned": [0, 0, 0, 0] * 5 + [1, 1, 1, 0] * 5, "segment": ["Champions"] * 20 + ["Lost"] * 20})
    km = retention.survival(t, by="segment", min_group=5, horizons=(30, 180))
    text = narrative.survival(km)
    assert "at most 60 days" in text and "survival at 180 days is not reported" in text
    assert "30 days after the cut-off, **100% of Champions**" in text and "**25% of Lost**" in text
    assert "planned per segment" in text
    ko = narrative.survival(km, "ko")
    assert "챔피언" in ko and "이탈 고객" in ko and "180일 생존율은 보고하지 않습니다" in ko
    overall = retention.survival(t, min_group=5, horizons=(30,))
    assert "no segment has enough customers" in narrative.survival(overall)
    short = retention.survival(t.assign(duration_days=t["duration_days"].clip(upper=10)), min_group=5,
                               horizons=(30,))
    assert "too short for any horizon" in narrative.survival(short)


def test_cox_sentence_reads_the_intervals_and_the_dropped_covariates():
    protective = narrative.cox(_hr(0.9, 0.8), {"domestic": "missing"}, has_country=False)
    assert "1 of 2 drivers are significant" in protective and "larger first order churn more slowly" in protective
    assert "no country column" in protective
    harmful = narrative.cox(_hr(1.3, 1.1), {"domestic": "constant"}, has_country=True)
    assert "churn faster" in harmful and "*domestic customer* does not vary" in harmful
    unclear = narrative.cox(_hr(1.2, 0.8), {"domestic": "rare"}, has_country=True)
    assert "No driver is significant" in unclear and "does not clearly separate" in unclear
    assert "too few customers or no churn" in unclear
    assert narrative.first_value_effect(_hr(0.9, 0.8)) == "protective"
    assert narrative.first_value_effect(_hr(1.2, 0.8)) is None and narrative.first_value_effect(None) is None
    assert "Cox 모형을 적합할 수 없습니다" in narrative.cox(None, {}, has_country=False, lang="ko")
    assert "위험비 0.85" in narrative.cox(_hr(0.9, 0.8), {}, has_country=False, lang="ko")


def test_best_retention_and_model_sentences():
    assert "below the average" in narrative.best_retention({"mean_retention": 0.4, "last_retention": 0.3, "periods": 4})
    assert "close to the average" in narrative.best_retention({"mean_retention": 0.4, "last_retention": 0.41})
    assert "no full quarter" in narrative.best_retention({"mean_retention": None})
    tab = pd.DataFrame({"log_likelihood": [-100.0, -100.2], "converged": [True, False]}, index=["BG/NBD", "MBG/NBD"])
    check = SimpleNamespace(mae=0.5, correlation=0.7, total_predicted=80.0, total_actual=100.0)
    comp = SimpleNamespace(table=tab, best_name="BG/NBD", checks={"BG/NBD": check})
    text = narrative.models(comp)
    assert "**BG/NBD** is chosen" in text and "MBG/NBD ran to the edge" in text
    assert "same likelihood" in text and "under-predicts the holdout by 20%" in text
    check.total_predicted = 130.0
    assert "over-predicts the holdout by 30%" in narrative.models(comp)
    assert "모형을 선택했습니다" in narrative.models(comp, "ko")


def _facts(**kw):
    f = {"at_risk": 12, "at_risk_clv": 3456.0, "high_value": 100, "best_mean": 0.4, "best_last": 0.35,
         "best_clv_share": 0.6, "one_order_share": 0.45, "month1": 0.2, "first_value_effect": "protective",
         "model": "Pareto/NBD", "mae": 0.42, "top_segment": "Champions", "top_share": 0.5}
    f.update(kw)
    return f


def test_recommendations_are_built_from_the_results():
    text = narrative.recommendations(_facts())
    assert text.startswith("1. **Work the action list now.** 12 of the 100 high-value customers")
    assert "3,456 of expected margin" in text and "40% of the best customers" in text
    assert "45% of customers have ordered only once and 80% of a cohort" in text
    assert "weighted towards small first orders" in text and "Pareto/NBD predicted the holdout within 0.42" in text
    calm = narrative.recommendations(_facts(at_risk=0, one_order_share=0.1, first_value_effect=None))
    assert "None of the 100 is at risk" in calm and "second order" not in calm and calm.count("\n") == 2
    no_best = narrative.recommendations(_facts(best_mean=None))
    assert "Protect the best" not in no_best
    ko = narrative.recommendations(_facts(), "ko")
    assert "우량 고객 100명 중 12명" in ko and "챔피언" in ko and "Work" not in ko


def test_report_table_headers_in_english_and_korean():
    df = pd.DataFrame({"customers": [10, 5], "clv_share": [0.75, 0.25], "survival_90d": [0.5, float("nan")],
                       "converged": [True, False]}, index=pd.Index(["Champions", "Lost"], name="segment"))
    en = narrative.table(df, "en").table
    assert list(en.columns) == ["customers", "share of CLV", "still active after 90 days", "converged"]
    assert en.iloc[0].tolist() == ["10", "75.0%", "50.0%", "yes"] and en.iloc[1, 2] == "n/a"
    ko = narrative.table(df, "ko", translate_index=True).table
    assert list(ko.columns) == ["고객 수", "고객생애가치 비중", "90일 후 유지율", "수렴"]
    assert list(ko.index) == ["챔피언", "이탈 고객"] and ko.index.name == "세그먼트"
    assert ko.iloc[1, 3] == "아니오"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_data_intro_states_how_the_cutoff_was_chosen(lang):
    tx = pd.DataFrame({"customer_id": ["a", "b"], "order_id": ["1", "2"],
                       "order_ts": pd.to_datetime(["2020-01-01", "2020-03-01"])})
    args = (pd.Timestamp("2020-03-02"), pd.Timestamp("2020-02-12"))
    share = narrative.data_intro("My shop", tx, *args, given=False, share=0.7, lang=lang)
    assert "My shop" in share and "2020-02-12" in share and "70%" in share
    held = narrative.data_intro("My shop", tx, *args, given=False, share=0.7, holdout_days=30, lang=lang)
    assert "30" in held and "70%" not in held
