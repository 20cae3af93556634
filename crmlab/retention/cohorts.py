"""Acquisition cohorts: of the customers acquired in a period, how many buy again k periods later."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result
from crmlab.retention._common import _PERIODS, _known, _period_label, _period_numbers
from crmlab.spark.session import is_spark_frame

__all__ = ["CohortResult", "cohort_matrix"]


class CohortResult(Result):
    """Cohort retention: ``counts`` and ``rates`` (cohort x periods since acquisition).

    Parameters
    ----------
    counts : pandas.DataFrame
        Customers per cohort (rows) and period offset (columns); NaN beyond the data.
    sizes : pandas.Series
        Customers per cohort.
    period : {"M", "Q", "W"}
        Cohort period.
    mode : {"exact", "cumulative"}
        How a cell counts (see :func:`cohort_matrix`).
    last_cells : pandas.DataFrame, optional
        True where a cell is the last (usually partial) calendar period of the data.
    """

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

        Parameters
        ----------
        exclude_last_period : bool
            Leave out the last calendar period's cells.

        Returns
        -------
        pandas.Series
            Retention rate by period offset.
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

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical order lines (datetime ``date_col``).
    period : {"M", "Q", "W"}
        Cohort period.
    mode : {"exact", "cumulative"}
        Count buyers in exactly period k, or in period k or later.
    customer_col, date_col : str
        Column names.

    Returns
    -------
    CohortResult
    """
    if period not in _PERIODS:
        raise ParameterError("unknown cohort period", value=period, expected="'M', 'Q' or 'W'")
    if mode not in ("exact", "cumulative"):
        raise ParameterError("unknown counting mode", value=mode,
                             expected="'exact' (active in period k) or 'cumulative' (k or later)")
    if is_spark_frame(tx):  # the (cohort, k) counts aggregated by Spark
        from crmlab.spark.retention import cohort_cells

        cells, last_period = cohort_cells(tx, period, mode, customer_col, date_col)
    else:
        cells, last_period = _cohort_cells(tx, period, mode, customer_col, date_col)
    return _from_cells(cells, last_period, period, mode)


def _cohort_cells(tx: pd.DataFrame, period: str, mode: str, customer_col: str,
                  date_col: str) -> tuple[pd.Series, int]:
    """Customers per (cohort, k): active in period k (exact) or last active in period k
    (cumulative, summed from the right later); and the last period of the data."""
    tx = _known(tx, [customer_col, date_col], customer_col, date_col)
    codes, _ = pd.factorize(tx[customer_col])
    per = _period_numbers(tx[date_col], period)
    pairs = pd.DataFrame({"c": codes, "p": per}).drop_duplicates()
    first = pairs.groupby("c")["p"].transform("min")
    pairs["cohort"] = first
    pairs["k"] = pairs["p"] - first
    if mode == "cumulative":
        pairs = pairs.groupby("c").agg(cohort=("cohort", "first"), k=("k", "max"))
    return pairs.groupby(["cohort", "k"]).size(), int(per.max())


def _from_cells(cells: pd.Series, last_period: int, period: str, mode: str) -> CohortResult:
    """The cohort table from the customers per (cohort, k) (see :func:`_cohort_cells`)."""
    counts = cells.unstack(fill_value=0)
    cohorts = np.arange(int(counts.index.min()), last_period + 1)
    ks = np.arange(0, last_period - cohorts[0] + 1)
    if mode == "cumulative":
        hist = counts.reindex(columns=ks, fill_value=0)
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
