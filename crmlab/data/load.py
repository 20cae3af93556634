"""The front door: load order lines from a source into the canonical transaction table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from crmlab.data import sql as _sql
from crmlab.data.parse import _map_columns
from crmlab.data.read import _read_source
from crmlab.data.schema import PRESETS, ColumnMap, _resolve_map

def load_transactions(
    source: str | Path = "online_retail",
    columns: str | Mapping[str, str] | ColumnMap | None = None,
    *,
    table: str | None = None,
    query: str | None = None,
    encoding: str | None = None,
    sheet_name: str | int = 0,
    params: Mapping[str, Any] | None = None,
    as_of: Any = None,
) -> pd.DataFrame:
    """Load order lines from any source into the canonical transaction table.

    Parameters
    ----------
    source : a preset name (``"online_retail"``: the embedded UCI Online Retail data), a
        path to a CSV (optionally gzip-compressed), Parquet or Excel file, or a SQLAlchemy URL
        (``"sqlite:///shop.db"``, ``"postgresql://user@host/db"``) with ``table`` or ``query``.
    columns : a preset name, a dict ``{canonical name: source column}`` or a
        :class:`ColumnMap`. Defaults to the preset of the same name as ``source``, else the
        canonical names themselves.
    params : bind parameters of a ``query`` (database sources).
    as_of : report date; for a database it is pushed into the SQL (``order_ts < as_of``).
    encoding : text encoding of a CSV. By default UTF-8, falling back to CP949 (which reads
        EUC-KR too) when the file is not UTF-8.

    Returns
    -------
    DataFrame with the canonical columns (see the module docstring); ``df.attrs["source"]``
    names where it came from. The source is never modified.

    Raises
    ------
    DataError : missing file, empty file, undecodable text, missing columns, or a value that
        cannot be parsed; the message names the file, the column and the first bad row.
    """
    name = str(source)
    cmap = _resolve_map(columns, name)
    if _sql.is_sql_source(source):  # a URL, Engine or Connection: read-only, work pushed into SQL
        return _sql.load_sql_transactions(source, cmap, table=table, query=query, params=params, as_of=as_of)
    if name in PRESETS and PRESETS[name].path is not None and not Path(name).exists():
        source = PRESETS[name].path
    raw, display, offset = _read_source(
        source, cmap=cmap, table=table, query=query, encoding=encoding, sheet_name=sheet_name
    )
    out = _map_columns(raw, cmap, display, offset)
    out.attrs["source"] = display
    return out
