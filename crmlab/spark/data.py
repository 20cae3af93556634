"""Order lines into a Spark DataFrame with the canonical columns, read where the data lives.

The Spark twin of :func:`crmlab.data.load_source`: the same source files (YAML), the same
column map (:meth:`crmlab.data.Source.column_map`) and the same refusals (a value that is
given but does not parse is named with its column), but the data stays in Spark. Where the
source points:

- ``path:`` a Parquet file or folder (``.parquet``, ``.pq`` or a folder of part files), a
  Delta table (a folder with ``_delta_log``; needs the delta-spark package on the cluster),
  or a CSV/TSV file (optionally gzip-compressed; ``sep: '\\s+'`` and headerless files with
  ``names:`` work too). Any URI Spark reads (``s3://``, ``abfss://``, ``dbfs:/``) works;
- ``url: catalog`` (or ``spark:``) with ``table:`` (a catalogue table, ``db.orders``) or
  ``query:`` (Spark SQL);
- ``url: jdbc:...`` with ``table:`` or ``query:``: a JDBC source (the driver jar must be on
  the Spark classpath).

Differences from pandas, by necessity: a source without an order number numbers its lines
with ``monotonically_increasing_id`` (unique, not 1..n); rows have no order.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from crmlab.data.schema import CANONICAL, REQUIRED, ColumnMap
from crmlab.data.source import Source, read_source
from crmlab.errors import DataError, ParameterError
from crmlab.spark.session import get_or_create, is_spark_frame

__all__ = ["read_spark", "load_source", "load_transactions", "strftime_to_spark", "set_attrs", "attrs_of",
           "not_nan"]

_ID_COLS = ("customer_id", "order_id", "product_id")
_STRFTIME = {"Y": "yyyy", "y": "yy", "m": "MM", "d": "dd", "H": "HH", "I": "hh", "M": "mm", "S": "ss",
             "f": "SSSSSS", "p": "a", "b": "MMM", "B": "MMMM", "j": "DDD", "a": "EEE", "A": "EEEE"}
#: Patterns tried, in order, when the source gives no date_format (after Spark's own ISO cast).
_AUTO_MONTHFIRST = ("M/d/yyyy H:mm", "M/d/yyyy H:mm:ss", "M/d/yyyy", "yyyy/M/d H:mm:ss", "yyyy/M/d H:mm",
                    "yyyy/M/d", "yyyy.M.d H:mm:ss", "yyyy.M.d", "yyyyMMdd", "yyyy-M-d h:mm:ss a",
                    "yyyy-M-d h:mm a")
_AUTO_DAYFIRST = tuple(p.replace("M/d/yyyy", "d/M/yyyy") for p in _AUTO_MONTHFIRST)


def not_nan(column: str):
    """``column`` with NaN as missing: Spark's sum and mean count NaN, pandas' skip it.

    Parameters
    ----------
    column : str

    Returns
    -------
    pyspark.sql.Column
    """
    from pyspark.sql import functions as F

    return F.when(~F.isnan(column), F.col(column))


def set_attrs(sdf: Any, **values: Any) -> Any:
    """Attach pandas-like ``attrs`` (source name, Source) to a Spark DataFrame; returns it.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
    **values
        Keys and values to store.

    Returns
    -------
    pyspark.sql.DataFrame
        The same object.
    """
    try:
        current = dict(getattr(sdf, "attrs", None) or {})
        current.update(values)
        object.__setattr__(sdf, "attrs", current)
    except (AttributeError, TypeError):  # a DataFrame class that refuses attributes: nothing to keep
        pass
    return sdf


def attrs_of(sdf: Any) -> dict:
    """The ``attrs`` stored by :func:`set_attrs` (empty when none).

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame

    Returns
    -------
    dict
    """
    return dict(getattr(sdf, "attrs", None) or {})


def strftime_to_spark(fmt: str) -> str:
    """A strftime pattern (``%d/%m/%Y %H:%M``) as a Spark datetime pattern (``dd/MM/yyyy HH:mm``).

    Parameters
    ----------
    fmt : str

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        A directive Spark has no equivalent for.
    """
    out, literal = [], []

    def flush():
        if literal:
            text = "".join(literal)
            out.append("'" + text.replace("'", "''") + "'" if re.search(r"[A-Za-z']", text) else text)
            literal.clear()

    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            d = fmt[i + 1]
            if d == "%":
                literal.append("%")
            elif d in _STRFTIME:
                flush()
                out.append(_STRFTIME[d])
            else:
                raise ParameterError("date_format directive has no Spark equivalent", value=f"%{d}",
                                     expected="%Y %y %m %d %H %I %M %S %f %p %b %B %j %a %A")
            i += 2
            continue
        literal.append(ch)
        i += 1
    flush()
    return "".join(out)


def _reader_options(src: Source, path: str) -> dict[str, str]:
    enc = src.encoding
    if enc is None and Path(path).is_file():
        from crmlab.data.read import _sniff_encoding

        enc = _sniff_encoding(Path(path))
    return {"encoding": (enc or "utf-8").replace("utf-8-sig", "utf-8"), "header": "false" if src.names else "true",
            "inferSchema": "false", "mode": "PERMISSIVE", "quote": '"', "escape": '"'}


def _read_text_table(spark, src: Source, path: str):
    """A delimited text file; a regex separator (``\\s+``) is split in Spark from the text lines."""
    from pyspark.sql import functions as F

    sep = src.sep or ("\t" if re.search(r"\.tsv(\.gz)?$", path) else ",")
    opts = _reader_options(src, path)
    if sep == "\\t":
        sep = "\t"
    if len(sep) == 1:
        frame = spark.read.options(sep=sep, **opts).csv(path)
        return frame.toDF(*src.names) if src.names else frame
    lines = spark.read.option("encoding", opts["encoding"]).text(path)
    parts = F.split(F.trim(F.col("value")), sep)
    if src.names:
        names = list(src.names)
        body = lines
    else:
        first = lines.first()
        if first is None:
            raise DataError("the file is empty", file=path, expected="a header line and at least one row")
        names = re.split(sep, first["value"].strip())
        body = lines.where(F.col("value") != first["value"])
    body = body.where(F.length(F.trim(F.col("value"))) > 0).select(parts.alias("_p"))
    return body.select(*[F.col("_p")[i].alias(n) for i, n in enumerate(names)])


def _read_raw(spark, src: Source):
    """The source as Spark reads it (no mapping yet) and the name to show."""
    if src.url:
        url = src.url
        if url.startswith("jdbc:"):
            reader = spark.read.format("jdbc").option("url", url)
            reader = reader.option("dbtable", src.table) if src.table else reader.option("query", src.query)
            return reader.load(), src.table or "query"
        if url in ("catalog", "spark") or url.startswith("spark:"):
            return (spark.table(src.table) if src.table else spark.sql(src.query)), src.table or "query"
        raise ParameterError("a Spark source needs a path, url: catalog (a table) or a jdbc: URL",
                             file=src.file, column="url", value=url.split("://")[0] + "://...",
                             fix="use url: catalog with table:, or url: jdbc:... for a database")
    path = str(src.path)
    local = "://" not in path and not path.startswith("dbfs:")
    if local and not os.path.exists(path):
        raise DataError("file not found", file=path, fix="check path: in the source file")
    name = path.lower().rstrip("/")
    if local and os.path.isdir(path) and os.path.isdir(os.path.join(path, "_delta_log")):
        return spark.read.format("delta").load(path), src.name
    remote_table = not local and not name.endswith((".csv", ".tsv", ".txt", ".csv.gz", ".txt.gz", ".tsv.gz"))
    if name.endswith((".parquet", ".pq")) or (local and os.path.isdir(path)) or remote_table:
        return spark.read.parquet(path), src.name
    if name.endswith((".xlsx", ".xlsm", ".xls")):
        raise ParameterError("Spark does not read Excel files", file=path,
                             fix="export the sheet as CSV or Parquet, or use the pandas engine")
    return _read_text_table(spark, src, path), src.name


def try_cast(col, type_name: str):
    """``col`` cast to ``type_name``, missing where it does not parse (whatever the ANSI setting).

    Parameters
    ----------
    col : pyspark.sql.Column
    type_name : str

    Returns
    -------
    pyspark.sql.Column
    """
    if hasattr(col, "try_cast"):  # pyspark 4
        return col.try_cast(type_name)
    return col.cast(type_name)  # pyspark 3.5: a failed cast is null unless ANSI mode is on


def _blank_to_null(c):
    from pyspark.sql import functions as F

    t = F.trim(c.cast("string"))
    return F.when(t == "", F.lit(None)).otherwise(t)


def _ids(raw, cols: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Identifier expressions (strings, blanks missing) and the ids to test for a '.0' ending.

    pandas' rule: when every present id ends with ".0" (an ID that went through a float,
    '17850.0'), the ending is dropped. The test runs in the mapping's one checking pass.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    out, checks = {}, {}
    for canon in _ID_COLS:
        if canon not in cols:
            continue
        src = cols[canon]
        dtype = raw.schema[src].dataType
        if isinstance(dtype, (T.FloatType, T.DoubleType, T.DecimalType)):
            out[canon] = F.col(src).cast("long").cast("string")
        else:
            out[canon] = _blank_to_null(F.col(src))
            checks[canon] = out[canon]
    return out, checks


def _strip_float_endings(out: dict, checks: dict, row) -> None:
    from pyspark.sql import functions as F

    for k, e in checks.items():
        if row["_dot0_" + k] and row["_n_" + k]:
            out[k] = F.when(e.isNull(), None).otherwise(F.substring(e, F.lit(1), F.length(e) - 2))


class _Checks:
    """Refusals gathered while mapping, then run in one pass over the data."""

    def __init__(self) -> None:
        self.exprs: list = []
        self.errors: list[dict] = []

    def refuse(self, raw_col: str, parsed, problem: str, file: str, expected: str, fix: str) -> None:
        """Refuse a value that was given but did not parse (the first one is named)."""
        from pyspark.sql import functions as F

        given = _blank_to_null(F.col(raw_col))
        bad = F.when(given.isNotNull() & parsed.isNull(), F.col(raw_col).cast("string"))
        self.exprs.append(F.first(bad, ignorenulls=True).alias(f"_bad{len(self.errors)}"))
        self.errors.append(dict(problem=problem, file=file, column=raw_col, expected=expected, fix=fix))

    def run(self, raw, more: list) -> Any:
        """One aggregate pass: the extra expressions' row; raises for the first refused value."""
        row = raw.agg(*more, *self.exprs).first()
        for i, err in enumerate(self.errors):
            if row[f"_bad{i}"] is not None:
                e = dict(err)
                raise DataError(e.pop("problem"), value=row[f"_bad{i}"], **e)
        return row


