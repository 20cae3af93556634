"""Uplift models: who buys *because* of the campaign, fitted on a randomised test.

Two estimators in the scikit-learn style, each wrapping any scikit-learn classifier or
regressor; ``fit(X, y, treatment)`` and ``predict(X)`` returns the estimated uplift (the
treatment effect on the outcome) per customer:

* :class:`TwoModelUplift`: one model on the treated, one on the control; uplift is the
  difference of their predictions (Gutierrez & Gerardy 2017, "two-model approach").
* :class:`ClassTransformationUplift`: for a 0/1 outcome, one classifier on
  ``z = y * t + (1 - y) * (1 - t)``, uplift ``2 P(z = 1) - 1`` (Jaskowski & Jaroszewicz
  2012; exact for a 50/50 split, otherwise the treatment share re-weights the customers so
  it holds); for an amount, one regressor on the transformed outcome
  ``y (t - p) / (p (1 - p))`` with ``p`` the treated share (Athey & Imbens 2016).

The curves, areas and the cost-aware policy are in :mod:`crmlab.campaign.qini`.

References
----------
Jaskowski & Jaroszewicz (2012), "Uplift modeling for clinical trial data", ICML workshop.
Athey & Imbens (2016), "Recursive partitioning for heterogeneous causal effects", PNAS.
Gutierrez & Gerardy (2017), "Causal inference and uplift modelling: a review of the
literature", PMLR 67.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone, is_classifier

from crmlab.errors import DataError, ParameterError

__all__ = ["BALANCED", "ClassTransformationUplift", "TwoModelUplift", "check_uplift_data", "one_hot"]

#: A treated share within this distance of 1/2 counts as a 50/50 split (no re-weighting).
BALANCED = 0.01


def one_hot(X: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Features for an uplift model: text and category columns one-hot encoded, numbers kept.

    Parameters
    ----------
    X : pandas.DataFrame
        Customer features.
    columns : sequence of str, optional
        Columns to encode (default: every non-numeric column).

    Returns
    -------
    pandas.DataFrame
        Numeric float columns; one indicator column per category value (``col=value``).
    """
    if columns is None:
        columns = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    out = pd.get_dummies(X, columns=list(columns), prefix_sep="=", dtype=np.float64)
    return out.astype(np.float64)


def check_uplift_data(X, y, treatment) -> tuple[np.ndarray, np.ndarray]:
    """Outcome and 0/1 treatment as arrays, checked against each other and the features.

    Parameters
    ----------
    X : array-like
        Features (only its length is checked).
    y : array-like
        Outcome.
    treatment : array-like
        1 for treated (contacted) customers, 0 for control; bool accepted.

    Returns
    -------
    tuple of numpy.ndarray
        ``(y, treatment)`` as float and int8 arrays.
    """
    y = np.asarray(y, dtype=np.float64)
    t = np.asarray(treatment)
    if t.dtype == bool:
        t = t.astype(np.int8)
    if y.ndim != 1 or t.shape != y.shape or len(X) != y.size:
        raise DataError("features, outcome and treatment differ in length",
                        value=(len(X), y.size, t.size), expected="one row per customer")
    if not np.isfinite(y).all():
        raise DataError("outcome has missing or infinite values", fix="drop or fill them")
    if not np.isin(t, (0, 1)).all():
        raise DataError("treatment is not 0/1", value=sorted(pd.unique(t))[:5],
                        expected="1 for treated, 0 for control")
    t = t.astype(np.int8)
    if t.min() == t.max():
        raise DataError("uplift needs treated and control customers", value=int(t[0]))
    return y, t


def _features(X) -> np.ndarray:
    """The feature matrix as a float array (float32 kept, to spare memory on large tests)."""
    Xa = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
    return Xa if Xa.dtype in (np.float32, np.float64) else Xa.astype(np.float64)


def _score(model, X) -> np.ndarray:
    """Probability of the positive class for a classifier, the prediction for a regressor."""
    if is_classifier(model):
        return model.predict_proba(X)[:, 1]
    return np.asarray(model.predict(X), dtype=np.float64)


def _fit_weighted(model, X, z, w):
    """``model.fit`` with sample weights (a Pipeline's last step gets them), or a clear error
    if the model does not take them."""
    from sklearn.pipeline import Pipeline

    key = f"{model.steps[-1][0]}__sample_weight" if isinstance(model, Pipeline) else "sample_weight"
    try:
        return model.fit(X, z, **{key: w})
    except (TypeError, ValueError) as exc:
        if "sample_weight" not in str(exc):
            raise
        raise ParameterError(
            "the treated share is not 1/2, so class transformation re-weights the customers, "
            "but the classifier does not accept sample_weight", value=type(model).__name__,
            fix="use TwoModelUplift or a classifier that takes sample_weight",
        ) from exc


def _default_classifier():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


