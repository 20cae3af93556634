"""crmlab.ltv.base: the shared fitter (aggregation, weights, input checks, convergence) and
the scikit-learn estimator contract."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmlab import ltv
from crmlab.errors import ConvergenceWarning, DataError, ParameterError


def test_aggregated_fit_equals_unaggregated(master):
    """Fitting on distinct (frequency, recency, T) rows with counts as weights gives the
    parameters of the one-row-per-customer fit (1e-4 relative), on CDNOW master in weeks."""
    s = ltv.summary(master, unit="W")
    for cls in (ltv.BGNBD, ltv.MBGNBD):
        agg = cls().fit(s)
        full = cls(aggregate=False).fit(s)
        assert agg.n_rows_ < len(s) / 4 and full.n_rows_ == len(s)
        np.testing.assert_allclose(agg.params_, full.params_, rtol=1e-4)
        assert agg.log_likelihood_ == pytest.approx(full.log_likelihood_, rel=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ga, gf = ltv.GammaGamma().fit(s), ltv.GammaGamma(aggregate=False).fit(s)
    np.testing.assert_allclose(ga.params_, gf.params_, rtol=1e-4)


def test_weights_equal_replication(cdnow):
    """Weights mean 'this many customers': weight 2 equals the row given twice."""
    twice = pd.concat([cdnow, cdnow])
    a = ltv.BGNBD(aggregate=False).fit(twice)
    b = ltv.BGNBD(aggregate=False).fit(cdnow.assign(weights=2.0))
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-6)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-10)


def test_bad_input_is_a_data_error(cdnow):
    bad = cdnow.copy()
    bad.iloc[3, bad.columns.get_loc("recency")] = 50.0
    with pytest.raises(DataError, match="impossible customer history"):
        ltv.BGNBD().fit(bad)
    with pytest.raises(DataError, match="column"):
        ltv.BGNBD().fit(cdnow.drop(columns="T"))
    with pytest.raises(ParameterError, match="time unit"):
        ltv.summary(pd.DataFrame({"customer_id": [1], "order_ts": pd.to_datetime(["2011-01-01"]),
                                  "amount": [1.0]}), unit="Q")
    with pytest.raises(DataError, match="customer"):
        ltv.summary(pd.DataFrame({"cust": [1], "order_ts": pd.to_datetime(["2011-01-01"])}))


def test_convergence_failure_warns_with_advice():
    """No customer ever repeats: the BG/NBD parameters are not identified; the fit must say
    so (ConvergenceWarning naming the penalizer and time unit), not return a silent bad fit."""
    s = pd.DataFrame({"frequency": 0.0, "recency": 0.0, "T": np.linspace(5, 40, 200)})
    with pytest.warns(ConvergenceWarning, match="penalizer"):
        m = ltv.BGNBD().fit(s)
    assert not m.converged_
