"""Customer lifetime value: buy-till-you-die models, spend model, CLV and holdout checks.

The job: from a transaction log, say how many purchases each customer will make over a
horizon, whether they are still "alive", what they will spend and what they are worth, and
check those predictions on a holdout period before anyone acts on them.

Workflow::

    from crmlab import ltv
    cal = ltv.calibration_holdout(tx, calibration_end="2011-09-01", unit="W")
    model = ltv.BGNBD().fit(cal)              # also ltv.ParetoNBD, ltv.MBGNBD
    check = ltv.holdout_check(model, cal)     # predicted vs actual repeat purchases
    s = ltv.summary(tx, unit="W")
    spend = ltv.GammaGamma().fit(s)
    value = ltv.clv(model.fit(s), spend, s, horizon_months=12, margin=0.3)

Models (the papers' likelihoods, implemented here in vectorised numpy/scipy):

- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative
  to the Pareto/NBD model", Marketing Science 24(2).
- Pareto/NBD: Schmittlein, Morrison & Colombo (1987), Management Science 33(1); likelihood
  and expectations as derived in Fader & Hardie (2005), "A note on deriving the Pareto/NBD
  model and related expressions".
- MBG/NBD: Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of
  models for customer base analysis", IJRM 24(3).
- Gamma-Gamma spend: Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for
  customer base analysis", JMR 42(4), and Hardie's note 025.

Why not lifetimes' own fitters: they rescale time (so the reported log-likelihood is not the
papers'), fit one row per customer (a million customers cost a million rows), and fail
quietly (Pareto/NBD without standard errors). Here every model fits on the distinct
(frequency, recency, T) rows with weights, reports the papers' log-likelihood, standard
errors from the observed information, AIC/BIC, and warns when a fit does not converge.
lifetimes stays the reference the tests compare against (:meth:`TransactionModel.to_lifetimes`).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from crmlab.errors import ConvergenceWarning, DataError, ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result

__all__ = [
    "UNITS",
    "summary",
    "calibration_holdout",
    "aggregate",
    "BGNBD",
    "ParetoNBD",
    "MBGNBD",
    "GammaGamma",
    "clv",
    "holdout_check",
    "compare_models",
    "high_value_at_risk",
    "load_cdnow_master",
    "cdnow_master_path",
    "FitResult",
    "CLVResult",
    "HoldoutResult",
    "ComparisonResult",
]

#: Time units for frequency/recency/T: days, weeks (Monday to Sunday, as pandas' "W"), months.
UNITS = ("D", "W", "M")
#: Length of a calendar month in each unit (used to turn a horizon in months into model time).
_PER_MONTH = {"D": 365.25 / 12, "W": 365.25 / 12 / 7, "M": 1.0}
_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months"}


# ----------------------------------------------------------------------------------------
# Customer summaries
# ----------------------------------------------------------------------------------------


def _check_unit(unit: str) -> str:
    u = str(unit).upper()[:1] if isinstance(unit, str) else unit
    if u not in UNITS:
        raise ParameterError(
            "unknown time unit", value=unit, expected="'D' (days), 'W' (weeks) or 'M' (months)",
            fix="pass unit='W' for weekly purchase data",
        )
    return u


def _periods(ts: Any, unit: str) -> np.ndarray:
    """Integer period number of each timestamp (days, Monday-weeks or months since 1970)."""
    values = np.asarray(ts, dtype="datetime64[ns]") if not isinstance(ts, np.ndarray) else ts
    if unit == "M":
        return values.astype("datetime64[M]").astype(np.int64)
    days = values.astype("datetime64[D]").astype(np.int64)
    if unit == "W":
        # 1970-01-01 is a Thursday; the Monday before it is day -3.
        return np.floor_divide(days + 3, 7)
    return days


def _columns(transactions: pd.DataFrame, needed: dict[str, str | None]) -> None:
    if not isinstance(transactions, pd.DataFrame):
        raise DataError("transactions must be a DataFrame", value=type(transactions).__name__,
                        expected="a DataFrame with one row per transaction")
    for role, col in needed.items():
        if col is not None and col not in transactions.columns:
            raise DataError(
                f"the {role} column is missing", column=col,
                expected=f"one of the columns {list(transactions.columns)[:12]}",
                fix=f"pass {role}_col= with the name of the {role} column",
            )


def _timestamps(transactions: pd.DataFrame, date_col: str) -> np.ndarray:
    col = transactions[date_col]
    if not pd.api.types.is_datetime64_any_dtype(col):
        try:
            col = pd.to_datetime(col)
        except (ValueError, TypeError) as exc:
            raise DataError("dates cannot be parsed", column=date_col, value=str(col.iloc[0]),
                            expected="dates like 2011-03-01", fix="convert the column with pd.to_datetime") from exc
    if getattr(col.dt, "tz", None) is not None:
        col = col.dt.tz_localize(None)
    if col.isna().any():
        row = int(np.flatnonzero(col.isna().to_numpy())[0])
        raise DataError("missing purchase date", column=date_col, row=transactions.index[row],
                        fix="drop rows without a date before building the summary")
    return col.to_numpy(dtype="datetime64[ns]")


def _summarise(codes: np.ndarray, period: np.ndarray, amount: np.ndarray | None,
               end_period: int, n_customers: int) -> dict[str, np.ndarray]:
    """Vectorised core: unique (customer, period) pairs, then per-customer statistics."""
    pmin = int(period.min()) if len(period) else 0
    span = int(end_period - pmin + 1)
    key = codes.astype(np.int64) * span + (period - pmin)
    if amount is None:
        ukey = np.unique(key)
        sums = None
    else:
        s = pd.Series(amount, copy=False).groupby(key, sort=True).sum()
        ukey = s.index.to_numpy()
        sums = s.to_numpy(dtype=float)
    cust = ukey // span
    per = ukey % span + pmin
    start = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
    stop = np.r_[start[1:], len(ukey)] - 1
    out = {
        "code": cust[start],
        "frequency": (stop - start).astype(float),
        "recency": (per[stop] - per[start]).astype(float),
        "T": (end_period - per[start]).astype(float),
        "first": per[start],
    }
    if sums is not None:
        total = np.add.reduceat(sums, start) if len(start) else np.zeros(0)
        repeat = total - sums[start]
        freq = out["frequency"]
        with np.errstate(invalid="ignore", divide="ignore"):
            out["monetary_value"] = np.where(freq > 0, repeat / np.where(freq > 0, freq, 1), 0.0)
    return out


def summary(
    transactions: pd.DataFrame,
    *,
    unit: str = "D",
    observation_end: Any = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str | None = "amount",
) -> pd.DataFrame:
    """Frequency, recency, T and monetary value per customer, as the models expect them.

    Time is cut into periods of one ``unit`` (days, Monday-to-Sunday weeks, or calendar
    months); several purchases in one period count as one. For each customer:

    - ``frequency``: number of periods with a purchase after the first one (repeat purchases);
    - ``recency``: periods from the first to the last purchase;
    - ``T``: periods from the first purchase to ``observation_end`` (default: last date);
    - ``monetary_value``: mean spend per repeat period (0 without repeat purchases).

    This is the definition of ``lifetimes.utils.summary_data_from_transaction_data``
    (transactions after ``observation_end`` dropped), computed with integer period numbers
    and one sort, so it is correct on pandas 2 and 3 and takes about a second for millions
    of rows. Units: ``"D"``, ``"W"``, ``"M"``; the result's ``attrs["unit"]`` records it.

    Returns
    -------
    DataFrame indexed by customer id with float columns frequency, recency, T
    (and monetary_value when ``amount_col`` is given).
    """
    unit = _check_unit(unit)
    _columns(transactions, {"customer": customer_col, "date": date_col, "amount": amount_col})
    ts = _timestamps(transactions, date_col)
    ids = transactions[customer_col]
    keep = ids.notna().to_numpy().copy()
    if observation_end is not None:
        end_ts = np.datetime64(pd.Timestamp(observation_end).tz_localize(None), "ns")
    else:
        if not keep.any():
            raise DataError("no transactions with a customer id", column=customer_col,
                            fix="check the customer id column or drop anonymous rows with data.clean")
        end_ts = ts[keep].max()
    period = _periods(ts, unit)
    end_period = int(_periods(np.array([end_ts]), unit)[0])
    keep &= period <= end_period
    if not keep.any():
        raise DataError("no transactions on or before the observation end", column=date_col,
                        value=str(pd.Timestamp(end_ts).date()), fix="choose a later observation_end")
    codes, uniques = pd.factorize(ids[keep] if not keep.all() else ids, sort=False)
    amount = None
    if amount_col is not None:
        amount = pd.to_numeric(transactions[amount_col], errors="coerce").to_numpy(dtype=float)
        amount = amount[keep]
        if np.isnan(amount).any():
            raise DataError("missing or non-numeric amount", column=amount_col,
                            fix="fill or drop rows without an amount")
    out = _summarise(codes, period[keep], amount, end_period, len(uniques))
    index = pd.Index(uniques.take(out["code"]) if hasattr(uniques, "take") else np.asarray(uniques)[out["code"]],
                     name=customer_col)
    cols = {k: out[k] for k in ("frequency", "recency", "T")}
    if amount is not None:
        cols["monetary_value"] = out["monetary_value"]
    df = pd.DataFrame(cols, index=index)
    df.attrs["unit"] = unit
    df.attrs["observation_end"] = str(pd.Timestamp(end_ts))
    return df


def calibration_holdout(
    transactions: pd.DataFrame,
    calibration_end: Any,
    *,
    observation_end: Any = None,
    unit: str = "D",
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str | None = "amount",
) -> pd.DataFrame:
    """Split transactions into a calibration summary and holdout counts per customer.

    Customers are those with a purchase on or before ``calibration_end``; their summary is
    :func:`summary` with ``observation_end=calibration_end`` (columns ``frequency_cal``,
    ``recency_cal``, ``T_cal``, ``monetary_value_cal``). The holdout counts the periods with a
    purchase after ``calibration_end`` up to ``observation_end`` (``frequency_holdout``),
    their mean spend (``monetary_value_holdout``) and the holdout length in units
    (``duration_holdout``). Same definitions as
    ``lifetimes.utils.calibration_and_holdout_data``, which fails on pandas 3
    ("No objects to concatenate"); this one works on pandas 2 and 3. One deliberate
    difference: ``monetary_value_holdout`` is the mean spend per purchase *period*, like
    ``monetary_value_cal`` and like the Gamma-Gamma model's unit of spend (lifetimes
    averages raw transaction lines there).
    """
    unit = _check_unit(unit)
    _columns(transactions, {"customer": customer_col, "date": date_col, "amount": amount_col})
    ts = _timestamps(transactions, date_col)
    cal_end = pd.Timestamp(calibration_end)
    obs_end = pd.Timestamp(observation_end) if observation_end is not None else pd.Timestamp(ts.max())
    if obs_end <= cal_end:
        raise ParameterError(
            "calibration_end must be before the observation end", value=str(cal_end.date()),
            expected=f"a date before {obs_end.date()}", fix="choose an earlier calibration_end",
        )
    cal_mask = ts <= np.datetime64(cal_end, "ns")
    if not cal_mask.any():
        raise ParameterError("no transactions before calibration_end", value=str(cal_end.date()),
                             fix="choose a later calibration_end")
    cal = summary(transactions.loc[cal_mask], unit=unit, observation_end=cal_end,
                  customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    cal.columns = [f"{c}_cal" for c in cal.columns]
    hold_mask = (~cal_mask) & (ts <= np.datetime64(obs_end, "ns"))
    hold = transactions.loc[hold_mask]
    hold_ids = hold[customer_col]
    in_cal = hold_ids.isin(cal.index).to_numpy() & hold_ids.notna().to_numpy()
    hold = hold.loc[in_cal]
    freq = pd.Series(0.0, index=cal.index)
    money = pd.Series(0.0, index=cal.index)
    if len(hold):
        codes = cal.index.get_indexer(hold[customer_col])
        per = _periods(ts[hold_mask][in_cal], unit)
        amount = (pd.to_numeric(hold[amount_col], errors="coerce").to_numpy(dtype=float)
                  if amount_col is not None else np.zeros(len(hold)))
        sums = pd.Series(amount).groupby([codes, per]).sum()
        c = sums.index.get_level_values(0).to_numpy()
        counts = np.bincount(c, minlength=len(cal))
        totals = np.bincount(c, weights=sums.to_numpy(), minlength=len(cal))
        freq[:] = counts.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            money[:] = np.where(counts > 0, totals / np.maximum(counts, 1), 0.0)
    cal["frequency_holdout"] = freq.to_numpy()
    if amount_col is not None:
        cal["monetary_value_holdout"] = money.to_numpy()
    end_p = int(_periods(np.array([np.datetime64(obs_end, "ns")]), unit)[0])
    cal_p = int(_periods(np.array([np.datetime64(cal_end, "ns")]), unit)[0])
    cal["duration_holdout"] = float(end_p - cal_p)
    cal.attrs["unit"] = unit
    cal.attrs["calibration_end"] = str(cal_end)
    cal.attrs["observation_end"] = str(obs_end)
    return cal


def aggregate(*columns: Any) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of the given columns, their counts and each input row's distinct row.

    Returns ``(unique_columns, weights, inverse)`` so that ``unique_columns[j][inverse]``
    gives back column j. Hash-based (one ``pd.factorize`` per column and one on the combined
    code), so a million rows take tens of milliseconds.
    """
    cols = [np.asarray(c, dtype=float) for c in columns]
    n = len(cols[0])
    combined = np.zeros(n, dtype=np.int64)
    for c in cols:
        codes, uniq = pd.factorize(c, sort=False)
        combined = combined * len(uniq) + codes
        combined, _ = pd.factorize(combined, sort=False)
        combined = combined.astype(np.int64)
    inverse = combined
    weights = np.bincount(inverse).astype(float)
    first = np.full(len(weights), -1, dtype=np.int64)
    # position of the first occurrence of each distinct row
    order = np.arange(n - 1, -1, -1)
    first[inverse[order]] = order
    return [c[first] for c in cols], weights, inverse