def _number(raw, src_col: str, cmap: ColumnMap, file: str, checks: _Checks):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    dtype = raw.schema[src_col].dataType
    if isinstance(dtype, T.NumericType):
        return F.col(src_col).cast("double")
    text = F.trim(F.col(src_col).cast("string"))
    if cmap.thousands:
        text = F.replace(text, F.lit(cmap.thousands), F.lit(""))
    if cmap.decimal != ".":
        text = F.replace(text, F.lit(cmap.decimal), F.lit("."))
    parsed = try_cast(text, "double")
    seps = "" if not cmap.thousands else f" with {cmap.thousands!r} as thousands separator"
    checks.refuse(src_col, parsed, "value is not a number", file,
            expected=f"plain numbers like 12 or 2.55{seps} (no currency signs)",
            fix="set thousands: and decimal: in the source file to match the export, or clean the column")
    return parsed


def _timestamp(raw, src_col: str, cmap: ColumnMap, file: str, checks: _Checks):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    dtype = raw.schema[src_col].dataType
    if isinstance(dtype, (T.TimestampType, T.TimestampNTZType, T.DateType)):
        return F.col(src_col).cast("timestamp")
    if isinstance(dtype, T.NumericType) and not cmap.date_format:
        raise DataError("dates are numbers", file=file, column=src_col, expected="dates as text (2011-01-31)",
                        fix="set date_format: in the source file (for example %Y%m%d)")
    text = F.trim(F.col(src_col).cast("string"))
    text = F.regexp_replace(F.regexp_replace(text, r"^(.*?)\s*오전\s*(.*)$", "$1 $2 AM"), r"^(.*?)\s*오후\s*(.*)$",
                            "$1 $2 PM")
    if cmap.date_format:
        parsed = F.try_to_timestamp(text, F.lit(strftime_to_spark(cmap.date_format)))
    else:
        tries = [try_cast(text, "timestamp")]
        tries += [F.try_to_timestamp(text, F.lit(p)) for p in (_AUTO_DAYFIRST if cmap.dayfirst else _AUTO_MONTHFIRST)]
        parsed = F.coalesce(*tries)
    checks.refuse(src_col, parsed, "value is not a date", file,
            expected=f"dates in one format ({cmap.date_format or 'e.g. 2011-01-31 08:26:00'})",
            fix="set date_format: in the source file (a strftime pattern such as %d/%m/%Y %H:%M) to match the export")
    return parsed


