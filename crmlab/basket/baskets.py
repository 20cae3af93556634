"""Input: transactions or basket lists as a sparse basket x item matrix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from crmlab.columns import require_columns
from crmlab.errors import DataError

__all__ = ["LEVELS", "Baskets", "baskets_from", "basket_list", "incidence_matrix", "item_column", "purchases"]

#: Basket levels: a name for a canonical column, or any column of the transactions.
LEVELS = {"product": "product_id", "name": "product_name", "category": "category"}


@dataclass
class Baskets:
    """Baskets as a sparse basket x item incidence matrix with the item labels.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        One row per basket, one column per item; 1 where the basket holds the item.
    labels : pandas.Index
        The item of each column.
    excluded_rows : int
        Order lines left out because they are not purchases.
    """

    matrix: sparse.csr_matrix
    labels: pd.Index
    excluded_rows: int = 0

    @property
    def n(self) -> int:
        """Number of baskets."""
        return self.matrix.shape[0]


def incidence_matrix(basket_codes: np.ndarray, item_codes: np.ndarray, n_baskets: int,
                     n_items: int) -> sparse.csr_matrix:
    """A 0/1 basket x item matrix from (basket, item) code pairs; an item bought twice counts once.

    Parameters
    ----------
    basket_codes, item_codes : numpy.ndarray of int
        Row and column of each order line.
    n_baskets, n_items : int
        Shape of the matrix.

    Returns
    -------
    scipy.sparse.csr_matrix of int8
    """
    X = sparse.csr_matrix((np.ones(len(basket_codes), dtype=np.int32), (basket_codes, item_codes)),
                          shape=(n_baskets, n_items))
    X.sum_duplicates()
    X.data = np.ones(len(X.data), dtype=np.int8)
    return X


def item_column(frame: pd.DataFrame, level: str) -> str:
    """The column that holds the items of basket level ``level``.

    Parameters
    ----------
    frame : DataFrame
        Order lines.
    level : str
        ``"product"`` (product_id), ``"name"`` (product_name), ``"category"`` or a column name.

    Returns
    -------
    str

    Raises
    ------
    DataError
        The frame has no such column.
    """
    col = LEVELS.get(level, level)
    require_columns(frame, [col], fix="pass level= 'product' (product_id), 'name' (product_name), 'category' "
                    "or a column name, or load the data with crmlab.data.load_transactions")
    return col


def purchases(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rows that are purchases: cancellations and non-positive quantities are left out.

    Parameters
    ----------
    frame : DataFrame
        Order lines, optionally with ``is_cancellation`` and ``quantity``.

    Returns
    -------
    (DataFrame, int)
        The purchase lines and the number of lines left out.
    """
    keep = pd.Series(True, index=frame.index)
    if "is_cancellation" in frame.columns:
        keep &= ~frame["is_cancellation"].fillna(False).astype(bool)
    if "quantity" in frame.columns:
        keep &= pd.to_numeric(frame["quantity"], errors="coerce").fillna(0) > 0
    if keep.all():
        return frame, 0
    return frame.loc[keep], int((~keep).sum())


def basket_list(transactions: Any) -> list:
    """The baskets as a list of sized iterables, or a DataError that says what is wrong.

    Parameters
    ----------
    transactions : list or Series of baskets
        Each basket a list (tuple, set) of item labels.

    Returns
    -------
    list

    Raises
    ------
    DataError
        Not a list of baskets, or an empty one.
    """
    if isinstance(transactions, pd.Series):
        transactions = transactions.tolist()
    if isinstance(transactions, (str, bytes)) or not isinstance(transactions, Iterable):
        raise DataError("transactions must be a DataFrame of order lines or a list of baskets",
                        value=type(transactions).__name__,
                        expected="a DataFrame with order_id and product_id, or a list of lists of items")
    baskets = transactions if isinstance(transactions, list) else list(transactions)
    if len(baskets) == 0:
        raise DataError("the basket list is empty", expected="at least one basket",
                        fix="check the data passed to fit")
    if set(map(type, baskets)) <= {list, tuple, set, frozenset}:  # the usual case, checked fast
        return baskets
    bad = next((k for k, b in enumerate(baskets)
                if isinstance(b, (str, bytes)) or not isinstance(b, Iterable) or not hasattr(b, "__len__")), None)
    if bad is not None:
        raise DataError("each basket must be a list of items", row=bad, value=baskets[bad],
                        expected="a list of lists, e.g. [['milk', 'bread'], ['soda']]")
    return baskets


def baskets_from(transactions: Any, level: str, basket: str) -> Baskets:
    """Baskets from order lines (one basket per ``basket`` id) or from a list of baskets.

    Parameters
    ----------
    transactions : DataFrame or list of baskets
        Order lines with the ``basket`` column and the item column of ``level`` (lines that
        are not purchases are left out), or a list of item lists (missing items dropped).
    level : str
        What an item is (see :func:`item_column`).
    basket : str
        Column that identifies a basket.

    Returns
    -------
    Baskets

    Raises
    ------
    DataError
        A column is missing, or there is nothing to build baskets from.
    """
    if isinstance(transactions, pd.DataFrame):
        require_columns(transactions, [basket], fix="pass basket= the column that identifies a basket (order)")
        item_col = item_column(transactions, level)
        frame, excluded = purchases(transactions)
        frame = frame[[basket, item_col]].dropna()
        if len(frame) == 0:
            raise DataError("no purchases to build baskets from", column=item_col,
                            expected="at least one order line with a positive quantity and an item",
                            fix="check the filters applied before fitting")
        bcodes, bids = pd.factorize(frame[basket], sort=False)
        icodes, labels = pd.factorize(frame[item_col], sort=False)
        X = incidence_matrix(bcodes, icodes, len(bids), len(labels))
        return Baskets(X, pd.Index(labels), excluded)
    baskets = basket_list(transactions)
    lengths = np.fromiter(map(len, baskets), dtype=np.int64, count=len(baskets))
    flat = list(chain.from_iterable(baskets))
    icodes, labels = pd.factorize(pd.Series(flat, dtype=object), sort=False)
    bcodes = np.repeat(np.arange(len(baskets)), lengths)
    valid = icodes >= 0  # missing items (None/NaN) are dropped
    X = incidence_matrix(bcodes[valid], icodes[valid], len(baskets), len(labels))
    return Baskets(X, pd.Index(labels, dtype=object))

