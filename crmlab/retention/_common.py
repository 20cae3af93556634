"""Shared ground of the retention analyses: the input check and calendar periods."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from crmlab.columns import require_columns
from crmlab.errors import DataError

_PERIODS = {"W": "weeks", "M": "months", "Q": "quarters"}


def _known(tx: pd.DataFrame, columns: Sequence[str], customer_col: str, date_col: str) -> pd.DataFrame:
    """The order lines of known customers, after the shared column check."""
    require_columns(tx, columns)
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
