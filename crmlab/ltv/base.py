"""What every model in crmlab.ltv shares: the fitter machinery and the purchase-model contract.

- :class:`FitResult`: parameters with standard errors, log-likelihood, AIC and BIC.
- ``_Fitter``: weighted maximum likelihood on log-parameters with scipy, standard errors
  from the observed information, a :class:`~crmlab.errors.ConvergenceWarning` when a fit
  does not converge cleanly. Subclasses implement ``_loglik_rows`` (and may implement
  ``_grad_rows``).
- :class:`PurchaseModel`: the abstract base of the buy-till-you-die models. A new model is
  one module with one subclass that sets ``_names`` (parameter names), ``_label`` and
  implements the four hooks ``_loglik_rows``, ``_p_alive``, ``_conditional_expected`` and
  ``_unconditional_expected``; fitting, prediction, CLV and holdout checks then work.

Estimators follow scikit-learn: ``__init__`` stores its keyword parameters only, ``fit``
returns the estimator, learned state ends in ``_`` and ``sklearn.base.clone`` works. They get
``get_params``/``set_params`` from :class:`_Estimator`, not from ``sklearn.base.BaseEstimator``:
importing that costs about 0.5 s of CPU (it pulls scipy.stats and most of scikit-learn's
utilities), a third of a summary-and-fit job's process on 3.5 M order lines.
"""

from __future__ import annotations

import inspect
import math
import warnings
from abc import ABC, abstractmethod
from collections import defaultdict
from typing import Any, ClassVar, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from crmlab.errors import ConvergenceWarning, DataError, ParameterError
from crmlab.ltv.predict import PredictionsMixin
from crmlab.ltv.summaries import _UNIT_NAMES, _check_unit, _distinct_counts, aggregate
from crmlab.results import Result

__all__ = ["FitResult", "PurchaseModel"]

#: Search box of the log-parameters when a model has no analytic gradient.
_LOG_BOUNDS = (-12.0, 9.0)


def _gl(z):
    return special.gammaln(z)


def hyp2f1_distinct(a: Any, b: Any, c: Any, z: Any) -> np.ndarray:
    """``scipy.special.hyp2f1(a, b, c, z)`` elementwise, evaluated once per distinct row.

    hyp2f1 is most of the cost of a Pareto/NBD fit and of BG/NBD expectations, and customers
    share histories: the 1,357 distinct weekly rows of a churn holdout hold only 327
    ``(x, t_x)`` and 300 ``(x, T)`` pairs. The values are those of the plain elementwise
    call, bit for bit (same function, same inputs).

    Parameters
    ----------
    a, b, c, z : array-like
        Broadcast together.

    Returns
    -------
    numpy.ndarray
    """
    a, b, c, z = np.broadcast_arrays(a, b, c, z)
    if a.ndim != 1 or a.size < 64 or not all(np.isfinite(v).all() for v in (a, b, c, z)):
        return special.hyp2f1(a, b, c, z)
    order = np.lexsort((z, c, b, a))
    cols = [v[order] for v in (a, b, c, z)]
    new = np.empty(len(a), dtype=bool)
    new[0] = True
    new[1:] = np.logical_or.reduce([v[1:] != v[:-1] for v in cols])
    if new.sum() > 0.8 * len(a):  # hardly any repeats: not worth the bookkeeping
        return special.hyp2f1(a, b, c, z)
    inverse = np.empty(len(a), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return special.hyp2f1(*(v[new] for v in cols))[inverse]


class FitResult(Result):
    """A fitted model: parameters with standard errors and 95% intervals, LL, AIC, BIC.

    Parameters
    ----------
    model : str
        Model label ("BG/NBD").
    params, se : pandas.Series
        Estimates and standard errors by parameter name.
    log_likelihood : float
        The papers' log-likelihood at the estimates.
    n : float
        Customers (sum of the weights).
    n_rows : int
        Distinct rows the fit ran on.
    converged : bool
        Whether the fit converged cleanly.
    unit : str or None
        Time unit of the data ("D", "W", "M").
    notes : sequence of str
        Extra notes shown under the table.
    """

    def __init__(self, model: str, params: pd.Series, se: pd.Series, log_likelihood: float,
                 n: float, n_rows: int, converged: bool, unit: str | None, notes: Sequence[str] = ()):
        self.title = f"{model} fit"
        self.model = model
        self.params = params
        self.se = se
        self.log_likelihood = float(log_likelihood)
        self.n = float(n)
        self.n_rows = int(n_rows)
        self.converged = bool(converged)
        self.unit = unit
        k = len(params)
        self.aic = 2 * k - 2 * self.log_likelihood
        self.bic = k * math.log(max(self.n, 1.0)) - 2 * self.log_likelihood
        unit_txt = f", time in {_UNIT_NAMES[unit]}" if unit else ""
        self.notes = (
            f"{self.n:,.0f} customers ({self.n_rows:,} distinct rows){unit_txt}; "
            f"log-likelihood {self.log_likelihood:,.2f}, AIC {self.aic:,.1f}, BIC {self.bic:,.1f}",
            *(() if self.converged else ("NOT CONVERGED: see the warning; try a penalizer or another time unit",)),
            *notes,
        )

    @property
    def summary(self) -> pd.DataFrame:
        z = 1.959963984540054
        return pd.DataFrame({
            "estimate": self.params,
            "se": self.se,
            "lower_95": self.params - z * self.se,
            "upper_95": self.params + z * self.se,
        })

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: float(v) for k, v in self.params.items()}
        out.update({f"se_{k}": float(v) for k, v in self.se.items()})
        out.update(log_likelihood=self.log_likelihood, aic=self.aic, bic=self.bic,
                   n=self.n, converged=self.converged)
        return out