# ----------------------------------------------------------------------------------------
# Fitting machinery
# ----------------------------------------------------------------------------------------


class FitResult(Result):
    """A fitted model: parameters with standard errors and 95% intervals, LL, AIC, BIC."""

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


class _Fitter:
    """Shared fitting: weighted ML on log-parameters with scipy, SEs from the Hessian."""

    _names: tuple[str, ...] = ()
    _label = "model"

    def _loglik_rows(self, p: np.ndarray, *data: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _grad_rows(self, p: np.ndarray, *data: np.ndarray) -> np.ndarray | None:
        """Per-row gradient of the log-likelihood w.r.t. the natural parameters, or None."""
        return None

    def _optimise(self, data: tuple[np.ndarray, ...], w: np.ndarray, x0: np.ndarray) -> None:
        penalizer = float(self.penalizer)
        if penalizer < 0:
            raise ParameterError("penalizer must be >= 0", value=penalizer, fix="use penalizer=0.001 or 0")
        wsum = w.sum()

        def objective(logp: np.ndarray) -> tuple[float, np.ndarray]:
            p = np.exp(logp)
            ll = self._loglik_rows(p, *data)
            val = -(w @ ll) / wsum + penalizer * np.sum(p ** 2)
            if not np.isfinite(val) or np.any(np.abs(logp) > 25):
                # outside the numerically safe region (e.g. hyp2f1 overflow): reject the step
                return 1e300, np.zeros_like(logp)
            g_rows = self._grad_rows(p, *data)
            if g_rows is None:
                return val, None  # type: ignore[return-value]
            g = -(w @ g_rows) / wsum + 2 * penalizer * p
            return val, g * p

        has_grad = self._grad_rows(np.exp(x0), *(d[:1] for d in data)) is not None
        with np.errstate(all="ignore"):
            if has_grad:
                res = optimize.minimize(objective, x0, jac=True, method="BFGS",
                                        options={"gtol": 1e-10, "maxiter": self.max_iter})
            else:
                # no analytic gradient (hyp2f1 terms): bounded quasi-Newton keeps the search out
                # of the region where hyp2f1 is slow and inaccurate, Nelder-Mead polishes
                res = optimize.minimize(lambda z: objective(z)[0], x0, method="L-BFGS-B",
                                        bounds=[(-12.0, 9.0)] * len(x0),
                                        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": self.max_iter})
                res2 = optimize.minimize(lambda z: objective(z)[0], res.x, method="Nelder-Mead",
                                         bounds=[(-12.0, 9.0)] * len(x0),
                                         options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": self.max_iter * 4})
                if np.isfinite(res2.fun) and res2.fun <= res.fun:
                    res2.jac = np.zeros_like(res2.x)
                    res = res2
        p = np.exp(res.x)
        neg_total = lambda q: -float(w @ self._loglik_rows(q, *data))  # noqa: E731
        with np.errstate(all="ignore"):
            ll = -neg_total(p)
            H = _hessian_fd(neg_total, p)
        reasons = []
        if not res.success and not (np.isfinite(res.fun) and has_grad and np.linalg.norm(res.jac) < 1e-5):
            reasons.append(f"optimiser stopped: {res.message}")
        if not np.isfinite(ll):
            reasons.append("log-likelihood is not finite")
        if not has_grad and np.any((res.x <= -12.0 + 1e-6) | (res.x >= 9.0 - 1e-6)):
            reasons.append("a parameter stopped at the edge of the search range")
        if np.any(p > 1e6) or np.any(p < 1e-6):
            reasons.append("a parameter ran to the edge of its range "
                           + str({n: float(v) for n, v in zip(self._names, p)}))
        try:
            cov = np.linalg.inv(H)
            ok = np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0)
        except np.linalg.LinAlgError:
            cov, ok = np.full((len(p), len(p)), np.nan), False
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
        self.params_ = pd.Series(p, index=list(self._names), name=self._label)
        self.covariance_ = pd.DataFrame(cov, index=list(self._names), columns=list(self._names))
        self.log_likelihood_ = float(ll)
        self.n_ = float(wsum)
        self.n_rows_ = int(len(w))
        self.result_ = FitResult(self._label, self.params_, pd.Series(se, index=list(self._names)),
                                 ll, wsum, len(w), self.converged_, getattr(self, "unit_", None))

    # display
    @property
    def summary(self) -> pd.DataFrame:
        self._check_fitted()
        return self.result_.summary

    def _repr_html_(self) -> str:
        if not hasattr(self, "result_"):
            return f"<p>{self._label} (not fitted)</p>"
        return self.result_._repr_html_()

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ParameterError(f"{self._label} is not fitted", fix="call .fit(summary) first")

    def sample_params(self, n_draws: int, random_state: Any = None) -> np.ndarray:
        """Parameter draws from the asymptotic normal of the log-parameters (delta method)."""
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


def _frame_columns(data: Any, frequency: Any, recency: Any, T: Any, weights: Any):
    if data is not None:
        if not isinstance(data, pd.DataFrame):
            raise DataError("fit expects a DataFrame from ltv.summary or ltv.calibration_holdout",
                            value=type(data).__name__)
        suffix = "_cal" if "frequency_cal" in data.columns and "frequency" not in data.columns else ""
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
    bad = ~np.isfinite(x) | ~np.isfinite(tx) | ~np.isfinite(TT) | (x < 0) | (tx < 0) | (TT < tx) | (TT < 0)
    bad |= (x == 0) & (tx != 0)
    bad |= (x > 0) & (tx <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = data.index[i] if data is not None else i
        raise DataError(
            "impossible customer history", row=row,
            value=f"frequency={x[i]}, recency={tx[i]}, T={TT[i]}",
            expected="0 <= recency <= T, recency = 0 exactly when frequency = 0",
            fix="build the table with ltv.summary, or drop customers first seen on the observation end",
        )
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != len(x) or np.any(w < 0) or not np.all(np.isfinite(w)):
        raise DataError("weights must be non-negative numbers, one per row")
    return x, tx, TT, w


class TransactionModel(_Fitter):
    """Base of the purchase-count models (BG/NBD, Pareto/NBD, MBG/NBD).

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

    _lifetimes_class = ""

    def __init__(self, *, penalizer: float = 0.0, aggregate: bool = True, max_iter: int = 1000):
        self.penalizer = penalizer
        self.aggregate = aggregate
        self.max_iter = max_iter

    def fit(self, data: pd.DataFrame | None = None, *, frequency: Any = None, recency: Any = None,
            T: Any = None, weights: Any = None, unit: str | None = None):
        """Fit by maximum likelihood.

        ``data`` is a table from :func:`summary` (columns frequency, recency, T) or from
        :func:`calibration_holdout` (the ``_cal`` columns are used); or pass the arrays.
        ``weights`` counts how many customers each row stands for.
        """
        x, tx, TT, w = _frame_columns(data, frequency, recency, T, weights)
        self.unit_ = _check_unit(unit) if unit else (data.attrs.get("unit") if data is not None else None)
        if self.aggregate:
            (x, tx, TT), counts, _ = aggregate(x, tx, TT)
            if weights is not None or (data is not None and "weights" in data.columns):
                # sum the given weights over each distinct row
                _, _, inv = aggregate(*_frame_columns(data, frequency, recency, T, weights)[:3])
                counts = np.bincount(inv, weights=w)
            w = counts
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
        """Expected repeat purchases in the next ``t`` units, given each customer's history."""
        self._check_fitted()
        x, tx, TT = self._xtT(data, frequency, recency, T)
        return self._conditional_expected(np.asarray(t, dtype=float), x, tx, TT, self.params_.to_numpy())

    def p_alive(self, data: pd.DataFrame | None = None, *, frequency: Any = None, recency: Any = None,
                T: Any = None) -> np.ndarray:
        """Probability that each customer is still active ("alive") at the end of T."""
        self._check_fitted()
        x, tx, TT = self._xtT(data, frequency, recency, T)
        return self._p_alive(x, tx, TT, self.params_.to_numpy())

    def expected_purchases_new(self, t: Any) -> np.ndarray:
        """Expected repeat purchases in ``t`` units for a customer just acquired."""
        self._check_fitted()
        return self._unconditional_expected(np.asarray(t, dtype=float), self.params_.to_numpy())

    def to_lifetimes(self):
        """The equivalent lifetimes fitter with these parameters (for cross-checks and plots)."""
        import lifetimes

        self._check_fitted()
        f = getattr(lifetimes, self._lifetimes_class)()
        f.params_ = self.params_.copy()
        f.params_.name = None
        return f


def _gl(z):
    return special.gammaln(z)


class BGNBD(TransactionModel):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, Marketing Science).

    While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha);
    after every purchase they drop out with probability p ~ Beta(a, b). Assumes purchases
    counted once per period (see :func:`summary`). The CDNOW estimates (weeks) are
    r=0.2426, alpha=4.4136, a=0.7929, b=2.4259 with log-likelihood -9582.43.
    """

    _names = ("r", "alpha", "a", "b")
    _label = "BG/NBD"
    _lifetimes_class = "BetaGeoFitter"

    def _parts(self, p, x, tx, T):
        r, alpha, a, b = p
        A1 = _gl(r + x) - _gl(r) + r * np.log(alpha)
        A2 = _gl(a + b) + _gl(b + x) - _gl(b) - _gl(a + b + x)
        A3 = -(r + x) * np.log(alpha + T)
        A4 = np.log(a) - np.log(b + x - 1 + (x == 0)) - (r + x) * np.log(alpha + tx)
        A4 = np.where(x > 0, A4, -np.inf)
        return A1, A2, A3, A4

    def _loglik_rows(self, p, x, tx, T):
        A1, A2, A3, A4 = self._parts(p, x, tx, T)
        return A1 + A2 + np.logaddexp(A3, A4)

    def _grad_rows(self, p, x, tx, T):
        r, alpha, a, b = p
        A1, A2, A3, A4 = self._parts(p, x, tx, T)
        m = np.logaddexp(A3, A4)
        w3 = np.exp(A3 - m)
        w4 = np.exp(A4 - m)
        dg = special.digamma
        xb = b + x - 1 + (x == 0)
        g = np.empty((len(np.atleast_1d(x)), 4))
        g[:, 0] = dg(r + x) - dg(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + tx)
        g[:, 1] = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + tx)
        g[:, 2] = dg(a + b) - dg(a + b + x) + w4 / a
        g[:, 3] = dg(a + b) + dg(b + x) - dg(b) - dg(a + b + x) - w4 / xb
        return g

    def _p_alive(self, x, tx, T, p):
        r, alpha, a, b = p
        with np.errstate(divide="ignore", over="ignore"):
            odds = a / (b + x - 1 + (x == 0)) * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        return np.where(x > 0, 1 / (1 + odds), 1.0)

    def _conditional_expected(self, t, x, tx, T, p):
        r, alpha, a, b = p
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        front = (a + b + x - 1) / (a - 1)
        inner = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        return front * inner * self._p_alive(x, tx, T, p)

    def _unconditional_expected(self, t, p):
        r, alpha, a, b = p
        hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


class MBGNBD(BGNBD):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where a customer may also drop
    out right after the first purchase, so zero-repeat customers are not assumed alive.
    CDNOW estimates (weeks): r=0.525, alpha=6.183, a=0.891, b=1.614 (R BTYDplus).
    """

    _label = "MBG/NBD"
    _lifetimes_class = "ModifiedBetaGeoFitter"

    def _parts(self, p, x, tx, T):
        r, alpha, a, b = p
        A1 = _gl(r + x) - _gl(r) + r * np.log(alpha)
        A2 = _gl(a + b) + _gl(b + x + 1) - _gl(b) - _gl(a + b + x + 1)
        A3 = -(r + x) * np.log(alpha + T)
        A4 = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + tx)
        return A1, A2, A3, A4

    def _grad_rows(self, p, x, tx, T):
        r, alpha, a, b = p
        A1, A2, A3, A4 = self._parts(p, x, tx, T)
        m = np.logaddexp(A3, A4)
        w3 = np.exp(A3 - m)
        w4 = np.exp(A4 - m)
        dg = special.digamma
        g = np.empty((len(np.atleast_1d(x)), 4))
        g[:, 0] = dg(r + x) - dg(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + tx)
        g[:, 1] = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + tx)
        g[:, 2] = dg(a + b) - dg(a + b + x + 1) + w4 / a
        g[:, 3] = dg(a + b) + dg(b + x + 1) - dg(b) - dg(a + b + x + 1) - w4 / (b + x)
        return g

    def _p_alive(self, x, tx, T, p):
        r, alpha, a, b = p
        with np.errstate(over="ignore"):
            odds = a / (b + x) * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        return 1 / (1 + odds)

    def _conditional_expected(self, t, x, tx, T, p):
        r, alpha, a, b = p
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, b + x + 1, a + b + x, z)
        front = (a + b + x) / (a - 1)
        inner = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        return front * inner * self._p_alive(x, tx, T, p)

    def _unconditional_expected(self, t, p):
        r, alpha, a, b = p
        hyp = special.hyp2f1(r, b + 1, a + b, t / (alpha + t))
        return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


