"""Customer data in, one canonical transaction table out.

Every analysis in crmlab starts from the same table, one row per order line:

==============  ==============================================================
customer_id     string, ``<NA>`` when the customer is unknown
order_id        string (invoice / basket / receipt number)
order_ts        datetime64[ns]
product_id      string (SKU, stock code)
product_name    string
quantity        float64
unit_price      float64
amount          float64, ``quantity * unit_price`` (line revenue)
is_cancellation bool, the line belongs to a cancellation invoice
country         string (optional in the source)
channel         string (optional: online, store, call centre ...)
category        string (optional: product category)
==============  ==============================================================

:func:`load_transactions` reads CSV (also gzip; UTF-8, and CP949/EUC-KR as Korean exports
are), Parquet, Excel or a SQL database (SQLAlchemy URL plus table or query) and maps the
source columns onto the canonical ones, with presets for the embedded data sets.
:func:`clean` applies named, audited cleaning steps. The raw files are only ever read.
"""

from __future__ import annotations

import codecs
import gzip
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmlab import config
from crmlab.errors import DataError, ParameterError
from crmlab.results import Result, display_table

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


# ---------------------------------------------------------------------------------- reading


def _is_sql_url(source: str) -> bool:
    return "://" in source and not source.startswith("file://")


def _sniff_encoding(path: Path) -> str:
    """UTF-8 if the first MiB decodes as UTF-8, else CP949 (a superset of EUC-KR)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        head = fh.read(1 << 20)
    for enc in ("utf-8-sig", "cp949"):
        try:
            codecs.getincrementaldecoder(enc)().decode(head, final=False)
            return enc
        except UnicodeDecodeError:
            continue
    bad = _first_undecodable(head)
    raise DataError(
        "cannot decode the file as UTF-8 or CP949/EUC-KR",
        file=path,
        row=bad,
        expected="a UTF-8 or CP949/EUC-KR text file",
        fix="re-export as UTF-8, or pass encoding=... (e.g. 'latin-1')",
    )


def _first_undecodable(head: bytes) -> int | None:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return head[: exc.start].count(b"\n") + 1
    return None


def _read_csv(path: Path, encoding: str | None, usecols: list[str] | None, string_cols: list[str]) -> pd.DataFrame:
    enc = encoding or _sniff_encoding(path)
    dtype = {c: "string" for c in string_cols}
    try:
        header = pd.read_csv(path, nrows=0, encoding=enc, sep=None if path.suffix == ".tsv" else ",")
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty", file=path, expected="a header line and at least one row") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"cannot decode the file as {enc}", file=path, fix="pass encoding=... matching the export"
        ) from exc
    cols = [c for c in (usecols or header.columns) if c in header.columns]
    sep = "\t" if path.suffix == ".tsv" or path.name.endswith(".tsv.gz") else ","
    try:
        if enc.replace("-", "").lower().startswith("utf8"):
            return pd.read_csv(path, usecols=cols, dtype=dtype, engine="pyarrow", sep=sep)
        return pd.read_csv(path, usecols=cols, dtype=dtype, encoding=enc, sep=sep)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"cannot decode the file as {enc} past its first MiB",
            file=path,
            fix="re-export as UTF-8, or pass encoding=...",
        ) from exc
    except Exception as exc:  # pyarrow reports bad UTF-8 and ragged rows as ArrowInvalid
        msg = str(exc).splitlines()[0]
        if "UTF8" in msg or "utf-8" in msg.lower():
            raise DataError(
                "the file is not valid UTF-8 past its first MiB",
                file=path,
                fix="re-export as UTF-8, or pass encoding=...",
            ) from exc
        raise DataError(f"cannot parse the file: {msg}", file=path, expected="a comma-separated file") from exc


def _read_source(
    source: str | Path,
    *,
    cmap: ColumnMap,
    table: str | None,
    query: str | None,
    encoding: str | None,
    sheet_name: str | int,
) -> tuple[pd.DataFrame, str, int]:
    """Return (raw frame, display name, row offset of the first data row)."""
    wanted = list(dict.fromkeys(cmap.columns.values()))
    string_cols = [cmap.columns[c] for c in _STRING_COLS if c in cmap.columns]
    if isinstance(source, str) and _is_sql_url(source):
        return _read_sql(source, table=table, query=query), (table or "query"), 1
    path = Path(source)
    if not path.exists():
        raise DataError(
            "file not found",
            file=path,
            expected="an existing CSV, Parquet or Excel file, a preset name or a SQLAlchemy URL",
            fix="check the path (relative paths are taken from the working directory)",
        )
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        raw = pd.read_parquet(path)
        offset = 1
    elif name.endswith((".xlsx", ".xlsm", ".xls")):
        raw = pd.read_excel(path, sheet_name=sheet_name, dtype={c: str for c in string_cols})
        offset = 2
    else:
        raw = _read_csv(path, encoding, wanted, string_cols)
        offset = 2
    return raw, _display_name(path), offset


def _display_name(path: Path) -> str:
    """The path as the user should see it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(config.ROOT))
    except ValueError:
        return str(path)


