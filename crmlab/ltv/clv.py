"""Customer lifetime value from a purchase model and a spend model, and who is at risk.

CLV = margin x expected spend per purchase x discounted expected purchases over a horizon
(Fader, Hardie & Lee 2005, "RFM and CLV"), with intervals from parameter uncertainty.
:func:`high_value_at_risk` holds the one at-risk rule every report uses (probability alive
below a threshold, or silent for too long) and :func:`at_risk_summary` the two numbers
published from it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import ConvergenceWarning, DataError, ParameterError
from crmlab.ltv.base import PurchaseModel, _frame_columns, _summary_suffix
from crmlab.ltv.gamma_gamma import GammaGamma
from crmlab.ltv.summaries import _PER_MONTH, _check_unit, aggregate
from crmlab.plots import get_ax
from crmlab.results import Result

__all__ = ["CLVResult", "clv", "high_value_at_risk", "at_risk_summary", "P_ALIVE_BELOW", "SILENT_DAYS"]

#: At risk: probability alive below this ...
P_ALIVE_BELOW = 0.5
#: ... or no order for more than this many days (when the silence is known).
SILENT_DAYS = 90


class CLVResult(Result):
    """Customer lifetime value per customer, with intervals from parameter uncertainty.

    Parameters
    ----------
    table : pandas.DataFrame
        Per customer: frequency, recency, T, monetary_value, p_alive, expected_purchases,
        expected_spend, clv (and clv_lower, clv_upper with intervals).
    horizon_months : int
        CLV horizon.
    margin : float
        Gross margin as a share of revenue.
    discount_rate : float
        Annual discount rate.
    level : float
        Interval level.
    """

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
        ``crmlab.strategy.segment_strategy(customer_values=...)`` takes.

        Returns
        -------
        pandas.DataFrame
        """
        t = self.table
        return pd.DataFrame({"clv": t["clv"], "prob_alive": t["p_alive"],
                             "expected_purchases": t["expected_purchases"]}, index=t.index)

    def by(self, groups: pd.Series) -> pd.DataFrame:
        """CLV by a customer grouping (e.g. RFM segment): customers, mean and total CLV, share.

        Parameters
        ----------
        groups : pandas.Series
            Customer id -> group.

        Returns
        -------
        pandas.DataFrame
            One row per group, largest total CLV first.
        """
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
        from matplotlib.ticker import FuncFormatter, NullFormatter

        # plain tick labels: the default 10^x mathtext draws a minus sign the Hangul font lacks
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.axvline(v.quantile(0.9), color="#C44E52", ls="--", label="top 10% threshold")
        ax.set_xlabel(f"CLV over {self.horizon_months} months (margin, discounted)")
        ax.set_ylabel("customers")
        ax.legend()
        return ax


def _clv_core(tm: PurchaseModel, tp: np.ndarray, gg: GammaGamma, gp: np.ndarray,
              x, tx, T, m, steps: np.ndarray, disc: np.ndarray, margin: float):
    cum = np.stack([tm._conditional_expected(s, x, tx, T, tp) for s in steps])
    inc = np.diff(np.vstack([np.zeros_like(cum[0]), cum]), axis=0)
    spend = gg.expected_spend(frequency=x, monetary_value=m, params=gp)
    return margin * spend * (inc * disc[:, None]).sum(axis=0), cum[-1], spend


def _clv_draws(transaction_model: PurchaseModel, spend_model: GammaGamma, rows: tuple[np.ndarray, ...],
               inv: np.ndarray, steps: np.ndarray, disc: np.ndarray, margin: float, n_draws: int,
               level: float, random_state: Any) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """CLV quantiles per customer and of the total, from parameter draws of both models."""
    rng = np.random.default_rng(random_state)
    tdraws = transaction_model.sample_params(n_draws, rng)
    gdraws = spend_model.sample_params(n_draws, rng)
    ux = rows[0]
    sims = np.empty((n_draws, len(ux)))
    with np.errstate(all="ignore"):
        for i in range(n_draws):
            sims[i] = _clv_core(transaction_model, tdraws[i], spend_model, gdraws[i], *rows, steps, disc, margin)[0]
    lo, hi = (1 - level) / 2, (1 + level) / 2
    q = np.nanquantile(sims, [lo, hi], axis=0)
    totals = sims[:, inv].sum(axis=1) if len(inv) < 2_000_000 else None
    if totals is None:
        counts = np.bincount(inv, minlength=len(ux)).astype(float)
        totals = sims @ counts
    return q[0][inv], q[1][inv], tuple(np.nanquantile(totals, [lo, hi]))


