"""Tests of crmlab.campaign.audience: audience draw with a stratified holdout, export, readout."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crmlab import campaign
from crmlab.errors import ParameterError


def customers(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    seg = rng.choice(["Champions", "Loyal", "At Risk", "New"], n, p=[0.1, 0.3, 0.4, 0.2])
    return pd.DataFrame({"customer_id": [f"c{i:05d}" for i in range(n)], "segment": seg,
                         "score": rng.random(n)})


def test_draw_is_reproducible_whatever_the_row_order_and_stratified_within_one():
    c = customers()
    kw = dict(campaign="spring", offer="10% off", send_date="2024-05-06", holdout_share=0.15,
              random_state=7)
    a = campaign.design_audience(c, **kw).audience
    b = campaign.design_audience(c.sample(frac=1, random_state=1), **kw).audience
    pd.testing.assert_frame_equal(a, b)
    other = campaign.design_audience(c, **(kw | {"random_state": 8})).audience
    assert not a["group"].equals(other["group"])
    assert (a["group"] == "holdout").sum() == 300
    for seg, g in a.groupby("segment"):
        assert abs((g["group"] == "holdout").sum() - 0.15 * len(g)) < 1, seg
    assert a["send_time"].eq(pd.Timestamp("2024-05-06 10:00")).all()


def test_selection_power_sizing_hours_and_export(tmp_path):
    c = customers(5000)
    hours = pd.Series({"c00001": 20})
    d = campaign.design_audience(c, campaign="vip", offer="free shipping", send_date="2024-05-06",
                                 segments=["Champions", "Loyal", "At Risk"], score="score",
                                 top=0.5, baseline=0.10, mde=0.05, hours=hours)
    plan = campaign.holdout(len(d.audience), 0.10, 0.05)
    assert d.design["n_holdout"] == plan["holdout"]
    assert set(d.audience["segment"]) <= {"Champions", "Loyal", "At Risk"}
    assert len(d.audience) == round(0.5 * c["segment"].ne("New").sum())
    path = d.write(tmp_path / "vip.csv")
    rec = json.loads(path.read_text())
    assert rec["audience_file"] == "vip.csv" and rec["power_calculation"]["holdout"] == plan["holdout"]
    back = campaign.load_design(path)
    pd.testing.assert_frame_equal(back.audience, d.audience, check_dtype=False)
    d.write(tmp_path / "vip.parquet")
    assert len(pd.read_parquet(tmp_path / "vip.parquet")) == len(d.audience)
    import sqlite3

    con = sqlite3.connect(":memory:")
    d.to_sql("vip_audience", con)
    assert pd.read_sql("select count(*) n from vip_audience", con)["n"][0] == len(d.audience)
    stored = json.loads(pd.read_sql("select design from vip_audience_design", con)["design"][0])
    assert stored["n_holdout"] == plan["holdout"]
    with pytest.raises(ParameterError, match="holdout_share= or baseline="):
        campaign.design_audience(c, campaign="x", offer="y", send_date="2024-05-06")


def test_preferred_hours():
    tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
                       "order_ts": pd.to_datetime(["2024-01-01 09:10", "2024-01-02 19:00",
                                                   "2024-01-03 19:30", "2024-01-01 08:00"])})
    assert campaign.preferred_hours(tx).to_dict() == {"a": 19, "b": 8}


def test_readout_recovers_a_known_effect(tmp_path):
    """Constructed transactions: in the 14 days after sending, every audience member buys
    with probability 0.20 (holdout) or 0.30 (treatment) and spends 50 per order; orders
    outside the window or by strangers must not count. The readout recovers +0.10 in the
    buying rate and +5 in spend, with the sample-ratio check against the designed split."""
    rng = np.random.default_rng(4)
    d = campaign.design_audience(customers(20_000), campaign="spring", offer="10% off",
                                 send_date="2024-05-06", holdout_share=0.5, random_state=3)
    d.write(tmp_path / "spring.csv")
    aud = d.audience
    p = np.where(aud["group"] == "treatment", 0.30, 0.20)
    buy = rng.random(len(aud)) < p
    when = pd.Timestamp("2024-05-06") + pd.to_timedelta(rng.integers(0, 14 * 24, buy.sum()), "h")
    tx = pd.DataFrame({"customer_id": aud["customer_id"][buy].to_numpy(),
                       "order_id": [f"o{i}" for i in range(buy.sum())], "order_ts": when,
                       "amount": 50.0})
    noise = pd.DataFrame({"customer_id": ["c00001", "stranger"], "order_id": ["x1", "x2"],
                          "order_ts": pd.to_datetime(["2024-05-25", "2024-05-07"]),
                          "amount": [999.0, 999.0]})
    r = campaign.readout(tmp_path / "spring.json", pd.concat([tx, noise]))
    lift = r.overall.lift("bought", "treatment")
    assert lift["ci_low"] < 0.10 < lift["ci_high"]
    assert lift["lift_abs"] == pytest.approx(0.10, abs=0.02)
    spend = r.overall.lift("spend", "treatment")
    assert spend["ci_low"] < 5.0 < spend["ci_high"]
    assert not r.overall.srm["failed"]
    seg = r.by_segment.table
    assert set(seg["segment"]) == {"Champions", "Loyal", "At Risk", "New"}
    assert r.customers["spend"].max() == 50.0
    assert r.to_dict()["campaign"] == "spring"
