"""Row counts, totals, distinct counts and first/last values that read the same for a pandas and
a Spark DataFrame, and a per-customer Spark table collected as its pandas twin.

Notebooks count lines and sum revenue of the table a source gave them; with ``engine: spark``
that table is a Spark DataFrame, which has no ``len`` and whose columns have no ``.sum()``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from crmlab.spark.session import is_spark_frame

__all__ = ["n_rows", "total", "distinct_count", "first_last", "to_pandas"]


def n_rows(frame: Any) -> int:
    """Number of rows (Spark counts them).

    Parameters
    ----------
    frame : pandas.DataFrame or pyspark.sql.DataFrame

    Returns
    -------
    int
    """
    return int(frame.count()) if is_spark_frame(frame) else len(frame)


def total(frame: Any, column: str) -> float:
    """Sum of a numeric column, missing values (and NaN) skipped as pandas skips them.

    Parameters
    ----------
    frame : pandas.DataFrame or pyspark.sql.DataFrame
    column : str

    Returns
    -------
    float
        0.0 for an empty frame.
    """
    if not is_spark_frame(frame):
        return float(frame[column].sum())
    from pyspark.sql import functions as F

    from crmlab.spark.data import not_nan

    return float(frame.agg(F.sum(not_nan(column))).first()[0] or 0.0)


def distinct_count(frame: Any, column: str) -> int:
    """Number of distinct non-missing values of a column (Spark counts them).

    Parameters
    ----------
    frame : pandas.DataFrame or pyspark.sql.DataFrame
    column : str

    Returns
    -------
    int
    """
    if not is_spark_frame(frame):
        return int(frame[column].nunique())
    from pyspark.sql import functions as F

    return int(frame.agg(F.count_distinct(column)).first()[0])


def first_last(frame: Any, column: str) -> tuple[Any, Any]:
    """The smallest and largest value of a column (dates: the first and last order).

    Parameters
    ----------
    frame : pandas.DataFrame or pyspark.sql.DataFrame
    column : str

    Returns
    -------
    (value, value)
        Timestamps for a datetime column; None when the column has no value.
    """
    if not is_spark_frame(frame):
        col = frame[column].dropna()
        return (col.min(), col.max()) if len(col) else (None, None)
    from pyspark.sql import functions as F

    row = frame.agg(F.min(column), F.max(column)).first()
    wrap = pd.Timestamp if isinstance(row[0], (datetime, date)) else (lambda v: v)
    return tuple(None if v is None else wrap(v) for v in row)


def to_pandas(frame: Any, index: str | None = None) -> pd.DataFrame:
    """A pandas DataFrame as it is; a Spark one collected (for per-customer tables, not order lines).

    Parameters
    ----------
    frame : pandas.DataFrame or pyspark.sql.DataFrame
    index : str, optional
        Column of a Spark frame that becomes the (sorted) index, as the pandas twin has it.

    Returns
    -------
    pandas.DataFrame
        With the ``attrs`` the Spark frame carried (unit, observation end).
    """
    if not is_spark_frame(frame):
        return frame
    from crmlab.spark.data import attrs_of

    out = frame.toPandas()
    if index is not None:
        out = out.set_index(index).sort_index()
        out.index = out.index.astype("string")
    out.attrs.update({k: v for k, v in attrs_of(frame).items() if isinstance(v, (str, int, float))})
    return out