def _hessian_fd(f, x: np.ndarray, rel: float = 1e-4) -> np.ndarray:
    """Central finite-difference Hessian of a scalar function (natural parameters)."""
    k = len(x)
    h = rel * np.maximum(np.abs(x), 1e-3)
    H = np.empty((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * h[i] * h[j])
    return H


def _hessian_from_grad(g, x: np.ndarray, rel: float = 1e-5) -> np.ndarray:
    """Central differences of an analytic gradient ``g`` (natural parameters), symmetrised:
    relative steps, so a parameter near zero (Pareto/NBD's s on a no-dropout ridge) keeps
    its sign, and no loss of digits to a second difference of the likelihood."""
    k = len(x)
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = rel * abs(x[j])
        H[:, j] = (g(x + e) - g(x - e)) / (2 * e[j])
    return (H + H.T) / 2


def _covariance(H: np.ndarray) -> tuple[np.ndarray, bool]:
    """Inverse of the observed information, and whether it is a usable covariance."""
    try:
        cov = np.linalg.inv(H)
        ok = bool(np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0))
    except np.linalg.LinAlgError:
        cov, ok = np.full(H.shape, np.nan), False
    return cov, ok


class _Estimator:
    """scikit-learn's estimator contract by duck typing, as ``sklearn.base.BaseEstimator``
    implements it: the parameters are the keyword arguments of ``__init__``, stored as they
    are; ``get_params`` and ``set_params`` (nested ``name__sub`` keys too); a repr with the
    parameters that differ from their defaults; default tags. ``sklearn.base.clone`` needs
    only ``get_params``; scikit-learn is imported only when its tags are asked for.
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        if cls.__init__ is object.__init__:
            return []
        params = [p for p in inspect.signature(cls.__init__).parameters.values()
                  if p.name != "self" and p.kind != p.VAR_KEYWORD]
        if any(p.kind == p.VAR_POSITIONAL for p in params):
            raise TypeError(f"{cls.__name__}.__init__ must name its parameters (no *args)")
        return sorted(p.name for p in params)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator (and of estimators among them, when ``deep``).

        Parameters
        ----------
        deep : bool, default True
            Also list the parameters of parameters that are estimators, as ``name__sub``.

        Returns
        -------
        dict
            Parameter names mapped to their values.
        """
        out: dict[str, Any] = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params: Any) -> _Estimator:
        """Set parameters (``name__sub`` sets a parameter of a parameter that is an estimator).

        Parameters
        ----------
        **params
            New parameter values.

        Returns
        -------
        estimator
            ``self``.

        Raises
        ------
        ParameterError
            For a name that is not a parameter (a ``ValueError``, as scikit-learn raises).
        """
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = defaultdict(dict)
        for full_key, value in params.items():
            key, delim, sub_key = full_key.partition("__")
            if key not in valid:
                raise ParameterError(f"invalid parameter for {type(self).__name__}", value=full_key,
                                     expected=f"one of {self._get_param_names()}", fix="check the spelling")
            if delim:
                nested[key][sub_key] = value
            else:
                setattr(self, key, value)
                valid[key] = value
        for key, sub_params in nested.items():
            valid[key].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params(deep=False).items()
                   if k not in defaults or repr(v) != repr(defaults[k])]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False))


