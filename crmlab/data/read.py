"""Reading sources: CSV (gzip, UTF-8 or CP949), Parquet, Excel and SQL databases."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pandas as pd
import pyarrow as pa

from crmlab import config
from crmlab.data import sql as _sql
from crmlab.data.columnar import in_threads
from crmlab.data.schema import _STRING_COLS, ColumnMap
from crmlab.errors import DataError

def _sniff_encoding(path: Path) -> str:
    """UTF-8 if the first MiB decodes as UTF-8, else CP949 (a superset of EUC-KR)."""
    head = _head(path)
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


def _head(path: Path, size: int = 1 << 20) -> bytes:
    """The first bytes of a file (decompressed for .gz), refusing what is not what it claims.

    Only the head is decompressed: a gzip file cut further on is refused by :func:`_read_csv`,
    whose readers raise at the cut (one decompression pass instead of two).
    """
    if path.suffix == ".gz":
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(size)
        except (OSError, EOFError) as exc:  # BadGzipFile is an OSError; a cut file ends early
            raise _bad_gzip(path, exc) from None
    with open(path, "rb") as fh:
        return fh.read(size)


def _bad_gzip(path: Path, exc: BaseException) -> DataError:
    return DataError(f"not a readable gzip file ({str(exc).splitlines()[0]})", file=path,
                     expected="a complete gzip-compressed CSV",
                     fix="compress the export again, or give the uncompressed file")


def _is_cut_stream(path: Path, exc: BaseException) -> bool:
    """A compressed file that ends early (gzip's EOFError, Arrow's 'Truncated compressed stream')."""
    text = str(exc).lower()
    return path.suffix == ".gz" and (isinstance(exc, EOFError) or "compressed" in text or "gzip" in text)


def _first_undecodable(head: bytes) -> int | None:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return head[: exc.start].count(b"\n") + 1
    return None


def _read_headerless(path: Path, enc: str, sep: str | None, names: tuple[str, ...], string_cols: list[str]):
    """A file without a header line (names from the source file), any separator."""
    dtype = {c: "string" for c in string_cols if c in names}
    try:
        return pd.read_csv(path, sep=sep or ",", header=None, names=list(names), dtype=dtype, encoding=enc,
                           engine="python" if sep and len(sep) > 1 else "c")
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot parse the file: {str(exc).splitlines()[0]}", file=path,
                        expected=f"{len(names)} fields a line separated by {sep or ','!r}",
                        fix="check sep: and names: in the source file") from None


#: Text pandas reads as missing by default (pandas.read_csv's na_values); the polars reader is
#: given the same list so both readers return the same frame.
_NA_TEXT = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
            "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
#: ISO 8601 layouts the polars reader turns into timestamps (the ones pandas' pyarrow reader
#: recognised); any other text is left to the canonical mapping's date parsing.
_ISO_DATES = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f",
              "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d")

_FIRST_DAY, _LAST_DAY = pd.Timestamp.min.ceil("D").to_pydatetime(), pd.Timestamp.max.floor("D").to_pydatetime()


def _iso_timestamps(column):
    """A polars text column as timestamps when every value is in an ISO layout, else None.

    Layouts may mix ('2011-01-01 10:00:00' beside '2011-01-02'), as pandas' pyarrow reader
    allowed; a date pandas cannot hold (9999-12-31) leaves the column as text for the mapping
    to quote it.
    """
    import polars as pl

    if column.dtype != pl.String:  # numbers stay numbers: the mapping asks for a date_format
        return None
    first = column.drop_nulls().head(1)
    if first.len() and not first.str.contains(r"^\s*\d{4}-\d{2}-\d{2}").all():
        return None
    parsed = None
    for layout in _ISO_DATES:
        attempt = column.str.to_datetime(layout, strict=False, time_unit="us")
        parsed = attempt if parsed is None else parsed.fill_null(attempt)
        if parsed.null_count() == column.null_count():
            first, last = parsed.min(), parsed.max()
            inside = first is None or (first >= _FIRST_DAY and last <= _LAST_DAY)
            # nanoseconds, as the canonical table holds them, once inside pandas' range (polars
            # would wrap a year 9999 around when parsing straight to nanoseconds)
            return parsed.cast(pl.Datetime("ns")) if inside else None
    return None


def _to_arrow(df: "pl.DataFrame") -> pa.Table:  # noqa: F821 - polars is imported lazily
    """A polars frame as an Arrow table, each column made contiguous and converted in its own
    thread (about a quarter less time than ``rechunk().to_arrow()`` on 5.4 M lines)."""
    return pa.table(dict(zip(df.columns, in_threads(*(lambda s=s: s.rechunk().to_arrow() for s in df.get_columns())))))


def _read_csv_polars(path: Path, sep: str, cols: list[str], string_cols: list[str],
                     dates: tuple[str, ...]) -> pd.DataFrame | None:
    """Read a UTF-8 CSV with polars (multi-threaded parsing and inflating), as a pandas frame.

    Measured on the 5.4 M-line Online Retail x10 file (gzip): 1.2 s against 4.8 s for pandas'
    pyarrow engine, and every text column arrives as one contiguous Arrow array, which makes
    the row selections and factorisations downstream 2-3x faster than on pyarrow's block-wise
    chunks. Returns None when polars cannot read the file as given (ragged or cut file, bad
    UTF-8, a column whose type changes past the first rows): the pandas reader then reads it
    and raises the error that names the row.
    """
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - a core dependency; the pandas reader still works
        return None
    text = [c for c in cols if c in string_cols]
    try:
        df = pl.read_csv(path, columns=cols, separator=sep, schema_overrides={c: pl.String for c in text},
                         infer_schema_length=10_000, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError, ValueError):  # the pandas reader explains the cause
        return None
    # pandas' missing-value words as nulls, in the text columns that have any (polars' own
    # null_values option checks every field of every column: 1 s more on 5.4 M lines)
    words = [c for c, t in df.schema.items() if t == pl.String]
    hits = df.select(pl.col(c).is_in(_NA_TEXT).any() for c in words).row(0) if words else ()
    df = df.with_columns(pl.when(pl.col(c).is_in(_NA_TEXT)).then(None).otherwise(pl.col(c)).alias(c)
                         for c, hit in zip(words, hits) if hit)
    iso = {c: _iso_timestamps(df[c]) for c in dates if c in df.columns}
    df = df.with_columns([s for s in iso.values() if s is not None])
    try:
        table = _to_arrow(df)
    except (pl.exceptions.PolarsError, pa.ArrowException, ValueError):  # a type pandas lacks (Int128)
        return None
    del df  # the Arrow copy is all that is needed from here: lower peak memory
    # the dtypes pandas' reader gives: "string" where asked for, pandas' default text type elsewhere
    strings = {pa.large_string(): pd.StringDtype("pyarrow"), pa.string(): pd.StringDtype("pyarrow")}
    other = [c for c in cols if c not in text]
    out = (table.select(text).to_pandas(types_mapper=strings.get) if text
           else pd.DataFrame(index=pd.RangeIndex(table.num_rows)))
    if other:
        out = out.join(table.select(other).to_pandas())
    return out[cols]


def _read_csv(path: Path, encoding: str | None, usecols: list[str] | None, string_cols: list[str],
              sep: str | None = None, names: tuple[str, ...] | None = None,
              dates: tuple[str, ...] = ()) -> pd.DataFrame:
    enc = encoding or _sniff_encoding(path)
    if names:
        try:
            return _read_headerless(path, enc, sep, names, string_cols)
        except (EOFError, OSError) as exc:
            if _is_cut_stream(path, exc):
                raise _bad_gzip(path, exc) from None
            raise
    dtype = {c: "string" for c in string_cols}
    sep = sep or ("\t" if path.suffix == ".tsv" or path.name.endswith(".tsv.gz") else ",")
    try:
        header = pd.read_csv(path, nrows=0, encoding=enc, sep=sep)
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty", file=path, expected="a header line and at least one row") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"cannot decode the file as {enc}", file=path, fix="pass encoding=... matching the export"
        ) from exc
    except (OSError, EOFError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read the file ({str(exc).splitlines()[0][:120]})", file=path,
                        expected="a complete comma-separated text file") from None
    cols = [c for c in (usecols or header.columns) if c in header.columns]
    utf8 = enc.replace("-", "").lower().startswith("utf8")
    fast = _read_csv_polars(path, sep, cols, string_cols, dates) if utf8 and len(sep) == 1 else None
    if fast is not None:
        fast.attrs["file_columns"] = [str(c) for c in header.columns]
        return fast
    try:
        if utf8 and len(sep) == 1:
            try:
                out = pd.read_csv(path, usecols=cols, dtype=dtype, engine="pyarrow", sep=sep)
            except Exception as exc:  # noqa: BLE001 - pyarrow refuses very large cells ("straddling object")
                if "straddling" not in str(exc):
                    raise
                out = pd.read_csv(path, usecols=cols, dtype=dtype, encoding=enc, sep=sep, engine="c")
        else:
            out = pd.read_csv(path, usecols=cols, dtype=dtype, encoding=enc, sep=sep,
                              engine="python" if len(sep) > 1 else "c")
        out.attrs["file_columns"] = [str(c) for c in header.columns]
        return out
    except (EOFError, OSError) as exc:
        if _is_cut_stream(path, exc):
            raise _bad_gzip(path, exc) from None
        raise DataError(f"cannot parse the file: {str(exc).splitlines()[0]}", file=path,
                        expected="a comma-separated file") from exc
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
    wanted = list(dict.fromkeys([*cmap.columns.values(), *cmap.extra]))
    string_cols = [cmap.columns[c] for c in _STRING_COLS if c in cmap.columns]
    if _sql.is_sql_source(source):
        return _sql.read_sql_source(source, cmap, table=table, query=query)
    path = Path(source)
    if not path.exists():
        raise DataError(
            "file not found",
            file=path,
            expected="an existing CSV, Parquet or Excel file, a preset name or a SQLAlchemy URL",
            fix="check the path (relative paths are taken from the working directory)",
        )
    if not path.is_file():
        raise DataError("the path is a folder, not a file", file=path,
                        expected="a CSV, Parquet or Excel file", fix="name the file inside the folder")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        raw = _read_binary(path, "Parquet", lambda: pd.read_parquet(path))
        offset = 1
    elif name.endswith((".xlsx", ".xlsm", ".xls")):
        raw = _read_binary(path, "Excel", lambda: pd.read_excel(path, sheet_name=sheet_name,
                                                                 dtype={c: str for c in string_cols}))
        offset = 2
    else:
        dates = () if cmap.date_format or "order_ts" not in cmap.columns else (cmap.columns["order_ts"],)
        raw = _read_csv(path, encoding, wanted, string_cols, cmap.sep, cmap.names, dates)
        offset = 2
    return raw, _display_name(path), offset


def _read_binary(path: Path, kind: str, read) -> pd.DataFrame:
    """Read a Parquet or Excel file; a file that is not one (a CSV renamed .xlsx) is refused."""
    try:
        return read()
    except (ValueError, OSError, KeyError, TypeError, ImportError) as exc:
        raise DataError(f"not a readable {kind} file ({str(exc).splitlines()[0][:120]})", file=path,
                        expected=f"a {kind} file", fix="check the file type, or rename it to what it is") from None
    except Exception as exc:  # noqa: BLE001 - readers raise their own error types (zipfile, pyarrow)
        raise DataError(f"not a readable {kind} file ({type(exc).__name__})", file=path,
                        expected=f"a {kind} file", fix="check the file type, or rename it to what it is") from None


def _display_name(path: Path) -> str:
    """The path as the user should see it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(config.ROOT))
    except ValueError:
        return str(path)


def read_table(path: str | Path, *, encoding: str | None = None, sep: str | None = None) -> pd.DataFrame:
    """Read a whole CSV-like file (any columns) with crmlab's encoding detection.

    The reader for tables that are not order lines (campaign tests, identity maps): UTF-8,
    else CP949/EUC-KR, the same detection :func:`crmlab.data.load_transactions` uses.

    Parameters
    ----------
    path : str or Path
        CSV, optionally gzip-compressed.
    encoding : str, optional
        Text encoding; None detects UTF-8 or CP949.
    sep : str, optional
        Field separator (default ",").

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        Missing, empty, undecodable or unparseable file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found" if not path.exists() else "not a file", file=path,
                        expected="an existing CSV file", fix="check the path")
    return _read_csv(path, encoding, None, [], sep)
