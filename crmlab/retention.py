"""Retention: cohorts, time to churn, churn drivers and how well the best customers are kept.

Keeping good customers is usually cheaper than winning new ones (Reichheld & Sasser 1990,
"Zero defections"), so retention is measured three ways here:

- :func:`cohort_matrix`: of the customers acquired in a month, how many buy again k months
  later (counted "in exactly period k" or "in period k or later"), as counts and rates;
- :func:`churn_table`, :func:`survival` and :func:`churn_drivers`: time from first purchase to
  churn as a survival problem (Kaplan-Meier with statsmodels ``SurvfuncRight``; Cox
  proportional hazards with statsmodels ``PHReg``), so customers still active are censored
  rather than counted as churned or dropped;
- :func:`best_customer_retention`: of the customers in the top segments at the start of a
  period, the share still buying in that period, period after period.

Workflow::

    from crmlab import retention
    cohorts = retention.cohort_matrix(tx)            # cohorts.plot()
    ct = retention.churn_table(tx, churn_days=90)
    km = retention.survival(ct, by="segment")        # km.plot(), km.summary
    cox = retention.churn_drivers(ct, ["log_first_order_value", "domestic"])
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from crmlab.data import require_columns
from crmlab.errors import DataError, ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result

__all__ = [
    "cohort_matrix",
    "churn_table",
    "survival",
    "churn_drivers",
    "best_customer_retention",
    "CohortResult",
    "SurvivalResult",
    "CoxResult",
    "BestCustomerResult",
    "TOP_SEGMENTS",
]

#: Segments counted as "best customers" by default (crmlab.segments names).
TOP_SEGMENTS = ("Champions", "Loyal")
_PERIODS = {"W": "weeks", "M": "months", "Q": "quarters"}
_Z95 = 1.959963984540054


def _known(tx: pd.DataFrame, customer_col: str, date_col: str) -> pd.DataFrame:
    tx = tx[tx[customer_col].notna()]
    if tx.empty:
        raise DataError("no transactions with a known customer", column=customer_col,
                        fix="clean the data with data.clean and check the customer id column")
    if not pd.api.types.is_datetime64_any_dtype(tx[date_col]):
        raise DataError("order dates are not datetimes", column=date_col,
                        fix="load with data.load_transactions or convert with pd.to_datetime")
    return tx


def _period_numbers(ts: pd.Series, period: str) -> np.ndarray:
    v = ts.to_numpy(dtype="datetime64[ns]")
    if period == "M":
        return v.astype("datetime64[M]").astype(np.int64)
    if period == "Q":
        return v.astype("datetime64[M]").astype(np.int64) // 3
    days = v.astype("datetime64[D]").astype(np.int64)
    return (days + 3) // 7  # Monday-start weeks


def _period_label(n: np.ndarray, period: str) -> list[str]:
    if period == "M":
        return [str(x) for x in np.asarray(n).astype("datetime64[M]")]
    if period == "Q":
        m = (np.asarray(n) * 3).astype("datetime64[M]")
        return [f"{str(x)[:4]}-Q{int(str(x)[5:7]) // 3 + 1}" for x in m]
    return [str(x) for x in (np.asarray(n) * 7 - 3).astype("datetime64[D]")]


# ----------------------------------------------------------------------------------------
# Cohorts
# ----------------------------------------------------------------------------------------


class CohortResult(Result):
    """Cohort retention: ``counts`` and ``rates`` (cohort x periods since acquisition)."""

    def __init__(self, counts: pd.DataFrame, sizes: pd.Series, period: str, mode: str,
                 last_cells: pd.DataFrame | None = None):
        self.counts = counts
        self.last_cells = last_cells if last_cells is not None else counts.notna() & False
        self.sizes = sizes
        self.rates = counts.div(sizes, axis=0)
        self.period = period
        self.mode = mode
        what = "in exactly period k" if mode == "exact" else "in period k or later"
        self.title = f"Cohort retention by acquisition {_PERIODS[period][:-1]} ({what})"
        self.notes = (f"{int(sizes.sum()):,} customers in {len(sizes)} cohorts; cells after the "
                      "end of the data are empty",)

    @property
    def summary(self) -> pd.DataFrame:
        return self.rates

    def average_rates(self, exclude_last_period: bool = True) -> pd.Series:
        """Customer-weighted mean retention rate per period offset over the cohorts observed.

        The last calendar period in the data is usually partial (the data end mid-month), so
        its cells are left out unless ``exclude_last_period=False``.
        """
        c = self.counts
        if exclude_last_period:
            c = c.mask(self.last_cells.to_numpy())
        observed = c.notna()
        sizes = observed.mul(self.sizes, axis=0)
        return (c.fillna(0).sum() / sizes.sum()).rename("retention")

    def to_dict(self) -> dict[str, Any]:
        avg = self.average_rates()
        return {"cohorts": int(len(self.sizes)), "customers": int(self.sizes.sum()),
                **{f"retention_{k}": float(avg[k]) for k in (1, 3, 6, 12) if k in avg.index}}

    def plot(self, ax=None, *, rates: bool = True, annotate: bool | None = None):
        """Heatmap of the cohort table (rates by default), one row per cohort."""
        data = self.rates if rates else self.counts
        ax = get_ax(ax, (min(2 + 0.6 * data.shape[1], 14), 1.5 + 0.4 * data.shape[0]), layout=None)
        shown = data.copy()
        if rates:
            shown.iloc[:, 0] = np.nan  # period 0 is 100% by definition; keep the colour scale useful
        im = ax.imshow(shown.to_numpy(dtype=float), aspect="auto", cmap="Blues")
        ax.set_xticks(range(data.shape[1]))
        ax.set_xticklabels(data.columns)
        ax.set_yticks(range(data.shape[0]))
        ax.set_yticklabels([f"{i} (n={n:,})" for i, n in zip(data.index, self.sizes)])
        ax.set_xlabel(f"{_PERIODS[self.period]} since first purchase")
        ax.set_ylabel("cohort")
        if annotate is None:
            annotate = data.size <= 400
        if annotate:
            vmax = np.nanmax(shown.to_numpy(dtype=float)) if np.isfinite(shown.to_numpy(dtype=float)).any() else 1
            for (i, j), v in np.ndenumerate(data.to_numpy(dtype=float)):
                if np.isfinite(v):
                    txt = f"{v:.0%}" if rates else f"{v:,.0f}"
                    dark = np.isfinite(shown.iat[i, j]) and shown.iat[i, j] > 0.6 * vmax
                    ax.text(j, i, txt, ha="center", va="center", fontsize=7,
                            color="white" if dark else "black")
        ax.figure.colorbar(im, ax=ax, fraction=0.03, label="share of cohort" if rates else "customers")
        ax.set_title(self.title)
        return ax


def cohort_matrix(
    tx: pd.DataFrame,
    *,
    period: str = "M",
    mode: str = "exact",
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
) -> CohortResult:
    """Retention of acquisition cohorts.

    Customers are grouped by the period of their first purchase (``period``: "M" months,
    "Q" quarters, "W" weeks). Cell (c, k) counts the customers of cohort c who bought

    - ``mode="exact"``: in period c + k (classic cohort table), or
    - ``mode="cumulative"``: in period c + k or later (still buying at some point; it can
      only fall with k).

    Period 0 is the cohort size. Cells beyond the last period in the data are NaN. The last
    calendar period is usually partial, so its cells (the last cell of each row) read low;
    :meth:`CohortResult.average_rates` leaves them out.
    """
    if period not in _PERIODS:
        raise ParameterError("unknown cohort period", value=period, expected="'M', 'Q' or 'W'")
    if mode not in ("exact", "cumulative"):
        raise ParameterError("unknown counting mode", value=mode,
                             expected="'exact' (active in period k) or 'cumulative' (k or later)")
    require_columns(tx, [customer_col, date_col])
    tx = _known(tx, customer_col, date_col)
    codes, _ = pd.factorize(tx[customer_col])
    per = _period_numbers(tx[date_col], period)
    pairs = pd.DataFrame({"c": codes, "p": per}).drop_duplicates()
    first = pairs.groupby("c")["p"].transform("min")
    pairs["cohort"] = first
    pairs["k"] = pairs["p"] - first
    last_period = int(per.max())
    if mode == "exact":
        counts = pairs.groupby(["cohort", "k"]).size().unstack(fill_value=0)
    else:
        lastk = pairs.groupby("c").agg(cohort=("cohort", "first"), k=("k", "max"))
    cohorts = np.arange(int(pairs["cohort"].min()), last_period + 1)
    ks = np.arange(0, last_period - cohorts[0] + 1)
    if mode == "cumulative":
        hist = lastk.groupby(["cohort", "k"]).size().unstack(fill_value=0)
        hist = hist.reindex(columns=ks, fill_value=0)
        counts = hist.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1]
    counts = counts.reindex(index=cohorts, columns=ks).astype(float).fillna(0.0)
    mask = (cohorts[:, None] + ks[None, :]) > last_period
    counts = counts.mask(mask)
    last = pd.DataFrame((cohorts[:, None] + ks[None, :]) == last_period, index=counts.index,
                        columns=counts.columns)
    sizes = counts[0]
    keep = sizes > 0
    counts, sizes, last = counts[keep], sizes[keep], last[keep]
    counts.index = pd.Index(_period_label(counts.index.to_numpy(), period), name="cohort")
    counts.columns.name = "period"
    sizes.index = counts.index
    last.index = counts.index
    return CohortResult(counts, sizes.astype(int).rename("customers"), period, mode, last)


# ----------------------------------------------------------------------------------------
# Survival and churn drivers
# ----------------------------------------------------------------------------------------


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
    ``as_of`` (default: the day after the last order). Duration (days) is first to last
    purchase for churned customers (the event: the last purchase was their last) and first
    purchase to ``as_of`` for the others (censored: still active). Customers acquired less
    than ``churn_days`` before ``as_of`` are always censored.

    With ``from_date``, the clock starts there instead: only customers active then (a
    purchase in the ``churn_days`` before it) are kept, and duration runs from ``from_date``
    to the last purchase (0 if none followed) for churned customers, to ``as_of`` for the
    others. Use it to follow segments assigned at ``from_date`` forward in time.

    Baseline covariates for :func:`churn_drivers` (known at the first purchase, so they
    cannot leak the outcome): ``first_order_value``, ``log_first_order_value``,
    ``first_order_lines``, ``country`` and ``domestic`` (the most common country) when a
    country column exists, and the acquisition month. Also ``orders`` and ``revenue``
    (whole history: descriptive only, not for the Cox model).
    """
    if churn_days <= 0:
        raise ParameterError("churn_days must be positive", value=churn_days, fix="e.g. churn_days=90")
    require_columns(tx, [customer_col, date_col, amount_col])
    tx = _known(tx, customer_col, date_col)
    if as_of is None:
        as_of_ts = tx[date_col].max().normalize() + pd.Timedelta(days=1)
    else:
        as_of_ts = pd.Timestamp(as_of)
        tx = tx[tx[date_col] < as_of_ts]
        if tx.empty:
            raise DataError("no transactions before as_of", value=str(as_of), fix="choose a later as_of")
    order = tx[order_col] if order_col in tx.columns else tx[date_col]
    g = tx.groupby(customer_col, observed=True, sort=True)
    first = g[date_col].min()
    last = g[date_col].max()
    out = pd.DataFrame({"first_purchase": first, "last_purchase": last})
    out["orders"] = pd.Series(order.to_numpy(), index=tx.index).groupby(tx[customer_col].to_numpy()).nunique() \
        .reindex(out.index).to_numpy()
    out["revenue"] = g[amount_col].sum()
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
    # first-order (baseline) covariates
    is_first = tx[date_col].to_numpy() == first.reindex(tx[customer_col]).to_numpy()
    ft = tx.loc[is_first]
    fg = ft.groupby(customer_col, observed=True)
    out["first_order_value"] = fg[amount_col].sum()
    out["first_order_lines"] = fg.size()
    out["log_first_order_value"] = np.log1p(out["first_order_value"].clip(lower=0))
    if "country" in tx.columns:
        out["country"] = fg["country"].first()
        top = tx["country"].mode()
        out["domestic"] = (out["country"] == top.iloc[0]).astype(float) if len(top) else np.nan
    out["acquisition_month"] = first.dt.to_period("M").astype(str)
    out.index.name = customer_col
    if from_date is not None:
        start = pd.Timestamp(from_date)
        before = tx[tx[date_col] < start].groupby(customer_col, observed=True)[date_col].max()
        active = before[(start - before).dt.total_seconds() / 86400 <= churn_days].index
        out = out.loc[out.index.isin(active)]
    out.attrs.update(as_of=str(as_of_ts.date()), churn_days=int(churn_days),
                     from_date=str(pd.Timestamp(from_date).date()) if from_date is not None else "")
    return out