class _Fitter(_Estimator, ABC):
    """Shared fitting: weighted ML on log-parameters with scipy, SEs from the Hessian.

    The three keyword parameters (penalizer, aggregate, max_iter) are documented on the
    public subclasses, :class:`PurchaseModel` and :class:`~crmlab.ltv.GammaGamma`.
    """

    #: Parameter names, in the order the hooks receive them.
    _names: ClassVar[tuple[str, ...]] = ()
    #: Name shown in tables, warnings and comparisons.
    _label: ClassVar[str] = "model"
    #: Standard errors from differences of the analytic gradient instead of second
    #: differences of the likelihood (a model opts in; Pareto/NBD does).
    _hessian_from_gradient: ClassVar[bool] = False

    def __init__(self, *, penalizer: float = 0.0, aggregate: bool = True, max_iter: int = 1000):
        self.penalizer = penalizer
        self.aggregate = aggregate
        self.max_iter = max_iter

    @abstractmethod
    def fit(self, data: pd.DataFrame | None = None, **arrays: Any) -> _Fitter:
        """Fit by maximum likelihood and return the fitted estimator."""

    @abstractmethod
    def _loglik_rows(self, p: np.ndarray, *data: np.ndarray) -> np.ndarray:
        """Log-likelihood of each data row at the natural parameters ``p``."""

    def _grad_rows(self, p: np.ndarray, *data: np.ndarray) -> np.ndarray | None:
        """Per-row gradient of the log-likelihood w.r.t. the natural parameters, or None."""
        return None

    def _totals(self, data: tuple[np.ndarray, ...], w: np.ndarray):
        """The weighted log-likelihood total and its gradient, as functions of the natural
        parameters (the gradient function returns None without ``_grad_rows``).

        Sums are numpy's (pairwise), not BLAS products: a multi-threaded BLAS spins its
        threads on calls this small and costs more CPU than the sums on a shared machine.
        A model with cheaper sufficient statistics overrides this (Gamma-Gamma).
        """
        wcol = w[:, None]

        def loglik(p: np.ndarray) -> float:
            return float(np.sum(w * self._loglik_rows(p, *data)))

        def grad(p: np.ndarray) -> np.ndarray | None:
            g_rows = self._grad_rows(p, *data)
            return None if g_rows is None else np.sum(wcol * g_rows, axis=0)

        return loglik, grad

    def _minimise(self, totals: tuple, w: np.ndarray, x0: np.ndarray, penalizer: float, has_grad: bool):
        """Minimise the penalised mean negative log-likelihood over the log-parameters
        (``totals``: the functions of :meth:`_totals`)."""
        wsum = w.sum()
        loglik, grad = totals

        def objective(logp: np.ndarray) -> tuple[float, np.ndarray]:
            p = np.exp(logp)
            val = -loglik(p) / wsum + penalizer * np.sum(p ** 2)
            if not np.isfinite(val) or np.any(np.abs(logp) > 25):
                # outside the numerically safe region (e.g. hyp2f1 overflow): reject the step
                return 1e300, np.zeros_like(logp)
            g_total = grad(p) if has_grad else None
            if g_total is None:
                return val, None  # type: ignore[return-value]
            g = -g_total / wsum + 2 * penalizer * p
            seen.update(x=logp.copy(), g=g * p)
            return val, g * p

        seen: dict = {}
        last = [np.inf]

        def settled(intermediate_result) -> None:
            """Stop once an iteration no longer lowers the objective measurably (1e-13 relative)
            at a small gradient: the next line search would only chase rounding noise."""
            f, x = intermediate_result.fun, intermediate_result.x
            small = "x" in seen and np.array_equal(seen["x"], x) and np.max(np.abs(seen["g"])) < 1e-6
            if small and last[0] - f <= 1e-13 * abs(f):
                raise StopIteration
            last[0] = f

        with np.errstate(all="ignore"):
            if has_grad:
                return optimize.minimize(objective, x0, jac=True, method="BFGS", callback=settled,
                                         options={"gtol": 1e-10, "maxiter": self.max_iter})
            # no analytic gradient (hyp2f1 terms): bounded quasi-Newton keeps the search out
            # of the region where hyp2f1 is slow and inaccurate, Nelder-Mead polishes
            bounds = [_LOG_BOUNDS] * len(x0)
            res = optimize.minimize(lambda z: objective(z)[0], x0, method="L-BFGS-B", bounds=bounds,
                                    options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": self.max_iter})
            res2 = optimize.minimize(lambda z: objective(z)[0], res.x, method="Nelder-Mead", bounds=bounds,
                                     options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": self.max_iter * 4})
            if np.isfinite(res2.fun) and res2.fun <= res.fun:
                res2.jac = np.zeros_like(res2.x)
                res = res2
        return res

    def _optimise(self, data: tuple[np.ndarray, ...], w: np.ndarray, x0: np.ndarray) -> None:
        """Fit on ``data`` rows with weights ``w`` and store the learned state."""
        penalizer = float(self.penalizer)
        if penalizer < 0:
            raise ParameterError("penalizer must be >= 0", value=penalizer, fix="use penalizer=0.001 or 0")
        has_grad = self._grad_rows(np.exp(x0), *(d[:1] for d in data)) is not None
        totals = self._totals(data, w)
        res = self._minimise(totals, w, x0, penalizer, has_grad)
        p = np.exp(res.x)
        neg_total = lambda q: -totals[0](q)  # noqa: E731
        with np.errstate(all="ignore"):
            ll = -neg_total(p)
            if has_grad and self._hessian_from_gradient:
                H = _hessian_from_grad(lambda q: -totals[1](q), p)
            else:
                H = _hessian_fd(neg_total, p)
        reasons = []
        if not res.success and not (np.isfinite(res.fun) and has_grad and np.linalg.norm(res.jac) < 1e-5):
            reasons.append(f"optimiser stopped: {res.message}")
        if not np.isfinite(ll):
            reasons.append("log-likelihood is not finite")
        if not has_grad and np.any((res.x <= _LOG_BOUNDS[0] + 1e-6) | (res.x >= _LOG_BOUNDS[1] - 1e-6)):
            reasons.append("a parameter stopped at the edge of the search range")
        if np.any(p > 1e6) or np.any(p < 1e-6):
            reasons.append("a parameter ran to the edge of its range "
                           + str({n: float(v) for n, v in zip(self._names, p)}))
        cov, ok = _covariance(H)
        if not ok:
            reasons.append("the information matrix is singular (parameters not identified)")
        se = np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan))
        self.converged_ = not reasons
        if reasons:
            warnings.warn(
                f"{self._label} fit did not converge cleanly: {'; '.join(reasons)}. "
                "Try penalizer=0.001 (or larger), a coarser time unit (unit='W' or 'M'), "
                "or check the data for customers with implausible histories.",
                ConvergenceWarning, stacklevel=3,
            )
        names = list(self._names)
        self.params_ = pd.Series(p, index=names, name=self._label)
        self.covariance_ = pd.DataFrame(cov, index=names, columns=names)
        self.log_likelihood_ = float(ll)
        self.n_ = float(w.sum())
        self.n_rows_ = int(len(w))
        self.result_ = FitResult(self._label, self.params_, pd.Series(se, index=names),
                                 ll, self.n_, len(w), self.converged_, getattr(self, "unit_", None))

    # display
    @property
    def summary(self) -> pd.DataFrame:
        """Estimates, standard errors and 95% intervals (the fit's :class:`FitResult` table)."""
        self._check_fitted()
        return self.result_.summary

    def _repr_html_(self) -> str:
        if not hasattr(self, "result_"):
            return f"<p>{self._label} (not fitted)</p>"
        return self.result_._repr_html_()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        # the fit table in notebooks, the parameters in plain text
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ParameterError(f"{self._label} is not fitted", fix="call .fit(summary) first")

    def sample_params(self, n_draws: int, random_state: Any = None) -> np.ndarray:
        """Parameter draws from the asymptotic normal of the log-parameters (delta method).

        Parameters
        ----------
        n_draws : int
            Number of draws.
        random_state : int, numpy Generator or None
            Seed for ``numpy.random.default_rng``.

        Returns
        -------
        numpy.ndarray
            ``(n_draws, n_params)``; the estimates repeated when the covariance is unknown.
        """
        self._check_fitted()
        rng = np.random.default_rng(random_state)
        p = self.params_.to_numpy()
        cov = self.covariance_.to_numpy()
        if not np.all(np.isfinite(cov)):
            return np.tile(p, (n_draws, 1))
        jac = np.diag(1 / p)
        cov_log = jac @ cov @ jac
        draws = rng.multivariate_normal(np.log(p), cov_log, size=n_draws, method="eigh")
        return np.exp(draws)


