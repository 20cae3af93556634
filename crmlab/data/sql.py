"""Reading order lines from SQL databases, read-only by construction.

A database source is a SQLAlchemy URL (``sqlite:///shop.db``, ``postgresql://analyst@host/crm``),
an :class:`sqlalchemy.engine.Engine` or an open :class:`~sqlalchemy.engine.Connection`, with a
``table`` or a ``query``. What this module guarantees:

- **Nothing is ever written.** A ``query`` must be one ``SELECT`` or ``WITH`` statement (checked
  before anything is sent: :func:`check_query`); SQLite files are opened with ``mode=ro`` (a
  missing file is an error, never created); PostgreSQL sessions run with
  ``default_transaction_read_only``; every transaction is rolled back, none committed.
- **The database does the work.** Only the mapped columns are selected, and the report date
  cut-off (``order_ts < as_of``) is pushed into the ``WHERE`` clause when the column is a date
  type. PostgreSQL is read through ADBC (Arrow, binary COPY) when ``adbc-driver-postgresql`` is
  installed, else through psycopg with a server-side cursor in chunks.
- **No password is shown.** Every message shows the URL masked (``postgresql://analyst:***@host/db``).
  A password can come from an environment variable (``password_env:`` in a source file) or from
  ``~/.pgpass`` / ``PGPASSWORD``, which libpq reads itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from crmlab.errors import DataError, ParameterError

__all__ = ["is_sql_source", "mask_url", "check_query", "with_password", "read_sql", "read_sql_source",
           "load_sql_transactions", "POSTGRES_EXTRA"]

POSTGRES_EXTRA = "pip install 'crmlab[postgres]'"
_CHUNK = 50_000
#: PostgreSQL session settings: read-only, dates compared in UTC (as pandas does), and a table read
#: from its first page every time (no synchronized scans), so two runs see the lines in one order
_SESSION_OPTIONS = "-c default_transaction_read_only=on -c TimeZone=UTC -c synchronize_seqscans=off"
#: words that make a SELECT / WITH write (data-modifying CTE, SELECT INTO, row locks)
_WRITING = ("insert", "update", "delete", "merge", "into", "truncate", "drop", "create", "alter", "grant")


# -- what the source is ---------------------------------------------------------------------
def is_sql_source(source: Any) -> bool:
    """Whether ``source`` names a database: a URL string, a SQLAlchemy URL, Engine or Connection.

    Parameters
    ----------
    source : object

    Returns
    -------
    bool
    """
    if isinstance(source, str):
        return "://" in source and not source.startswith("file://")
    mod = type(source).__module__
    return mod.startswith("sqlalchemy.engine") and type(source).__name__ in ("URL", "Engine", "Connection")


def _url(source: Any):
    """The SQLAlchemy URL of a source (None when it cannot be parsed)."""
    from sqlalchemy.engine import URL, make_url

    if isinstance(source, URL):
        return source
    if isinstance(source, str):
        try:
            return make_url(source)
        except Exception:  # noqa: BLE001 - shown by scheme only
            return None
    return getattr(source, "url", None) or getattr(getattr(source, "engine", None), "url", None)


def mask_url(source: Any) -> str:
    """A database source as it may be shown: the URL with its password replaced by ``***``.

    Parameters
    ----------
    source : str, URL, Engine or Connection

    Returns
    -------
    str
    """
    url = _url(source)
    if url is None:
        return str(source).split("://")[0] + "://..."
    return url.render_as_string(hide_password=True)


def _scrub(text: str, source: Any) -> str:
    """``text`` (a driver message) without the source's password, on one line."""
    url = _url(source)
    text = str(text).strip().splitlines()[0] if str(text).strip() else "no detail"
    if url is not None and url.password:
        text = text.replace(str(url.password), "***").replace(quote(str(url.password), safe=""), "***")
    return text


def with_password(url: str, password_env: str | None, *, file: Any = None):
    """The URL with the password taken from environment variable ``password_env``.

    The password is put into a SQLAlchemy :class:`~sqlalchemy.engine.URL` object, whose text form
    masks it, so it cannot end up in a report or a message by accident.

    Parameters
    ----------
    url : str
        The URL of the source file (without password).
    password_env : str or None
        Name of the environment variable; None leaves the URL as it is (libpq then reads
        ``PGPASSWORD`` or ``~/.pgpass``).
    file : path, optional
        The source file, named in errors.

    Returns
    -------
    sqlalchemy.engine.URL or str

    Raises
    ------
    ParameterError
        The variable is not set, or the URL cannot be parsed.
    """
    if not password_env:
        return url
    password = os.environ.get(password_env)
    if not password:
        raise ParameterError(f"the environment variable {password_env} is not set", file=file,
                             column="password_env", fix=f"export {password_env}=... before running crmlab")
    parsed = _url(url)
    if parsed is None:
        raise ParameterError("not a database URL", file=file, column="url", value=mask_url(url))
    return parsed.set(password=password)