def _loglog_band(surv: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log(-log) confidence band (Kalbfleisch & Prentice 2002), stays in [0, 1]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.log(-np.log(surv))
        s = se / (surv * np.abs(np.log(surv)))
        lo = np.exp(-np.exp(ll + z * s))
        hi = np.exp(-np.exp(ll - z * s))
    lo = np.where(np.isfinite(lo), lo, surv)
    hi = np.where(np.isfinite(hi), hi, surv)
    return lo, hi


class SurvivalResult(Result):
    """Kaplan-Meier curves (overall or per group) with confidence bands and median lifetimes."""

    title = "Time to churn (Kaplan-Meier)"

    def __init__(self, fits: dict[str, Any], curves: dict[str, pd.DataFrame], table: pd.DataFrame,
                 alpha: float, by: str | None, origin: str = "first purchase"):
        self.fits = fits
        self.curves = curves
        self.table = table
        self.alpha = alpha
        self.by = by
        self.origin = origin
        self.notes = (f"{1 - alpha:.0%} pointwise log(-log) bands; median = first time the "
                      "survival curve falls below 50% (statsmodels' convention; empty when never reached)",)

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return {"groups": self.table.reset_index().to_dict(orient="records")}

    def survival_at(self, days: float) -> pd.Series:
        """Share still active ``days`` after the first purchase, per group."""
        out = {}
        for name, c in self.curves.items():
            before = c[c["time"] <= days]
            out[name] = float(before["survival"].iloc[-1]) if len(before) else 1.0
        return pd.Series(out, name=f"survival_{days:g}d")

    def plot(self, ax=None, *, bands: bool = True, max_days: float | None = None):
        """Survival curves (step functions) with confidence bands."""
        ax = get_ax(ax, (8, 5), layout=None)
        for name, c in self.curves.items():
            t = np.r_[0.0, c["time"].to_numpy()]
            s = np.r_[1.0, c["survival"].to_numpy()]
            line, = ax.step(t, s, where="post", label=f"{name} (n={int(self.table.loc[name, 'customers']):,})")
            if bands:
                ax.fill_between(t, np.r_[1.0, c["lower"].to_numpy()], np.r_[1.0, c["upper"].to_numpy()],
                                step="post", alpha=0.15, color=line.get_color())
        ax.set_ylim(0, 1.02)
        if max_days:
            ax.set_xlim(0, max_days)
        ax.set_xlabel(f"days since {self.origin}")
        ax.set_ylabel("share not yet churned")
        ax.legend(fontsize=8, loc="upper right")
        ax.set_title(self.title + (f" by {self.by}" if self.by else ""))
        return ax


def survival(
    table: pd.DataFrame,
    *,
    by: str | None = None,
    duration_col: str = "duration_days",
    event_col: str = "churned",
    alpha: float = 0.05,
    min_group: int = 10,
    horizons: Sequence[float] = (90, 180, 365),
) -> SurvivalResult:
    """Kaplan-Meier survival of customers (time to churn), overall or per group.

    Engine: ``statsmodels.duration.survfunc.SurvfuncRight`` (Kaplan & Meier 1958; Greenwood
    standard errors). Per group: customers, churn events, median lifetime in days with its
    confidence interval (Brookmeyer & Crowley 1982, statsmodels ``quantile_ci``), and the
    share surviving at each of ``horizons`` days. Groups smaller than ``min_group`` are left
    out (their curves would be noise).
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    for c in (duration_col, event_col) + ((by,) if by else ()):
        if c not in table.columns:
            raise DataError("column missing from the churn table", column=c,
                            fix="build it with retention.churn_table and add the grouping column")
    if not 0 < alpha < 1:
        raise ParameterError("alpha must be in (0, 1)", value=alpha)
    d = table[[duration_col, event_col] + ([by] if by else [])].dropna()
    if (d[duration_col] < 0).any():
        raise DataError("negative duration", column=duration_col, fix="check first/last purchase dates")
    groups = [("all customers", d)] if by is None else [
        (str(k), g) for k, g in d.groupby(by, observed=True, sort=True) if len(g) >= min_group]
    if not groups:
        raise DataError(f"no group has at least {min_group} customers", column=by,
                        fix="lower min_group or use a coarser grouping")
    z = float(_z(alpha))
    fits, curves, rows = {}, {}, {}
    for name, g in groups:
        sf = SurvfuncRight(g[duration_col].to_numpy(dtype=float), g[event_col].to_numpy(dtype=float),
                           title=name)
        lo, hi = _loglog_band(sf.surv_prob, sf.surv_prob_se, z)
        curves[name] = pd.DataFrame({"time": sf.surv_times, "survival": sf.surv_prob,
                                     "lower": lo, "upper": hi, "at_risk": sf.n_risk, "events": sf.n_events})
        fits[name] = sf
        med = sf.quantile(0.5)
        with np.errstate(all="ignore"):
            try:
                mlo, mhi = sf.quantile_ci(0.5, alpha=alpha)
            except Exception:  # statsmodels can fail when the curve never reaches 50%
                mlo, mhi = np.nan, np.nan
        row = {"customers": len(g), "churned": int(g[event_col].sum()),
               "median_days": _finite(med), "median_lower": _finite(mlo), "median_upper": _finite(mhi)}
        for h in horizons:
            before = curves[name][curves[name]["time"] <= h]
            row[f"survival_{h:g}d"] = float(before["survival"].iloc[-1]) if len(before) else 1.0
        rows[name] = row
    tab = pd.DataFrame.from_dict(rows, orient="index")
    tab.index.name = by or "group"
    origin = f"{table.attrs['from_date']}" if table.attrs.get("from_date") else "first purchase"
    return SurvivalResult(fits, curves, tab, alpha, by, origin)


def _z(alpha: float) -> float:
    from scipy.stats import norm

    return norm.ppf(1 - alpha / 2)


def _finite(v: Any) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return v if np.isfinite(v) else float("nan")


class CoxResult(Result):
    """Cox model of churn: hazard ratios with confidence intervals and p-values."""

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
    """
    from statsmodels.duration.hazard_regression import PHReg

    covariates = list(covariates)
    if not covariates:
        raise ParameterError("name at least one covariate", fix="e.g. ['log_first_order_value']")
    for c in [duration_col, event_col, *covariates]:
        if c not in table.columns:
            raise DataError("column missing from the churn table", column=c,
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


# ----------------------------------------------------------------------------------------
# Best-customer retention
# ----------------------------------------------------------------------------------------


class BestCustomerResult(Result):
    """Retention of the top segments, period by period."""

    def __init__(self, table: pd.DataFrame, top_segments: Sequence[str], period: str):
        self.table = table
        self.top_segments = tuple(top_segments)
        self.period = period
        self.title = "Best-customer retention (" + ", ".join(self.top_segments) + ")"
        mean = table["retention"].mean() if len(table) else float("nan")
        self.notes = (f"of the customers in these segments at the start of each {_PERIODS[period][:-1]}, "
                      f"the share who bought again within it; mean {mean:.0%}",)

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        t = self.table
        return {"periods": int(len(t)), "mean_retention": float(t["retention"].mean()),
                "last_retention": float(t["retention"].iloc[-1]) if len(t) else None}

    def plot(self, ax=None):
        ax = get_ax(ax, (7, 4), layout=None)
        t = self.table
        ax.plot(t.index.astype(str), t["retention"], "o-", color="#4C72B0")
        for x, (r, n) in enumerate(zip(t["retention"], t["top_customers"])):
            ax.annotate(f"n={n:,}", (x, r), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_ylabel("share of best customers still buying")
        ax.set_xlabel(f"{_PERIODS[self.period][:-1]} starting")
        ax.set_title(self.title)
        return ax


def _default_segments(tx: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    from crmlab import segments

    return segments.rfm(tx, as_of=as_of).table["segment"]


def best_customer_retention(
    tx: pd.DataFrame,
    *,
    top_segments: Sequence[str] = TOP_SEGMENTS,
    period: str = "Q",
    min_history_days: int = 90,
    segment_fn: Callable[[pd.DataFrame, pd.Timestamp], pd.Series] | None = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
) -> BestCustomerResult:
    """Of the customers in the top segments at the start of each period, the share who buy
    again before it ends.

    For every full period (``"M"`` or ``"Q"``) starting at least ``min_history_days`` after
    the first order, customers are segmented on their history before the period start
    (``segment_fn(transactions_before, start)`` returning a Series customer -> segment; by
    default :func:`crmlab.segments.rfm`), and those in ``top_segments`` are followed
    through the period.
    """
    if period not in ("M", "Q"):
        raise ParameterError("unknown period", value=period, expected="'M' or 'Q'")
    require_columns(tx, [customer_col, date_col])
    tx = _known(tx, customer_col, date_col)
    fn = segment_fn or _default_segments
    t0, t1 = tx[date_col].min(), tx[date_col].max()
    freq = "MS" if period == "M" else "QS"
    starts = pd.date_range((t0 + pd.Timedelta(days=min_history_days)).normalize(), t1, freq=freq)
    offset = pd.DateOffset(months=1 if period == "M" else 3)
    rows = []
    dates = tx[date_col]
    for s in starts:
        e = s + offset
        if e > t1.normalize() + pd.Timedelta(days=1):
            break  # partial period at the end: not a fair retention figure
        seg = fn(tx[dates < s], s)
        top = pd.Index(seg[seg.astype(str).isin([str(x) for x in top_segments])].index)
        if len(top) == 0:
            continue
        active = pd.Index(tx.loc[(dates >= s) & (dates < e), customer_col].unique())
        kept = int(top.isin(active).sum())
        rows.append({"period_start": s.date(), "top_customers": int(len(top)), "retained": kept,
                     "retention": kept / len(top)})
    if not rows:
        raise DataError("no full period with top-segment customers",
                        fix="use period='M', a shorter min_history_days or a longer history")
    table = pd.DataFrame(rows).set_index("period_start")
    return BestCustomerResult(table, top_segments, period)
