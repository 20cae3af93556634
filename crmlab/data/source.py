"""Source files: a small YAML file says where the data is and what its columns mean.

::

    name: My shop orders          # shown in reports
    path: exports/orders.csv      # relative to this file; or url: + table: / query:
    columns:                      # canonical name: source column
      customer_id: 고객번호
      order_id: 주문번호
      order_ts: 주문일시
      product_id: 상품코드
      quantity: 수량
      unit_price: 단가
    extra_columns: [지역]          # carried through (segment or covariate columns)
    encoding: auto                # auto (UTF-8, else CP949), utf-8, cp949, ...
    date_format: auto             # or a strftime pattern; Korean 오전/오후 understood
    thousands: ","
    exclude_products: []          # non-product codes (postage, fees)
    currency: KRW

``kind`` says what the file holds: ``transactions`` (order lines, the default), ``baskets``
(one basket a line, items separated by ``sep``) or ``experiment`` (a campaign test: one row a
customer with ``arm``, ``control`` and ``outcomes``). The embedded data sets have their source
files beside them in ``data/``; their names (``online_retail``, ``cdnow``, ``groceries``,
``hillstrom``) work wherever a source is asked for.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from crmlab import config
from crmlab.data.schema import CANONICAL, REQUIRED, ColumnMap
from crmlab.errors import DataError, ParameterError
from crmlab.memo import shared

__all__ = ["Source", "read_source", "load_source", "shipped_sources", "source_from_mapping", "describe",
           "SOURCE_KEYS"]

KINDS = ("transactions", "baskets", "experiment")
MAX_SOURCE_BYTES = 64 * 1024

#: key -> what it holds (the keys a source file may have)
SOURCE_KEYS: dict[str, str] = {
    "name": "name shown in reports",
    "kind": "transactions, baskets or experiment",
    "path": "file path (relative to the source file)",
    "url": "database URL (SQLAlchemy form, without the password)",
    "password_env": "environment variable holding the database password",
    "table": "database table",
    "query": "a single SELECT statement",
    "columns": "canonical name: source column",
    "extra_columns": "source columns carried through",
    "encoding": "auto, utf-8, cp949, ...",
    "date_format": "auto or a strftime pattern",
    "dayfirst": "true: 01/02/2011 is 1 February",
    "thousands": "thousands separator in numbers",
    "decimal": "decimal mark in numbers",
    "sep": "field separator of a text file",
    "names": "column names of a file without a header line",
    "cancel_prefix": "order numbers starting with it are cancellations",
    "exclude_products": "non-product codes left out of baskets",
    "currency": "currency code shown with money",
    "arm": "experiment: column with the arm of each customer",
    "control": "experiment: the control arm",
    "outcomes": "experiment: outcome columns",
    "engine": "pandas (default) or spark: read into a Spark DataFrame (crmlab.spark)",
    "description": "free text",
    "licence": "free text",
}


@dataclass(frozen=True)
class Source:
    """A data source as a source file declares it.

    Parameters
    ----------
    name : str
        Shown in reports.
    kind : str
        ``transactions``, ``baskets`` or ``experiment``.
    path, url, table, query : where the data is (a file, or a database and table or query).
    password_env : str or None
        Name of the environment variable with the database password, read at connect time
        (never stored); without it libpq reads ``PGPASSWORD`` or ``~/.pgpass``.
    columns : dict
        Canonical name -> source column.
    extra_columns : tuple of str
    encoding, date_format : None means detect.
    dayfirst, thousands, decimal, sep, names, cancel_prefix : how to read values.
    exclude_products : tuple of str
    currency : str or None
    arm, control, outcomes : for experiments.
    file : Path or None
        The source file itself (None when built in code).
    """

    name: str
    kind: str = "transactions"
    path: Path | None = None
    url: str | None = None
    table: str | None = None
    query: str | None = None
    password_env: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    extra_columns: tuple[str, ...] = ()
    encoding: str | None = None
    date_format: str | None = None
    dayfirst: bool = False
    thousands: str | None = None
    decimal: str = "."
    sep: str | None = None
    names: tuple[str, ...] | None = None
    cancel_prefix: str | None = None
    exclude_products: tuple[str, ...] = ()
    currency: str | None = None
    arm: str | None = None
    control: str | None = None
    outcomes: tuple[str, ...] = ()
    description: str | None = None
    licence: str | None = None
    file: Path | None = None
    engine: str = "pandas"

    def to_attrs(self) -> dict[str, Any]:
        """The source as JSON values for ``DataFrame.attrs`` (pandas writes ``attrs`` into a
        Parquet file's metadata as JSON, so a frame saved by the user must not carry objects);
        a database URL without its password.

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (Path, RemotePath)):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        if self.url:
            from crmlab.data.sql import mask_url

            out["url"] = mask_url(self.url)
        return out

    @classmethod
    def from_attrs(cls, value: Any) -> Source | None:
        """The :class:`Source` noted in a frame's ``attrs["source_spec"]`` (None when absent).

        Parameters
        ----------
        value : dict, Source or None
            What :meth:`to_attrs` stored.

        Returns
        -------
        Source or None
        """
        if value is None or isinstance(value, Source):
            return value
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in dict(value).items() if k in _FIELD_NAMES}
        for key in ("path", "file"):
            if kw.get(key):
                kw[key] = RemotePath(kw[key]) if _REMOTE.match(kw[key]) else Path(kw[key])
        return cls(**kw)

    def declares(self, column: str) -> bool:
        """Whether the source maps the canonical ``column`` (an optional section can use it).

        Parameters
        ----------
        column : str

        Returns
        -------
        bool
        """
        if self.kind == "baskets":
            return column in ("order_id", "product_id", "product_name")
        return column in self.columns or (column == "amount" and {"quantity", "unit_price"} <= set(self.columns))

    def column_map(self) -> ColumnMap:
        """The :class:`ColumnMap` that reads this source.

        Returns
        -------
        ColumnMap
        """
        return ColumnMap(columns=dict(self.columns) or {c: c for c in CANONICAL if c != "is_cancellation"},
                         cancel_prefix=self.cancel_prefix, date_format=self.date_format, dayfirst=self.dayfirst,
                         optional=frozenset() if self.columns else frozenset(CANONICAL) - set(REQUIRED),
                         path=self.path, thousands=self.thousands, decimal=self.decimal,
                         extra=tuple(self.extra_columns), sep=self.sep, names=self.names)

    @property
    def where(self) -> str:
        """Where the data is, safe to show (a database URL without its password).

        Returns
        -------
        str
        """
        if self.url:
            from sqlalchemy.engine import make_url

            try:
                shown = make_url(self.url).render_as_string(hide_password=True)
            except Exception:  # noqa: BLE001 - an unparseable URL is shown by its scheme only
                shown = self.url.split("://")[0] + "://..."
            return f"{shown} ({self.table or 'query'})"
        return _display(self.path) if self.path else self.name