# -- the query check --------------------------------------------------------------------------
_TOKEN = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]"
                    r"|\$([A-Za-z_]*)\$.*?\$\1\$|[^-/'\"`\[$]+|.", re.S)


def _code_only(query: str, *, keep_quoted: bool = False) -> str:
    """The query with comments removed and (unless ``keep_quoted``) quoted strings and names blanked."""
    parts = []
    for m in _TOKEN.finditer(query):
        tok = m.group(0)
        if tok.startswith(("--", "/*")):
            parts.append(" ")
        elif not keep_quoted and (tok[0] in "'\"`[" or (tok.startswith("$") and m.group(1) is not None)):
            parts.append(" q ")
        else:
            parts.append(tok)
    return "".join(parts)


def check_query(query: str) -> str:
    """Refuse anything but a single ``SELECT`` / ``WITH`` statement, before it is sent.

    Parameters
    ----------
    query : str

    Returns
    -------
    str
        The query without comments and trailing semicolon (ready to be wrapped in a sub-select).

    Raises
    ------
    ParameterError
        Empty query, several statements, another statement (DROP, INSERT, CREATE ...) or a
        SELECT that writes (``SELECT ... INTO``, a data-modifying ``WITH``, ``FOR UPDATE``).
    """
    if not isinstance(query, str) or not query.strip():
        raise ParameterError("the query is empty", column="query", expected="a single SELECT statement")
    code = _code_only(query).strip()
    while code.endswith(";"):
        code = code[:-1].rstrip()
    if ";" in code:
        raise ParameterError("the query holds several statements", column="query",
                             expected="a single SELECT or WITH statement", fix="remove the extra statements")
    words = [w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code)]
    first = words[0] if words else ""
    if first not in ("select", "with"):
        raise ParameterError(f"only SELECT queries are run, not {first.upper() or 'this'}", column="query",
                             expected="a single SELECT or WITH statement",
                             fix="crmlab only reads: query the data, change it elsewhere")
    writing = [w for w in words if w in _WRITING]
    if writing:
        raise ParameterError(f"the query would write ({writing[0].upper()})", column="query",
                             expected="a SELECT that only reads",
                             fix="crmlab only reads; a column of that name must be quoted in double quotes")
    text = _code_only(query, keep_quoted=True).strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


# -- building the SELECT ------------------------------------------------------------------------
def _relation(table: str | None, query: str | None, quote_id) -> str:
    if query is not None:
        return f"({check_query(query)}) AS crmlab_src"
    parts = table.split(".") if not table.startswith('"') else [table.strip('"')]
    return ".".join(quote_id(p) for p in parts)


def _select(relation: str, cols: list[str] | None, date_col: str | None, quote_id) -> str:
    shown = ", ".join(quote_id(c) for c in cols) if cols else "*"
    sql = f"SELECT {shown} FROM {relation}"
    if date_col is not None:
        sql += f" WHERE {quote_id(date_col)} < :crmlab_as_of"
    return sql


def _is_date_type(kind: Any) -> bool:
    text = str(kind).lower()
    return "timestamp" in text or text.startswith(("date", "datetime")) or "date32" in text


# -- PostgreSQL through ADBC --------------------------------------------------------------------
def _is_postgres(url) -> bool:
    return url is not None and url.get_backend_name() == "postgresql"


def _adbc_uri(url) -> str:
    query = dict(url.query)
    query["options"] = (str(query["options"]) + " " if query.get("options") else "") + _SESSION_OPTIONS
    base = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    return base + "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in query.items())


def _read_adbc(url, relation: str, columns, date_col, as_of, params) -> pd.DataFrame:
    import adbc_driver_postgresql.dbapi as adbc
    import pyarrow as pa
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.psycopg.dialect(paramstyle="numeric_dollar")
    quote_id = dialect.identifier_preparer.quote

    def run(cur, sql: str, values: Mapping[str, Any]):
        compiled = text(sql).compile(dialect=dialect)
        cur.execute(compiled.string, [values[k] for k in compiled.positiontup or []] or None)

    with adbc.connect(_adbc_uri(url)) as conn, conn.cursor() as cur:  # closed without commit
        run(cur, _select(relation, None, None, quote_id) + " LIMIT 0", params)
        schema = cur.fetch_arrow_table().schema
        cols = [c for c in columns if c in schema.names] if columns else None
        if date_col is not None and not (date_col in schema.names and _is_date_type(schema.field(date_col).type)):
            date_col = None
        values = {**params, "crmlab_as_of": as_of} if date_col is not None else params
        run(cur, _select(relation, cols, date_col, quote_id), values)
        table = cur.fetch_arrow_table()
    string = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype()}
    return table.to_pandas(types_mapper=string.get, self_destruct=True)