class ParetoNBD(TransactionModel):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987): Poisson purchases with rate
    lambda ~ Gamma(r, alpha) and an exponential lifetime with rate mu ~ Gamma(s, beta).
    Likelihood, P(alive) and conditional expectation as in Fader & Hardie (2005), "A note
    on deriving the Pareto/NBD model", eqs. (18)-(22), (41). CDNOW estimates (weeks):
    r=0.553, alpha=10.578, s=0.606, beta=11.669, log-likelihood -9595.0.
    """

    _names = ("r", "alpha", "s", "beta")
    _label = "Pareto/NBD"
    _lifetimes_class = "ParetoNBDFitter"

    @staticmethod
    def _log_A0(p, x, tx, T):
        r, alpha, s, beta = p
        if alpha < beta:
            lo, hi, tt = alpha, beta, r + x
        else:
            lo, hi, tt = beta, alpha, s + 1
        rsx = r + s + x
        d = hi - lo
        p1 = special.hyp2f1(rsx, tt, rsx + 1, d / (hi + tx))
        p2 = special.hyp2f1(rsx, tt, rsx + 1, d / (hi + T))
        q1, q2 = hi + tx, hi + T
        # log(p1 / q1^rsx - p2 / q2^rsx), both terms positive, the first larger
        l1 = np.log(p1) - rsx * np.log(q1)
        l2 = np.log(p2) - rsx * np.log(q2)
        with np.errstate(divide="ignore"):
            return l1 + np.log1p(-np.exp(l2 - l1))

    def _loglik_rows(self, p, x, tx, T):
        r, alpha, s, beta = p
        rsx = r + s + x
        A1 = _gl(r + x) - _gl(r) + r * np.log(alpha) + s * np.log(beta)
        la0 = self._log_A0(p, x, tx, T)
        # where tx == T (bought in the last period) A0 vanishes: the second term drops out
        la0 = np.where(tx < T, la0, -np.inf)
        A2 = np.logaddexp(-(r + x) * np.log(alpha + T) - s * np.log(beta + T),
                          np.log(s) + la0 - np.log(rsx))
        return A1 + A2

    def _p_alive(self, x, tx, T, p):
        r, alpha, s, beta = p
        la0 = np.where(tx < T, self._log_A0(p, x, tx, T), -np.inf)
        with np.errstate(over="ignore"):
            z = np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T) + s * np.log(beta + T) + la0
            return 1 / (1 + np.exp(z))

    def _conditional_expected(self, t, x, tx, T, p):
        r, alpha, s, beta = p
        front = (r + x) * (beta + T) / ((alpha + T) * (s - 1))
        inner = 1 - ((beta + T) / (beta + T + t)) ** (s - 1)
        return front * inner * self._p_alive(x, tx, T, p)

    def _unconditional_expected(self, t, p):
        r, alpha, s, beta = p
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))


class GammaGamma(_Fitter):
    """Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, JMR; Hardie
    note 025): spend per transaction ~ Gamma(p, nu), nu ~ Gamma(q, gamma). Fitted on repeat
    buyers (frequency > 0) with their mean repeat spend. Assumes spend independent of
    purchase frequency: check ``spend_frequency_correlation_`` (should be near 0).
    CDNOW (946 repeat buyers): p=6.25, q=3.74, gamma=15.44, log-likelihood -4055.92.

    Parameters
    ----------
    penalizer : float, default 0
    aggregate : bool, default True
        Fit on distinct (frequency, monetary value) rows with counts as weights.
    max_iter : int, default 1000
    """

    _names = ("p", "q", "gamma")
    _label = "Gamma-Gamma"

    def __init__(self, *, penalizer: float = 0.0, aggregate: bool = True, max_iter: int = 1000):
        self.penalizer = penalizer
        self.aggregate = aggregate
        self.max_iter = max_iter

    def fit(self, data: pd.DataFrame | None = None, *, frequency: Any = None, monetary_value: Any = None,
            weights: Any = None):
        """Fit on a :func:`summary` table (or ``_cal`` columns); customers without a repeat
        purchase are left out, as the model requires."""
        if data is not None:
            sfx = "_cal" if "frequency_cal" in data.columns and "frequency" not in data.columns else ""
            for c in ("frequency", "monetary_value"):
                if c + sfx not in data.columns:
                    raise DataError("summary column missing", column=c + sfx,
                                    fix="build the table with ltv.summary(..., amount_col='amount')")
            frequency, monetary_value = data["frequency" + sfx], data["monetary_value" + sfx]
            if weights is None and "weights" in data.columns:
                weights = data["weights"]
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
        keep = (x > 0) & np.isfinite(m)
        bad = keep & (m <= 0)
        if bad.any():
            warnings.warn(
                f"Gamma-Gamma: {int(bad.sum())} repeat buyers with zero or negative mean spend left "
                "out of the spend fit (the model needs positive spend); clean returns and free "
                "orders first if that is not expected",
                UserWarning, stacklevel=2,
            )
            keep &= ~bad
        x, m, w = x[keep], m[keep], w[keep]
        if len(x) < 3:
            raise DataError("fewer than 3 repeat buyers: the spend model cannot be fitted",
                            fix="use a longer calibration period")
        self.spend_frequency_correlation_ = float(np.corrcoef(x, m)[0, 1]) if len(x) > 2 else float("nan")
        if self.aggregate:
            (x, m), counts, inv = aggregate(x, m)
            w = np.bincount(inv, weights=w) if weights is not None else counts
        self.unit_ = data.attrs.get("unit") if data is not None else None
        self._optimise((x, m), w, np.zeros(3))
        return self

    def _loglik_rows(self, prm, x, m):
        p, q, g = prm
        px = p * x
        return (_gl(px + q) - _gl(px) - _gl(q) + q * np.log(g) + (px - 1) * np.log(m)
                + px * np.log(x) - (px + q) * np.log(g + m * x))

    def _grad_rows(self, prm, x, m):
        p, q, g = prm
        px = p * x
        dg = special.digamma
        out = np.empty((len(np.atleast_1d(x)), 3))
        out[:, 0] = x * (dg(px + q) - dg(px) + np.log(m) + np.log(x) - np.log(g + m * x))
        out[:, 1] = dg(px + q) - dg(q) + np.log(g) - np.log(g + m * x)
        out[:, 2] = q / g - (px + q) / (g + m * x)
        return out

    def expected_spend(self, data: pd.DataFrame | None = None, *, frequency: Any = None,
                       monetary_value: Any = None, params: Any = None) -> np.ndarray:
        """Expected spend per future transaction, shrunk from each customer's mean toward the
        population mean (p*gamma/(q-1)); the population mean for customers without repeats."""
        self._check_fitted()
        if data is not None:
            sfx = "_cal" if "frequency_cal" in data.columns and "frequency" not in data.columns else ""
            frequency, monetary_value = data["frequency" + sfx], data["monetary_value" + sfx]
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        p, q, g = self.params_.to_numpy() if params is None else params
        return (p * (g + x * m)) / (p * x + q - 1)

    def to_lifetimes(self):
        import lifetimes

        self._check_fitted()
        f = lifetimes.GammaGammaFitter()
        f.params_ = pd.Series(self.params_.to_numpy(), index=["p", "q", "v"])
        return f


# ----------------------------------------------------------------------------------------
# Customer lifetime value
# ----------------------------------------------------------------------------------------


class CLVResult(Result):
    """Customer lifetime value per customer, with intervals from parameter uncertainty."""

    title = "Customer lifetime value"

    def __init__(self, table: pd.DataFrame, horizon_months: int, margin: float, discount_rate: float,
                 level: float):
        self.table = table
        self.horizon_months = horizon_months
        self.margin = margin
        self.discount_rate = discount_rate
        self.level = level
        self.notes = (
            f"{horizon_months}-month horizon, margin {margin:.0%}, annual discount rate "
            f"{discount_rate:.0%}; intervals: {level:.0%} from parameter uncertainty",
        )

    @property
    def summary(self) -> pd.DataFrame:
        t = self.table
        cols = ["p_alive", "expected_purchases", "expected_spend", "clv"] + [
            c for c in ("clv_lower", "clv_upper") if c in t.columns]
        d = t[cols].describe(percentiles=[0.5, 0.9]).T[["mean", "50%", "90%", "max"]]
        d["total"] = t[cols].sum()
        return d

    def to_dict(self) -> dict[str, Any]:
        t = self.table
        out = {"customers": int(len(t)), "clv_total": float(t["clv"].sum()),
               "clv_mean": float(t["clv"].mean()), "p_alive_mean": float(t["p_alive"].mean())}
        if "clv_lower" in t.columns:
            out.update(clv_total_lower=float(self.total_interval_[0]), clv_total_upper=float(self.total_interval_[1]))
        return out

    def customer_values(self) -> pd.DataFrame:
        """Per customer ``clv``, ``prob_alive`` and ``expected_purchases``: the shape
        ``crmlab.strategy.segment_strategy(customer_values=...)`` takes."""
        t = self.table
        return pd.DataFrame({"clv": t["clv"], "prob_alive": t["p_alive"],
                             "expected_purchases": t["expected_purchases"]}, index=t.index)

    def by(self, groups: pd.Series) -> pd.DataFrame:
        """CLV by a customer grouping (e.g. RFM segment): customers, mean and total CLV, share."""
        g = pd.Series(groups).reindex(self.table.index)
        t = self.table.assign(group=g.to_numpy())
        out = t.groupby("group", observed=True).agg(
            customers=("clv", "size"), clv_mean=("clv", "mean"), clv_total=("clv", "sum"),
            p_alive_mean=("p_alive", "mean"), expected_purchases=("expected_purchases", "sum"))
        out["clv_share"] = out["clv_total"] / out["clv_total"].sum()
        return out.sort_values("clv_total", ascending=False)

    def plot(self, ax=None):
        """Distribution of CLV (log-spaced histogram) with the top decile marked."""
        ax = get_ax(ax, (7, 4), layout=None)
        v = self.table["clv"].clip(lower=0.01)
        bins = np.logspace(np.log10(v.min()), np.log10(v.max() + 1), 40)
        ax.hist(v, bins=bins, color="#4C72B0")
        ax.set_xscale("log")
        ax.axvline(v.quantile(0.9), color="#C44E52", ls="--", label="top 10% threshold")
        ax.set_xlabel(f"CLV over {self.horizon_months} months (margin, discounted)")
        ax.set_ylabel("customers")
        ax.legend()
        return ax


def _clv_core(tm: TransactionModel, tp: np.ndarray, gg: GammaGamma, gp: np.ndarray,
              x, tx, T, m, steps: np.ndarray, disc: np.ndarray, margin: float):
    cum = np.stack([tm._conditional_expected(s, x, tx, T, tp) for s in steps])
    inc = np.diff(np.vstack([np.zeros_like(cum[0]), cum]), axis=0)
    spend = gg.expected_spend(frequency=x, monetary_value=m, params=gp)
    return margin * spend * (inc * disc[:, None]).sum(axis=0), cum[-1], spend


def clv(
    transaction_model: TransactionModel,
    spend_model: GammaGamma,
    data: pd.DataFrame,
    *,
    horizon_months: int = 12,
    margin: float = 1.0,
    discount_rate: float = 0.1,
    unit: str | None = None,
    intervals: bool = True,
    n_draws: int = 200,
    level: float = 0.9,
    random_state: Any = 0,
) -> CLVResult:
    """Customer lifetime value: discounted expected margin over a horizon.

    CLV = margin * E[spend per transaction] * sum_k (E[X(t_k)] - E[X(t_{k-1})]) / (1+d)^k over
    months k = 1..horizon, where E[X(t)] is the transaction model's conditional expectation
    and d the monthly rate equivalent to the annual ``discount_rate`` (Fader, Hardie & Lee
    2005, "RFM and CLV", discounted expected transactions). Intervals: the model parameters
    are drawn ``n_draws`` times from their asymptotic normal (log scale) and the CLV
    quantiles at ``(1-level)/2`` and ``(1+level)/2`` reported per customer and in total.

    ``data`` is the :func:`summary` table the models describe (same time unit).
    """
    if not 0 < margin <= 1:
        raise ParameterError("margin must be a share of revenue in (0, 1]", value=margin, fix="e.g. margin=0.3")
    if discount_rate < 0:
        raise ParameterError("discount_rate must be >= 0 (annual)", value=discount_rate)
    if int(horizon_months) < 1:
        raise ParameterError("horizon_months must be >= 1", value=horizon_months)
    transaction_model._check_fitted()
    spend_model._check_fitted()
    unit = _check_unit(unit or data.attrs.get("unit") or transaction_model.unit_ or "")
    x, tx, T, _ = _frame_columns(data, None, None, None, None)
    sfx = "_cal" if "frequency_cal" in data.columns and "frequency" not in data.columns else ""
    if "monetary_value" + sfx not in data.columns:
        raise DataError("summary has no monetary value", column="monetary_value",
                        fix="build it with ltv.summary(..., amount_col='amount')")
    m = data["monetary_value" + sfx].to_numpy(dtype=float)
    (ux, utx, uT, um), _, inv = aggregate(x, tx, T, m)
    months = np.arange(1, int(horizon_months) + 1)
    steps = months * _PER_MONTH[unit]
    monthly = (1 + discount_rate) ** (1 / 12) - 1
    disc = 1 / (1 + monthly) ** months
    value, purchases, spend = _clv_core(transaction_model, transaction_model.params_.to_numpy(), spend_model,
                                        spend_model.params_.to_numpy(), ux, utx, uT, um, steps, disc, margin)
    table = pd.DataFrame({
        "frequency": x, "recency": tx, "T": T, "monetary_value": m,
        "p_alive": transaction_model._p_alive(ux, utx, uT, transaction_model.params_.to_numpy())[inv],
        "expected_purchases": purchases[inv],
        "expected_spend": spend[inv],
        "clv": value[inv],
    }, index=data.index)
    res = CLVResult(table, int(horizon_months), margin, discount_rate, level)
    if intervals and not (transaction_model.converged_ and spend_model.converged_):
        warnings.warn("CLV intervals left out: a model did not converge, so its parameter "
                      "uncertainty is not known", ConvergenceWarning, stacklevel=2)
        intervals = False
    if intervals:
        rng = np.random.default_rng(random_state)
        tdraws = transaction_model.sample_params(n_draws, rng)
        gdraws = spend_model.sample_params(n_draws, rng)
        sims = np.empty((n_draws, len(ux)))
        with np.errstate(all="ignore"):
            for i in range(n_draws):
                sims[i] = _clv_core(transaction_model, tdraws[i], spend_model, gdraws[i],
                                    ux, utx, uT, um, steps, disc, margin)[0]
        lo, hi = (1 - level) / 2, (1 + level) / 2
        q = np.nanquantile(sims, [lo, hi], axis=0)
        table["clv_lower"] = q[0][inv]
        table["clv_upper"] = q[1][inv]
        totals = sims[:, inv].sum(axis=1) if len(inv) < 2_000_000 else None
        if totals is None:
            counts = np.bincount(inv, minlength=len(ux)).astype(float)
            totals = sims @ counts
        res.total_interval_ = tuple(np.nanquantile(totals, [lo, hi]))
    return res


def high_value_at_risk(value: CLVResult, past_value: pd.Series, *, p_alive_below: float | None = None,
                       top_share: float = 0.2, n: int | None = None,
                       days_since_last: pd.Series | None = None) -> pd.DataFrame:
    """Customers worth saving: high past value (top ``top_share`` by ``past_value``) ranked
    by probability alive, lowest first.

    ``p_alive_below`` keeps only those under a threshold; ``n`` keeps the first n. The
    table carries past value, purchase history, P(alive), expected purchases and CLV (and
    ``days_since_last`` when given). Pass the IDs through ``privacy.mask_ids`` before
    showing the list.
    """
    if not 0 < top_share <= 1:
        raise ParameterError("top_share must be in (0, 1]", value=top_share)
    t = value.table.copy()
    pv = pd.Series(past_value).reindex(t.index).astype(float)
    t["past_value"] = pv.to_numpy()
    cols = ["past_value", "frequency", "recency", "T", "p_alive", "expected_purchases", "clv"]
    if days_since_last is not None:
        t["days_since_last"] = pd.Series(days_since_last).reindex(t.index).to_numpy()
        cols.insert(1, "days_since_last")
    threshold = pv.quantile(1 - top_share)
    keep = t["past_value"] >= threshold
    if p_alive_below is not None:
        keep &= t["p_alive"] < p_alive_below
    # P(alive) to 3 decimals first (ties are common when the model sees little dropout),
    # then the longest silence, then the largest past value
    t["_p"] = t["p_alive"].round(3)
    order = ["_p"] + (["days_since_last"] if days_since_last is not None else []) + ["past_value"]
    asc = [True] + ([False] if days_since_last is not None else []) + [False]
    out = t.loc[keep].sort_values(order, ascending=asc)[cols]
    return out if n is None else out.head(int(n))


# ----------------------------------------------------------------------------------------
# Holdout validation and model choice
# ----------------------------------------------------------------------------------------


class HoldoutResult(Result):
    """Predicted vs actual holdout repeat purchases, per calibration frequency and per customer."""

    def __init__(self, model: str, by_frequency: pd.DataFrame, per_customer: pd.DataFrame):
        self.title = f"{model}: holdout check"
        self.model = model
        self.by_frequency = by_frequency
        self.per_customer = per_customer
        a = per_customer["actual"].to_numpy()
        pr = per_customer["predicted"].to_numpy()
        self.mae = float(np.mean(np.abs(a - pr)))
        self.rmse = float(np.sqrt(np.mean((a - pr) ** 2)))
        self.correlation = float(np.corrcoef(a, pr)[0, 1]) if len(a) > 1 and a.std() > 0 else float("nan")
        self.total_actual = float(a.sum())
        self.total_predicted = float(pr.sum())
        self.notes = (
            f"per customer: MAE {self.mae:.3f}, RMSE {self.rmse:.3f}, correlation {self.correlation:.3f}; "
            f"total holdout purchases predicted {self.total_predicted:,.0f} vs actual {self.total_actual:,.0f}",
        )

    @property
    def summary(self) -> pd.DataFrame:
        return self.by_frequency

    def to_dict(self) -> dict[str, Any]:
        return {"mae": self.mae, "rmse": self.rmse, "correlation": self.correlation,
                "total_actual": self.total_actual, "total_predicted": self.total_predicted}

    def plot(self, ax=None):
        """The standard check: mean holdout purchases by calibration frequency, actual vs model."""
        ax = get_ax(ax, (7, 4), layout=None)
        bf = self.by_frequency
        ax.plot(range(len(bf)), bf["actual"], "o-", color="#333333", label="actual")
        ax.plot(range(len(bf)), bf["predicted"], "s--", color="#4C72B0", label=self.model)
        ax.set_xticks(range(len(bf)))
        ax.set_xticklabels(bf.index.astype(str))
        ax.set_xlabel("repeat purchases in calibration")
        ax.set_ylabel("mean repeat purchases in holdout")
        ax.legend()
        return ax


def holdout_check(model: TransactionModel, calhold: pd.DataFrame, *, max_frequency: int = 7) -> HoldoutResult:
    """Compare a model fitted on the calibration period with the holdout.

    For each customer the prediction is ``model.expected_purchases(duration_holdout)`` from the
    calibration history; the table averages predicted and actual by calibration frequency
    (``max_frequency`` and above pooled into one row) as in Fader, Hardie & Lee (2005, fig. 4).
    """
    model._check_fitted()
    for c in ("frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"):
        if c not in calhold.columns:
            raise DataError("not a calibration/holdout table", column=c,
                            fix="build it with ltv.calibration_holdout")
    x, tx, T = (calhold[c].to_numpy(dtype=float) for c in ("frequency_cal", "recency_cal", "T_cal"))
    (ux, utx, uT, ud), _, inv = aggregate(x, tx, T, calhold["duration_holdout"].to_numpy(dtype=float))
    pred = model._conditional_expected(ud, ux, utx, uT, model.params_.to_numpy())[inv]
    actual = calhold["frequency_holdout"].to_numpy(dtype=float)
    per = pd.DataFrame({"frequency_cal": x, "actual": actual, "predicted": pred}, index=calhold.index)
    band = np.minimum(x, max_frequency).astype(int)
    labels = [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]
    g = per.assign(band=pd.Categorical.from_codes(band, labels)).groupby("band", observed=True)
    by = pd.DataFrame({"customers": g.size(), "actual": g["actual"].mean(), "predicted": g["predicted"].mean()})
    by.index.name = "frequency_cal"
    return HoldoutResult(model._label, by, per)


class ComparisonResult(Result):
    """Candidate models side by side: fit (LL, AIC, BIC) and holdout accuracy."""

    title = "Model comparison"

    def __init__(self, table: pd.DataFrame, models: dict[str, TransactionModel],
                 checks: dict[str, HoldoutResult], criterion: str):
        self.table = table
        self.models = models
        self.checks = checks
        self.criterion = criterion
        pool = table[table["converged"]] if table["converged"].any() else table
        self.best_name = str(pool[criterion].idxmin()) if pool[criterion].notna().any() else str(pool.index[0])
        self.best_ = models[self.best_name]
        self.notes = (f"chosen by lowest holdout {criterion} among the models that converged: {self.best_name}",)

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def refit_best(self, data: pd.DataFrame) -> TransactionModel:
        """A fresh model of the chosen kind (same settings) fitted on ``data``, e.g. the
        summary up to today once the holdout has done its job."""
        return type(self.best_)(**{k: getattr(self.best_, k) for k in ("penalizer", "aggregate", "max_iter")}).fit(data)

    def to_dict(self) -> dict[str, Any]:
        return {"best_model": self.best_name, **{f"{k}_{self.criterion}": float(v)
                                                 for k, v in self.table[self.criterion].items()}}

    def plot(self, ax=None):
        """Holdout check of every candidate on one axis."""
        ax = get_ax(ax, (7, 4), layout=None)
        first = next(iter(self.checks.values())).by_frequency
        xs = range(len(first))
        ax.plot(xs, first["actual"], "o-", color="#333333", label="actual", lw=2)
        for name, chk in self.checks.items():
            ax.plot(xs, chk.by_frequency["predicted"], "--", marker="s", label=name)
        ax.set_xticks(list(xs))
        ax.set_xticklabels(first.index.astype(str))
        ax.set_xlabel("repeat purchases in calibration")
        ax.set_ylabel("mean repeat purchases in holdout")
        ax.legend()
        return ax


def compare_models(calhold: pd.DataFrame, models: Sequence[TransactionModel] | None = None, *,
                   criterion: str = "mae", max_frequency: int = 7, penalizer: float = 0.0) -> ComparisonResult:
    """Fit each candidate on the calibration period and check it on the holdout.

    Default candidates: BG/NBD, Pareto/NBD and MBG/NBD (with ``penalizer``). ``criterion``
    ("mae" or "rmse") picks the best on the holdout, per customer, among the models that
    converged. Models that fail to converge stay in the table, marked, and their
    warnings are collected in ``warnings_`` instead of being printed one by one.
    """
    if criterion not in ("mae", "rmse"):
        raise ParameterError("unknown criterion", value=criterion, expected="'mae' or 'rmse'")
    models = list(models) if models is not None else [
        BGNBD(penalizer=penalizer), ParetoNBD(penalizer=penalizer), MBGNBD(penalizer=penalizer)]
    rows, fitted, checks, caught = {}, {}, {}, []
    for mdl in models:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always", ConvergenceWarning)
            mdl.fit(calhold)
        caught += [str(x.message) for x in w if issubclass(x.category, ConvergenceWarning)]
        chk = holdout_check(mdl, calhold, max_frequency=max_frequency)
        name = mdl._label
        fitted[name], checks[name] = mdl, chk
        rows[name] = {"log_likelihood": mdl.log_likelihood_, "aic": mdl.result_.aic, "bic": mdl.result_.bic,
                      "converged": mdl.converged_, "mae": chk.mae, "rmse": chk.rmse,
                      "correlation": chk.correlation, "predicted_total": chk.total_predicted,
                      "actual_total": chk.total_actual}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    res = ComparisonResult(table, fitted, checks, criterion)
    res.warnings_ = caught
    return res


# ----------------------------------------------------------------------------------------
# Reference data
# ----------------------------------------------------------------------------------------


def cdnow_master_path() -> Path:
    """Path of ``CDNOW_master.txt`` as shipped inside the lifetimes package."""
    import lifetimes

    return Path(lifetimes.__file__).resolve().parent / "datasets" / "CDNOW_master.txt"


def load_cdnow_master() -> pd.DataFrame:
    """The CDNOW master transaction log (69,659 transactions of 23,570 customers, 1997-01-01
    to 1998-06-30) in crmlab's canonical columns: customer_id, order_ts, quantity, amount."""
    raw = pd.read_csv(cdnow_master_path(), sep=r"\s+", skiprows=1, header=None,
                      names=["customer_id", "date", "quantity", "amount"],
                      dtype={"customer_id": "int64", "date": "str", "quantity": "float64", "amount": "float64"})
    return pd.DataFrame({
        "customer_id": raw["customer_id"].to_numpy(),
        "order_ts": pd.to_datetime(raw["date"], format="%Y%m%d").astype("datetime64[ns]"),
        "quantity": raw["quantity"],
        "amount": raw["amount"],
    })