def _read_sql(url: str, *, table: str | None, query: str | None) -> pd.DataFrame:
    import sqlalchemy as sa

    if (table is None) == (query is None):
        raise ParameterError(
            "a database source needs exactly one of table= or query=",
            file=url.split("@")[-1],
            fix="load_transactions(url, table='orders') or query='select ...'",
        )
    try:
        engine = sa.create_engine(url)
    except Exception as exc:
        raise DataError(f"cannot open the database: {exc}", file=url.split("@")[-1]) from exc
    try:
        with engine.connect() as conn:
            if table is not None:
                return pd.read_sql_table(table, conn)
            return pd.read_sql_query(sa.text(query), conn)
    except ValueError as exc:
        raise DataError(f"{exc}", file=url.split("@")[-1], fix="check the table name") from exc
    except sa.exc.SQLAlchemyError as exc:
        raise DataError(
            f"the database refused the request: {str(exc).splitlines()[0]}", file=url.split("@")[-1]
        ) from exc
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------- mapping


def _bad_example(raw: pd.Series, parsed: pd.Series, offset: int) -> tuple[int, Any] | None:
    bad = parsed.isna().to_numpy() & raw.notna().to_numpy()
    if isinstance(raw.dtype, pd.StringDtype) or raw.dtype == object:
        bad &= (raw.astype("string").str.strip() != "").fillna(False).to_numpy()
    if not bad.any():
        return None
    pos = int(np.flatnonzero(bad)[0])
    return pos + offset, raw.iloc[pos]


def _refuse_unparsed(raw: pd.Series, parsed: pd.Series, offset: int, problem: str, file: str,
                     column: str, *, expected: str, fix: str) -> None:
    """Raise a DataError naming the first value that was given but could not be parsed."""
    bad = _bad_example(raw, parsed, offset)
    if bad is not None:
        raise DataError(problem, file=file, column=column, row=bad[0], value=bad[1], expected=expected, fix=fix)


def _to_number(raw: pd.Series, column: str, file: str, offset: int) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    parsed = pd.to_numeric(raw, errors="coerce")
    _refuse_unparsed(
        raw, parsed, offset, "value is not a number", file, column,
        expected="plain numbers like 12 or 2.55 (no currency signs or thousands separators)",
        fix="clean the column in the export, or map another column",
    )
    return parsed.astype("float64")