# -- everything else through SQLAlchemy -------------------------------------------------------------
def _sqlite_ro(url):
    """A SQLite URL opened read-only; a missing file is an error and no file is created."""
    db = url.database or ""
    if db in ("", ":memory:") or db.startswith("file:"):
        return url
    path = Path(db).expanduser()
    if not path.is_file():
        raise DataError("database file not found" if not path.exists() else "the database is not a file",
                        file=path, expected="an existing SQLite file",
                        fix="check the path in the URL (sqlite:///relative.db or sqlite:////absolute.db)")
    return url.set(database=f"file:{quote(str(path.resolve()))}?mode=ro", query={**url.query, "uri": "true"})


def _engine(source):
    """(engine, dispose?) for a URL; the caller's Engine or Connection is used as it is."""
    import sqlalchemy as sa

    if not isinstance(source, (str, sa.engine.URL)):
        return source, False
    url = _url(source)
    if url is None:
        raise ParameterError("not a database URL", value=mask_url(source),
                             expected="a SQLAlchemy URL such as sqlite:///shop.db or postgresql://user@host/db")
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        url = _sqlite_ro(url)
    elif _is_postgres(url):
        if url.get_driver_name() in ("", "psycopg2") or url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        kwargs["connect_args"] = {"options": _SESSION_OPTIONS}
    try:
        return sa.create_engine(url, **kwargs), True
    except ImportError as exc:
        raise DataError(f"no driver for {url.get_backend_name()} ({exc.name or exc})", file=mask_url(url),
                        fix=POSTGRES_EXTRA if _is_postgres(url) else "install the database's Python driver") from None
    except Exception as exc:  # noqa: BLE001 - one line, password scrubbed
        raise DataError(f"cannot open the database: {_scrub(exc, source)}", file=mask_url(url)) from None


def _read_sqlalchemy(source, relation_of, columns, date_col, as_of, params) -> pd.DataFrame:
    import sqlalchemy as sa

    engine, own = _engine(source)
    conn = engine.connect() if isinstance(engine, sa.engine.Engine) else engine
    try:
        quote_id = conn.dialect.identifier_preparer.quote
        relation = relation_of(quote_id)
        trans = conn.begin_nested() if conn.in_transaction() else conn.begin()
        try:
            if conn.dialect.name in ("postgresql", "mysql", "mariadb"):
                if not conn.in_nested_transaction():
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            probe = conn.execute(sa.text(_select(relation, None, None, quote_id) + " LIMIT 0"), params)
            names = list(probe.keys())
            kinds = {d[0]: d[1] for d in (probe.cursor.description or [])} if probe.cursor is not None else {}
            probe.close()
            cols = [c for c in columns if c in names] if columns else None
            if date_col is not None and not (date_col in names and _sql_date(conn, kinds.get(date_col))):
                date_col = None
            values = {**params, "crmlab_as_of": as_of} if date_col is not None else params
            stream = conn.execution_options(stream_results=True, max_row_buffer=_CHUNK)
            chunks = pd.read_sql_query(sa.text(_select(relation, cols, date_col, quote_id)), stream,
                                       params=values, chunksize=_CHUNK)
            frames = list(chunks)
            return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        finally:
            trans.rollback()  # read-only: nothing is ever committed
    finally:
        if conn is not engine:
            conn.close()
        if own:
            engine.dispose()


def _sql_date(conn, type_code: Any) -> bool:
    """Whether a result column is a date/timestamp (PostgreSQL type oids; SQLite has no types)."""
    if conn.dialect.name != "postgresql" or type_code is None:
        return False
    return type_code in (1082, 1114, 1184)  # date, timestamp, timestamptz


