"""Readers for the embedded non-transaction data sets (an e-mail test, basket lists)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crmlab import config
from crmlab.errors import DataError

HILLSTROM_COLUMNS = (
    "recency", "history_segment", "history", "mens", "womens", "zip_code",
    "newbie", "channel", "segment", "visit", "conversion", "spend",
)


def load_hillstrom(path: str | Path | None = None) -> pd.DataFrame:
    """Kevin Hillstrom's MineThatData e-mail test (64,000 customers, three randomised arms).

    The arm is in ``segment`` (Mens E-Mail, Womens E-Mail, No E-Mail); outcomes ``visit``,
    ``conversion``, ``spend`` over two weeks; pre-period ``recency``, ``history``, ``channel``...

    Parameters
    ----------
    path : str or Path, optional
        CSV file (gzip allowed); default the embedded copy (``config.HILLSTROM``).

    Returns
    -------
    pandas.DataFrame
        One row per customer, with at least the columns of ``HILLSTROM_COLUMNS``.

    Raises
    ------
    DataError
        When the file does not exist or lacks one of the expected columns.
    """
    path = Path(path) if path is not None else config.HILLSTROM
    if not path.exists():
        raise DataError("file not found", file=path, fix="check the path")
    df = pd.read_csv(path)
    missing = [c for c in HILLSTROM_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            f"missing required column(s): {', '.join(missing)}", file=path, column=missing[0],
            expected="the MineThatData e-mail test columns " + ", ".join(HILLSTROM_COLUMNS),
        )
    return df


def load_groceries(path: str | Path | None = None) -> list[list[str]]:
    """The Groceries baskets (R arules): one basket a line, items comma-separated.

    Parameters
    ----------
    path : str or Path, optional
        Text file (UTF-8); default the embedded copy (``config.GROCERIES``).

    Returns
    -------
    list of list of str
        One list of item names per non-empty basket, in file order.

    Raises
    ------
    DataError
        When the file does not exist or holds no basket.
    """
    path = Path(path) if path is not None else config.GROCERIES
    if not path.exists():
        raise DataError("file not found", file=path, fix="check the path")
    with open(path, encoding="utf-8") as fh:
        baskets = [[i.strip() for i in line.rstrip("\n").split(",") if i.strip()] for line in fh]
    baskets = [b for b in baskets if b]
    if not baskets:
        raise DataError("the file has no baskets", file=path, expected="one basket a line")
    return baskets
