"""Audited cleaning: named, switchable steps that report what each one touched."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab import dates
from crmlab.columns import require_columns
from crmlab.data.columnar import id_codes, in_threads, take_rows
from crmlab.errors import DataError
from crmlab.memo import shared
from crmlab.results import Result
from crmlab.spark.session import is_spark_frame

#: Size of the bitmap that rules lines out of the duplicate lookup (a power of two).
_BITMAP = 1 << 22

CLEANING_STEPS = {
    "cancellations": "lines of cancellation invoices",
    "non_positive_quantity": "returns and other lines with quantity <= 0",
    "non_positive_price": "lines with unit price <= 0 (free items, adjustments)",
    "unknown_customers": "lines without a customer identifier",
    "duplicates": "exact duplicate lines (same order, product, time, quantity and price)",
}


class CleanResult(Result):
    """Cleaned transactions and the audit of what each step removed.

    Parameters
    ----------
    data : pandas.DataFrame
        The cleaned order lines.
    audit : pandas.DataFrame
        One row per cleaning step and a final ``kept`` row (see :func:`clean`).

    Attributes
    ----------
    data : pandas.DataFrame
        As given.
    audit : pandas.DataFrame
        As given; also the :attr:`summary`.
    """

    title = "Cleaning audit"

    def __init__(self, data: pd.DataFrame, audit: pd.DataFrame) -> None:
        self.data = data
        self.audit = audit

    @property
    def summary(self) -> pd.DataFrame:
        return self.audit

    def to_dict(self) -> dict[str, Any]:
        d = {f"removed_{r.step}": int(r.rows) for r in self.audit.itertuples() if r.step != "kept"}
        d["rows_kept"] = int(len(self.data))
        return d


def _exact_duplicates(tx: pd.DataFrame, codes: dict[str, np.ndarray]) -> np.ndarray:
    """Rows identical to an earlier row in every column (exact).

    Two identical lines share their order and product, so only lines whose (order, product)
    pair occurs more than once are compared in full: integer codes instead of hashing every
    column of every line, and the full comparison touches a small subset.
    """
    order_codes, product_codes = codes["order_id"], codes.get("product_id")
    if product_codes is not None:  # order * (products + 1) + product + 1, in place: one array
        key = order_codes.astype(np.int64)
        key *= int(product_codes.max(initial=0)) + 2
        key += product_codes
        key += 1
    else:
        key = order_codes
    idx = np.flatnonzero(_repeated(key))
    out = np.zeros(len(tx), dtype=bool)
    if len(idx):
        out[idx] = _duplicated_rows(tx, idx, codes)
    return out


def _duplicated_rows(tx: pd.DataFrame, idx: np.ndarray, codes: dict[str, np.ndarray]) -> np.ndarray:
    """``tx.iloc[idx].duplicated()``, with the ID columns compared by their codes and the other
    text (product names: long, and slow to gather from millions of lines) only for the rows
    that repeat in every other column."""
    text = [i for i, c in enumerate(tx.columns) if c not in codes and pd.api.types.is_string_dtype(tx.dtypes.iloc[i])]

    def part(positions: list[int], rows: np.ndarray) -> pd.DataFrame:
        def column(i: int) -> Any:
            return codes[tx.columns[i]][rows] if tx.columns[i] in codes else tx.iloc[:, i].array.take(rows)

        # text lines lie all over a long column: gathered side by side (Arrow releases the GIL)
        taken = in_threads(*(lambda i=i: column(i) for i in positions)) if len(rows) > 10_000 else map(column, positions)
        return pd.DataFrame(dict(zip(positions, taken)), copy=False)

    rest = [i for i in range(tx.shape[1]) if i not in text]
    first = part(rest, idx)
    if not text:
        return first.duplicated(keep="first").to_numpy()
    again = first.duplicated(keep=False).to_numpy()  # repeats on all but the other text columns
    out = np.zeros(len(idx), dtype=bool)
    sub = np.flatnonzero(again)
    if len(sub):
        full = pd.concat([first.iloc[sub].reset_index(drop=True), part(text, idx[sub])], axis=1)
        out[sub] = full.duplicated(keep="first").to_numpy()
    return out


def _repeated(key: np.ndarray) -> np.ndarray:
    """Which entries of an integer array occur more than once (sorting beats hashing here).

    The repeated values come from the sorted copy; which lines hold one is then looked up for
    the few lines whose low bits match a repeated value's (a bitmap of 4 M bits), not for
    every line: the search over all 5.4 M lines was half the time of the whole check.
    """
    s = np.sort(key)
    twice = s[1:][s[1:] == s[:-1]]
    del s
    if not len(twice):
        return np.zeros(len(key), dtype=bool)
    bits = np.zeros(_BITMAP, dtype=bool)
    bits[twice & (_BITMAP - 1)] = True
    maybe = np.flatnonzero(bits[key & (_BITMAP - 1)])
    out = np.zeros(len(key), dtype=bool)
    candidates = key[maybe]
    pos = np.minimum(np.searchsorted(twice, candidates), len(twice) - 1)
    out[maybe] = twice[pos] == candidates
    return out


def _distinct(codes: np.ndarray, size: int, *, with_missing: bool) -> int:
    """Number of distinct codes (factorize codes, -1 missing; counted as one value if asked)."""
    seen = np.zeros(size + 1, dtype=bool)
    seen[codes + 1] = True
    return int(seen[1:].sum()) + int(with_missing and seen[0])


def _step_hits(tx: pd.DataFrame, step: str, codes: dict[str, np.ndarray]) -> np.ndarray:
    """The lines a cleaning step would remove (before the earlier steps are taken out)."""
    if step == "cancellations":
        return tx["is_cancellation"].to_numpy(dtype=bool) if "is_cancellation" in tx else np.zeros(len(tx), bool)
    if step == "non_positive_quantity":
        return ~(tx["quantity"].to_numpy() > 0)
    if step == "non_positive_price":
        return ~(tx["unit_price"].to_numpy() > 0)
    if step == "unknown_customers":
        return codes["customer_id"] < 0
    return _exact_duplicates(tx, codes)


def _refuse_empty(tx: pd.DataFrame, rows: list[dict[str, Any]]) -> None:
    """Cleaning removed every line: say which steps did, so the cause is not a later, vaguer error."""
    applied = [r for r in rows if r["applied"] and r["rows"]]
    detail = "; ".join(f"{r['step'].replace('_', ' ')} removed {r['rows']:,}" for r in applied)
    raise DataError(f"cleaning removed every line ({detail})", file=tx.attrs.get("source"),
                    column="unit_price" if any(r["step"] == "non_positive_price" for r in applied) else None,
                    expected="some lines that pass every cleaning step",
                    fix="check the column mapping (prices, quantities, customer IDs), or switch the step off")


@shared("clean")
def clean(
    tx: pd.DataFrame,
    *,
    cancellations: bool = True,
    non_positive_quantity: bool = True,
    non_positive_price: bool = True,
    unknown_customers: bool = True,
    duplicates: bool = True,
) -> CleanResult:
    """Apply the named cleaning steps in order and report what each touched.

    Each step is a switch; a step that is off is listed in the audit with ``applied=False``
    and the rows it *would* have removed, so nothing is dropped silently and nothing is
    hidden. Steps run in the order of the arguments; each counts only rows still present.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical transactions with order_id, quantity, unit_price, amount and customer_id
        (``is_cancellation`` is used when present).
    cancellations : bool
        Remove lines of cancellation invoices.
    non_positive_quantity : bool
        Remove returns and other lines with quantity <= 0.
    non_positive_price : bool
        Remove lines with unit price <= 0 (free items, adjustments).
    unknown_customers : bool
        Remove lines without a customer identifier.
    duplicates : bool
        Remove exact duplicate lines (identical in every column to an earlier line).

    Returns
    -------
    CleanResult
        With ``.data`` (a new DataFrame; ``tx`` is not modified) and ``.audit``: one row per
        step with ``rows``, ``share_of_rows``, ``revenue`` (sum of ``amount``), ``orders``
        and ``customers`` touched, and a final ``kept`` row.

    Raises
    ------
    DataError
        When ``tx`` is not a DataFrame or lacks one of the required columns.
    """
    if is_spark_frame(tx):  # the same steps counted by Spark (crmlab.spark)
        from crmlab.spark.clean import clean as spark_clean

        return spark_clean(tx, cancellations=cancellations, non_positive_quantity=non_positive_quantity,
                           non_positive_price=non_positive_price, unknown_customers=unknown_customers,
                           duplicates=duplicates)
    require_columns(tx, ("order_id", "quantity", "unit_price", "amount", "customer_id"))
    switches = dict(zip(CLEANING_STEPS, (cancellations, non_positive_quantity, non_positive_price,
                                         unknown_customers, duplicates)))
    n0 = len(tx)
    keep = np.ones(n0, dtype=bool)
    amount = tx["amount"].to_numpy(dtype=float, na_value=np.nan)
    amount = np.where(np.isnan(amount), 0.0, amount)  # nansum's own NaN-free copy, made once for all six sums
    keys = [c for c in ("order_id", "customer_id", "product_id") if c in tx]  # codes kept from the mapping,
    factorized = dict(zip(keys, in_threads(*(lambda c=c: id_codes(tx[c]) for c in keys))))  # else hashed
    (order_codes, orders), (cust_codes, custs) = factorized["order_id"], factorized["customer_id"]  # -1: unknown
    codes = {c: found[0] for c, found in factorized.items()}

    def touched(mask: np.ndarray) -> dict[str, Any]:
        return {
            "rows": int(mask.sum()),
            "share_of_rows": mask.sum() / n0 if n0 else 0.0,
            "revenue": float(np.sum(amount, where=mask)),
            "orders": _distinct(order_codes[mask], len(orders), with_missing=True),
            "customers": _distinct(cust_codes[mask], len(custs), with_missing=False),
        }

    rows = []
    for step, on in switches.items():
        hit = _step_hits(tx, step, codes) & keep
        rows.append({"step": step, "applied": on, "description": CLEANING_STEPS[step], **touched(hit)})
        if on:
            keep &= ~hit
    if n0 and not keep.any():
        _refuse_empty(tx, rows)
    data = take_rows(tx, keep)
    rows.append({"step": "kept", "applied": True, "description": "lines kept for analysis", **touched(keep)})
    return CleanResult(data, pd.DataFrame(rows))


def before(tx: pd.DataFrame, as_of: str | pd.Timestamp | None) -> pd.DataFrame:
    """Order lines strictly before ``as_of`` (all of them when ``as_of`` is None or empty).

    The cut-off rule of :func:`crmlab.dates.cutoff`: a dated run sees the data as it was at
    the start of that day, so two runs can be compared.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical transactions.
    as_of : str, Timestamp or None
        The report date.

    Returns
    -------
    pandas.DataFrame
    """
    if dates.parse_as_of(as_of) is None:
        return tx
    return dates.cutoff(tx, as_of)[0]