# -- the public readers ------------------------------------------------------------------------------
def read_sql(source: Any, *, table: str | None = None, query: str | None = None,
             columns: list[str] | None = None, params: Mapping[str, Any] | None = None,
             as_of: Any = None, date_column: str | None = None) -> pd.DataFrame:
    """Read a table or a query from a database, read-only.

    Parameters
    ----------
    source : str, sqlalchemy URL, Engine or Connection
        ``sqlite:///shop.db``, ``postgresql://analyst@host/crm`` ...; an Engine or Connection
        is used as given (never committed, never closed).
    table, query : str
        Exactly one: a table name (``orders`` or ``schema.orders``), or one ``SELECT`` / ``WITH``
        statement with ``:name`` bind parameters.
    columns : list of str, optional
        Only these columns are selected (those the result has; a missing one is left to the
        caller's column check). None selects all.
    params : mapping, optional
        Values of the query's ``:name`` parameters.
    as_of : date-like, optional
        Rows with ``date_column`` on or after it are left out by the database (when the column
        is a date type there; otherwise the caller cuts in pandas).
    date_column : str, optional
        The order-date column that ``as_of`` applies to.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ParameterError
        Not exactly one of table/query, or a query that is not a single SELECT.
    DataError
        Missing driver (naming the extra to install), missing SQLite file, a database error
        (one line, URL masked).
    """
    if (table is None) == (query is None):
        raise ParameterError("a database source needs exactly one of table= or query=", file=mask_url(source),
                             fix="load_transactions(url, table='orders') or query='select ...'")
    if query is not None:
        check_query(query)
    params = dict(params or {})
    from crmlab.dates import parse_as_of

    as_of = parse_as_of(as_of)
    as_of = None if as_of is None else as_of.to_pydatetime()
    date_col = date_column if as_of is not None else None
    url = _url(source) if isinstance(source, str) or type(source).__name__ == "URL" else None
    try:
        if _is_postgres(url) and _has_adbc():
            return _read_adbc(url, _relation(table, query, _pg_quote()), columns, date_col, as_of, params)
        return _read_sqlalchemy(source, lambda q: _relation(table, query, q), columns, date_col, as_of, params)
    except (DataError, ParameterError):
        raise
    except ImportError as exc:
        raise DataError(f"no database driver ({exc.name or exc})", file=mask_url(source),
                        fix=POSTGRES_EXTRA if _is_postgres(_url(source)) else "install the database's Python driver") from None
    except Exception as exc:  # noqa: BLE001 - every driver's error becomes one masked line
        what = "check the table name" if table is not None else "check the query"
        raise DataError(f"the database refused the request: {_scrub(exc, source)}", file=mask_url(source),
                        column=None, fix=what) from None


def _has_adbc() -> bool:
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


def _pg_quote():
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect().identifier_preparer.quote


def read_sql_source(source: Any, cmap, *, table: str | None, query: str | None,
                    params: Mapping[str, Any] | None = None, as_of: Any = None) -> tuple[pd.DataFrame, str, int]:
    """Read the columns a :class:`~crmlab.data.ColumnMap` needs: (raw frame, display name, row offset).

    Parameters
    ----------
    source : str, URL, Engine or Connection
    cmap : ColumnMap
    table, query : str
        Exactly one.
    params : mapping, optional
        Bind parameters of ``query``.
    as_of : date-like, optional
        Pushed into SQL as ``order_ts < as_of``.

    Returns
    -------
    tuple
        Raw frame, the name shown for it (the table, or ``query``), 1 (rows count from 1).
    """
    wanted = list(dict.fromkeys([*cmap.columns.values(), *cmap.extra]))
    raw = read_sql(source, table=table, query=query, columns=wanted, params=params, as_of=as_of,
                   date_column=cmap.columns.get("order_ts"))
    return raw, (table or "query"), 1


def load_sql_transactions(source: Any, cmap, *, table: str | None = None, query: str | None = None,
                          params: Mapping[str, Any] | None = None, as_of: Any = None) -> pd.DataFrame:
    """Order lines from a database in the canonical table (what :func:`load_transactions` returns).

    Parameters
    ----------
    source : str, URL, Engine or Connection
    cmap : ColumnMap
    table, query : str
        Exactly one.
    params : mapping, optional
    as_of : date-like, optional
        Only lines strictly before it (cut in SQL when the column is a date type, and again here).

    Returns
    -------
    pandas.DataFrame
    """
    from crmlab.data.parse import _map_columns
    from crmlab.dates import parse_as_of

    as_of = parse_as_of(as_of)
    raw, display, offset = read_sql_source(source, cmap, table=table, query=query, params=params, as_of=as_of)
    out = _map_columns(raw, cmap, display, offset)
    if as_of is not None:
        out = out[out["order_ts"] < as_of].reset_index(drop=True)
    out.attrs["source"] = display
    return out