def _to_datetime(raw: pd.Series, column: str, file: str, offset: int, cmap: ColumnMap) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    else:
        kwargs: dict[str, Any] = {"errors": "coerce"}
        if cmap.date_format:
            kwargs["format"] = cmap.date_format
        else:
            kwargs["dayfirst"] = cmap.dayfirst
        parsed = pd.to_datetime(raw, **kwargs)
        _refuse_unparsed(
            raw, parsed, offset, "value is not a date", file, column,
            expected=f"dates in one format ({cmap.date_format or 'e.g. 2011-01-31 08:26:00'})",
            fix="pass a ColumnMap with date_format=... matching the export",
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    return parsed.astype("datetime64[ns]")


def _to_id(raw: pd.Series) -> pd.Series:
    """Identifiers as strings; '17850.0' (an ID that went through a float) becomes '17850'."""
    if pd.api.types.is_float_dtype(raw):
        ids = raw.astype("Int64").astype("string")
    else:
        ids = raw.astype("string").str.strip()
        ids = ids.mask(ids == "")
        if ids.str.endswith(".0").fillna(True).all() and ids.notna().any():
            ids = ids.str.slice(stop=-2)
    return ids


def _map_columns(raw: pd.DataFrame, cmap: ColumnMap, file: str, offset: int) -> pd.DataFrame:
    cols = {k: v for k, v in cmap.columns.items() if v in raw.columns or k not in cmap.optional}
    missing = [f"{canon} (from {src!r})" for canon, src in cols.items() if src not in raw.columns]
    need = [c for c in REQUIRED if c not in cols]
    if "amount" not in cols and not {"quantity", "unit_price"} <= set(cols):
        need += [c for c in ("quantity", "unit_price") if c not in cols]
    if need:
        src = [cmap.columns.get(c, c) for c in need]
        raise DataError(
            f"missing required column(s): {', '.join(src)}"
            + (" (or one 'amount' column)" if {"quantity", "unit_price"} & set(need) else ""),
            file=file,
            column=src[0],
            expected=f"columns for {', '.join(REQUIRED)} and amount or quantity+unit_price",
            fix=f"the file has {', '.join(map(repr, list(raw.columns)[:20]))}; "
            "pass columns={'customer_id': 'YourCustomerColumn', ...} or a preset",
        )
    if missing:
        raise DataError(
            f"missing required column(s): {', '.join(missing)}",
            file=file,
            column=cols[[c for c in cols if cols[c] not in raw.columns][0]],
            expected="columns " + ", ".join(repr(v) for v in cols.values()),
            fix=f"the file has {', '.join(map(repr, list(raw.columns)[:20]))}; pass columns= to map them",
        )
    if len(raw) == 0:
        raise DataError("the table has a header but no rows", file=file, expected="at least one row")

    raw = raw.reset_index(drop=True)
    out = pd.DataFrame(index=raw.index)
    na_str = pd.Series(pd.NA, index=raw.index, dtype="string")
    for canon in ("customer_id", "order_id", "product_id"):
        out[canon] = _to_id(raw[cols[canon]]) if canon in cols else na_str
    out["order_ts"] = _to_datetime(raw[cols["order_ts"]], cols["order_ts"], file, offset, cmap)
    out["product_name"] = raw[cols["product_name"]].astype("string") if "product_name" in cols else na_str
    if "quantity" in cols:
        out["quantity"] = _to_number(raw[cols["quantity"]], cols["quantity"], file, offset)
    else:
        out["quantity"] = 1.0
    if "unit_price" in cols:
        out["unit_price"] = _to_number(raw[cols["unit_price"]], cols["unit_price"], file, offset)
    if "amount" in cols:
        out["amount"] = _to_number(raw[cols["amount"]], cols["amount"], file, offset)
        if "unit_price" not in cols:
            with np.errstate(divide="ignore", invalid="ignore"):
                out["unit_price"] = out["amount"] / out["quantity"]
    else:
        out["amount"] = out["quantity"] * out["unit_price"]
    out = out[[c for c in CANONICAL if c in out.columns]]
    if cmap.cancel_prefix:
        out["is_cancellation"] = out["order_id"].str.startswith(cmap.cancel_prefix).fillna(False).astype(bool)
    else:
        out["is_cancellation"] = False
    for opt in ("country", "channel", "category"):
        if opt in cols:
            out[opt] = raw[cols[opt]].astype("string")
    bad_id = out["order_id"].isna().to_numpy()
    if bad_id.any():
        pos = int(np.flatnonzero(bad_id)[0])
        raise DataError(
            "order number is missing",
            file=file,
            column=cols["order_id"],
            row=pos + offset,
            expected="every line to belong to an order",
        )
    return out


def load_transactions(
    source: str | Path = "online_retail",
    columns: str | Mapping[str, str] | ColumnMap | None = None,
    *,
    table: str | None = None,
    query: str | None = None,
    encoding: str | None = None,
    sheet_name: str | int = 0,
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
    if name in PRESETS and PRESETS[name].path is not None and not Path(name).exists():
        source = PRESETS[name].path
    raw, display, offset = _read_source(
        source, cmap=cmap, table=table, query=query, encoding=encoding, sheet_name=sheet_name
    )
    out = _map_columns(raw, cmap, display, offset)
    out.attrs["source"] = display
    return out


def require_columns(tx: Any, columns: Sequence[str]) -> None:
    """Check that ``tx`` is a DataFrame with the canonical ``columns``; the one check every
    analysis runs on its input, so the message is the same everywhere."""
    if not isinstance(tx, pd.DataFrame):
        raise DataError("expected a DataFrame of transactions", value=type(tx).__name__)
    for col in columns:
        if col not in tx.columns:
            raise DataError(f"transactions have no {col!r} column", column=col,
                            expected="canonical transactions from crmlab.data.load_transactions",
                            fix="load with data.load_transactions or pass the column name")


# ---------------------------------------------------------------------------------- cleaning

CLEANING_STEPS = {
    "cancellations": "lines of cancellation invoices",
    "non_positive_quantity": "returns and other lines with quantity <= 0",
    "non_positive_price": "lines with unit price <= 0 (free items, adjustments)",
    "unknown_customers": "lines without a customer identifier",
    "duplicates": "exact duplicate lines (same order, product, time, quantity and price)",
}


class CleanResult(Result):
    """Cleaned transactions and the audit of what each step removed."""

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


def _exact_duplicates(tx: pd.DataFrame) -> np.ndarray:
    """Rows identical to an earlier row in every column (exact, hash-accelerated).

    Rows are hashed first; only rows whose hash occurs more than once are compared in full,
    so the answer is exact and the full comparison touches a small subset.
    """
    h = pd.util.hash_pandas_object(tx, index=False).to_numpy()
    cand = pd.Series(h).duplicated(keep=False).to_numpy()
    out = np.zeros(len(tx), dtype=bool)
    idx = np.flatnonzero(cand)
    if len(idx):
        out[idx] = tx.iloc[idx].duplicated(keep="first").to_numpy()
    return out


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

    Returns
    -------
    CleanResult with ``.data`` (a new DataFrame; ``tx`` is not modified) and ``.audit``:
    one row per step with ``rows``, ``share_of_rows``, ``revenue`` (sum of ``amount``),
    ``orders`` and ``customers`` touched, and a final ``kept`` row.
    """
    missing = [c for c in ("order_id", "quantity", "unit_price", "amount", "customer_id") if c not in tx.columns]
    if missing:
        raise DataError(
            f"not a canonical transaction table: missing {missing}",
            expected="the output of crmlab.data.load_transactions",
        )
    switches = {
        "cancellations": cancellations,
        "non_positive_quantity": non_positive_quantity,
        "non_positive_price": non_positive_price,
        "unknown_customers": unknown_customers,
        "duplicates": duplicates,
    }
    n0 = len(tx)
    keep = np.ones(n0, dtype=bool)
    amount = tx["amount"].to_numpy(dtype=float, na_value=np.nan)
    order_codes = pd.factorize(tx["order_id"])[0]
    cust_codes = pd.factorize(tx["customer_id"])[0]  # -1 for unknown

    def touched(mask: np.ndarray) -> dict[str, Any]:
        oc = order_codes[mask]
        cc = cust_codes[mask]
        return {
            "rows": int(mask.sum()),
            "share_of_rows": mask.sum() / n0 if n0 else 0.0,
            "revenue": float(np.nansum(amount[mask])),
            "orders": int(len(np.unique(oc))),
            "customers": int(len(np.unique(cc[cc >= 0]))),
        }

    rows = []
    for step, on in switches.items():
        if step == "cancellations":
            hit = tx["is_cancellation"].to_numpy(dtype=bool) if "is_cancellation" in tx else np.zeros(n0, bool)
        elif step == "non_positive_quantity":
            hit = ~(tx["quantity"].to_numpy() > 0)
        elif step == "non_positive_price":
            hit = ~(tx["unit_price"].to_numpy() > 0)
        elif step == "unknown_customers":
            hit = cust_codes < 0
        else:
            hit = _exact_duplicates(tx)
        hit = hit & keep
        rows.append({"step": step, "applied": on, "description": CLEANING_STEPS[step], **touched(hit)})
        if on:
            keep &= ~hit
    data = tx.loc[keep].reset_index(drop=True)
    data.attrs = dict(tx.attrs)
    rows.append(
        {
            "step": "kept",
            "applied": True,
            "description": "lines kept for analysis",
            **touched(keep),
        }
    )
    return CleanResult(data, pd.DataFrame(rows))


def before(tx: pd.DataFrame, as_of: str | pd.Timestamp | None) -> pd.DataFrame:
    """Order lines strictly before ``as_of`` (all of them when ``as_of`` is None or empty).

    A dated run sees the data as it was on that day, so two runs can be compared.
    """
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        return tx
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        raise ParameterError("as_of is not a date", value=as_of, expected="YYYY-MM-DD") from None
    if tx.empty or ts <= tx["order_ts"].min():
        first = None if tx.empty else tx["order_ts"].min().date()
        raise DataError(f"no transactions before as_of={ts.date()}", value=str(as_of),
                        expected=f"a date after the first order ({first})")
    out = tx[tx["order_ts"] < ts].reset_index(drop=True)
    out.attrs = dict(tx.attrs)
    return out


# ---------------------------------------------------------------------------------- quality


class DataQuality(Result):
    """What the data is: size, coverage, missing values and the cleaning audit."""

    title = "Data quality"

    def __init__(self, overview: pd.DataFrame, missing: pd.DataFrame, audit: pd.DataFrame | None) -> None:
        self.overview = overview
        self.missing = missing
        self.audit = audit

    @property
    def summary(self) -> pd.DataFrame:
        return self.overview

    def to_dict(self) -> dict[str, Any]:
        from crmlab.results import to_jsonable

        return to_jsonable(dict(zip(self.overview.index, self.overview["value"])))

    def _repr_html_(self) -> str:
        parts = [
            "<h4>Data quality</h4>",
            display_table(self.overview),
            "<h5>Missing values per column</h5>",
            self.missing.to_html(escape=True, float_format=lambda x: f"{x:.2%}"),
        ]
        if self.audit is not None:
            parts += ["<h5>Cleaning audit</h5>", display_table(self.audit)]
        return "".join(parts)


def quality_summary(tx: pd.DataFrame, cleaned: CleanResult | None = None) -> DataQuality:
    """Rows, customers, orders, products, date range, revenue; missing values; cleaning audit."""
    ts = tx["order_ts"]
    overview = pd.DataFrame(
        {
            "value": [
                tx.attrs.get("source", ""),
                len(tx),
                int(tx["customer_id"].nunique()),
                int(tx["order_id"].nunique()),
                int(tx["product_id"].nunique()),
                int(tx["is_cancellation"].sum()) if "is_cancellation" in tx else 0,
                int(tx["customer_id"].isna().sum()),
                ts.min().date().isoformat() if len(ts) else None,
                ts.max().date().isoformat() if len(ts) else None,
                float(tx["amount"].sum()),
            ]
            + ([len(cleaned.data), int(cleaned.data["customer_id"].nunique())] if cleaned is not None else [])
        },
        index=[
            "source",
            "rows",
            "customers",
            "orders",
            "products",
            "cancellation_rows",
            "rows_without_customer",
            "first_date",
            "last_date",
            "revenue",
        ]
        + (["rows_after_cleaning", "customers_after_cleaning"] if cleaned is not None else []),
    )
    missing = pd.DataFrame({"missing": tx.isna().sum(), "share": tx.isna().mean()})
    return DataQuality(overview, missing, cleaned.audit if cleaned is not None else None)


# ---------------------------------------------------------------------------------- other sets

HILLSTROM_COLUMNS = (
    "recency", "history_segment", "history", "mens", "womens", "zip_code",
    "newbie", "channel", "segment", "visit", "conversion", "spend",
)


def load_hillstrom(path: str | Path | None = None) -> pd.DataFrame:
    """Kevin Hillstrom's MineThatData e-mail test (64,000 customers, three randomised arms).

    The arm is in ``segment`` (Mens E-Mail, Womens E-Mail, No E-Mail); outcomes ``visit``,
    ``conversion``, ``spend`` over two weeks; pre-period ``recency``, ``history``, ``channel``...
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
    """The Groceries baskets (R arules): one basket a line, items comma-separated."""
    path = Path(path) if path is not None else config.GROCERIES
    if not path.exists():
        raise DataError("file not found", file=path, fix="check the path")
    with open(path, encoding="utf-8") as fh:
        baskets = [[i.strip() for i in line.rstrip("\n").split(",") if i.strip()] for line in fh]
    baskets = [b for b in baskets if b]
    if not baskets:
        raise DataError("the file has no baskets", file=path, expected="one basket a line")
    return baskets


# ---------------------------------------------------------------------------------- integration


def combine_channels(sources: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Stack canonical tables from several channels, labelling each row's ``channel``.

    ``combine_channels({"online": web_tx, "store": pos_tx})``. Order numbers are prefixed
    with the channel where two channels use the same number, so orders never merge across
    channels by accident.
    """
    if not sources:
        raise ParameterError("no channels given", expected="a dict {channel name: transactions}")
    frames = []
    seen: set[str] = set()
    for name, df in sources.items():
        missing = [c for c in REQUIRED if c not in df.columns]
        if missing:
            raise DataError(f"channel {name!r} is not a canonical table: missing {missing}",
                            expected="output of load_transactions")
        f = df.copy()
        f["channel"] = pd.Series(name, index=f.index, dtype="string")
        ids = set(f["order_id"].dropna().unique())
        if ids & seen:
            f["order_id"] = (name + ":" + f["order_id"]).astype("string")
        seen |= set(f["order_id"].dropna().unique())
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out.attrs["source"] = " + ".join(f"{k}: {v.attrs.get('source', '?')}" for k, v in sources.items())
    return out


def unify_identities(tx: pd.DataFrame, id_map: pd.DataFrame, *, source_col: str = "source_id",
                     master_col: str = "customer_id") -> pd.DataFrame:
    """One customer, one identity: map channel-specific IDs to a master customer ID.

    ``id_map`` has one row per known link (e.g. loyalty card number -> web account), columns
    ``source_id`` and ``customer_id``. IDs absent from the map keep their own value. The
    original ID is kept in ``source_customer_id``. A source ID linked to two different
    master IDs is an error, since the merge would be ambiguous.
    """
    for c in (source_col, master_col):
        if c not in id_map.columns:
            raise DataError(f"identity map has no {c!r} column", column=c,
                            expected=f"columns {source_col!r} and {master_col!r}")
    links = id_map[[source_col, master_col]].dropna().astype("string").drop_duplicates()
    dup = links[links[source_col].duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        raise DataError("a source ID is linked to more than one customer", column=source_col,
                        row=int(dup.index[0]) + 2, value=str(first[source_col]),
                        fix="keep one link per source ID in the identity map")
    mapping = pd.Series(links[master_col].to_numpy(), index=links[source_col].to_numpy())
    out = tx.copy()
    out["source_customer_id"] = tx["customer_id"]
    mapped = tx["customer_id"].map(mapping)
    out["customer_id"] = mapped.fillna(tx["customer_id"]).astype("string")
    return out