def _clv_point(tm: PurchaseModel, gg: GammaGamma, x, tx, T, m, steps: np.ndarray, disc: np.ndarray,
               margin: float, index: pd.Index) -> pd.DataFrame:
    """The per-customer CLV table at the fitted parameters. Purchases depend on (x, tx, T) only,
    so they are computed on those distinct rows (a few thousand for a million customers) and
    spend per customer; the product is :func:`_clv_core`'s, term by term."""
    hist, _, inv_h = aggregate(x, tx, T)
    tp = tm.params_.to_numpy()
    with np.errstate(all="ignore"):
        cum = np.stack([tm._conditional_expected(s, *hist, tp) for s in steps])
    inc = np.diff(np.vstack([np.zeros_like(cum[0]), cum]), axis=0)
    spend = gg.expected_spend(frequency=x, monetary_value=m, params=gg.params_.to_numpy())
    return pd.DataFrame({
        "frequency": x, "recency": tx, "T": T, "monetary_value": m,
        "p_alive": tm._p_alive(*hist, tp)[inv_h],
        "expected_purchases": cum[-1][inv_h],
        "expected_spend": spend,
        "clv": margin * spend * (inc * disc[:, None]).sum(axis=0)[inv_h],
    }, index=index)


def _schedule(horizon_months: int, unit: str, discount_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Month ends in model time units and their discount factors (annual rate, monthly steps)."""
    months = np.arange(1, horizon_months + 1)
    monthly = (1 + discount_rate) ** (1 / 12) - 1
    return months * _PER_MONTH[unit], 1 / (1 + monthly) ** months


def _check_clv_inputs(transaction_model: PurchaseModel, spend_model: GammaGamma, data: pd.DataFrame,
                      unit: str | None, margin: float, discount_rate: float, horizon_months: int) -> str:
    """Validate the CLV settings and inputs; return the time unit."""
    if not 0 < margin <= 1:
        raise ParameterError("margin must be a share of revenue in (0, 1]", value=margin, fix="e.g. margin=0.3")
    if discount_rate < 0:
        raise ParameterError("discount_rate must be >= 0 (annual)", value=discount_rate)
    if int(horizon_months) < 1:
        raise ParameterError("horizon_months must be >= 1", value=horizon_months)
    transaction_model._check_fitted()
    spend_model._check_fitted()
    unit = _check_unit(unit or data.attrs.get("unit") or transaction_model.unit_ or "")
    if "monetary_value" + _summary_suffix(data) not in data.columns:
        raise DataError("summary has no monetary value", column="monetary_value",
                        fix="build it with ltv.summary(..., amount_col='amount')")
    return unit


def clv(
    transaction_model: PurchaseModel,
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

    Parameters
    ----------
    transaction_model : PurchaseModel
        A fitted purchase model (BGNBD, ParetoNBD, MBGNBD).
    spend_model : GammaGamma
        A fitted spend model.
    data : pandas.DataFrame
        The :func:`~crmlab.ltv.summary` table the models describe (same time unit), with
        ``monetary_value``.
    horizon_months : int
        Horizon in months.
    margin : float
        Gross margin as a share of revenue, in (0, 1].
    discount_rate : float
        Annual discount rate.
    unit : {"D", "W", "M"}, optional
        Time unit; default ``data.attrs["unit"]`` or the model's.
    intervals : bool
        Add ``clv_lower``/``clv_upper`` (left out, with a warning, when a model did not converge).
    n_draws : int
        Parameter draws for the intervals.
    level : float
        Interval level.
    random_state : int or None
        Seed of the draws.

    Returns
    -------
    CLVResult
    """
    unit = _check_clv_inputs(transaction_model, spend_model, data, unit, margin, discount_rate, horizon_months)
    x, tx, T, _ = _frame_columns(data, None, None, None, None)
    m = data["monetary_value" + _summary_suffix(data)].to_numpy(dtype=float)
    steps, disc = _schedule(int(horizon_months), unit, discount_rate)
    table = _clv_point(transaction_model, spend_model, x, tx, T, m, steps, disc, margin, data.index)
    res = CLVResult(table, int(horizon_months), margin, discount_rate, level)
    if intervals and not (transaction_model.converged_ and spend_model.converged_):
        warnings.warn("CLV intervals left out: a model did not converge, so its parameter "
                      "uncertainty is not known", ConvergenceWarning, stacklevel=2)
        intervals = False
    if intervals:
        rows, _, inv = aggregate(x, tx, T, m)
        lower, upper, total = _clv_draws(transaction_model, spend_model, tuple(rows), inv, steps, disc,
                                         margin, n_draws, level, random_state)
        table["clv_lower"] = lower
        table["clv_upper"] = upper
        res.total_interval_ = total
    return res


def high_value_at_risk(value: CLVResult, past_value: pd.Series, *, p_alive_below: float = P_ALIVE_BELOW,
                       silent_days: float = SILENT_DAYS, days_since_last: pd.Series | None = None,
                       top_share: float = 0.2, n: int | None = None,
                       only_at_risk: bool = False) -> pd.DataFrame:
    """High-value customers (top ``top_share`` by ``past_value``) ranked by probability alive,
    lowest first, each marked by the one at-risk rule.

    The rule (the single definition every report uses): a customer is ``at_risk`` when the
    probability alive is below ``p_alive_below``, or, when ``days_since_last`` is given,
    when they have not ordered for more than ``silent_days`` days. Pass the IDs through
    ``privacy.mask_ids`` before showing the list.

    Parameters
    ----------
    value : CLVResult
        From :func:`clv`.
    past_value : pandas.Series
        Customer id -> past spend (e.g. RFM monetary); the top share of it is "high value".
    p_alive_below : float
        At risk below this probability alive.
    silent_days : float
        At risk after more than this many days without an order (with ``days_since_last``).
    days_since_last : pandas.Series, optional
        Customer id -> days since the last order (e.g. RFM recency_days).
    top_share : float
        Share of customers by past value counted as high value, in (0, 1].
    n : int, optional
        Keep the first ``n`` rows.
    only_at_risk : bool
        Keep only the customers at risk.

    Returns
    -------
    pandas.DataFrame
        Columns past_value, (days_since_last), frequency, recency, T, p_alive,
        expected_purchases, clv, at_risk; lowest probability alive first, then the longest
        silence, then the largest past value.
    """
    if not 0 < top_share <= 1:
        raise ParameterError("top_share must be in (0, 1]", value=top_share)
    t = value.table.copy()
    pv = pd.Series(past_value).reindex(t.index).astype(float)
    t["past_value"] = pv.to_numpy()
    cols = ["past_value", "frequency", "recency", "T", "p_alive", "expected_purchases", "clv", "at_risk"]
    t["at_risk"] = (t["p_alive"] < p_alive_below).to_numpy()
    if days_since_last is not None:
        t["days_since_last"] = pd.Series(days_since_last).reindex(t.index).to_numpy()
        t["at_risk"] |= (t["days_since_last"] > silent_days).to_numpy()
        cols.insert(1, "days_since_last")
    keep = t["past_value"] >= pv.quantile(1 - top_share)
    if only_at_risk:
        keep &= t["at_risk"]
    # P(alive) to 3 decimals first (ties are common when the model sees little dropout),
    # then the longest silence, then the largest past value
    t["_p"] = t["p_alive"].round(3)
    order = ["_p"] + (["days_since_last"] if days_since_last is not None else []) + ["past_value"]
    asc = [True] + ([False] if days_since_last is not None else []) + [False]
    out = t.loc[keep].sort_values(order, ascending=asc)[cols]
    return out if n is None else out.head(int(n))


def at_risk_summary(table: pd.DataFrame) -> dict[str, Any]:
    """The two published at-risk numbers of a :func:`high_value_at_risk` table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`high_value_at_risk` (all high-value customers, with the ``at_risk`` column).

    Returns
    -------
    dict
        ``at_risk_value_customers`` (int, customers at risk) and ``at_risk_value_clv``
        (float, their total CLV), the metric names the strategy layer reads.
    """
    if "at_risk" not in table.columns:
        raise DataError("not a high_value_at_risk table", column="at_risk",
                        fix="build it with ltv.high_value_at_risk")
    risk = table["at_risk"].astype(bool)
    return {"at_risk_value_customers": int(risk.sum()),
            "at_risk_value_clv": float(table.loc[risk, "clv"].sum())}
