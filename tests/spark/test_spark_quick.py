"""The Spark engine on small real data, every job against the pandas path (the full-size parity
runs are marked slow: Online Retail, CDNOW, Groceries and Hillstrom in full)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from spark_session import SPARK, spark

from crmlab import basket, campaign, data, ltv, segments

from conftest import FIXTURES

pytestmark = [SPARK, pytest.mark.spark]  # a JVM and many small Spark stages: minutes on 2 shared cores, make test-all only
SAMPLE = FIXTURES / "online_retail_sample.yml"


@pytest.fixture(scope="module")
def both():
    from crmlab.spark.data import load_source

    spark()
    return data.load_source(SAMPLE), load_source(SAMPLE)


def test_clean_quality_rfm_equal_pandas(both):
    from crmlab.spark import clean as sclean
    from crmlab.spark import segments as sseg

    tx, sdf = both
    ref, got = data.clean(tx), sclean.clean(sdf)
    pd.testing.assert_frame_equal(got.audit.reset_index(drop=True), ref.audit.reset_index(drop=True),
                                  check_dtype=False)
    q_ref, q_got = data.quality_summary(tx, ref).to_dict(), sclean.quality_summary(sdf, got).to_dict()
    for key in ("rows", "customers", "orders", "rows_after_cleaning", "customers_after_cleaning"):
        assert q_got[key] == q_ref[key], key
    r_ref = segments.rfm(ref.data, as_of="2011-09-01").table
    r_got = sseg.rfm(got.data, as_of="2011-09-01").table.reindex(r_ref.index)
    assert (r_got["segment"].astype(str) == r_ref["segment"].astype(str)).all()
    assert len(r_ref) > 200


def test_btyd_summary_fit_and_scores_equal_pandas(both):
    from crmlab.spark import clean as sclean
    from crmlab.spark import ltv as sltv

    tx, sdf = both
    s = ltv.summary(data.clean(tx).data, unit="W")
    ss = sltv.summary(sclean.clean(sdf).data, unit="W").cache()
    bg, gg = ltv.BGNBD().fit(s), ltv.GammaGamma().fit(s)
    tm, g2 = sltv.fit(ss)
    np.testing.assert_allclose(tm.params_.to_numpy(float), bg.params_.to_numpy(float), rtol=1e-6)
    np.testing.assert_allclose(g2.params_.to_numpy(float), gg.params_.to_numpy(float), rtol=1e-6)
    ref = ltv.clv(bg, gg, s, intervals=False).table.sort_index()
    got = sltv.clv(bg, gg, ss, intervals=False).table.toPandas().set_index("customer_id").sort_index()
    np.testing.assert_allclose(got["p_alive"].to_numpy(float), ref["p_alive"].to_numpy(float), rtol=1e-9)
    np.testing.assert_allclose(got["clv"].to_numpy(float), ref["clv"].to_numpy(float), rtol=1e-9)


def test_fpgrowth_rules_equal_pandas(both):
    from crmlab.spark.basket import fit_rules

    tx, sdf = both
    ref = basket.BasketModel(min_support=0.02, min_confidence=0.5).fit(data.clean(tx).data)
    got = fit_rules(basket.BasketModel(min_support=0.02, min_confidence=0.5), __import__(
        "crmlab.spark.clean", fromlist=["clean"]).clean(sdf).data)
    assert len(ref.rules_) > 10
    pd.testing.assert_frame_equal(got.rules_, ref.rules_, check_exact=False)


def test_campaign_readout_equal_pandas():
    from crmlab.spark.campaign import measure

    exp = campaign.load_experiment(FIXTURES / "campaign_hillstrom_sample.csv.gz")
    ref = campaign.measure(exp, random_state=0)
    got = measure(spark().createDataFrame(exp), random_state=0)
    assert got.arms.equals(ref.arms) or np.allclose(got.arms["n"], ref.arms["n"])
    for arm in ("Mens E-Mail", "Womens E-Mail"):
        for outcome in ("visit", "conversion"):
            assert got.lift(outcome, arm)["lift_abs"] == pytest.approx(ref.lift(outcome, arm)["lift_abs"], rel=1e-9)