#: A path with a scheme (s3://, s3a://, gs://, abfss://, hdfs://, dbfs:/): a lakehouse location.
_REMOTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")


class RemotePath(str):
    """A lakehouse location (``s3://bucket/orders/``) kept as written: only Spark reads it.

    ``pathlib.Path`` would fold ``s3://`` into ``s3:/`` and resolve it against the source
    file's folder; this keeps the text and answers the few questions crmlab asks of a path
    (it cannot know whether a remote object exists: Spark says so when it reads).
    """

    __slots__ = ()

    def is_file(self) -> bool:
        return False

    def is_dir(self) -> bool:
        return True

    def exists(self) -> bool:
        return True

    def resolve(self) -> RemotePath:
        return self

    @property
    def name(self) -> str:
        return self.rstrip("/").rsplit("/", 1)[-1]


def _location(doc: Mapping, file: Path | None, engine: str) -> Path | RemotePath | None:
    """The ``path:`` of a source: local (relative to the source file) or a lakehouse URI (Spark only)."""
    if not doc.get("path"):
        return None
    text = str(doc["path"])
    if _REMOTE.match(text):
        if engine != "spark":
            raise ParameterError("a remote path needs the Spark engine", file=file, column="path",
                                 value=text.split("://")[0] + "://...",
                                 fix="add engine: spark, or copy the data to a local file")
        return RemotePath(text)
    base = file.parent if file is not None else Path.cwd()
    return (base / os.path.expanduser(text)).resolve()


