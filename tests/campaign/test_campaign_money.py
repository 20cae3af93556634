"""Tests of crmlab.campaign.money: the return on a measured campaign."""

from __future__ import annotations


import pandas as pd
import pytest

from crmlab import campaign
from crmlab.errors import ParameterError

from campaign_cases import two_arm


def test_roi_by_hand():
    """1,000 contacts at 0.5 each, control 5 % vs treatment 8 % conversion, spend 100 per
    conversion, margin 40 %: 30 incremental conversions, 3,000 incremental revenue,
    1,200 margin, net 700, ROI 1.4, cost per incremental conversion 16.67, CLV 200 -> 6,000."""
    df = two_arm(1000, 50, 1000, 80)
    df["spend"] = df["conversion"] * 100.0
    r = campaign.measure(df, arm="arm", outcomes=["conversion", "spend"], control="control",
                         n_boot=0)
    money = campaign.roi(r, cost_per_contact=0.5, margin=0.4, clv=pd.Series([150.0, 250.0]))
    row = money.table.loc["treatment"]
    assert row["incremental_conversions"] == pytest.approx(30)
    assert row["incremental_revenue"] == pytest.approx(3000)
    assert row["incremental_margin"] == pytest.approx(1200)
    assert row["net_return"] == pytest.approx(700)
    assert row["roi"] == pytest.approx(1.4)
    assert row["cost_per_incremental_conversion"] == pytest.approx(500 / 30)
    assert row["incremental_clv"] == pytest.approx(6000)
    assert row["roi_low"] < row["roi"] < row["roi_high"]
    assert money.to_dict()["treatment__roi"] == pytest.approx(1.4)
    with pytest.raises(ParameterError, match="margin"):
        campaign.roi(r, cost_per_contact=0.5, margin=30)
    with pytest.raises(ParameterError, match="cost_per_contact"):
        campaign.roi(r, cost_per_contact=-1, margin=0.3)
