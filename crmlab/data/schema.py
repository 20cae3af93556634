"""The canonical transaction table: its columns and how a source maps onto them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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
    optional : canonical columns that may be absent from the source.
    thousands : thousands separator in numbers ("8,920"), or None.
    decimal : decimal mark in numbers ("." or ",").
    extra : source columns carried through unchanged (segment or covariate columns).
    path : the file a preset reads.
    sep : field separator of a text file (default ","; "\\s+" for whitespace).
    names : column names of a text file without a header line.
    """

    columns: Mapping[str, str]
    cancel_prefix: str | None = None
    date_format: str | None = None
    dayfirst: bool = False
    optional: frozenset[str] = frozenset()
    path: Path | None = field(default=None, compare=False)
    thousands: str | None = None
    decimal: str = "."
    extra: tuple[str, ...] = ()
    sep: str | None = None
    names: tuple[str, ...] | None = None


#: Already canonical: what crmlab itself writes, or a hand-made table.
CANONICAL_MAP = ColumnMap(columns={c: c for c in CANONICAL if c != "is_cancellation"},
                          optional=frozenset(CANONICAL) - set(REQUIRED))


class _Presets(Mapping):
    """Column presets: the source files shipped beside the embedded data, plus ``canonical``.

    No preset is written in code: each ``data/NAME.yml`` source file of kind ``transactions``
    is one, read on first use.
    """

    def _names(self) -> list[str]:
        from crmlab.data.source import shipped_sources

        return ["canonical", *shipped_sources("transactions")]

    def __getitem__(self, name: str) -> ColumnMap:
        if name == "canonical":
            return CANONICAL_MAP
        if name not in self._names():
            raise KeyError(name)
        from crmlab.data.source import read_source

        return read_source(name).column_map()

    def __iter__(self):
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


PRESETS: Mapping[str, ColumnMap] = _Presets()


def _resolve_map(columns: str | Mapping[str, str] | ColumnMap | None, source_name: str) -> ColumnMap:
    if isinstance(columns, ColumnMap):
        return columns
    if columns is None:
        return PRESETS[source_name] if source_name in PRESETS else CANONICAL_MAP
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