_FIELD_NAMES = frozenset(f.name for f in fields(Source))


def _display(path: Path) -> str:
    if isinstance(path, RemotePath):
        return str(path)
    try:
        return str(Path(path).resolve().relative_to(config.ROOT))
    except ValueError:
        return str(path)


def shipped_sources(kind: str | None = None) -> list[str]:
    """Names of the source files shipped beside the embedded data (``data/*.yml``).

    Parameters
    ----------
    kind : str, optional
        Only sources of this kind.

    Returns
    -------
    list of str
    """
    names = sorted(p.stem for p in config.DATA_DIR.glob("*.yml"))
    if kind is None:
        return names
    return [n for n in names if read_source(n).kind == kind]


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ParameterError("source file not found" if not path.exists() else "the source is not a file",
                             file=path, expected="a YAML source file or the name of a shipped source",
                             fix="check the path; shipped sources: " + ", ".join(shipped_sources()))
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise ParameterError("the source file is too large", file=path,
                             expected=f"a small YAML file (at most {MAX_SOURCE_BYTES // 1024} KiB)")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ParameterError("the source file is not UTF-8 text", file=path, fix="save it as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParameterError(f"not valid YAML: {getattr(exc, 'problem', None) or 'syntax error'}", file=path,
                             row=None if mark is None else mark.line + 1,
                             fix="check indentation and colons") from None
    if not isinstance(doc, dict):
        raise ParameterError("expected a mapping of keys at the top level", file=path,
                             expected="name:, path: and columns: (see the README)")
    return doc


def _text(doc: Mapping, key: str, path: Path | None, allowed: tuple[str, ...] | None = None) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ParameterError("expected a single value", file=path, column=key, value=type(value).__name__)
    value = str(value)
    if allowed is not None and value not in allowed:
        raise ParameterError("unknown value", file=path, column=key, value=value,
                             expected="one of " + ", ".join(allowed))
    return value


def _names(doc: Mapping, key: str, path: Path | None) -> tuple[str, ...]:
    value = doc.get(key) or []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ParameterError("expected a list of names", file=path, column=key,
                             expected=f"{key}: [a, b] or a comma-separated string")
    return tuple(str(v) for v in value)


def _columns(doc: Mapping, path: Path | None) -> dict[str, str]:
    cols = doc.get("columns") or {}
    if not isinstance(cols, dict):
        raise ParameterError("columns must map canonical names to source columns", file=path, column="columns",
                             expected="columns:\n  customer_id: YourCustomerColumn")
    unknown = sorted(set(map(str, cols)) - set(CANONICAL))
    if unknown:
        raise ParameterError(f"unknown canonical column(s) {unknown}", file=path, column="columns",
                             expected="keys among " + ", ".join(c for c in CANONICAL if c != "is_cancellation"))
    return {str(k): str(v) for k, v in cols.items() if v is not None}


def _check_transactions(src: Source) -> None:
    if not src.columns:
        return
    need = [c for c in REQUIRED if c not in src.columns and c != "order_id"]  # no order_id: a line is an order
    if "amount" not in src.columns and not {"quantity", "unit_price"} <= set(src.columns):
        need.append("amount (or quantity and unit_price)")
    if need:
        raise ParameterError(f"the columns mapping lacks {', '.join(need)}", file=src.file, column="columns",
                             expected="customer_id, order_id, order_ts and amount or quantity + unit_price",
                             fix="map each to the column of your file that holds it")