def _summary_suffix(data: pd.DataFrame) -> str:
    """"_cal" for a calibration/holdout table, "" for a plain summary."""
    return "_cal" if "frequency_cal" in data.columns and "frequency" not in data.columns else ""


def _bad_histories(x: np.ndarray, tx: np.ndarray, TT: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(x) | ~np.isfinite(tx) | ~np.isfinite(TT) | (x < 0) | (tx < 0) | (TT < tx) | (TT < 0)
    bad |= (x == 0) & (tx != 0)
    bad |= (x > 0) & (tx <= 0)
    return bad


def _check_histories(x: np.ndarray, tx: np.ndarray, TT: np.ndarray, index: Any) -> None:
    bad = _bad_histories(x, tx, TT)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            "impossible customer history", row=index[i] if index is not None else i,
            value=f"frequency={x[i]}, recency={tx[i]}, T={TT[i]}",
            expected="0 <= recency <= T, recency = 0 exactly when frequency = 0",
            fix="build the table with ltv.summary, or drop customers first seen on the observation end",
        )


def _frame_columns(data: Any, frequency: Any, recency: Any, T: Any, weights: Any, check: bool = True):
    """Frequency, recency, T and weights as float arrays from a summary table or arrays, checked
    (without ``check`` the histories are left to the caller and missing weights are None)."""
    if data is not None:
        if not isinstance(data, pd.DataFrame):
            raise DataError("fit expects a DataFrame from ltv.summary or ltv.calibration_holdout",
                            value=type(data).__name__)
        suffix = _summary_suffix(data)
        for c in ("frequency", "recency", "T"):
            if c + suffix not in data.columns:
                raise DataError("summary column missing", column=c + suffix,
                                expected="columns frequency, recency, T (ltv.summary)",
                                fix="build the table with ltv.summary or ltv.calibration_holdout")
        frequency, recency, T = (data[c + suffix] for c in ("frequency", "recency", "T"))
        if weights is None and "weights" in data.columns:
            weights = data["weights"]
    if frequency is None or recency is None or T is None:
        raise ParameterError("pass a summary DataFrame or frequency, recency and T")
    x = np.asarray(frequency, dtype=float)
    tx = np.asarray(recency, dtype=float)
    TT = np.asarray(T, dtype=float)
    if not (len(x) == len(tx) == len(TT)):
        raise DataError("frequency, recency and T differ in length")
    if len(x) == 0:
        raise DataError("no customers to fit", fix="check the calibration period")
    if check:
        _check_histories(x, tx, TT, data.index if data is not None else None)
    if weights is None:
        return x, tx, TT, np.ones(len(x)) if check else None
    w = np.asarray(weights, dtype=float)
    if len(w) != len(x) or np.any(w < 0) or not np.all(np.isfinite(w)):
        raise DataError("weights must be non-negative numbers, one per row")
    return x, tx, TT, w