class TwoModelUplift(BaseEstimator):
    """Two-model uplift: separate models for treated and control customers.

    Parameters
    ----------
    estimator : scikit-learn estimator, optional
        Classifier (0/1 outcome; its ``predict_proba`` is used) or regressor (amounts),
        fitted on the treated. Default ``LogisticRegression(max_iter=1000)``.
    estimator_control : scikit-learn estimator, optional
        Model for the control customers; default a clone of ``estimator``.

    Attributes
    ----------
    model_treatment_, model_control_ : fitted estimators
    treatment_share_ : float
        Share of treated customers in the training data.
    n_features_in_ : int
    """

    def __init__(self, estimator=None, estimator_control=None):
        self.estimator = estimator
        self.estimator_control = estimator_control

    def fit(self, X, y, treatment):
        """Fit one model per arm.

        Parameters
        ----------
        X : array-like of shape (n, p)
            Features (numeric; see :func:`one_hot`).
        y : array-like of shape (n,)
            Outcome.
        treatment : array-like of shape (n,)
            1 treated, 0 control.

        Returns
        -------
        TwoModelUplift
            self.
        """
        y, t = check_uplift_data(X, y, treatment)
        base = self.estimator if self.estimator is not None else _default_classifier()
        ctrl = self.estimator_control if self.estimator_control is not None else base
        Xa = _features(X)
        if is_classifier(base) and not np.isin(y, (0, 1)).all():
            raise ParameterError("a classifier needs a 0/1 outcome", value=type(base).__name__,
                                 fix="pass a regressor for amounts")
        on = t == 1
        self.model_treatment_ = clone(base).fit(Xa[on], y[on])
        self.model_control_ = clone(ctrl).fit(Xa[~on], y[~on])
        self.treatment_share_ = float(on.mean())
        self.n_features_in_ = Xa.shape[1]
        return self

    def predict(self, X) -> np.ndarray:
        """Estimated uplift per customer: treated prediction minus control prediction.

        Parameters
        ----------
        X : array-like of shape (n, p)

        Returns
        -------
        numpy.ndarray of shape (n,)
        """
        Xa = _features(X)
        return _score(self.model_treatment_, Xa) - _score(self.model_control_, Xa)


class ClassTransformationUplift(BaseEstimator):
    """Class-transformation (0/1 outcome) or transformed-outcome (amount) uplift: one model.

    Parameters
    ----------
    estimator : scikit-learn estimator, optional
        A classifier for a 0/1 outcome (class transformation) or a regressor (transformed
        outcome, any outcome). Default ``LogisticRegression(max_iter=1000)``.

    Attributes
    ----------
    model_ : fitted estimator
    treatment_share_ : float
        ``p``, the treated share in the training data.
    mode_ : str
        ``"class"`` or ``"outcome"``.
    n_features_in_ : int

    Notes
    -----
    With a classifier and a treated share ``p`` further than :data:`BALANCED` from 1/2, the
    customers are weighted
    ``1 / (2 p)`` (treated) and ``1 / (2 (1 - p))`` (control) so that ``2 P(z=1) - 1`` is
    still the uplift (the estimator must accept ``sample_weight``).
    """

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y, treatment):
        """Fit the one model on the transformed target.

        Parameters
        ----------
        X : array-like of shape (n, p)
        y : array-like of shape (n,)
            Outcome (0/1 for a classifier).
        treatment : array-like of shape (n,)
            1 treated, 0 control.

        Returns
        -------
        ClassTransformationUplift
            self.
        """
        y, t = check_uplift_data(X, y, treatment)
        base = self.estimator if self.estimator is not None else _default_classifier()
        Xa = _features(X)
        p = float(t.mean())
        self.treatment_share_ = p
        self.n_features_in_ = Xa.shape[1]
        model = clone(base)
        if is_classifier(base):
            if not np.isin(y, (0, 1)).all():
                raise ParameterError("class transformation needs a 0/1 outcome",
                                     value=type(base).__name__,
                                     fix="pass a regressor (transformed outcome) for amounts")
            z = (y == t).astype(np.int8)
            self.mode_ = "class"
            if abs(p - 0.5) <= BALANCED:
                self.model_ = model.fit(Xa, z)
            else:
                self.model_ = _fit_weighted(model, Xa, z, np.where(t == 1, 0.5 / p, 0.5 / (1 - p)))
        else:
            self.mode_ = "outcome"
            self.model_ = model.fit(Xa, y * (t - p) / (p * (1 - p)))
        return self

    def predict(self, X) -> np.ndarray:
        """Estimated uplift per customer.

        Parameters
        ----------
        X : array-like of shape (n, p)

        Returns
        -------
        numpy.ndarray of shape (n,)
        """
        Xa = _features(X)
        s = _score(self.model_, Xa)
        return 2 * s - 1 if self.mode_ == "class" else s
