"""Time to churn as a survival problem: Kaplan-Meier curves per group (statsmodels)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from crmlab.columns import require_columns
from crmlab.errors import DataError, ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result

__all__ = ["SurvivalResult", "survival"]


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
    """Kaplan-Meier curves (overall or per group) with confidence bands and median lifetimes.

    Parameters
    ----------
    fits : dict
        statsmodels ``SurvfuncRight`` per group.
    curves : dict of str -> pandas.DataFrame
        time, survival, lower, upper, at_risk, events per group; ``attrs["follow_up"]`` is the
        group's longest duration.
    table : pandas.DataFrame
        Per group: customers, churned, median_days with its interval, survival at horizons.
    alpha : float
        1 - confidence level.
    by : str or None
        Grouping column.
    origin : str
        What the clock starts at (for the axis label).
    follow_up : float
        Longest follow-up in the data (days): no survival is reported beyond it.
    dropped_horizons : tuple of float
        Requested horizons beyond ``follow_up``, left out of the table.
    """

    title = "Time to churn (Kaplan-Meier)"

    def __init__(self, fits: dict[str, Any], curves: dict[str, pd.DataFrame], table: pd.DataFrame,
                 alpha: float, by: str | None, origin: str = "first purchase", follow_up: float = float("inf"),
                 dropped_horizons: tuple[float, ...] = ()):
        self.fits = fits
        self.curves = curves
        self.table = table
        self.alpha = alpha
        self.by = by
        self.origin = origin
        self.follow_up = follow_up
        self.dropped_horizons = tuple(dropped_horizons)
        notes = [f"{1 - alpha:.0%} pointwise log(-log) bands; median = first time the "
                 "survival curve falls below 50% (statsmodels' convention; empty when never reached)"]
        if self.dropped_horizons:
            notes.append(f"the data follows customers for at most {follow_up:,.0f} days, so survival at "
                         + ", ".join(f"{h:g}" for h in self.dropped_horizons) + " days is not reported")
        self.notes = tuple(notes)

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return {"groups": self.table.reset_index().to_dict(orient="records")}

    def survival_at(self, days: float) -> pd.Series:
        """Share still active ``days`` after the start of the clock, per group.

        Parameters
        ----------
        days : float

        Returns
        -------
        pandas.Series
            NaN for a group whose customers are followed for less than ``days``: the data
            says nothing about survival beyond its follow-up.
        """
        return pd.Series({name: _survival_at(c, days) for name, c in self.curves.items()}, name=f"survival_{days:g}d")

    def plot(self, ax=None, *, bands: bool = True, max_days: float | None = None):
        """Survival curves (step functions) with confidence bands."""
        ax = get_ax(ax, (8, 5), layout=None)
        for name, c in self.curves.items():
            # the curve stays flat after its last churn until the last customer still followed
            # (censored), as Kaplan-Meier plots are drawn; it stopped at the last churn before
            end = max(float(c.attrs.get("follow_up", 0.0)), float(c["time"].max()) if len(c) else 0.0)
            t = np.r_[0.0, c["time"].to_numpy(), end]
            s, lower, upper = (np.r_[1.0, v, v[-1] if len(v) else 1.0]
                               for v in (c[k].to_numpy() for k in ("survival", "lower", "upper")))
            line, = ax.step(t, s, where="post", label=f"{name} (n={int(self.table.loc[name, 'customers']):,})")
            if bands:
                ax.fill_between(t, lower, upper, step="post", alpha=0.15, color=line.get_color())
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
    out (their curves would be noise). Survival is never reported beyond the follow-up the
    data has: a horizon longer than the longest duration in ``table`` is left out of the table
    (listed in ``dropped_horizons`` and the notes), and a group followed for less than a
    horizon shows NaN there.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`churn_table` (its ``as_of`` already applied the report date).
    by : str, optional
        Grouping column.
    duration_col, event_col : str
        Duration in days and churn flag.
    alpha : float
        1 - confidence level.
    min_group : int
        Smallest group shown.
    horizons : sequence of float
        Days at which the surviving share is tabulated.

    Returns
    -------
    SurvivalResult
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    require_columns(table, [duration_col, event_col] + ([by] if by else []), what="churn tables",
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
    follow_up = float(d[duration_col].max())
    kept = tuple(h for h in horizons if h <= follow_up)
    fits, curves, rows = {}, {}, {}
    for name, g in groups:
        sf = SurvfuncRight(g[duration_col].to_numpy(dtype=float), g[event_col].to_numpy(dtype=float),
                           title=name)
        lo, hi = _loglog_band(sf.surv_prob, sf.surv_prob_se, z)
        curves[name] = pd.DataFrame({"time": sf.surv_times, "survival": sf.surv_prob,
                                     "lower": lo, "upper": hi, "at_risk": sf.n_risk, "events": sf.n_events})
        curves[name].attrs["follow_up"] = float(g[duration_col].max())
        fits[name] = sf
        rows[name] = {"customers": len(g), "churned": int(g[event_col].sum()), **_median(sf, alpha),
                      **{f"survival_{h:g}d": _survival_at(curves[name], h) for h in kept}}
    tab = pd.DataFrame.from_dict(rows, orient="index")
    tab.index.name = by or "group"
    origin = f"{table.attrs['from_date']}" if table.attrs.get("from_date") else "first purchase"
    return SurvivalResult(fits, curves, tab, alpha, by, origin, follow_up,
                          tuple(h for h in horizons if h > follow_up))


def _median(sf: Any, alpha: float) -> dict[str, float]:
    """Median lifetime with its interval (NaN where the curve never reaches 50%)."""
    with np.errstate(all="ignore"):
        try:
            lo, hi = sf.quantile_ci(0.5, alpha=alpha)
        except Exception:  # statsmodels can fail when the curve never reaches 50%
            lo, hi = np.nan, np.nan
    return {"median_days": _finite(sf.quantile(0.5)), "median_lower": _finite(lo), "median_upper": _finite(hi)}


def _survival_at(curve: pd.DataFrame, days: float) -> float:
    """Kaplan-Meier survival at ``days`` (NaN beyond the follow-up of the group)."""
    if days > curve.attrs.get("follow_up", np.inf):
        return float("nan")
    before = curve[curve["time"] <= days]
    return float(before["survival"].iloc[-1]) if len(before) else 1.0


def _z(alpha: float) -> float:
    from scipy.stats import norm

    return norm.ppf(1 - alpha / 2)


def _finite(v: Any) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return v if np.isfinite(v) else float("nan")