def _check_columns(raw, cols: dict[str, str], cmap: ColumnMap, file: str) -> None:
    have = set(raw.columns)
    need = [c for c in REQUIRED if c not in cols and not (c == "order_id" and not cmap.optional)]
    if "amount" not in cols and not {"quantity", "unit_price"} <= set(cols):
        need += [c for c in ("quantity", "unit_price") if c not in cols]
    missing = [f"{canon} (from {src!r})" for canon, src in cols.items() if src not in have]
    if need or missing:
        shown = missing[0] if missing else cmap.columns.get(need[0], need[0])
        raise DataError(f"missing required column(s): {', '.join(missing) or ', '.join(need)}", file=file,
                        column=shown, fix=f"the table has {', '.join(map(repr, raw.columns[:20]))}; "
                        "map the columns in the source file")
    for extra in cmap.extra:
        if extra not in have:
            raise DataError("an extra column declared by the source is missing", file=file, column=extra,
                            fix="correct extra_columns: in the source file")


def map_columns(raw, cmap: ColumnMap, file: str):
    """A raw Spark DataFrame mapped onto the canonical columns (the Spark ``_map_columns``).

    Parameters
    ----------
    raw : pyspark.sql.DataFrame
    cmap : ColumnMap
    file : str
        Shown in errors.

    Returns
    -------
    pyspark.sql.DataFrame
    """
    from pyspark.sql import functions as F

    cols = {k: v for k, v in cmap.columns.items() if v in raw.columns or k not in cmap.optional}
    _check_columns(raw, cols, cmap, file)
    checks = _Checks()
    out, id_checks = _ids(raw, cols)
    for canon in _ID_COLS:
        out.setdefault(canon, F.lit(None).cast("string"))
    if "order_id" not in cols:
        out["order_id"] = (F.monotonically_increasing_id() + 1).cast("string")
    out["order_ts"] = _timestamp(raw, cols["order_ts"], cmap, file, checks)
    out["product_name"] = F.col(cols["product_name"]).cast("string") if "product_name" in cols else \
        F.lit(None).cast("string")
    q = _number(raw, cols["quantity"], cmap, file, checks) if "quantity" in cols else F.lit(1.0)
    out["quantity"] = q
    if "amount" in cols:
        out["amount"] = _number(raw, cols["amount"], cmap, file, checks)
        out["unit_price"] = (_number(raw, cols["unit_price"], cmap, file, checks) if "unit_price" in cols
                             else F.try_divide(out["amount"], q))
    else:
        out["unit_price"] = _number(raw, cols["unit_price"], cmap, file, checks)
        out["amount"] = q * out["unit_price"]
    more = [F.bool_and(F.coalesce(e.endswith(".0"), F.lit(True))).alias("_dot0_" + k) for k, e in id_checks.items()]
    more += [F.count(e).alias("_n_" + k) for k, e in id_checks.items()]
    if "order_id" in cols:
        more.append(F.sum(out["order_id"].isNull().cast("int")).alias("_no_order"))
    row = checks.run(raw, more)
    if "order_id" in cols and row["_no_order"]:
        raise DataError("order number is missing", file=file, column=cols["order_id"],
                        expected="every line to belong to an order")
    _strip_float_endings(out, id_checks, row)
    out["is_cancellation"] = (F.coalesce(out["order_id"].startswith(cmap.cancel_prefix), F.lit(False))
                              if cmap.cancel_prefix else F.lit(False))
    for opt in ("country", "channel", "category"):
        if opt in cols:
            out[opt] = F.col(cols[opt]).cast("string")
    exprs = [out[c].alias(c) for c in CANONICAL if c in out]
    exprs += [F.col(e).alias(e) for e in cmap.extra if e not in out]
    sdf = raw.select(*exprs)
    return sdf


