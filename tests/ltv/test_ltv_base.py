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
    # checked on the distinct rows when aggregating, the error still names the customer
    label = str(bad.index[3])
    for value in (50.0, np.nan, -1.0):
        bad.iloc[3, bad.columns.get_loc("recency")] = value
        for aggregate in (True, False):
            with pytest.raises(DataError, match="impossible customer history") as err:
                ltv.BGNBD(aggregate=aggregate).fit(bad)
            assert label in str(err.value)
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


# ---------------------------------------------------------------- scikit-learn estimators

MODELS = [ltv.BGNBD, ltv.ParetoNBD, ltv.MBGNBD, ltv.GammaGamma]
#: scikit-learn's own checks of the estimator contract that need no fit(X, y) (the models
#: fit summary tables, not feature matrices).
SKLEARN_CHECKS = ("check_no_attributes_set_in_init", "check_get_params_invariance", "check_set_params",
                  "check_parameters_default_constructible", "check_estimator_cloneable",
                  "check_estimator_repr", "check_do_not_raise_errors_in_init_or_set_params",
                  "check_estimator_tags_renamed")


@pytest.mark.parametrize("cls", [*MODELS, ltv.BGBB, ltv.ShiftedBetaGeometric])
def test_models_are_sklearn_estimators(cls):
    """__init__ stores its keyword parameters only; get_params/set_params round-trip; clone
    gives an unfitted copy with the same parameters; the repr names the changed parameters;
    scikit-learn's contract checks pass and its tags say: no classifier, no regressor. The
    models do not inherit sklearn.base.BaseEstimator (importing it costs 0.5 s of CPU):
    scikit-learn's functions take them by duck typing."""
    from sklearn.base import clone, is_classifier, is_regressor
    from sklearn.utils import estimator_checks, get_tags

    m = cls(penalizer=0.01, max_iter=50)
    sbg = cls is ltv.ShiftedBetaGeometric  # the one without the aggregate option
    want = {"penalizer": 0.01, "max_iter": 50} | ({} if sbg else {"aggregate": True})
    assert m.get_params(deep=True) == want and m.get_params(deep=False) == want
    assert list(vars(m)) == (["penalizer", "max_iter"] if sbg else ["penalizer", "aggregate", "max_iter"])
    assert repr(m) == f"{cls.__name__}(max_iter=50, penalizer=0.01)" and repr(cls()) == f"{cls.__name__}()"
    assert m.set_params(max_iter=60) is m and m.max_iter == 60
    with pytest.raises(ParameterError, match="invalid parameter"):
        m.set_params(max_iters=60)
    c = clone(m)
    assert type(c) is cls and c is not m and c.get_params() == m.get_params()
    assert get_tags(m).estimator_type is None and not is_classifier(m) and not is_regressor(m)
    for check in SKLEARN_CHECKS:
        getattr(estimator_checks, check)(cls.__name__, cls(penalizer=0.01))
    if sbg:
        return  # it fits contract durations, not summaries (tests/ltv/test_ltv_bgbb_sbg.py)
    assert m.set_params(aggregate=False) is m and m.aggregate is False
    # invalid values are accepted by __init__ and refused by fit
    bad = cls(penalizer=-1.0)
    s = pd.DataFrame({"frequency": [1.0, 2, 0, 3], "recency": [2.0, 5, 0, 6], "T": [8.0, 9, 7, 9],
                      "monetary_value": [10.0, 20, 0, 15]})
    with pytest.raises(ParameterError, match="penalizer"):
        bad.fit(s)


def test_clone_of_fitted_model_is_unfitted(cdnow):
    from sklearn.base import clone

    m = ltv.BGNBD(penalizer=0.001).fit(cdnow)
    learned = {k for k in vars(m) if k.endswith("_")}
    assert {"params_", "covariance_", "log_likelihood_", "converged_", "result_", "unit_"} <= learned
    assert fitted_keys_end_in_underscore(m)
    c = clone(m)
    assert not any(k.endswith("_") for k in vars(c))
    with pytest.raises(ParameterError, match="not fitted"):
        c.p_alive(cdnow)
    np.testing.assert_allclose(c.fit(cdnow).params_, m.params_)


def fitted_keys_end_in_underscore(model) -> bool:
    params = set(model.get_params())
    return all(k in params or k.endswith("_") for k in vars(model))


def test_purchase_model_declares_its_hooks(cdnow):
    """A model that leaves out a hook cannot be instantiated; one that implements them gets
    fitting and prediction from the shared base (here: BG/NBD's hooks, BG/NBD's estimates;
    the copy sums the likelihood row by row, BG/NBD per distinct frequency)."""
    class Incomplete(ltv.PurchaseModel):
        _names = ("r", "alpha", "a", "b")

        def _loglik_rows(self, p, x, tx, T):
            return np.zeros(len(x))

    with pytest.raises(TypeError, match="_p_alive"):
        Incomplete()

    class BGCopy(ltv.PurchaseModel):
        _names = ltv.BGNBD._names
        _label = "copy"
        _x_terms = ltv.BGNBD._x_terms
        _x_grad_terms = ltv.BGNBD._x_grad_terms
        _loglik_rows = ltv.BGNBD._loglik_rows
        _grad_rows = ltv.BGNBD._grad_rows
        _p_alive = ltv.BGNBD._p_alive
        _conditional_expected = ltv.BGNBD._conditional_expected
        _unconditional_expected = ltv.BGNBD._unconditional_expected

    copy, ref = BGCopy().fit(cdnow), ltv.BGNBD().fit(cdnow)
    np.testing.assert_allclose(copy.params_, ref.params_, rtol=1e-10)
    np.testing.assert_allclose(copy.p_alive(cdnow), ref.p_alive(cdnow), rtol=1e-10)


def test_hyp2f1_distinct_is_the_plain_call_bit_for_bit():
    from scipy import special

    from crmlab.ltv.base import hyp2f1_distinct

    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, 5000).astype(float)  # repeated histories, as customers share them
    T = rng.integers(1, 60, 5000).astype(float)
    a, b, c, z = 0.8 + x, 1.3 + x, 1.8 + x, 3.0 / (9.0 + T)
    got = hyp2f1_distinct(a, b, c, z)
    assert np.array_equal(got, special.hyp2f1(a, b, c, z))
    # scalars, short and non-finite inputs take the plain call
    assert np.array_equal(hyp2f1_distinct(a[:10], 1.0, c[:10], 0.5), special.hyp2f1(a[:10], 1.0, c[:10], 0.5))
    z[3] = np.nan
    assert np.array_equal(hyp2f1_distinct(a, b, c, z), special.hyp2f1(a, b, c, z), equal_nan=True)
