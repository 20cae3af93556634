"""Check a purchase model on a holdout period and choose between candidate models.

:func:`holdout_check` compares predicted with actual repeat purchases after the calibration
end (Fader, Hardie & Lee 2005, fig. 4); :func:`compare_models` fits several candidates and
picks the one with the lowest per-customer error among those that converged.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone

from crmlab.errors import ConvergenceWarning, DataError, ParameterError
from crmlab.ltv.base import PurchaseModel
from crmlab.ltv.bgnbd import BGNBD
from crmlab.ltv.mbgnbd import MBGNBD
from crmlab.ltv.pareto_nbd import ParetoNBD
from crmlab.ltv.summaries import aggregate
from crmlab.plots import get_ax
from crmlab.results import Result

__all__ = ["HoldoutResult", "ComparisonResult", "holdout_check", "compare_models"]


class HoldoutResult(Result):
    """Predicted vs actual holdout repeat purchases, per calibration frequency and per customer.

    Parameters
    ----------
    model : str
        Model label.
    by_frequency : pandas.DataFrame
        Customers, mean actual and mean predicted holdout purchases per calibration frequency.
    per_customer : pandas.DataFrame
        frequency_cal, actual and predicted per customer.
    """

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


def holdout_check(model: PurchaseModel, calhold: pd.DataFrame, *, max_frequency: int = 7) -> HoldoutResult:
    """Compare a model fitted on the calibration period with the holdout.

    For each customer the prediction is ``model.expected_purchases(duration_holdout)`` from the
    calibration history; the table averages predicted and actual by calibration frequency
    (``max_frequency`` and above pooled into one row) as in Fader, Hardie & Lee (2005, fig. 4).

    Parameters
    ----------
    model : PurchaseModel
        Fitted on the calibration columns of ``calhold``.
    calhold : pandas.DataFrame
        From :func:`~crmlab.ltv.calibration_holdout`.
    max_frequency : int
        Calibration frequencies from this one up are pooled.

    Returns
    -------
    HoldoutResult
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
    """Candidate models side by side: fit (LL, AIC, BIC) and holdout accuracy.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model: log_likelihood, aic, bic, converged, mae, rmse, correlation, totals.
    models : dict of str -> PurchaseModel
        The fitted candidates by label.
    checks : dict of str -> HoldoutResult
        Their holdout checks.
    criterion : {"mae", "rmse"}
        What picks the best model.
    """

    title = "Model comparison"

    def __init__(self, table: pd.DataFrame, models: dict[str, PurchaseModel],
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

    def refit_best(self, data: pd.DataFrame) -> PurchaseModel:
        """A fresh model of the chosen kind (same settings) fitted on ``data``, e.g. the
        summary up to today once the holdout has done its job.

        Parameters
        ----------
        data : pandas.DataFrame
            A :func:`~crmlab.ltv.summary` table.

        Returns
        -------
        PurchaseModel
            An unfitted clone of the best model (``sklearn.base.clone``), fitted on ``data``.
        """
        return clone(self.best_).fit(data)

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


def compare_models(calhold: pd.DataFrame, models: Sequence[PurchaseModel] | None = None, *,
                   criterion: str = "mae", max_frequency: int = 7, penalizer: float = 0.0) -> ComparisonResult:
    """Fit each candidate on the calibration period and check it on the holdout.

    Default candidates: BG/NBD, Pareto/NBD and MBG/NBD (with ``penalizer``). ``criterion``
    ("mae" or "rmse") picks the best on the holdout, per customer, among the models that
    converged. Models that fail to converge stay in the table, marked, and their
    warnings are collected in ``warnings_`` instead of being printed one by one.

    Parameters
    ----------
    calhold : pandas.DataFrame
        From :func:`~crmlab.ltv.calibration_holdout`.
    models : sequence of PurchaseModel, optional
        Candidates (fitted here, in place); default BG/NBD, Pareto/NBD and MBG/NBD.
    criterion : {"mae", "rmse"}
        Holdout error that picks the best model.
    max_frequency : int
        Pooling of the holdout table (see :func:`holdout_check`).
    penalizer : float
        Penalizer of the default candidates.

    Returns
    -------
    ComparisonResult
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
