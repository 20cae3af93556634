"""The canonical transaction table: its columns and how a source maps onto them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crmlab import config
from crmlab.errors import ParameterError

CANONICAL = (
    "customer_id",
    "order_id",
    "order_ts",
    "product_id",
    "product_name",
    "quantity",
    "unit_price",
    "amount",
    "is_cancellation",
    "country",
    "channel",
    "category",
)
REQUIRED = ("customer_id", "order_id", "order_ts")
_STRING_COLS = ("customer_id", "order_id", "product_id", "product_name", "country", "channel", "category")
_NUMERIC_COLS = ("quantity", "unit_price", "amount")


@dataclass(frozen=True)
class ColumnMap:
    """How a source's columns map onto the canonical transaction table.

    Parameters
    ----------
    columns : canonical name -> source column name. ``customer_id``, ``order_id``,
        ``order_ts`` and either ``amount`` or ``quantity`` and ``unit_price`` are required.
    cancel_prefix : order numbers starting with this prefix are cancellations (Online
        Retail's "C536379"); ``None`` when the source has none.
    date_format : ``strftime`` format of ``order_ts`` (``None``: ISO 8601 or inferred).
    dayfirst : for inferred dates, read 01/02/2011 as 1 February.
    """

    columns: Mapping[str, str]
    cancel_prefix: str | None = None
    date_format: str | None = None
    dayfirst: bool = False
    optional: frozenset[str] = frozenset()
    path: Path | None = field(default=None, compare=False)


PRESETS: dict[str, ColumnMap] = {
    "online_retail": ColumnMap(
        columns={
            "order_id": "InvoiceNo",
            "product_id": "StockCode",
            "product_name": "Description",
            "quantity": "Quantity",
            "order_ts": "InvoiceDate",
            "unit_price": "UnitPrice",
            "customer_id": "CustomerID",
            "country": "Country",
        },
        cancel_prefix="C",
        path=config.ONLINE_RETAIL,
    ),
    # Already canonical (what crmlab itself writes, or a hand-made table).
    "canonical": ColumnMap(
        columns={c: c for c in CANONICAL if c != "is_cancellation"},
        optional=frozenset(CANONICAL) - set(REQUIRED),
    ),
}


def _resolve_map(columns: str | Mapping[str, str] | ColumnMap | None, source_name: str) -> ColumnMap:
    if isinstance(columns, ColumnMap):
        return columns
    if columns is None:
        return PRESETS.get(source_name, PRESETS["canonical"])
    if isinstance(columns, str):
        try:
            return PRESETS[columns]
        except KeyError:
            raise ParameterError(
                f"unknown column preset {columns!r}",
                expected="one of " + ", ".join(sorted(PRESETS)),
                fix="pass a preset name or a dict {canonical name: source column}",
            ) from None
    unknown = sorted(set(columns) - set(CANONICAL))
    if unknown:
        raise ParameterError(
            f"unknown canonical column(s) {unknown} in the column mapping",
            expected="keys among " + ", ".join(CANONICAL),
        )
    return ColumnMap(columns=dict(columns))
