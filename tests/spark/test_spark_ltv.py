"""BTYD on Spark: CDNOW parameters to 1e-6 relative, P(alive) and CLV per customer to 1e-9."""

import numpy as np
import pytest
from spark_session import SPARK, pandas_source, spark_source

from crmlab import ltv

pytestmark = [SPARK, pytest.mark.spark, pytest.mark.slow]  # full-size parity runs; test_spark_quick is the small-data version


@pytest.fixture(scope="module")
def fitted():
    from crmlab.spark import ltv as sltv

    s = ltv.summary(pandas_source("cdnow"), unit="W")
    with pytest.warns(UserWarning, match="zero or negative mean spend"):
        bg, gg = ltv.BGNBD().fit(s), ltv.GammaGamma().fit(s)
    ss = sltv.summary(spark_source("cdnow"), unit="W").cache()
    with pytest.warns(UserWarning, match="1 repeat buyers"):
        tm, g2 = sltv.fit(ss)
    return s, bg, gg, ss, tm, g2


def test_summary_and_parameters(fitted):
    s, bg, gg, ss, tm, g2 = fitted
    t = ss.toPandas().set_index("customer_id").sort_index()
    ref = s.sort_index()
    for c in ("frequency", "recency", "T"):
        np.testing.assert_array_equal(t[c].to_numpy(), ref[c].to_numpy())
    np.testing.assert_allclose(t["monetary_value"], ref["monetary_value"], rtol=1e-12)
    np.testing.assert_allclose(tm.params_, bg.params_, rtol=1e-6)
    np.testing.assert_allclose(g2.params_, gg.params_, rtol=1e-6)
    assert tm.n_ == bg.n_ == 23570 and tm.n_rows_ == bg.n_rows_
    assert g2.spend_frequency_correlation_ == pytest.approx(gg.spend_frequency_correlation_, rel=1e-12)


def test_scores_per_customer(fitted):
    from crmlab.spark import ltv as sltv

    s, bg, gg, ss, tm, g2 = fitted
    ref = ltv.clv(bg, gg, s, margin=0.3).table.sort_index()
    # scoring: the same fitted models score every customer alike in Spark and in pandas
    got = sltv.clv(bg, gg, ss, margin=0.3, intervals=False).table
    assert got.index.equals(ref.index)
    for c in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        np.testing.assert_allclose(got[c], ref[c], rtol=1e-9, atol=0, err_msg=c)
    # end to end: each engine's own fit (parameters equal to 1e-6, test above; the fits stop
    # when an iteration no longer lowers the likelihood measurably, about 1e-7 apart here)
    own = sltv.clv(tm, g2, ss, margin=0.3, intervals=False).table
    for c in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        np.testing.assert_allclose(own[c], ref[c], rtol=1e-6, atol=0, err_msg=c)


def test_intervals_and_summary_with_the_same_models(fitted):
    from crmlab.spark import ltv as sltv

    s, bg, gg, ss, _, _ = fitted
    a = ltv.clv(bg, gg, s, margin=0.3, n_draws=50)
    b = sltv.clv(bg, gg, ss, margin=0.3, n_draws=50)
    ref = a.table.sort_index()
    for c in ("clv_lower", "clv_upper"):
        np.testing.assert_allclose(b.table[c], ref[c], rtol=1e-9)
    np.testing.assert_allclose(b.total_interval_, a.total_interval_, rtol=1e-9)
    np.testing.assert_allclose(b.summary.to_numpy(), a.summary.to_numpy(), rtol=1e-9)
    assert isinstance(b, ltv.CLVResult)
