"""Reading sources: CSV (gzip, UTF-8 or CP949), Parquet, Excel and SQL databases."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pandas as pd

from crmlab import config
from crmlab.data import sql as _sql
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


def _read_csv(path: Path, encoding: str | None, usecols: list[str] | None, string_cols: list[str],
              sep: str | None = None, names: tuple[str, ...] | None = None) -> pd.DataFrame:
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
    try:
        if enc.replace("-", "").lower().startswith("utf8") and len(sep) == 1:
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
        raw = _read_csv(path, encoding, wanted, string_cols, cmap.sep, cmap.names)
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