def _baskets(spark, src: Source):
    """A baskets source (one basket a line) as canonical lines: order_id = line number (from 1)."""
    from pyspark.sql import functions as F

    sep = re.escape(src.sep or ",")
    lines = spark.read.option("encoding", src.encoding or "utf-8").text(str(src.path))
    numbered = lines.rdd.zipWithIndex().map(lambda r: (str(r[1] + 1), r[0]["value"])).toDF(["order_id", "value"])
    items = numbered.select("order_id", F.posexplode(F.split(F.col("value"), sep)).alias("pos", "item"))
    items = items.select("order_id", "pos", F.trim("item").alias("item")).where(F.col("item") != "")
    first = items.groupBy("order_id", "item").agg(F.min("pos").alias("pos"))
    if first.limit(1).count() == 0:
        raise DataError("the file has no baskets", file=src.path, expected="one basket a line")
    return first.select(
        F.lit(None).cast("string").alias("customer_id"), "order_id", F.lit(None).cast("timestamp").alias("order_ts"),
        F.col("item").alias("product_id"), F.col("item").alias("product_name"), F.lit(1.0).alias("quantity"),
        F.lit(float("nan")).alias("unit_price"), F.lit(float("nan")).alias("amount"),
        F.lit(False).alias("is_cancellation"))


