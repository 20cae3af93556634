"""notebooks/03-retention-ltv.ipynb on the demo sample, on CDNOW (customer, date, amount: no products,
no country) and on a Korean CP949 export in Korean, checked by the numbers it publishes."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, assert_clean_report, report_text

SAMPLE = FIXTURES / "online_retail_sample.yml"
KOREAN = FIXTURES / "korean_shop.yml"


def _html(nb) -> str:
    return "".join(str(o.get("data", {}).get("text/html", "")) for c in nb.cells for o in c.get("outputs", []))


def test_retention_ltv_notebook_on_sample(run_notebook):
    """Executes the notebook on the 287-customer fixture (about 25 s) and checks the published
    numbers against what the modules give on the same data."""
    from crmlab import data, retention

    nb, metrics = run_notebook(
        "03-retention-ltv.ipynb",
        source=str(SAMPLE),
        cutoff="2011-06-30",
        horizon_months=6,
        top_n=10,
    )
    tx = data.clean(data.load_source(SAMPLE)).data
    assert metrics["customers"] == tx["customer_id"].nunique() == 287
    expected = retention.cohort_matrix(tx).average_rates()[1]
    assert metrics["cohort_retention_month1"] == pytest.approx(expected)
    assert metrics["chosen_model"] in {"BG/NBD", "Pareto/NBD", "MBG/NBD"}
    assert metrics["chosen_model"] == metrics["backtest_best_purchase_model"]
    # churn risk from the measure that won on the holdout, its AUC printed next to it
    assert metrics["churn_auc"] >= 0.6 and "P(alive)" not in metrics["churn_measure"]
    assert set(metrics["churn_no_dropout"]) == {"BG/NBD", "Pareto/NBD", "MBG/NBD"}
    assert "no dropout visible in this data" in report_text(nb)
    assert f"AUC {metrics['churn_auc']:.2f}" in report_text(nb)
    assert 0 < metrics["holdout_mae"] < 5 and metrics["holdout_correlation"] > 0.5
    assert metrics["clv_total"] > 0
    assert 0 < metrics["best_customer_retention_mean"] <= 1
    assert metrics["high_value_customers"] >= metrics["high_value_at_risk"]
    # names the strategy layer (crmlab.strategy.key_findings) reads
    for key in ("best_customer_retention", "avg_clv", "at_risk_value_customers", "at_risk_value_clv"):
        assert metrics[key] is not None
    assert metrics["avg_clv"] == pytest.approx(metrics["clv_total"] / metrics["customers"])
    assert metrics["cutoff"] == "2011-06-30"
    assert "domestic" in metrics["cox_covariates"] or metrics["cox_dropped"]["domestic"] in ("constant", "rare")
    # pseudonymised IDs in the action list, no raw customer id
    html = _html(nb)
    assert "C-" in html
    top = tx.groupby("customer_id")["amount"].sum().nlargest(10).index
    assert not any(f">{cid}</th>" in html for cid in top)
    assert_clean_report(nb, demo=True)


def test_retention_ltv_notebook_on_cdnow(run_notebook):
    """CDNOW: no products, no country, 18 months. The cut-off is 70% into the observed days, the
    forward survival table stops at the follow-up the data has, the Cox model runs without a
    country covariate, and the published model choice and CLV equal a direct computation."""
    from crmlab import data, dates, ltv, segments

    nb, m = run_notebook("03-retention-ltv.ipynb", source="cdnow")
    tx, as_of = dates.cutoff(data.clean(data.load_source("cdnow")).data, "")
    assert m["customers"] == tx["customer_id"].nunique() == 23502
    cut = ltv.calibration_cutoff(tx)
    assert m["cutoff"] == cut.date().isoformat() == "1998-01-18"  # 1997-01-01 + round(0.7 * 545) = 382 days
    assert m["survival_follow_up_days"] < 180 and "survival_180d" not in m["survival_horizons"]
    assert m["survival_horizons"] == ["survival_30d", "survival_90d"]
    assert m["cox_covariates"] == ["log_first_order_value", "first_order_lines"]
    assert m["cox_dropped"] == {"domestic": "missing"}
    # the rolling-origin backtest picks the model: the leaderboard's best purchase model (issue 12)
    assert m["backtest_cutoffs"] >= 3
    maes = {k: m[f"backtest_mae_{k}"] for k in ("BG/NBD", "Pareto/NBD", "MBG/NBD")}
    assert m["chosen_model"] == m["backtest_best_purchase_model"] == min(maes, key=maes.get)
    summary = ltv.summary(tx, unit="D", as_of=as_of)
    assert m["one_order_share"] == pytest.approx((summary["frequency"] == 0).mean())
    model = {"BG/NBD": ltv.BGNBD, "Pareto/NBD": ltv.ParetoNBD, "MBG/NBD": ltv.MBGNBD}[m["chosen_model"]]()
    value = ltv.clv(model.fit(summary), ltv.GammaGamma().fit(summary), summary,
                    horizon_months=12, margin=0.3, discount_rate=0.1)
    assert m["clv_total"] == pytest.approx(value.to_dict()["clv_total"], rel=1e-6)
    rfm = segments.rfm(tx, as_of=as_of).table
    risk = ltv.at_risk_summary(ltv.high_value_at_risk(value, rfm["monetary"], days_since_last=rfm["recency_days"],
                                                      p_alive_below=0.5, silent_days=90))
    assert m["at_risk_value_customers"] == risk["at_risk_value_customers"]
    text = report_text(nb)
    assert "no country column" in text and "not reported" in text
    assert f"**{m['chosen_model']}** is chosen" in text
    assert f"Churn risk comes from **{m['churn_measure']}**" in text and m["churn_auc"] > 0.75
    assert m["churn_no_dropout"] == []  # CDNOW shows drop-out
    assert f"{m['at_risk_value_customers']:,} of the" in text  # the recommendation quotes the at-risk count
    assert_clean_report(nb)


def test_retention_ltv_notebook_in_korean(run_notebook):
    from crmlab import data

    nb, m = run_notebook("03-retention-ltv.ipynb", source=str(KOREAN), lang="ko")
    tx = data.clean(data.load_source(KOREAN)).data
    assert m["customers"] == tx["customer_id"].nunique() == 287
    assert m["cox_dropped"].get("domestic") == "missing"  # the export has a region column, not a country
    text = report_text(nb)
    for heading in ("고객 유지와 고객생애가치", "세그먼트별 생존", "Cox 모형", "최우수 고객", "검증 기간 점검",
                    "권고 사항", "위험비", "고객생애가치 비중", "활동 확률"):
        assert heading in text, heading
    for english in ("Recommendations", "hazard ratio", "still active after", "probability alive", "share of CLV",
                    "is chosen", "customers"):
        assert english not in text, english
    assert_clean_report(nb)
