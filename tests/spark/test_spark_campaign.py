"""Campaign read-out from Spark sums equals crmlab.campaign.measure (Hillstrom)."""

import numpy as np
import pandas as pd
import pytest
from spark_session import SPARK, spark_source

from crmlab import campaign

pytestmark = [SPARK, pytest.mark.spark, pytest.mark.slow]  # full-size parity runs; test_spark_quick is the small-data version


@pytest.mark.parametrize("covariate", [None, "history"])
def test_hillstrom_arms_and_lifts(covariate):
    from crmlab.spark.campaign import measure

    a = campaign.measure(campaign.load_experiment("hillstrom"), covariate=covariate)
    b = measure(spark_source("hillstrom"), covariate=covariate)
    pd.testing.assert_frame_equal(a.arms, b.arms, check_exact=False, rtol=1e-12)
    assert a.arms["n"].tolist() == b.arms["n"].tolist() == [21306, 21387, 21307]
    ca, cb = a.comparisons, b.comparisons
    assert list(ca.columns) == list(cb.columns)
    num = ca.select_dtypes("number").columns
    np.testing.assert_allclose(cb[num].to_numpy(float), ca[num].to_numpy(float), rtol=1e-9, atol=1e-15)
    other = ca.columns.difference(num)
    pd.testing.assert_frame_equal(ca[other], cb[other])
    assert a.notes == b.notes
