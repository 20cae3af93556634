"""Rolling-origin backtest that picks the purchase model for the data at hand.

At each of several cut-offs (by default every ``horizon_days`` back from the report date)
every candidate is trained on the orders before the cut-off and predicts each customer's
purchases (periods with an order, as the summaries count them) in the next
``horizon_days``; the prediction is compared with what happened:

- every purchase model (BG/NBD, Pareto/NBD, MBG/NBD): conditional expected purchases;
- a gradient-boosting regressor (Poisson loss) on :func:`~crmlab.ltv.churn_features`,
  trained at the previous cut-off on the counts of the window that followed it;
- the naive baseline "customers keep their past rate": frequency / T x horizon.

Per cut-off and model: per-customer MAE and RMSE, the aggregate error (predicted vs actual
total) and the AUC of the prediction as a buy-again ranking. The leaderboard averages them
over the cut-offs, lowest mean per-customer MAE first (Tashman 2000, "Out-of-sample tests of
forecasting accuracy", IJF 16: rolling origins rather than one split).
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from crmlab import dates
from crmlab.data.frames import first_last, to_pandas
from crmlab.errors import ConvergenceWarning, DataError
from crmlab.ltv.base import PurchaseModel
from crmlab.ltv.bgnbd import BGNBD
from crmlab.ltv.churn_risk import _features, _lines, _OrderLines
from crmlab.ltv.mbgnbd import MBGNBD
from crmlab.ltv.pareto_nbd import ParetoNBD
from crmlab.ltv.summaries import _check_unit, _periods, summary
from crmlab.plots import get_ax
from crmlab.results import Result
from crmlab.spark.session import is_spark_frame

__all__ = ["BacktestResult", "backtest", "default_cutoffs", "REFERENCES"]

_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
#: Candidates that are not purchase models (they cannot drive a CLV over any horizon).
REFERENCES = ("gradient boosting", "naive past rate")


def default_cutoffs(tx: pd.DataFrame, as_of: Any = None, *, n_cutoffs: int = 4, horizon_days: int = 90,
                    min_history_days: int = 90, date_col: str = "order_ts") -> list[pd.Timestamp]:
    """Cut-offs every ``horizon_days`` back from the report date, each with a full window after
    it and at least ``min_history_days`` of history plus one training window before it.

    Parameters
    ----------
    tx : pandas.DataFrame
        Order lines.
    as_of : date-like, optional
        Report date (:func:`crmlab.dates.cutoff`).
    n_cutoffs : int
        Most cut-offs returned.
    horizon_days : int
        Prediction window.
    min_history_days : int
        History required before the training window of the first cut-off.
    date_col : str

    Returns
    -------
    list of pandas.Timestamp
        Oldest first.
    """
    tx, as_of_ts = dates.cutoff(tx, as_of, date_col)
    first = first_last(tx, date_col)[0].normalize()
    out = []
    for k in range(1, int(n_cutoffs) + 1):
        c = as_of_ts - pd.Timedelta(days=k * horizon_days)
        if c - pd.Timedelta(days=horizon_days + min_history_days) < first:
            break
        out.append(c)
    if not out:
        raise DataError("too little history for a backtest", expected=f"more than {horizon_days * 2 + min_history_days} "
                        "days of orders", fix="use a shorter horizon_days")
    return out[::-1]


def _counts(tx: pd.DataFrame, start: pd.Timestamp, days: int, unit: str, customers: pd.Index,
            customer_col: str, date_col: str) -> np.ndarray:
    """Periods with an order in ``[start, start + days)`` per customer (0 for the silent ones)."""
    if is_spark_frame(tx):  # counted by Spark
        from crmlab.spark.holdout import window_counts

        return window_counts(tx, start, days, unit, customers, customer_col, date_col)
    when = tx[date_col]
    inside = tx.loc[(when >= start) & (when < start + pd.Timedelta(days=days)), [customer_col, date_col]]  # 2 columns
    per = _periods(inside[date_col].to_numpy(dtype="datetime64[ns]"), unit)
    pairs = pd.DataFrame({"c": inside[customer_col].to_numpy(), "p": per}).drop_duplicates()
    return pairs.groupby("c").size().reindex(customers, fill_value=0).to_numpy(dtype=float)


def _errors(actual: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    bought = actual > 0
    return {"mae": float(np.mean(np.abs(actual - pred))), "rmse": float(np.sqrt(np.mean((actual - pred) ** 2))),
            "predicted_total": float(pred.sum()), "actual_total": float(actual.sum()),
            "aggregate_error": float(pred.sum() / actual.sum() - 1) if actual.sum() > 0 else np.nan,
            "auc_buy_again": float(roc_auc_score(bought, pred)) if 0 < bought.sum() < len(bought) else np.nan}


def _regressor_predictions(tx: pd.DataFrame, cut: pd.Timestamp, horizon_days: int, unit: str,
                           cols: dict[str, str], customers: pd.Index, lines: _OrderLines | None = None) -> np.ndarray:
    """Poisson gradient boosting: features at ``cut - horizon``, target = the counts up to ``cut``
    (features from ``lines``, the summary of ``tx``, when given)."""
    train_cut = cut - pd.Timedelta(days=horizon_days)
    X = _features(tx, lines, train_cut, horizon_days, cols)
    use = [c for c in X.columns if X[c].notna().any()]
    y = _counts(tx, train_cut, horizon_days, unit, X.index, cols["customer_col"], cols["date_col"])
    reg = HistGradientBoostingRegressor(loss="poisson", max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                        min_samples_leaf=20, l2_regularization=1.0, random_state=0)
    Xc = _features(tx, lines, cut, horizon_days, cols).reindex(customers)
    with threadpool_limits(1):
        reg.fit(X[use].to_numpy(dtype=float), y)
        return reg.predict(Xc[use].to_numpy(dtype=float))


def _one_cutoff(tx: pd.DataFrame, cut: pd.Timestamp, horizon_days: int, unit: str, models: Sequence[PurchaseModel],
                cols: dict[str, str], lines: _OrderLines | None = None) -> list[dict[str, Any]]:
    s = to_pandas(summary(tx, unit=unit, as_of=cut, customer_col=cols["customer_col"], date_col=cols["date_col"],
                          amount_col=None), index="customer_id")  # Spark: one row per customer
    actual = _counts(tx, cut, horizon_days, unit, s.index, cols["customer_col"], cols["date_col"])
    t = horizon_days / _UNIT_DAYS[unit]
    preds: dict[str, tuple[np.ndarray, bool]] = {}
    for proto in models:
        m = clone(proto)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m.fit(s)
        preds[m._label] = (m.expected_purchases_up_to(t, s), bool(m.converged_))
    preds["gradient boosting"] = (_regressor_predictions(tx, cut, horizon_days, unit, cols, s.index, lines), True)
    preds["naive past rate"] = (s["frequency"].to_numpy() / np.maximum(s["T"].to_numpy(), 1.0) * t, True)
    return [{"cutoff": cut, "model": name, "customers": len(s), "converged": ok, **_errors(actual, p)}
            for name, (p, ok) in preds.items()]


class BacktestResult(Result):
    """Rolling-origin backtest: errors per cut-off and model, and the leaderboard.

    Parameters
    ----------
    per_cutoff : pandas.DataFrame
        One row per (cutoff, model): mae, rmse, aggregate_error, auc_buy_again, totals.
    horizon_days : int
        Prediction window.
    unit : str
        Time unit of the purchase models.
    """

    title = "Backtest: rolling-origin leaderboard"

    def __init__(self, per_cutoff: pd.DataFrame, horizon_days: int, unit: str):
        self.per_cutoff = per_cutoff
        self.horizon_days = horizon_days
        self.unit = unit
        g = per_cutoff.groupby("model", sort=False)
        lb = pd.DataFrame({"mae": g["mae"].mean(), "rmse": g["rmse"].mean(),
                           "abs_aggregate_error": g["aggregate_error"].apply(lambda s: s.abs().mean()),
                           "auc_buy_again": g["auc_buy_again"].mean(), "converged_share": g["converged"].mean(),
                           "wins": per_cutoff.loc[per_cutoff.groupby("cutoff")["mae"].idxmin(), "model"]
                           .value_counts().reindex(g.size().index, fill_value=0)})
        lb["purchase_model"] = ~lb.index.isin(REFERENCES)
        self.leaderboard = _rank(lb)
        self.leaderboard.insert(0, "rank", np.arange(1, len(lb) + 1))
        self.best = str(self.leaderboard.index[0])
        self.best_purchase_model = str(_rank(lb[lb["purchase_model"]]).index[0])
        cuts = per_cutoff["cutoff"].drop_duplicates()
        self.notes = (f"{len(cuts)} cut-offs ({cuts.min().date()} to {cuts.max().date()}), {horizon_days}-day "
                      f"windows; best per-customer error: {self.best}; best purchase model: "
                      f"{self.best_purchase_model}",)

    @property
    def summary(self) -> pd.DataFrame:
        return self.leaderboard

    def to_dict(self) -> dict[str, Any]:
        return {"backtest_best": self.best, "backtest_best_purchase_model": self.best_purchase_model,
                "backtest_cutoffs": int(self.per_cutoff["cutoff"].nunique()),
                **{f"backtest_mae_{k}": float(v) for k, v in self.leaderboard["mae"].items()}}

    def plot(self, ax=None):
        """Per-customer MAE at each cut-off, one line per model (the winner drawn thick)."""
        ax = get_ax(ax, (7, 4), layout=None)
        for name, g in self.per_cutoff.groupby("model", sort=False):
            ax.plot(g["cutoff"].dt.strftime("%Y-%m-%d"), g["mae"], marker="o",
                    lw=3 if name == self.best else 1.2, ls="--" if name in REFERENCES else "-", label=name)
        ax.set_xlabel("cut-off")
        ax.set_ylabel(f"mean absolute error per customer ({self.horizon_days}-day window)")
        ax.legend()
        return ax


#: Mean errors within this relative distance of the best count as a tie.
TIE_TOLERANCE = 1e-6


def _rank(lb: pd.DataFrame) -> pd.DataFrame:
    """Leaderboard rows by mean absolute error; errors within :data:`TIE_TOLERANCE` of each
    other are a tie, kept in the order the models were given (BG/NBD first). Where dropout is
    not identified the three purchase models give the same predictions to nine digits, and the
    optimiser's last digits would otherwise pick the winner (differently on Spark and pandas)."""
    key = pd.Series(np.nan, index=lb.index)
    anchor = np.nan
    for name, value in lb["mae"].sort_values().items():
        if not value <= anchor + abs(anchor) * TIE_TOLERANCE:
            anchor = value
        key[name] = anchor
    order = pd.Series(np.arange(len(lb)), index=lb.index)
    return lb.assign(_k=key, _o=order).sort_values(["_k", "_o"]).drop(columns=["_k", "_o"])


