"""notebooks/04-campaign-measurement.ipynb runs through papermill and publishes the right numbers."""

from __future__ import annotations

import nbformat
import pytest

from crmlab import campaign, config

from conftest import FIXTURES

SAMPLE = FIXTURES / "campaign_hillstrom_sample.csv.gz"
NOTEBOOK = config.NOTEBOOKS_DIR / "04-campaign-measurement.ipynb"


def test_notebook_is_a_clean_memo():
    """Committed without outputs, parameters cell first, no helpers defined in the notebook."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not any(line.lstrip().startswith(("def ", "class "))
                   for c in code for line in c.source.splitlines())
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for line in code[0].source.splitlines():
        assert ":" in line.split("=")[0] and "  # " in line  # typed, with a comment


def test_campaign_notebook_on_sample_with_parameters(run_notebook):
    """Non-default parameters (a path, another decision outcome and segment column) flow
    through, and the published numbers equal crmlab called directly on the same data."""
    nb, m = run_notebook("04-campaign-measurement.ipynb", data=str(SAMPLE), outcome="visit",
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


def test_campaign_notebook_defaults_on_hillstrom(run_notebook):
    """ANCHORS.md: 64,000 customers, Mens 21,307, Womens 21,387, No E-Mail 21,306. The men's
    e-mail has the largest conversion lift in the Hillstrom test."""
    _, m = run_notebook("04-campaign-measurement.ipynb")
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