def read_spark(spec: Any, *, spark: Any = None):
    """Read a source into a Spark DataFrame (canonical columns for order lines and baskets).

    Parameters
    ----------
    spec : str, path, Source or mapping
        As :func:`crmlab.data.read_source` takes it.
    spark : SparkSession, optional
        Default :func:`crmlab.spark.session.get_or_create`.

    Returns
    -------
    pyspark.sql.DataFrame
        ``attrs["source"]`` and ``attrs["source_spec"]`` set as pandas' ``load_source`` does.
    """
    src = read_source(spec)
    spark = spark or get_or_create()
    if src.kind == "baskets":
        sdf = _baskets(spark, src)
    else:
        raw, display = _read_raw(spark, src)
        if src.kind == "experiment":
            missing = [c for c in (src.arm, *src.outcomes) if c not in raw.columns]
            if missing:
                raise DataError("a column the source declares is missing", file=src.where, column=missing[0],
                                fix="correct arm: or outcomes: in the source file")
            sdf = _typed_experiment(raw)
        else:
            sdf = map_columns(raw, src.column_map(), display)
    return set_attrs(sdf, source=src.name, source_spec=src)


def _typed_experiment(raw):
    """Experiment columns read as text become numbers where every value is a number."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    text = [f.name for f in raw.schema.fields if isinstance(f.dataType, T.StringType)]
    if not text:
        return raw
    row = raw.agg(*[F.bool_and(F.col(c).isNull() | try_cast(F.trim(F.col(c)), "double").isNotNull()).alias(c)
                    for c in text]).first()
    numeric = {c for c in text if row[c]}
    return raw.select(*[(try_cast(F.trim(F.col(c)), "double") if c in numeric else F.col(c)).alias(c)
                        for c in raw.columns])


def load_source(spec: Any, *, as_of: Any = None, spark: Any = None):
    """The Spark twin of :func:`crmlab.data.load_source`: the data a source declares, in Spark.

    Parameters
    ----------
    spec : str, path, Source or mapping
        See :func:`crmlab.data.read_source`.
    as_of : str, Timestamp or None
        Report date: only order lines strictly before it (:mod:`crmlab.dates`).
    spark : SparkSession, optional

    Returns
    -------
    pyspark.sql.DataFrame
    """
    from pyspark.sql import functions as F

    from crmlab import dates

    sdf = read_spark(spec, spark=spark)
    ts = dates.parse_as_of(as_of)
    if ts is not None and attrs_of(sdf)["source_spec"].kind == "transactions":
        keep = sdf.where(F.col("order_ts") < F.lit(ts.to_pydatetime()))
        if keep.limit(1).count() == 0:
            raise DataError(f"no transactions before as_of={ts.date()}", column="order_ts", value=str(as_of),
                            fix="choose a later as_of")
        sdf = set_attrs(keep, **attrs_of(sdf))
    return sdf


def load_transactions(source: Any, columns: Any = None, *, table: str | None = None, query: str | None = None,
                      encoding: str | None = None, sheet_name: Any = 0, spark: Any = None):
    """The Spark twin of :func:`crmlab.data.load_transactions` (a path, table or Spark frame).

    Parameters
    ----------
    source : str, path or pyspark.sql.DataFrame
        A Parquet/CSV path, ``"catalog"`` / a ``jdbc:`` URL with ``table`` or ``query``, or a
        Spark DataFrame already loaded (mapped as it is).
    columns : str, mapping or ColumnMap, optional
        As in pandas: a preset name, ``{canonical: source column}`` or a ColumnMap.
    table, query, encoding : as in pandas.
    sheet_name : ignored (Spark does not read Excel).
    spark : SparkSession, optional

    Returns
    -------
    pyspark.sql.DataFrame
    """
    from crmlab.data.schema import _resolve_map

    name = "spark DataFrame" if is_spark_frame(source) else str(source)
    cmap = _resolve_map(columns, name)
    if is_spark_frame(source):
        return set_attrs(map_columns(source, cmap, name), source=name)
    spark = spark or get_or_create()
    src = Source(name=name, path=None if (table or query) else Path(name), url=name if (table or query) else None,
                 table=table, query=query, encoding=encoding, sep=cmap.sep, names=cmap.names)
    raw, display = _read_raw(spark, src)
    return set_attrs(map_columns(raw, cmap, display), source=display)
