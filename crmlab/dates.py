"""The one cut-off rule: what a report date (``as_of``) means.

A report dated ``as_of`` sees the data as it was at the start of that day: order lines
*strictly before* ``as_of`` count, later ones do not exist yet. Every module that takes
``as_of`` (data, segments, customers, retention, ltv, the notebooks) applies it through
:func:`cutoff`, so two analyses of one report date always agree on which orders count.

Two derived dates follow from it and are defined here only:

- recency is measured from ``as_of`` itself (an order on the day before is 1 day old);
- the purchase models' inclusive observation end is the last whole day before it
  (:func:`observation_end`), because their time axis counts whole days or weeks.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab.errors import DataError, ParameterError
from crmlab.spark.session import is_spark_frame

__all__ = ["parse_as_of", "cutoff", "observation_end", "default_as_of"]


def parse_as_of(as_of: Any) -> pd.Timestamp | None:
    """A report date as a timezone-naive midnight Timestamp, or None when not given.

    Parameters
    ----------
    as_of : str, date, Timestamp or None
        ``"YYYY-MM-DD"`` (a time of day is dropped); None or an empty string mean "no cut-off".

    Returns
    -------
    pandas.Timestamp or None

    Raises
    ------
    ParameterError
        When the value is not a calendar date.
    """
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        return None
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError, OverflowError):
        raise ParameterError("as_of is not a date", value=str(as_of), expected="a date YYYY-MM-DD",
                             fix="give the report date as YYYY-MM-DD, for example 2011-09-01") from None
    if ts is pd.NaT or pd.isna(ts):
        raise ParameterError("as_of is not a date", value=str(as_of), expected="a date YYYY-MM-DD")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def default_as_of(dates: pd.Series) -> pd.Timestamp:
    """The report date when none is given: the day after the last order.

    Parameters
    ----------
    dates : pandas.Series of datetime64
        Order timestamps.

    Returns
    -------
    pandas.Timestamp
    """
    return pd.Timestamp(dates.max()).normalize() + pd.Timedelta(days=1)


def cutoff(tx: pd.DataFrame, as_of: Any, date_col: str = "order_ts") -> tuple[pd.DataFrame, pd.Timestamp]:
    """Apply the report date: the order lines strictly before ``as_of``, and ``as_of`` itself.

    Parameters
    ----------
    tx : pandas.DataFrame
        Order lines with a datetime column ``date_col``.
    as_of : str, Timestamp or None
        The report date; None or "" means the day after the last order (every line counts).
    date_col : str
        The order-date column.

    Returns
    -------
    (pandas.DataFrame, pandas.Timestamp)
        The lines that count (index reset, ``attrs`` kept) and the report date as a Timestamp.

    Raises
    ------
    ParameterError
        ``as_of`` is not a date.
    DataError
        No order line lies before ``as_of``.
    """
    if is_spark_frame(tx):  # filtered by Spark (crmlab.spark)
        from crmlab.spark.segments import spark_cutoff

        return spark_cutoff(tx, as_of, date_col)
    ts = parse_as_of(as_of)
    dates = tx[date_col]
    if ts is None:
        if tx.empty or dates.isna().all():
            raise DataError("no dated transactions", column=date_col,
                            expected="at least one order line with a date")
        return tx, default_as_of(dates)
    if tx.empty or not (dates < ts).any():
        first = None if tx.empty or dates.isna().all() else pd.Timestamp(dates.min()).date()
        raise DataError(f"no transactions before as_of={ts.date()}", column=date_col, value=str(as_of),
                        expected=f"a date after the first order ({first})", fix="choose a later as_of")
    if (dates < ts).all():
        return tx, ts
    from crmlab.data.columnar import take_rows  # crmlab.data imports this module

    return take_rows(tx, (dates < ts).to_numpy()), ts


def observation_end(as_of: pd.Timestamp) -> pd.Timestamp:
    """The last whole day that counts for a report dated ``as_of`` (``as_of - 1 day``).

    Purchase-model summaries count periods up to and including their observation end, so
    the report date translates into the day before it.

    Parameters
    ----------
    as_of : pandas.Timestamp

    Returns
    -------
    pandas.Timestamp
    """
    return pd.Timestamp(as_of).normalize() - pd.Timedelta(days=1)