class PurchaseModel(PredictionsMixin, _Fitter):
    """Abstract base of the purchase-count models (BG/NBD, Pareto/NBD, MBG/NBD).

    A subclass sets ``_names`` (four parameter names), ``_label`` and, for cross-checks,
    ``_lifetimes_class``, and implements the hooks below; every hook takes the natural
    parameters ``p`` in the order of ``_names`` and arrays ``x`` (frequency), ``tx``
    (recency) and ``T``:

    - ``_loglik_rows(p, x, tx, T)``: the per-customer log-likelihood;
    - ``_p_alive(x, tx, T, p)``: probability alive at T;
    - ``_conditional_expected(t, x, tx, T, p)``: expected purchases in (T, T + t];
    - ``_unconditional_expected(t, p)``: expected purchases in (0, t] for a new customer;
    - optionally ``_prob_n(t, n, x, tx, T, p)``: P(X(T, T+t) = n | history) (a new customer is the
      history (0, 0, 0)); :class:`~crmlab.ltv.predict.PredictionsMixin` builds
      ``prob_purchases``, ``prob_active``, ``expected_purchases_up_to`` and
      ``next_order_date`` on it;
    - optionally ``_grad_rows(p, x, tx, T)``: per-row gradient (BFGS instead of a
      derivative-free search).

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the parameters (as lifetimes' ``penalizer_coef``, on the mean
        log-likelihood). A small value (0.001) tames fits that run off to extreme parameters.
    aggregate : bool, default True
        Fit on the distinct (frequency, recency, T) rows with their counts as weights. The
        likelihood is identical; the cost is that of the distinct rows.
    max_iter : int, default 1000
        Optimiser iterations.
    """

    #: Name of the equivalent lifetimes fitter (for :meth:`to_lifetimes`).
    _lifetimes_class: ClassVar[str] = ""

    @abstractmethod
    def _p_alive(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Probability that each customer is alive at T."""

    @abstractmethod
    def _conditional_expected(self, t: Any, x: np.ndarray, tx: np.ndarray, T: np.ndarray,
                              p: np.ndarray) -> np.ndarray:
        """Expected repeat purchases in the next ``t`` units given each history."""

    @abstractmethod
    def _unconditional_expected(self, t: Any, p: np.ndarray) -> np.ndarray:
        """Expected repeat purchases in ``t`` units for a customer just acquired."""

    def _prob_n(self, t: float, n: int, x: np.ndarray, tx: np.ndarray, T: np.ndarray,
                p: np.ndarray) -> np.ndarray:
        """P(X(T, T+t) = n | history) per customer (optional hook: the shipped models have it)."""
        raise NotImplementedError(f"{self._label} does not implement _prob_n: no P(X(t)=n) or P(active)")

    def fit(self, data: pd.DataFrame | None = None, *, frequency: Any = None, recency: Any = None,
            T: Any = None, weights: Any = None, unit: str | None = None) -> PurchaseModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        data : pandas.DataFrame, optional
            A table from :func:`~crmlab.ltv.summary` (columns frequency, recency, T) or from
            :func:`~crmlab.ltv.calibration_holdout` (the ``_cal`` columns are used).
        frequency, recency, T : array-like, optional
            The histories as arrays, instead of ``data``.
        weights : array-like, optional
            How many customers each row stands for (also read from a ``weights`` column).
        unit : {"D", "W", "M"}, optional
            Time unit; default ``data.attrs["unit"]``.

        Returns
        -------
        PurchaseModel
            ``self``, with ``params_``, ``covariance_``, ``log_likelihood_``,
            ``converged_``, ``result_``, ``n_``, ``n_rows_`` and ``unit_``.
        """
        x, tx, TT, w = _frame_columns(data, frequency, recency, T, weights, check=not self.aggregate)
        self.unit_ = _check_unit(unit) if unit else (data.attrs.get("unit") if data is not None else None)
        if self.aggregate:
            # the same likelihood on the distinct rows, each weighted by the customers behind it;
            # the histories are checked on the distinct rows (all rows only to name a bad one)
            rows = (x, tx, TT)
            lean = _distinct_counts(x, tx, TT) if w is None else None
            if lean is not None:  # whole numbers, no weights: the distinct rows by counting
                (x, tx, TT), w = lean
            else:
                (x, tx, TT), counts, inv = aggregate(x, tx, TT)
                w = counts if w is None else np.bincount(inv, weights=w)
            if _bad_histories(x, tx, TT).any():
                _check_histories(*rows, data.index if data is not None else None)
        keep = w > 0
        self._optimise((x[keep], tx[keep], TT[keep]), w[keep], np.zeros(len(self._names)))
        return self

    def _xtT(self, data: Any, frequency: Any, recency: Any, T: Any):
        if data is not None:
            x, tx, TT, _ = _frame_columns(data, None, None, None, None)
            return x, tx, TT
        return (np.asarray(frequency, dtype=float), np.asarray(recency, dtype=float),
                np.asarray(T, dtype=float))

    def expected_purchases(self, t: Any, data: pd.DataFrame | None = None, *, frequency: Any = None,
                           recency: Any = None, T: Any = None) -> np.ndarray:
        """Expected repeat purchases in the next ``t`` units, given each customer's history.

        Parameters
        ----------
        t : float or array-like
            Horizon in the model's time unit.
        data : pandas.DataFrame, optional
            Summary table (or pass ``frequency``, ``recency``, ``T``).
        frequency, recency, T : array-like, optional

        Returns
        -------
        numpy.ndarray
        """
        self._check_fitted()
        x, tx, TT = self._xtT(data, frequency, recency, T)
        return self._conditional_expected(np.asarray(t, dtype=float), x, tx, TT, self.params_.to_numpy())

    def p_alive(self, data: pd.DataFrame | None = None, *, frequency: Any = None, recency: Any = None,
                T: Any = None) -> np.ndarray:
        """Probability that each customer is still active ("alive") at the end of T.

        Parameters
        ----------
        data, frequency, recency, T
            The customers' histories, as in :meth:`expected_purchases`.

        Returns
        -------
        numpy.ndarray
            One probability per customer.
        """
        self._check_fitted()
        x, tx, TT = self._xtT(data, frequency, recency, T)
        return self._p_alive(x, tx, TT, self.params_.to_numpy())

    def expected_purchases_new(self, t: Any) -> np.ndarray:
        """Expected repeat purchases in ``t`` units for a customer just acquired.

        Parameters
        ----------
        t : float or array-like
            Horizon in the model's time unit.

        Returns
        -------
        numpy.ndarray
        """
        self._check_fitted()
        return self._unconditional_expected(np.asarray(t, dtype=float), self.params_.to_numpy())

    def to_lifetimes(self):
        """The equivalent lifetimes fitter with these parameters (for cross-checks and plots).

        Needs the ``lifetimes`` package (in the ``dev`` extra; crmlab itself does not use it).

        Returns
        -------
        lifetimes fitter
            ``BetaGeoFitter``, ``ParetoNBDFitter`` or ``ModifiedBetaGeoFitter`` with ``params_`` set.
        """
        import lifetimes

        self._check_fitted()
        f = getattr(lifetimes, self._lifetimes_class)()
        f.params_ = self.params_.copy()
        f.params_.name = None
        return f
