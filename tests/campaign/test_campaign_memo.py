"""Tests of crmlab.campaign.memo and narrative: the notebook's steps and sentences."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlab import campaign
from crmlab.campaign import memo, narrative

from campaign_cases import two_arm

PACKAGE = Path(campaign.__file__).parent


@pytest.fixture(scope="module")
def toy():
    df = two_arm(2000, 100, 2000, 140)
    df["spend"] = df["conversion"] * np.linspace(20.0, 80.0, len(df))
    return df, campaign.measure(df, arm="arm", outcomes=["conversion", "spend"],
                                control="control", n_boot=0)


def test_split_names_drops_blanks():
    assert memo.split_names(" visit, conversion,,spend ") == ["visit", "conversion", "spend"]
    assert memo.split_names("") == []


def test_one_treatment_has_no_head_to_head(toy):
    df, m = toy
    assert memo.head_to_head(df, m, "conversion") is None
    assert narrative.head_to_head_sentence(None, "conversion").startswith("Only one treatment")


def test_decision_money_counts_binary_outcome_and_revenue(toy):
    _, m = toy
    money = memo.decision_money(m, "conversion", revenue="spend", cost_per_contact=0.1, margin=0.3)
    direct = campaign.roi(m, cost_per_contact=0.1, margin=0.3)
    pd.testing.assert_frame_equal(money.table, direct.table)
    # an amount as the decision outcome and no revenue: nothing to count
    assert memo.decision_money(m, "spend", revenue="", cost_per_contact=0.1, margin=0.3) is None
    assert narrative.money_sentence(None, "treatment") == "No money outcome measured."
    assert "treatment" in narrative.money_sentence(money, "treatment")


def test_next_test_plans_for_an_amount_use_the_control_sd(toy):
    df, m = toy
    plans = memo.next_test_plans(df, m, "spend", mde_rel=0.2, power=0.8)
    sd = df.loc[df["arm"] == "control", "spend"].std()
    baseline = m.lift("spend")["control_value"]
    expected = campaign.plan(baseline, mde=0.2, relative=True, kind="mean", sd=sd)
    assert plans["next_test"]["n_per_arm"] == expected["n_per_arm"]
    assert plans["holdout"]["audience"] == len(df)
    text = narrative.next_test_sentence(plans["next_test"], plans["this_test"], plans["holdout"], 0.2)
    assert f"{int(expected['n_per_arm']):,} customers per arm" in text


def test_no_covariate_no_cuped(toy):
    _, m = toy
    assert memo.cuped_table(m) is None and m.variance_reduction is None
    assert narrative.cuped_sentence(m) == "No covariate given: CUPED skipped."


def test_campaign_modules_and_functions_stay_small():
    """The layout rule of the package: no module over 700 lines, no function over 80."""
    for path in PACKAGE.glob("*.py"):
        text = path.read_text()
        assert len(text.splitlines()) <= 700, path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                assert node.end_lineno - start + 1 <= 80, f"{path.name}: {node.name}"
