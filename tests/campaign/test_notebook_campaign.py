"""notebooks/04-campaign-measurement.ipynb runs through papermill and publishes the right numbers."""

from __future__ import annotations

import nbformat
import pytest

from crmlab import campaign, config

from conftest import FIXTURES, assert_clean_report, report_text

SAMPLE = FIXTURES / "campaign_hillstrom_sample.csv.gz"
SAMPLE_SOURCE = FIXTURES / "campaign_hillstrom_sample.yml"
KOREAN = FIXTURES / "korean_campaign.yml"
NOTEBOOK = config.NOTEBOOKS_DIR / "04-campaign-measurement.ipynb"


def test_notebook_is_a_clean_memo():
    """Committed without outputs, parameters cell first, no helpers defined in the notebook."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not any(line.lstrip().startswith(("def ", "class "))
                   for c in code for line in c.source.splitlines())
    assert nb.metadata["kernelspec"] == {"display_name": "Python (crmlab)", "language": "python",
                                         "name": "crmlab"}
    for line in code[0].source.splitlines():
        assert ":" in line.split("=")[0] and "  # " in line  # typed, with a comment


def test_campaign_notebook_on_sample_with_parameters(run_notebook):
    """Non-default parameters (a source file, another decision outcome and segment column) flow
    through, and the published numbers equal crmlab called directly on the same data."""
    nb, m = run_notebook("04-campaign-measurement.ipynb", source=str(SAMPLE_SOURCE), outcome="visit",
                         segment_by="channel", mde_rel=0.1, cost_per_contact=0.05,
                         audience=200_000)
    exp = campaign.load_experiment(SAMPLE)
    r = campaign.measure(exp, covariate="history")
    best = r.ranking("visit")[0]
    assert m["n_customers"] == len(exp) == 12_000
    assert m["best_arm"] == best
    assert m["best_lift_abs"] == pytest.approx(r.lift("visit", best)["lift_abs"], rel=1e-12)
    assert m["best_p_adjusted"] == pytest.approx(r.lift("visit", best)["p_adjusted"], rel=1e-9)
    assert m["srm_p_value"] == pytest.approx(r.srm["p_value"], rel=1e-12)
    baseline = r.lift("visit", best)["control_value"]
    assert m["next_test_n_per_arm"] == campaign.plan(baseline, mde=0.1, relative=True)["n_per_arm"]
    h = campaign.holdout(200_000, baseline, 0.1, relative=True)
    assert m["holdout"] == h["holdout"] and m["holdout_feasible"] is True
    money = campaign.roi(r, cost_per_contact=0.05, margin=0.3, conversion="visit")
    assert m["roi"] == pytest.approx(money.table.loc[best, "roi"], rel=1e-12)
    text = "".join(str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells
                   if c.cell_type == "code" for o in c.outputs)
    assert "By channel" in text and f"Send {best}" in text
    assert_clean_report(nb)


def test_campaign_notebook_defaults_on_hillstrom(run_notebook):
    """ANCHORS.md: 64,000 customers, Mens 21,307, Womens 21,387, No E-Mail 21,306. The men's
    e-mail has the largest conversion lift in the Hillstrom test."""
    nb, m = run_notebook("04-campaign-measurement.ipynb")
    assert m["n_customers"] == 64_000
    assert m["measure__n__mens_e_mail"] == 21307
    assert m["measure__n__womens_e_mail"] == 21387
    assert m["measure__n__no_e_mail"] == 21306
    assert m["srm_failed"] is False
    assert m["best_arm"] == "Mens E-Mail" and m["best_significant"] is True
    # the strategy report's key findings read these two names
    assert m["campaign_best_arm"] == "Mens E-Mail"
    assert m["campaign_best_lift"] == pytest.approx(m["measure__conversion__mens_e_mail__lift_rel"])
    assert m["next_test_n_per_arm"] == campaign.plan(
        m["measure__conversion__no_e_mail__mean"], mde=0.25, relative=True)["n_per_arm"]
    # targeting section: Womens E-Mail vs No E-Mail on the published split (ANCHORS.md,
    # scikit-uplift pipeline_usage_EN: uplift@30 % = 0.0660 for visits, a floor here)
    assert m["targeting_arm"] == "Womens E-Mail"
    assert m["targeting__visit__uplift_at_30"] >= 0.0660
    assert m["targeting__spend__best_share"] > 0
    assert m["design_n_holdout"] > 0 and m["readout__srm_failed"] is False
    text = report_text(nb)
    assert "Whom to target" in text and "Illustration." in text
    assert_clean_report(nb)


def test_campaign_notebook_in_korean_on_a_korean_cp949_export(run_notebook):
    """The Hillstrom sample exported as a Korean CRM tool would (CP949, Korean headers and arm
    names): arm, control and outcomes come from the source file, the decision outcome is chosen
    from the data (the last 0/1 outcome), and the report publishes the numbers campaign.measure
    gives on the same data read directly; Korean arm names keep distinct metric keys."""
    nb, m = run_notebook("04-campaign-measurement.ipynb", source=str(KOREAN), lang="ko",
                         segment_by="신규고객,구매채널,newbie", covariate="과거구매액")
    exp = campaign.load_experiment(KOREAN)
    r = campaign.measure(exp, arm="발송그룹", outcomes=["방문", "구매", "구매금액"], control="미발송",
                         covariate="과거구매액")
    assert m["n_customers"] == len(exp) == 12_000
    for arm, key in (("남성 메일", "남성_메일"), ("여성 메일", "여성_메일"), ("미발송", "미발송")):
        assert m[f"measure__n__{key}"] == (exp["발송그룹"] == arm).sum()
    for arm, key in (("남성 메일", "남성_메일"), ("여성 메일", "여성_메일")):
        for outcome in ("방문", "구매", "구매금액"):
            lift = r.lift(outcome, arm)
            assert m[f"measure__{outcome}__{key}__lift_abs"] == pytest.approx(lift["lift_abs"], rel=1e-12)
            assert m[f"measure__{outcome}__{key}__lift_rel"] == pytest.approx(lift["lift_rel"], rel=1e-12)
    assert m["campaign_outcome"] == "구매"
    assert m["campaign_best_arm"] == m["best_arm"] == r.ranking("구매")[0] == "남성 메일"
    assert m["campaign_best_lift"] == pytest.approx(r.lift("구매", "남성 메일")["lift_rel"], rel=1e-12)
    # the same counts as the English sample: only the form of the export changed
    sample = campaign.load_experiment(SAMPLE)
    assert m["measure__n__남성_메일"] == (sample["segment"] == "Mens E-Mail").sum()
    text = report_text(nb)
    for heading in ("무작위 배정은 건전했는가", "고객 유형별 효과", "금전 효과", "권고 사항",
                    "업리프트 모델", "다음 캠페인"):
        assert heading in text
    assert "`newbie` 열이 없어" in text  # a segment column the data lacks is a note, not a failure
    assert "가장 좋은 실험군" in text  # the English default target arm falls back, with a note
    assert m["targeting_arm"] == "남성 메일" and m["readout__srm_failed"] is False
    for english in ("Recommendation", "lift_abs", "p_adjusted", "Sample ratio check", "Send "):
        assert english not in text, english
    assert_clean_report(nb)
