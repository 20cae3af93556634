"""The one column check every analysis runs on its input."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from crmlab.errors import DataError

__all__ = ["require_columns"]

_CANONICAL_FIX = "load with crmlab.data.load_transactions (or a source file) or pass the column name"


def require_columns(frame: Any, columns: Iterable[str] | Mapping[str, str | None], *,
                    what: str = "transactions", fix: str | None = None) -> None:
    """Check that ``frame`` is a DataFrame holding ``columns``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The input to check.
    columns : iterable of str, or mapping of role -> column name
        Column names; with a mapping, each role names the column that plays it (None: not
        used) and the message names the role ("the outcome column is missing").
    what : str
        What the table holds, for the message ("transactions", "experiment data").
    fix : str, optional
        What to do; ``{role}`` and ``{column}`` are filled in. Default: for a mapping,
        "pass {role}_col= with the name of the {role} column"; otherwise load canonical data.

    Raises
    ------
    DataError
        ``frame`` is not a DataFrame, or a column is missing (the message lists the columns
        the frame has).
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a DataFrame of {what}", value=type(frame).__name__,
                        expected=f"a pandas DataFrame of {what}")
    roles = columns.items() if isinstance(columns, Mapping) else ((None, c) for c in columns)
    have = list(map(str, frame.columns))
    for role, col in roles:
        if col is None or col in frame.columns:
            continue
        if role is None:
            problem = f"{what} have no {col!r} column"
            default_fix = _CANONICAL_FIX
        else:
            problem = f"the {role} column is missing"
            default_fix = "pass {role}_col= with the name of the {role} column"
        shown = have[:20] + (["..."] if len(have) > 20 else [])
        raise DataError(problem, column=col, expected=f"one of the columns {shown}",
                        fix=(fix or default_fix).format(role=role or col, column=col))


def known_customers(tx: Any, columns: Iterable[str] = ("customer_id", "order_id", "order_ts", "amount"),
                    customer_col: str = "customer_id") -> pd.DataFrame:
    """The order lines with a known customer, after checking the columns an analysis needs.

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions (canonical, or with the named columns).
    columns : iterable of str
        Columns the analysis needs (checked with :func:`require_columns`).
    customer_col : str
        The customer-identifier column.

    Returns
    -------
    pandas.DataFrame
        The rows whose customer is known (a view-like selection; ``tx`` is not modified).

    Raises
    ------
    DataError
        A column is missing, or no row has a known customer.
    """
    require_columns(tx, [*columns, customer_col] if customer_col not in columns else columns)
    known = tx[tx[customer_col].notna()]
    if known.empty:
        raise DataError("no transactions with a known customer", column=customer_col,
                        expected="at least one order line with a customer identifier",
                        fix="check the customer column mapping, or clean the data with data.clean")
    return known
