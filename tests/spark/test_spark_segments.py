"""KPIs, RFM scores and the segment of every customer equal the pandas path (Online Retail)."""

import pandas as pd
import pytest
from spark_session import SPARK, pandas_source, spark_source

from crmlab import customers, data, segments

pytestmark = [SPARK, pytest.mark.spark, pytest.mark.slow]  # full-size parity runs; test_spark_quick is the small-data version


@pytest.fixture(scope="module")
def cleaned():
    from crmlab.spark import clean as sclean

    sdf = sclean.clean(spark_source("online_retail")).data.cache()
    return data.clean(pandas_source("online_retail")).data, sdf


@pytest.mark.parametrize("as_of", [None, "2011-09-01"])
def test_every_customer_same_scores_and_segment(cleaned, as_of):
    from crmlab.spark import segments as sseg

    tx, sdf = cleaned
    a, b = segments.rfm(tx, as_of=as_of), sseg.rfm(sdf, as_of=as_of)
    assert isinstance(b, segments.RFMResult) and a.as_of == b.as_of
    ta, tb = a.table, b.table
    assert ta.index.equals(tb.index)
    for col in ta.columns:
        if col == "monetary":
            pd.testing.assert_series_equal(ta[col], tb[col], check_exact=False, rtol=1e-12)
        else:
            pd.testing.assert_series_equal(ta[col], tb[col], check_exact=True)
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=False, rtol=1e-9)


def test_kpis_equal(cleaned):
    from crmlab.spark import segments as sseg

    tx, sdf = cleaned
    a, b = customers.kpis(tx).values, sseg.kpis(sdf).values
    assert a.keys() == b.keys()
    for k in a:
        assert b[k] == (pytest.approx(a[k], rel=1e-12) if isinstance(a[k], float) else a[k]), k
