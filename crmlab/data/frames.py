"""Row counts and column totals that read the same for a pandas and a Spark DataFrame.

Notebooks count lines and sum revenue of the table a source gave them; with ``engine: spark``
that table is a Spark DataFrame, which has no ``len`` and whose columns have no ``.sum()``.
"""

from __future__ import annotations

from typing import Any

from crmlab.spark.session import is_spark_frame

__all__ = ["n_rows", "total"]


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

    value = F.when(~F.isnan(column), F.col(column))
    return float(frame.agg(F.sum(value)).first()[0] or 0.0)
