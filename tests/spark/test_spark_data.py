"""Spark reading, cleaning and quality figures equal the pandas path (Online Retail)."""

import numpy as np
import pandas as pd
import pytest
from spark_session import SPARK, pandas_source, spark, spark_source

from crmlab import data
from crmlab.errors import DataError

pytestmark = [SPARK, pytest.mark.spark, pytest.mark.slow]  # full-size parity runs; test_spark_quick is the small-data version


@pytest.fixture(scope="module")
def retail():
    return pandas_source("online_retail"), spark_source("online_retail")


def test_canonical_columns_and_ids(retail):
    tx, sdf = retail
    assert sdf.columns == list(tx.columns)
    ids = sdf.where("customer_id is not null").select("customer_id").limit(5).toPandas()["customer_id"]
    assert not ids.str.endswith(".0").any()  # '17850.0' -> '17850', as pandas


def test_quality_and_audit_equal_pandas(retail):
    from crmlab.spark import clean as sclean

    tx, sdf = retail
    c, cs = data.clean(tx), sclean.clean(sdf)
    pd.testing.assert_frame_equal(c.audit, cs.audit, check_exact=False, rtol=1e-12)
    q, qs = data.quality_summary(tx, c), sclean.quality_summary(sdf, cs)
    a, b = q.overview["value"], qs.overview["value"]
    assert list(a.index) == list(b.index)
    for key in a.index:
        if key == "revenue":
            assert b[key] == pytest.approx(a[key], rel=1e-12)
        else:
            assert a[key] == b[key], key
    pd.testing.assert_frame_equal(q.missing, qs.missing)


def test_as_of_and_refusals(tmp_path):
    from crmlab.spark.data import load_source

    spark()
    bad = tmp_path / "bad.csv"
    bad.write_text("cust,order,ts,amount\n1,A,2011-01-03,5\n2,B,not a date,3\n")
    src = {"name": "bad", "path": str(bad), "columns": {"customer_id": "cust", "order_id": "order",
                                                        "order_ts": "ts", "amount": "amount"}}
    with pytest.raises(DataError, match="not a date"):
        load_source(src)
    good = tmp_path / "good.csv"
    good.write_text("cust,order,ts,amount\n1,A,2011-01-03,5\n2,B,2011-02-01,\"3\"\n")
    sdf = load_source({**src, "path": str(good)}, as_of="2011-01-10")
    assert sdf.count() == 1
    assert sdf.first()["amount"] == 5.0 and np.isclose(sdf.first()["unit_price"], 5.0)