def backtest(tx: pd.DataFrame, *, as_of: Any = None, cutoffs: Sequence[Any] | None = None, n_cutoffs: int = 4,
             horizon_days: int = 90, unit: str = "W", models: Sequence[PurchaseModel] | None = None,
             penalizer: float = 0.0, customer_col: str = "customer_id", date_col: str = "order_ts",
             amount_col: str = "amount", order_col: str = "order_id", product_col: str = "product_id",
             channel_col: str = "channel") -> BacktestResult:
    """Rolling-origin evaluation of every purchase model, a regressor and a naive baseline.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical order lines.
    as_of : date-like, optional
        Report date; default the day after the last order.
    cutoffs : sequence of date-like, optional
        Explicit cut-offs (default :func:`default_cutoffs`).
    n_cutoffs : int
        Number of default cut-offs.
    horizon_days : int
        Prediction window after each cut-off.
    unit : {"D", "W", "M"}
        Time unit of the purchase models (and of the counted periods).
    models : sequence of PurchaseModel, optional
        Purchase models (cloned at each cut-off); default BG/NBD, Pareto/NBD, MBG/NBD.
    penalizer : float
        Penalizer of the default purchase models.
    customer_col, date_col, amount_col, order_col, product_col, channel_col : str
        Column names.

    Returns
    -------
    BacktestResult
        ``leaderboard``, ``per_cutoff``, ``best``, ``best_purchase_model``.
    """
    unit = _check_unit(unit)
    tx, as_of_ts = dates.cutoff(tx, as_of, date_col)
    cuts = ([pd.Timestamp(c) for c in cutoffs] if cutoffs is not None
            else default_cutoffs(tx, as_of_ts, n_cutoffs=n_cutoffs, horizon_days=horizon_days, date_col=date_col))
    models = list(models) if models is not None else [
        BGNBD(penalizer=penalizer), ParetoNBD(penalizer=penalizer), MBGNBD(penalizer=penalizer)]
    cols = dict(customer_col=customer_col, date_col=date_col, amount_col=amount_col, order_col=order_col,
                product_col=product_col, channel_col=channel_col)
    lines = _lines(tx, cols)  # the lines summarised once for the features at every cut-off
    rows = [r for c in cuts for r in _one_cutoff(tx, c, int(horizon_days), unit, models, cols, lines)]
    return BacktestResult(pd.DataFrame(rows), int(horizon_days), unit)
