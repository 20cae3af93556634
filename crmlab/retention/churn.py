"""The churn table (lifetime so far, churned or censored, baseline covariates) and the Cox
model of churn drivers."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from crmlab import dates
from crmlab.columns import require_columns
from crmlab.errors import DataError, ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result
from crmlab.retention._common import _known
from crmlab.spark.session import is_spark_frame

__all__ = ["churn_table", "churn_drivers", "churn_covariates", "CoxResult", "BASELINE_COVARIATES"]

#: covariates of :func:`churn_table` known at the first order, in the order a report shows them
BASELINE_COVARIATES = ("log_first_order_value", "first_order_lines")


def _first_order_covariates(tx: pd.DataFrame, first: pd.Series, customer_col: str, date_col: str,
                            amount_col: str) -> pd.DataFrame:
    """What each customer's first purchase was: its value, lines and country (and whether domestic)."""
    is_first = tx[date_col].to_numpy() == first.reindex(tx[customer_col]).to_numpy()
    fg = tx.loc[is_first].groupby(customer_col, observed=True)
    out = pd.DataFrame(index=first.index)
    out["first_order_value"] = fg[amount_col].sum()
    out["first_order_lines"] = fg.size()
    if "country" in tx.columns:
        out["country"] = fg["country"].first()
        top = tx["country"].mode()
        out["domestic"] = (out["country"] == top.iloc[0]).astype(float) if len(top) else np.nan
    return out


