"""The strategy report (00), dated runs, `crmlab compare`, Korean output, and the real
reports in a real browser."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import campaign, cli, customers, data, report, segments, strategy

from conftest import FIXTURES
from test_browser import _images, _open, browser, needs_chromium  # noqa: F401  (browser is a fixture)

SAMPLE = FIXTURES / "online_retail_sample.yml"
DATES = ("2011-09-01", "2011-12-01")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    for d in DATES:
        batch = report.render_batch([("00-strategy-report", {"source": str(SAMPLE)})], output_root=root,
                                    as_of=d, progress=False)
        assert batch.ok, [r.error for r in batch.results]
    return root


def test_strategy_report_numbers(runs):
    rep = report.load_run(DATES[0], runs, notebook="00-strategy-report")
    m = rep["metrics"]
    tx = data.clean(data.load_source(SAMPLE, as_of=DATES[0])).data
    assert m["as_of"] == DATES[0]
    assert m["customers"] == tx["customer_id"].nunique()
    assert m["repeat_rate"] == pytest.approx(customers.kpis(tx).to_dict()["repeat_rate"])
    best = segments.rfm(tx, as_of=DATES[0]).summary.loc[list(segments.TOP_SEGMENTS)]
    assert m["best_revenue_share"] == pytest.approx(best["revenue_share"].sum())
    # Campaign figures are those of the Hillstrom test measured directly.
    meas = campaign.measure(campaign.load_experiment("hillstrom"), random_state=0)
    assert m["campaign_best_arm"] == meas.ranking("conversion")[0] == "Mens E-Mail"
    assert m["campaign_best_lift"] == pytest.approx(meas.lift("conversion", "Mens E-Mail")["lift_abs"])
    # whom to contact next: the uplift model of the best arm on visits, fitted the same way directly
    exp = campaign.load_experiment("hillstrom")
    feats = [c for c in exp.columns if c not in ("segment", "visit", "conversion", "spend")]
    direct = campaign.targeting_recommendation(exp, treatment="Mens E-Mail", outcome="visit", features=feats,
                                               margin=2.0, cost=0.10)
    assert 0 < m["uplift_best_share"] <= 1
    assert m["uplift_best_share"] == pytest.approx(direct.best["share"])
    assert m["uplift_profit"] == pytest.approx(direct.best["profit"])
    # churn risk comes from the measure that won on a holdout, printed with its AUC, beating a random
    # ranking (0.5) by a stated margin; and no segment reads "P(alive) 100 %" beside "churn risk 100 %"
    assert m["churn_auc"] >= 0.6, m["churn_measure"]
    plan = rep["tables"]["strategy"].set_index("segment")
    both = (plan["prob_alive"] > 0.995) & (plan["churn_risk"] > 0.995)
    assert not both.any() or m["churn_no_dropout"], plan[["prob_alive", "churn_risk"]]
    assert f"AUC {m['churn_auc']:.2f}" in (rep["dir"] / "report.html").read_text(encoding="utf-8")
    assert m["segments_planned"] == int((segments.rfm(tx, as_of=DATES[0]).summary["customers"] > 0).sum())
    t = rep["tables"]
    assert set(t) >= {"customer_segments", "clv_by_segment", "rules", "campaign", "strategy", "scorecard"}
    assert len(t["customer_segments"]) == m["customers"]
    assert t["customer_segments"]["customer_id"].str.startswith("C-").all()  # pseudonymised
    assert set(t["scorecard"]["metric"]) == {"repeat_rate", "best_customer_retention", "avg_clv", "campaign_roi"}
    assert set(t["strategy"]["action"].dropna()) <= {
        *(v["action"] for v in strategy.load_playbook()["segments"].values()),
        *(r["action"] for r in strategy.load_playbook()["rules"]),
    }


def test_compare_two_dated_runs_from_the_command_line(runs, capsys):
    assert cli.main(["compare", *DATES, "--output", str(runs), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "compared:" in out
    rep = report.load_report(runs / "compare-runs" / f"run_a={DATES[0]},run_b={DATES[1]}")
    m = rep["metrics"]
    a = report.load_run(DATES[0], runs, notebook="00-strategy-report")
    b = report.load_run(DATES[1], runs, notebook="00-strategy-report")
    c = strategy.compare_runs(a, b)
    assert (m["run_a"], m["run_b"]) == DATES
    assert m["change_customers"] == b["metrics"]["customers"] - a["metrics"]["customers"] > 0
    mig = c["migration"]
    assert m["new_customers"] == int(mig.loc["(not a customer)"].sum()) == m["change_customers"]
    assert m["rules_appeared"] == len(c["rules"]["appeared"])
    # every customer of run A is somewhere in run B's rows of the matrix
    assert int(mig.drop(index="(not a customer)").to_numpy().sum()) == a["metrics"]["customers"]


def test_compare_refuses_a_missing_run(runs, capsys):
    assert cli.main(["compare", DATES[0], "2099-01-01", "--output", str(runs), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("crmlab: error:") and "2099-01-01" in err and err.count("\n") == 1


def test_korean_report_with_campaign_response_per_segment(tmp_path):
    """lang=ko, and a test file that carries RFM segments fills the plan's campaign column."""
    exp = pd.read_csv(FIXTURES / "campaign_hillstrom_sample.csv.gz")
    # Label customers with RFM segment names (by past spend band) so the response can be split.
    bands = sorted(exp["history_segment"].unique())
    names = ["Lost", "Hibernating", "About to Sleep", "Need Attention", "Loyal", "Champions", "Champions"]
    exp["rfm_segment"] = exp["history_segment"].map(dict(zip(bands, names)))
    exp.to_csv(tmp_path / "test.csv", index=False)
    res = report.render("00-strategy-report", {"source": str(SAMPLE), "lang": "ko",
                                               "experiment": str(tmp_path / "test.csv"),
                                               "experiment_segment": "rfm_segment"}, output_root=tmp_path)
    assert res.ok, res.error
    html = res.html.read_text(encoding="utf-8")
    for text in ("핵심 지표", "핵심 발견 다섯 가지", "세그먼트별 전략", "챔피언", "이탈 위험", "목표 달성 현황"):
        assert text in html
    plan = report.load_report(res.path)["tables"]["strategy"].set_index("segment")
    best = report.load_report(res.path)["metrics"]["campaign_best_arm"]
    direct = campaign.segment_effects(exp, "rfm_segment", outcome="conversion", treatments=[best]) \
        .response("rfm_segment", "conversion", best)
    assert plan.loc["Champions", "campaign_response"] == (
        f"{direct.loc['Champions', 'lift_abs']:+.2%} pts ({direct.loc['Champions', 'action']})")
    assert pd.isna(plan.loc["At Risk", "campaign_response"])  # not in the test: not measured


