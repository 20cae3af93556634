"""Every metric the strategy layer publishes and reads, defined once.

A metric name in ``metrics.json`` means the same thing in every report: the strategy report,
the retention report and the period comparison all take it from here. "Best customers" are
:data:`crmlab.segments.BEST_SEGMENTS`; a high-value customer is *at risk* by the one rule of
:func:`crmlab.ltv.high_value_at_risk` (probability alive below the playbook's
``churn_threshold`` or silent for longer than its ``churn_days``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from crmlab import dates
from crmlab.data.frames import first_last, to_pandas
from crmlab.errors import ParameterError

#: metric name -> what it means (the names notebooks publish and the strategy layer reads)
METRICS: dict[str, str] = {
    "customers": "customers with at least one order before the report date",
    "orders": "orders before the report date",
    "revenue": "revenue of the cleaned order lines",
    "average_order_value": "revenue per order",
    "repeat_rate": "share of customers with more than one order",
    "active_customers": "customers who ordered in the 90 days before the date",
    "top_10pct_revenue_share": "share of revenue from the top 10 % of customers by spend",
    "best_customer_share": "share of customers in the top segments (best customers and Can't Lose Them)",
    "best_revenue_share": "share of revenue from those segments",
    "best_customer_retention": "share of last period's best customers who ordered again in the period",
    "avg_clv": "average customer lifetime value (margin) over the horizon",
    "at_risk_value_customers": "high-value customers at risk (P(alive) below threshold or long silent)",
    "at_risk_value_clv": "expected future value of those customers",
    "campaign_best_arm": "the campaign arm with the highest conversion",
    "campaign_best_lift": "that arm's conversion lift against control (absolute)",
    "campaign_roi": "that arm's return on contact cost",
    "top_rule": "the strongest cross-sell rule mined within a segment",
    "top_rule_lift": "its lift",
    "targets_off_track": "targets off track or missed",
}

#: the metrics a period comparison shows, in this order
COMPARED: tuple[str, ...] = (
    "customers", "orders", "revenue", "average_order_value", "repeat_rate", "best_customer_retention",
    "avg_clv", "at_risk_value_customers", "at_risk_value_clv", "campaign_roi", "targets_off_track",
)


def at_risk_metrics(at_risk: pd.DataFrame) -> dict[str, Any]:
    """``at_risk_value_customers`` and ``at_risk_value_clv`` from a high-value table.

    Parameters
    ----------
    at_risk : pandas.DataFrame
        :func:`crmlab.ltv.high_value_at_risk` output, with its ``at_risk`` and ``clv`` columns.

    Returns
    -------
    dict
    """
    lapsing = at_risk[at_risk["at_risk"].astype(bool)]
    return {"at_risk_value_customers": int(len(lapsing)),
            "at_risk_value_clv": float(lapsing["clv"].sum()) if len(lapsing) else 0.0}


def last_value(history: pd.DataFrame, column: str) -> float | None:
    """The latest non-missing value of a metric in a history table, or None.

    Parameters
    ----------
    history : pandas.DataFrame
        :func:`metric_history` output.
    column : str

    Returns
    -------
    float or None
    """
    if column not in history or not history[column].notna().any():
        return None
    return float(history[column].dropna().iloc[-1])


def segment_shares(rfm_summary: pd.DataFrame, segments_: tuple[str, ...]) -> dict[str, float]:
    """Customer and revenue share of a group of segments (``best_customer_share``, ...).

    Parameters
    ----------
    rfm_summary : pandas.DataFrame
        ``segments.rfm(...).summary`` (index segment; customer_share, revenue_share).
    segments_ : tuple of str

    Returns
    -------
    dict
    """
    part = rfm_summary.reindex(list(segments_))
    return {"best_customer_share": float(part["customer_share"].sum()),
            "best_revenue_share": float(part["revenue_share"].sum())}


def customer_value(tx: pd.DataFrame, as_of: Any, horizon_months: int, margin: float):
    """Each customer's lifetime value as of a report date: BG/NBD + Gamma-Gamma, no intervals.

    The one way the strategy layer values customers (the report's CLV column and the CLV
    history of the scorecard). Fits at the edge of their range are reported by the retention
    report, so their warnings are silenced here.

    Parameters
    ----------
    tx : pandas.DataFrame
        Cleaned canonical transactions.
    as_of : str, Timestamp or None
        Report date (:func:`crmlab.dates.cutoff`).
    horizon_months : int
    margin : float

    Returns
    -------
    crmlab.ltv.CLVResult
    """
    from crmlab import ltv
    from crmlab.errors import ConvergenceWarning

    before, ts = dates.cutoff(tx, as_of)
    summ = to_pandas(ltv.summary(before, observation_end=dates.observation_end(ts)), index="customer_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ltv.AssumptionWarning)  # the retention report states the checks
        return ltv.clv(ltv.BGNBD().fit(summ), ltv.GammaGamma().fit(summ), summ,
                       horizon_months=horizon_months, margin=margin, intervals=False)


def metric_history(
    tx: pd.DataFrame,
    *,
    period: str = "Q",
    periods: int = 4,
    clv_points: int = 2,
    horizon_months: int = 12,
    margin: float = 1.0,
    active_days: int = 90,
) -> pd.DataFrame:
    """The tracked metrics at the start of each of the last ``periods`` calendar periods and now.

    Columns: ``repeat_rate`` and ``active_customers`` (ordered in the ``active_days`` before
    the date) at every date; ``best_customer_retention`` at the end of each full period
    (:func:`crmlab.retention.best_customer_retention`, the share of the period's
    best customers who bought again within it); ``avg_clv`` (BG/NBD + Gamma-Gamma,
    margin-weighted, over ``horizon_months``) at the last ``clv_points`` dates, as it is the
    costly one. Each date sees only the orders before it (:func:`crmlab.dates.cutoff`), so the
    history is what a run on that date would have reported.

    Parameters
    ----------
    tx : pandas.DataFrame
        Cleaned canonical transactions.
    period : {"M", "Q"}
    periods : int
        How many past period starts to include.
    clv_points : int
        At how many of the latest dates to compute ``avg_clv``.
    horizon_months : int
    margin : float
    active_days : int

    Returns
    -------
    pandas.DataFrame
        One row per date (index ``date``), one column per metric.
    """
    from crmlab import customers, retention

    if period not in ("M", "Q"):
        raise ParameterError("unknown period", value=period, expected="'M' or 'Q'")
    first, last = first_last(tx, "order_ts")  # pandas or Spark
    now = dates.default_as_of(pd.Series([last]))
    starts = pd.period_range(first, now, freq=period).start_time
    points = [d for d in starts if first + pd.Timedelta(days=active_days) <= d < now][-periods:] + [now]
    rows = {}
    for d in points:
        sub, _ = dates.cutoff(tx, d)
        rows[d] = {"repeat_rate": customers.kpis(sub).to_dict()["repeat_rate"],
                   "active_customers": customers.active_count(sub, d - pd.Timedelta(days=active_days))}
    hist = pd.DataFrame.from_dict(rows, orient="index")
    bcr = retention.best_customer_retention(tx, period=period).table
    hist["best_customer_retention"] = np.nan
    if len(bcr):
        ends = (pd.PeriodIndex(pd.to_datetime(bcr.index), freq=period) + 1).start_time
        hist["best_customer_retention"] = pd.Series(bcr["retention"].to_numpy(), index=ends).reindex(hist.index)
    hist["avg_clv"] = np.nan
    for d in hist.index[-clv_points:]:
        hist.loc[d, "avg_clv"] = float(customer_value(tx, d, horizon_months, margin).table["clv"].mean())
    hist.index.name = "date"
    return hist


def migration_summary(matrix: pd.DataFrame | None, best: tuple[str, ...] | None = None) -> dict[str, Any]:
    """How many customers stayed in their segment and how many left the best segments.

    Parameters
    ----------
    matrix : pandas.DataFrame or None
        :func:`crmlab.segments.migration` output (rows: run A, columns: run B).
    best : tuple of str, optional
        The best segments (default :data:`crmlab.segments.BEST_SEGMENTS`).

    Returns
    -------
    dict
        ``present_in_both``, ``stayed_in_segment``, ``left_best_segments``, ``new_customers``
        (all None when there is no matrix).
    """
    from crmlab.segments import BEST_SEGMENTS

    if matrix is None:
        return {"present_in_both": None, "stayed_in_segment": None, "left_best_segments": None,
                "new_customers": None}
    best = best or BEST_SEGMENTS
    core = matrix.drop(index="(not a customer)", columns="(gone)", errors="ignore")
    stayed = int(sum(core.at[s, s] for s in core.index if s in core.columns))
    down = int(core.loc[[s for s in best if s in core.index],
                        [s for s in core.columns if s not in best]].to_numpy().sum())
    new = int(matrix.loc["(not a customer)"].sum()) if "(not a customer)" in matrix.index else 0
    return {"present_in_both": int(core.to_numpy().sum()), "stayed_in_segment": stayed,
            "left_best_segments": down, "new_customers": new}


def compared_kpis(kpis: pd.DataFrame) -> pd.DataFrame:
    """The rows of a KPI-delta table that a comparison shows, in :data:`COMPARED` order.

    Parameters
    ----------
    kpis : pandas.DataFrame
        :func:`crmlab.strategy.kpi_deltas` output.

    Returns
    -------
    pandas.DataFrame
    """
    return kpis.reindex([k for k in COMPARED if k in kpis.index])