def _churn_base(tx: pd.DataFrame, as_of: Any, from_date: Any, customer_col: str, date_col: str, order_col: str,
                amount_col: str) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Per customer: first and last purchase, orders, revenue, the first purchase's covariates and,
    with ``from_date``, the last purchase before it (``last_before``); and the report date."""
    tx = _known(tx, [customer_col, date_col, amount_col], customer_col, date_col)
    tx, as_of_ts = dates.cutoff(tx, as_of, date_col)
    order = tx[order_col] if order_col in tx.columns else tx[date_col]
    g = tx.groupby(customer_col, observed=True, sort=True)
    first = g[date_col].min()
    out = pd.DataFrame({"first_purchase": first, "last_purchase": g[date_col].max()})
    out["orders"] = pd.Series(order.to_numpy(), index=tx.index).groupby(tx[customer_col].to_numpy()).nunique() \
        .reindex(out.index).to_numpy()
    out["revenue"] = g[amount_col].sum()
    out = out.join(_first_order_covariates(tx, first, customer_col, date_col, amount_col))
    if from_date is not None:
        before = tx[tx[date_col] < pd.Timestamp(from_date)]
        out["last_before"] = before.groupby(customer_col, observed=True)[date_col].max().reindex(out.index)
    return out, as_of_ts


def _churn_finish(base: pd.DataFrame, as_of_ts: pd.Timestamp, churn_days: int, from_date: Any,
                  customer_col: str) -> pd.DataFrame:
    """:func:`churn_table` from the per-customer base (pandas or Spark built it)."""
    first, last = base["first_purchase"], base["last_purchase"]
    out = base[["first_purchase", "last_purchase", "orders", "revenue"]].copy()
    days_since = (as_of_ts - last).dt.total_seconds() / 86400
    out["churned"] = (days_since > churn_days).to_numpy()
    end = last.where(out["churned"], as_of_ts)
    if from_date is None:
        origin = first
    else:
        origin = pd.Series(pd.Timestamp(from_date), index=first.index)
        if not first.min() < origin.iloc[0] < as_of_ts:
            raise ParameterError("from_date must lie inside the data", value=str(from_date),
                                 expected=f"between {first.min().date()} and {as_of_ts.date()}")
    out["duration_days"] = ((end - origin).dt.total_seconds() / 86400).clip(lower=0).to_numpy()
    out["first_order_value"] = base["first_order_value"]
    out["first_order_lines"] = base["first_order_lines"]
    out["log_first_order_value"] = np.log1p(out["first_order_value"].clip(lower=0))
    for col in ("country", "domestic"):
        if col in base.columns:
            out[col] = base[col]
    out["acquisition_month"] = first.dt.to_period("M").astype(str)
    out.index.name = customer_col
    if from_date is not None:
        start = pd.Timestamp(from_date)
        before = base["last_before"].dropna()
        active = before[(start - before).dt.total_seconds() / 86400 <= churn_days].index
        out = out.loc[out.index.isin(active)]
    out.attrs.update(as_of=str(as_of_ts.date()), churn_days=int(churn_days),
                     from_date=str(pd.Timestamp(from_date).date()) if from_date is not None else "")
    return out


def churn_table(
    tx: pd.DataFrame,
    *,
    as_of: Any = None,
    churn_days: int = 90,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    order_col: str = "order_id",
    amount_col: str = "amount",
    from_date: Any = None,
) -> pd.DataFrame:
    """One row per customer: lifetime so far and whether they have churned.

    A customer has churned when they have not bought for more than ``churn_days`` before
    ``as_of``. Duration (days) is first to last purchase for churned customers (the event:
    the last purchase was their last) and first purchase to ``as_of`` for the others
    (censored: still active). Customers acquired less than ``churn_days`` before ``as_of``
    are always censored. With ``from_date``, the clock starts there instead: only customers
    active then (a purchase in the ``churn_days`` before it) are kept, and duration runs from
    ``from_date`` to the last purchase (0 if none followed) for churned customers, to
    ``as_of`` for the others. Use it to follow segments assigned at ``from_date`` forward.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical order lines (datetime ``date_col``).
    as_of : str or Timestamp, optional
        Report date (:func:`crmlab.dates.cutoff`): orders strictly before it count; default
        (None or "") the day after the last order.
    churn_days : int
        Days without an order after which a customer counts as churned.
    customer_col, date_col, order_col, amount_col : str
        Column names (without ``order_col`` each line counts as an order).
    from_date : date-like, optional
        Start of the clock for customers active then.

    Returns
    -------
    pandas.DataFrame
        Per customer: first_purchase, last_purchase, orders and revenue (whole history:
        descriptive only, not for the Cox model), churned, duration_days, and baseline
        covariates for :func:`churn_drivers` (first_order_value, log_first_order_value,
        first_order_lines, country and domestic when a country column exists,
        acquisition_month). ``attrs`` records as_of, churn_days and from_date.
    """
    if churn_days <= 0:
        raise ParameterError("churn_days must be positive", value=churn_days, fix="e.g. churn_days=90")
    cols = (customer_col, date_col, order_col, amount_col)
    if is_spark_frame(tx):  # the per-customer table aggregated by Spark, finished as in pandas
        from crmlab.spark.retention import churn_base

        base, as_of_ts = churn_base(tx, as_of, from_date, *cols)
    else:
        base, as_of_ts = _churn_base(tx, as_of, from_date, *cols)
    return _churn_finish(base, as_of_ts, churn_days, from_date, customer_col)


class CoxResult(Result):
    """Cox model of churn: hazard ratios with confidence intervals and p-values.

    Parameters
    ----------
    table : pandas.DataFrame
        Per covariate: coef, se, hazard_ratio, lower, upper, p_value.
    fit : statsmodels PHRegResults
    n, events : int
        Customers and churn events.
    alpha : float
        1 - confidence level.
    """

    title = "Drivers of churn (Cox proportional hazards)"

    def __init__(self, table: pd.DataFrame, fit: Any, n: int, events: int, alpha: float):
        self.table = table
        self.fit = fit
        self.n = n
        self.events = events
        self.alpha = alpha
        self.notes = (f"{n:,} customers, {events:,} churned; hazard ratio > 1 means faster churn "
                      f"per unit of the covariate; {1 - alpha:.0%} intervals",)

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return {k: float(v) for k, v in self.table["hazard_ratio"].items()}

    def plot(self, ax=None):
        """Forest plot of hazard ratios (log scale) with their intervals."""
        t = self.table
        ax = get_ax(ax, (7, 1 + 0.45 * len(t)), layout=None)
        y = np.arange(len(t))[::-1]
        ax.errorbar(t["hazard_ratio"], y, xerr=[t["hazard_ratio"] - t["lower"], t["upper"] - t["hazard_ratio"]],
                    fmt="o", color="#4C72B0", capsize=3)
        ax.axvline(1, color="grey", ls="--")
        ax.set_xscale("log")
        from matplotlib.ticker import FuncFormatter, NullFormatter

        # plain tick labels: the default 10^x mathtext draws a minus sign the Hangul font lacks
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(y)
        ax.set_yticklabels(t.index)
        ax.set_xlabel("hazard ratio of churn (log scale)")
        ax.set_title(self.title)
        return ax


def churn_drivers(
    table: pd.DataFrame,
    covariates: Sequence[str],
    *,
    duration_col: str = "duration_days",
    event_col: str = "churned",
    ties: str = "efron",
    alpha: float = 0.05,
) -> CoxResult:
    """Hazard ratios of churn from a Cox proportional hazards model (Cox 1972).

    Engine: ``statsmodels.duration.hazard_regression.PHReg`` (Efron ties by default).
    Categorical covariates are one-hot coded against their most common level. Use
    covariates known at the start of the lifetime (see :func:`churn_table`): whole-history
    totals such as orders grow with the lifetime itself and would look protective for that
    reason alone.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`churn_table`.
    covariates : sequence of str
        Columns of ``table``; non-numeric ones are one-hot coded.
    duration_col, event_col : str
        Duration in days and churn flag.
    ties : {"efron", "breslow"}
        Tie handling.
    alpha : float
        1 - confidence level.

    Returns
    -------
    CoxResult
    """
    from statsmodels.duration.hazard_regression import PHReg

    covariates = list(covariates)
    if not covariates:
        raise ParameterError("name at least one covariate", fix="e.g. ['log_first_order_value']")
    require_columns(table, [duration_col, event_col, *covariates], what="churn tables",
                    fix="build it with retention.churn_table or add the column")
    d = table[[duration_col, event_col, *covariates]].dropna()
    if len(d) < 10 or d[event_col].sum() < 5:
        raise DataError("too few customers or churn events for a Cox model", value=int(d[event_col].sum()),
                        expected="at least 10 customers and 5 churn events")
    parts = []
    for c in covariates:
        col = d[c]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            parts.append(col.astype(float).rename(c))
        else:
            ref = col.astype(str).value_counts().index[0]
            dummies = pd.get_dummies(col.astype(str), prefix=c, prefix_sep="=", dtype=float)
            parts.append(dummies.drop(columns=f"{c}={ref}"))
    X = pd.concat(parts, axis=1)
    const = [c for c in X.columns if X[c].nunique() <= 1]
    if const:
        raise DataError("covariate does not vary", column=const[0], fix="drop it from covariates")
    model = PHReg(d[duration_col].to_numpy(dtype=float), X, status=d[event_col].to_numpy(dtype=float), ties=ties)
    fit = model.fit()
    ci = np.asarray(fit.conf_int(alpha=alpha))
    params = np.asarray(fit.params)
    tab = pd.DataFrame({
        "coef": params, "se": np.asarray(fit.bse),
        "hazard_ratio": np.exp(params), "lower": np.exp(ci[:, 0]), "upper": np.exp(ci[:, 1]),
        "p_value": np.asarray(fit.pvalues),
    }, index=pd.Index(X.columns, name="covariate"))
    return CoxResult(tab, fit, len(d), int(d[event_col].sum()), alpha)


def churn_covariates(
    table: pd.DataFrame,
    candidates: Sequence[str] = BASELINE_COVARIATES,
    *,
    event_col: str = "churned",
    min_level: int = 10,
) -> tuple[list[str], dict[str, str]]:
    """The candidate covariates a Cox model can estimate on ``table``, and why the others cannot.

    A candidate is dropped when the table lacks it (``"missing"``), when it does not vary
    (``"constant"``), or, for a two-valued covariate, when one of its values has fewer than
    ``min_level`` customers or no churn event (``"rare"``): such a column gives a hazard ratio
    of 0 or infinity (e.g. 9e-10 with an interval from 0 to infinity), not an estimate.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`churn_table`.
    candidates : sequence of str
        Columns to consider, e.g. ``BASELINE_COVARIATES + ("domestic",)``.
    event_col : str
        Churn flag.
    min_level : int
        Fewest customers each value of a two-valued covariate needs.

    Returns
    -------
    (list of str, dict of str -> str)
        The covariates to use, and each dropped one with its reason
        (``"missing"``, ``"constant"`` or ``"rare"``).
    """
    chosen, dropped = [], {}
    for c in candidates:
        if c not in table.columns:
            dropped[c] = "missing"
            continue
        col = table[c].dropna()
        counts = col.astype(str).value_counts()
        if len(counts) <= 1:
            dropped[c] = "constant"
        elif len(counts) == 2 and (counts.min() < min_level or (
                table.loc[col.index, event_col].astype(bool).groupby(col.astype(str)).sum() == 0).any()):
            dropped[c] = "rare"
        else:
            chosen.append(c)
    return chosen, dropped
