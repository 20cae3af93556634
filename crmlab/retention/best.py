"""Best-customer retention: of the customers in the best segments at the start of a period,
the share still buying in it."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import pandas as pd

from crmlab.errors import DataError, ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result
from crmlab.retention._common import _PERIODS, _known
from crmlab.spark.session import is_spark_frame

__all__ = ["BestCustomerResult", "best_customer_retention"]


class BestCustomerResult(Result):
    """Retention of the top segments, period by period.

    Parameters
    ----------
    table : pandas.DataFrame
        Per period start: top_customers, retained, retention.
    top_segments : sequence of str
        The segments followed.
    period : {"M", "Q"}
    """

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


def _pandas_counter(tx: pd.DataFrame, top_segments: Sequence[str], segment_fn: Callable | None,
                    customer_col: str, date_col: str):
    """First and last order time, and ``count(start, end)``: customers in the top segments at
    ``start`` and how many of them bought in ``[start, end)``."""
    tx = _known(tx, [customer_col, date_col], customer_col, date_col)
    fn = segment_fn or _default_segments
    when = tx[date_col]
    wanted = [str(x) for x in top_segments]

    def count(s: pd.Timestamp, e: pd.Timestamp) -> tuple[int, int]:
        seg = fn(tx[when < s], s)
        top = pd.Index(seg[seg.astype(str).isin(wanted)].index)
        active = pd.Index(tx.loc[(when >= s) & (when < e), customer_col].unique())
        return int(len(top)), int(top.isin(active).sum())

    return when.min(), when.max(), count


def best_customer_retention(
    tx: pd.DataFrame,
    *,
    top_segments: Sequence[str] | None = None,
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

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical order lines (datetime ``date_col``).
    top_segments : sequence of str, optional
        The segments followed; default :data:`crmlab.segments.BEST_SEGMENTS`, the one
        definition of "best customers".
    period : {"M", "Q"}
        Length of a period.
    min_history_days : int
        History needed before the first period starts.
    segment_fn : callable, optional
        ``segment_fn(transactions_before, start)`` -> Series customer -> segment.
    customer_col, date_col : str
        Column names.

    Returns
    -------
    BestCustomerResult
        Per period start: top_customers, retained and retention.
    """
    if period not in ("M", "Q"):
        raise ParameterError("unknown period", value=period, expected="'M' or 'Q'")
    if top_segments is None:
        from crmlab import segments

        top_segments = segments.BEST_SEGMENTS
    if is_spark_frame(tx):  # segments and buyers found by Spark; two counts per period come back
        from crmlab.spark.retention import best_counter

        t0, t1, count = best_counter(tx, top_segments, segment_fn, customer_col, date_col)
    else:
        t0, t1, count = _pandas_counter(tx, top_segments, segment_fn, customer_col, date_col)
    freq = "MS" if period == "M" else "QS"
    starts = pd.date_range((t0 + pd.Timedelta(days=min_history_days)).normalize(), t1, freq=freq)
    offset = pd.DateOffset(months=1 if period == "M" else 3)
    rows = []
    for s in starts:
        e = s + offset
        if e > t1.normalize() + pd.Timedelta(days=1):
            break  # partial period at the end: not a fair retention figure
        n_top, kept = count(s, e)
        if n_top == 0:
            continue
        rows.append({"period_start": s.date(), "top_customers": n_top, "retained": kept,
                     "retention": kept / n_top})
    if not rows:
        raise DataError("no full period with top-segment customers",
                        fix="use period='M', a shorter min_history_days or a longer history")
    table = pd.DataFrame(rows).set_index("period_start")
    return BestCustomerResult(table, top_segments, period)