def source_from_mapping(doc: Mapping[str, Any], file: Path | None = None) -> Source:
    """Build and check a :class:`Source` from the keys of a source file.

    Parameters
    ----------
    doc : mapping
        The parsed YAML.
    file : Path, optional
        The file it came from (relative ``path:`` values are taken from its folder).

    Returns
    -------
    Source

    Raises
    ------
    ParameterError
        Unknown key, wrong type, unknown value or missing column mapping, naming file and key.
    """
    unknown = sorted(set(map(str, doc)) - set(SOURCE_KEYS))
    if unknown:
        raise ParameterError(f"unknown key {unknown[0]!r}", file=file, column=unknown[0],
                             expected="keys among " + ", ".join(SOURCE_KEYS))
    kind = _text(doc, "kind", file, KINDS) or "transactions"
    where = [k for k in ("path", "url") if doc.get(k)]
    if len(where) != 1:
        raise ParameterError("a source needs exactly one of path: or url:", file=file,
                             column="path" if not where else "url", fix="give the file path or the database URL")
    engine = _text(doc, "engine", file, ("pandas", "spark")) or "pandas"
    path = _location(doc, file, engine)
    enc = _text(doc, "encoding", file)
    fmt = _text(doc, "date_format", file)
    dayfirst = doc.get("dayfirst", False)
    if not isinstance(dayfirst, bool):
        raise ParameterError("expected true or false", file=file, column="dayfirst", value=str(dayfirst))
    src = Source(
        name=_text(doc, "name", file) or (file.stem if file is not None else "source"), kind=kind, path=path,
        url=_text(doc, "url", file), table=_text(doc, "table", file), query=_text(doc, "query", file),
        password_env=_text(doc, "password_env", file),
        columns=_columns(doc, file), extra_columns=_names(doc, "extra_columns", file),
        encoding=None if enc in (None, "auto") else enc, date_format=None if fmt in (None, "auto") else fmt,
        dayfirst=dayfirst, thousands=_text(doc, "thousands", file), decimal=_text(doc, "decimal", file) or ".",
        sep=_text(doc, "sep", file), names=_names(doc, "names", file) or None,
        cancel_prefix=_text(doc, "cancel_prefix", file), exclude_products=_names(doc, "exclude_products", file),
        currency=_text(doc, "currency", file), arm=_text(doc, "arm", file), control=_text(doc, "control", file),
        outcomes=_names(doc, "outcomes", file), description=_text(doc, "description", file),
        licence=_text(doc, "licence", file), file=file,
        engine=engine,
    )
    if src.url and not (src.table or src.query):
        raise ParameterError("a database source needs table: or query:", file=file, column="url",
                             fix="add table: orders (or query: select ...)")
    if kind == "transactions":
        _check_transactions(src)
    if kind == "experiment" and not src.arm:
        raise ParameterError("an experiment source needs arm:", file=file, column="arm",
                             fix="name the column holding each customer's arm")
    return src


def read_source(spec: str | os.PathLike | Source | Mapping[str, Any]) -> Source:
    """Resolve a source: a shipped name, a path to a source file, a mapping or a Source.

    Parameters
    ----------
    spec : str, path, Source or mapping
        ``"online_retail"`` (a file ``data/online_retail.yml``), ``"my-shop.yml"``, a dict of
        source-file keys, or a :class:`Source`.

    Returns
    -------
    Source

    Raises
    ------
    ParameterError
        Unknown name, unreadable or invalid source file (one line naming file and key).
    """
    if isinstance(spec, Source):
        return spec
    if isinstance(spec, Mapping):
        return source_from_mapping(spec)
    text = str(spec).strip()
    if not text:
        raise ParameterError("no source given", expected="a source file (.yml) or a shipped name",
                             fix="shipped sources: " + ", ".join(shipped_sources()))
    path = Path(os.path.expanduser(text))
    if path.suffix.lower() not in (".yml", ".yaml"):
        shipped = config.DATA_DIR / f"{text}.yml"
        if "/" not in text and shipped.is_file():
            path = shipped
        else:
            raise ParameterError("not a source file or a shipped source name", value=text,
                                 expected="a .yml source file or one of " + ", ".join(shipped_sources()),
                                 fix="write a source file (see the README) and pass its path")
    return source_from_mapping(_read_yaml(path), file=path.resolve())


