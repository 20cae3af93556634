"""Shifted-beta-geometric (sBG) model of contract retention (Fader & Hardie 2007, "How to
project customer retention", Journal of Interactive Marketing 21(1), 76-90).

A customer on a contract renews each period until they cancel; each has a constant churn
probability theta ~ Beta(alpha, beta), so the cohort's retention rate rises with tenure as
the likely churners leave. Fit from a cohort survival curve (customers still under contract
after 0, 1, 2, ... periods) or from per-contract data (start, end or still running);
predict survival S(t), retention r(t) and the discounted expected residual lifetime (DERL,
Fader & Hardie 2010, "Customer-base valuation in a contractual setting: the perils of
ignoring heterogeneity", Marketing Science 29(1), eq. 6).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from crmlab.errors import DataError, ParameterError
from crmlab.ltv.base import _Fitter
from crmlab.ltv.summaries import _check_unit, _periods

__all__ = ["ShiftedBetaGeometric", "contract_durations"]

_lb = special.betaln


def contract_durations(contracts: pd.DataFrame, *, as_of: Any = None, unit: str = "M",
                       start_col: str = "start", end_col: str = "end") -> pd.DataFrame:
    """Completed periods and churn flag per contract, the data :meth:`ShiftedBetaGeometric.fit` reads.

    A contract that ended (``end_col`` set, on or before ``as_of``) churned after the number
    of whole periods between start and end; a running one is censored at the periods
    between start and ``as_of``.

    Parameters
    ----------
    contracts : pandas.DataFrame
        One row per contract with start and end dates (end NaT while running).
    as_of : date-like, optional
        Observation date; default the latest start or end date.
    unit : {"D", "W", "M"}
        Contract period.
    start_col, end_col : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        ``periods`` (whole periods survived, >= 1 for churners) and ``churned`` (bool).
    """
    unit = _check_unit(unit)
    start = pd.to_datetime(contracts[start_col]).to_numpy(dtype="datetime64[ns]")
    end = pd.to_datetime(contracts[end_col]).to_numpy(dtype="datetime64[ns]")
    stop = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(np.nanmax(np.r_[start, end]))
    stop64 = np.datetime64(stop, "ns")
    churned = ~np.isnat(end) & (end <= stop64)
    last = np.where(churned, end, stop64)
    periods = _periods(last, unit) - _periods(start, unit)
    if np.any(periods < 0):
        raise DataError("a contract ends before it starts", fix="check the start and end columns")
    periods = np.where(churned, np.maximum(periods, 1), periods)
    return pd.DataFrame({"periods": periods.astype(float), "churned": churned}, index=contracts.index)


class ShiftedBetaGeometric(_Fitter):
    """sBG contract-retention model (Fader & Hardie 2007, Journal of Interactive Marketing).

    P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta), S(t) = B(alpha, beta + t) /
    B(alpha, beta), retention r(t) = (beta + t - 1) / (alpha + beta + t - 1) (eqs. 3-7).
    The paper's seven-year survival curves give alpha=0.668, beta=3.806 ("regular") and
    alpha=0.704, beta=1.182 ("high end").

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the parameters.
    max_iter : int, default 1000
        Optimiser iterations.
    """

    _names = ("alpha", "beta")
    _label = "sBG"

    def __init__(self, *, penalizer: float = 0.0, max_iter: int = 1000):
        self.penalizer = penalizer
        self.max_iter = max_iter

    def _loglik_rows(self, p, t, churned):
        alpha, beta = p
        lost = _lb(alpha + 1, beta + t - 1) - _lb(alpha, beta)
        alive = _lb(alpha, beta + t) - _lb(alpha, beta)
        return np.where(churned > 0, lost, alive)

    def fit(self, data: pd.DataFrame | None = None, *, survival: Any = None, periods: Any = None,
            churned: Any = None, weights: Any = None) -> ShiftedBetaGeometric:
        """Fit by maximum likelihood (Fader & Hardie 2007, eq. 8).

        Parameters
        ----------
        data : pandas.DataFrame, optional
            From :func:`contract_durations` (columns periods, churned).
        survival : array-like, optional
            A cohort's customers still active after 0, 1, 2, ... periods (the first value
            is the cohort size), instead of ``data``.
        periods, churned, weights : array-like, optional
            Per contract (or group of contracts): periods survived, churned flag, count.

        Returns
        -------
        ShiftedBetaGeometric
        """
        if survival is not None:
            t, c, w = self._from_curve(survival)
        else:
            if data is not None:
                periods, churned = data["periods"], data["churned"]
                weights = data["weights"] if "weights" in data.columns else weights
            if periods is None or churned is None:
                raise ParameterError("pass survival=, a contract_durations table, or periods= and churned=")
            t = np.asarray(periods, dtype=float)
            c = np.asarray(churned, dtype=float)
            w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=float)
            if np.any((c > 0) & (t < 1)):
                raise DataError("a churned contract must have lasted at least one period")
        keep = w > 0
        self._optimise((t[keep], c[keep]), w[keep], np.zeros(2))
        return self

    @staticmethod
    def _from_curve(survival: Any):
        s = np.asarray(survival, dtype=float)
        if s.ndim != 1 or len(s) < 2 or np.any(np.diff(s) > 0) or s[-1] < 0:
            raise DataError("survival must be a non-increasing curve of counts starting with the cohort size",
                            value=str(list(s)[:5]))
        k = len(s) - 1
        t = np.r_[np.arange(1, k + 1), k].astype(float)
        c = np.r_[np.ones(k), 0.0]
        w = np.r_[-np.diff(s), s[-1]]
        return t, c, w

    def survival(self, t: Any) -> np.ndarray:
        """Share of a cohort still under contract after ``t`` periods, S(t).

        Parameters
        ----------
        t : int or array-like

        Returns
        -------
        numpy.ndarray
        """
        self._check_fitted()
        alpha, beta = self.params_.to_numpy()
        return np.exp(_lb(alpha, beta + np.asarray(t, dtype=float)) - _lb(alpha, beta))

    def retention(self, t: Any) -> np.ndarray:
        """Retention rate in period ``t`` (>= 1): S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1).

        Parameters
        ----------
        t : int or array-like

        Returns
        -------
        numpy.ndarray
        """
        self._check_fitted()
        alpha, beta = self.params_.to_numpy()
        t = np.asarray(t, dtype=float)
        return (beta + t - 1) / (alpha + beta + t - 1)

    def churn_probability(self, t: Any) -> np.ndarray:
        """P(T = t): the share of a cohort cancelling in period ``t`` (>= 1).

        Parameters
        ----------
        t : int or array-like

        Returns
        -------
        numpy.ndarray
        """
        self._check_fitted()
        alpha, beta = self.params_.to_numpy()
        return np.exp(_lb(alpha + 1, beta + np.asarray(t, dtype=float) - 1) - _lb(alpha, beta))

    def derl(self, discount_rate: float, renewals: Any = 0) -> np.ndarray:
        """Discounted expected residual lifetime, in payments, of a customer who has made
        ``renewals`` renewals and is about to decide on the next (Fader & Hardie 2010, eq. 6):

            DERL = (beta + n) / (alpha + beta + n) 2F1(1, beta + n + 1; alpha + beta + n + 1; 1 / (1 + d))

        with n = ``renewals`` + 1 payments made so far. Multiply by the margin per period for
        the residual value; ``renewals=0`` right after acquisition.

        Parameters
        ----------
        discount_rate : float
            Discount rate per period (> 0).
        renewals : int or array-like
            Renewals made so far.

        Returns
        -------
        numpy.ndarray
        """
        self._check_fitted()
        if discount_rate <= 0:
            raise ParameterError("discount_rate must be > 0 per period", value=discount_rate)
        alpha, beta = self.params_.to_numpy()
        n = np.asarray(renewals, dtype=float) + 1
        z = 1 / (1 + discount_rate)
        return (beta + n - 1) / (alpha + beta + n - 1) * special.hyp2f1(1, beta + n, alpha + beta + n, z)