@pytest.mark.browser
@needs_chromium
def test_real_reports_open_cleanly_in_chromium(runs, browser):  # noqa: F811
    assert cli.main(["compare", *DATES, "--output", str(runs), "--no-progress"]) == 0
    strategy_html = next((runs / "runs" / DATES[1] / "00-strategy-report").glob("*/report.html"))
    compare_html = runs / "compare-runs" / f"run_a={DATES[0]},run_b={DATES[1]}" / "report.html"
    for name, path in (("strategy-report", strategy_html), ("compare-runs", compare_html)):
        page, errors, dialogs = _open(browser, path, name)
        assert errors == [] and dialogs == []
        images = _images(page)
        assert images and all(i["complete"] and i["width"] > 0 for i in images), images
        text = page.inner_text("body")
        assert "Traceback" not in text and "Error" not in text
        page.close()


def test_strategy_report_on_cdnow_without_products(run_notebook):
    """CDNOW has customers, dates and amounts only: the plan is built, no rules are mined, the offer
    column says there are no product data, and the numbers are CDNOW's."""
    from conftest import assert_clean_report, report_text

    nb, m = run_notebook("00-strategy-report.ipynb", source="cdnow")
    tx = data.clean(data.load_source("cdnow")).data
    assert m["customers"] == tx["customer_id"].nunique() == 23502
    assert m["repeat_rate"] == pytest.approx(customers.kpis(tx).to_dict()["repeat_rate"])
    assert m["has_products"] is False and m["top_rule"] is None
    assert m["segments_planned"] >= 5
    text = report_text(nb)
    assert "(no product data)" in text
    assert_clean_report(nb)


def test_strategy_report_in_korean_on_a_korean_export(run_notebook):
    from conftest import FIXTURES as FX, assert_clean_report, report_text

    src = FX / "korean_shop.yml"
    nb, m = run_notebook("00-strategy-report.ipynb", source=str(src), lang="ko")
    tx = data.clean(data.load_source(src)).data
    assert m["customers"] == tx["customer_id"].nunique() == 287
    best = segments.rfm(tx).summary.loc[list(segments.TOP_SEGMENTS)]
    assert m["best_revenue_share"] == pytest.approx(best["revenue_share"].sum())
    text = report_text(nb)
    for heading in ("핵심 지표", "핵심 발견", "세그먼트별 계획", "목표 달성 현황", "권고 사항", "이탈 조짐이 있는 고가치 고객"):
        assert heading in text, heading
    for english in ("Headline KPIs", "Recommendations", "The plan per segment", "Targets scorecard"):
        assert english not in text, english
    assert_clean_report(nb)