def _load_baskets(src: Source) -> pd.DataFrame:
    from crmlab.data.read import _sniff_encoding

    if src.path is None or not src.path.is_file():
        raise DataError("file not found", file=src.path, fix="check path: in the source file")
    sep = src.sep or ","
    enc = src.encoding or _sniff_encoding(src.path)
    rows = []
    with open(src.path, encoding=enc) as fh:
        for n, line in enumerate(fh, start=1):
            items = dict.fromkeys(i.strip() for i in line.rstrip("\n").split(sep) if i.strip())
            rows += [(str(n), item) for item in items]
    if not rows:
        raise DataError("the file has no baskets", file=src.path, expected="one basket a line")
    order, item = zip(*rows)
    out = pd.DataFrame({"customer_id": pd.Series(pd.NA, index=range(len(rows)), dtype="string"),
                        "order_id": pd.array(order, dtype="string"),
                        "order_ts": pd.Series(pd.NaT, index=range(len(rows)), dtype="datetime64[ns]"),
                        "product_id": pd.array(item, dtype="string"),
                        "product_name": pd.array(item, dtype="string"),
                        "quantity": 1.0, "unit_price": float("nan"), "amount": float("nan"),
                        "is_cancellation": False})
    return out


def _file_key(spec: Any, *, as_of: Any = None) -> tuple | None:
    """What a file source's data is keyed by when shared (:mod:`crmlab.memo`): the declaration,
    the file's size and modification time and the report date. None (not shared) for database
    and Spark sources, whose data can change between two reads."""
    src = read_source(spec)
    if src.engine == "spark" or src.url or not src.path:
        return None
    try:
        stat = os.stat(src.path)
    except OSError:  # load_source says what is wrong with the file
        return None
    return src.to_attrs(), str(src.path), stat.st_size, stat.st_mtime_ns, as_of


@shared("source", key=_file_key)
def load_source(spec: str | os.PathLike | Source | Mapping[str, Any], *, as_of: Any = None) -> pd.DataFrame:
    """Load the data a source declares: order lines in the canonical table, or a campaign test.

    Parameters
    ----------
    spec : str, path, Source or mapping
        See :func:`read_source`.
    as_of : str, Timestamp or None
        Report date for order lines: only lines strictly before it are returned
        (:func:`crmlab.dates.cutoff`).

    Returns
    -------
    pandas.DataFrame
        ``attrs["source"]`` is the source's name, ``attrs["source_spec"]`` the source as
        JSON values (:meth:`Source.from_attrs` gives the :class:`Source` back).

    Raises
    ------
    ParameterError, DataError
        An invalid source file, or data that does not match it.

    Notes
    -----
    Within a ``crmlab render`` batch the notebooks share a file source's data (read once,
    :mod:`crmlab.memo`).
    """
    from crmlab import dates
    from crmlab.data.load import load_transactions
    from crmlab.data.read import read_table
    from crmlab.data.sql import load_sql_transactions, with_password

    src = read_source(spec)
    if src.engine == "spark":  # a Spark DataFrame with the canonical columns (crmlab.spark.data)
        from crmlab.spark.data import load_source as spark_load

        return spark_load(src, as_of=as_of)
    if src.kind == "experiment":
        out = read_table(src.path, encoding=src.encoding, sep=src.sep) if src.path else _sql(src)
        missing = [c for c in (src.arm, *src.outcomes) if c not in out.columns]
        if missing:
            raise DataError("a column the source declares is missing", file=src.where, column=missing[0],
                            expected=f"one of the columns {list(map(str, out.columns))[:20]}",
                            fix="correct arm: or outcomes: in the source file")
    elif src.kind == "baskets":
        out = _load_baskets(src)
    elif src.url:
        out = load_sql_transactions(with_password(src.url, src.password_env, file=src.file), src.column_map(),
                                    table=src.table, query=src.query, as_of=dates.parse_as_of(as_of))
    else:
        out = load_transactions(src.path, src.column_map(), encoding=src.encoding)
        if dates.parse_as_of(as_of) is not None:
            out = dates.cutoff(out, as_of)[0]
    out.attrs["source"] = src.name
    out.attrs["source_spec"] = src.to_attrs()
    return out


def _sql(src: Source) -> pd.DataFrame:
    from crmlab.data.sql import read_sql, with_password

    return read_sql(with_password(src.url, src.password_env, file=src.file), table=src.table, query=src.query)


def describe(src: Source) -> dict[str, Any]:
    """A source as plain values safe to write into a report (no password).

    Parameters
    ----------
    src : Source

    Returns
    -------
    dict
    """
    out = {f.name: getattr(src, f.name) for f in fields(src) if f.name not in ("file", "url", "path", "query")}
    out["where"] = src.where
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in out.items() if v not in (None, (), {}, "")}

