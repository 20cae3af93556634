"""Write-back for the "act" step: per-customer scores to a table or file a campaign tool reads.

Scores (segment, CLV, P(alive), churn risk, next-best offer, preferred send time: whatever
per-customer columns a run produced) go to a target the analyst names: a database table
(``postgresql://.../crm`` + ``table=customer_scores``, any SQLAlchemy URL, Engine or
Connection) or a CSV / Parquet file. Every row carries the ``run`` it came from, so a campaign
tool picks one audience with ``WHERE run = '2011-09-01'``. The source a run read from is never
a target: exporting onto it is refused.

    crmlab export scores --run 2011-09-01 --to postgresql://analyst@db/crm --table customer_scores
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from crmlab.data.sql import is_sql_source, mask_url, with_password
from crmlab.errors import DataError, ParameterError

__all__ = ["export_scores", "run_scores"]

_FILE_KINDS = (".csv", ".csv.gz", ".parquet", ".pq")


def _norm_table(name: str) -> str:
    parts = [p.strip('"').lower() for p in name.split(".")]
    return parts[-1] if len(parts) == 1 or parts[0] in ("public", "main") else ".".join(parts)


def _same_database(a: Any, b: Any) -> bool:
    from crmlab.data.sql import _url

    ua, ub = _url(a), _url(b)
    if ua is None or ub is None:
        return False
    if ua.get_backend_name() == "sqlite" and ub.get_backend_name() == "sqlite":
        return Path(ua.database or "").expanduser().resolve() == Path(ub.database or "").expanduser().resolve()
    key = lambda u: (u.get_backend_name(), (u.host or "localhost").lower(), u.port, u.database)  # noqa: E731
    return key(ua) == key(ub)


def _refuse_source(to: Any, table: str | None, source: Any) -> None:
    """ParameterError when the target is the source the scores were computed from."""
    if source is None:
        return
    from crmlab.data.source import read_source

    src = read_source(source) if not (isinstance(source, str) and is_sql_source(source)) else None
    src_url = src.url if src is not None else source
    if table is not None and src_url is not None and _same_database(to, src_url):
        names = {_norm_table(src.table)} if src is not None and src.table else set()
        query = src.query if src is not None else None
        if _norm_table(table) in names or (query and re.search(rf"\b{re.escape(table.split('.')[-1])}\b",
                                                                    query, re.I)):
            raise ParameterError("the target is the source table: crmlab never writes to its source",
                                 file=mask_url(to), column=table, fix="name another table, e.g. customer_scores")
    if table is None and src is not None and src.path is not None:
        if Path(to).expanduser().resolve() == Path(src.path).resolve():
            raise ParameterError("the target is the source file: crmlab never writes to its source",
                                 file=src.where, fix="name another file")


def _frame(scores: pd.DataFrame, run: Any) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame):
        raise ParameterError("scores must be a DataFrame", value=type(scores).__name__,
                             expected="one row per customer")
    out = scores.reset_index() if "customer_id" not in scores.columns else scores.reset_index(drop=True)
    if "customer_id" not in out.columns:
        raise DataError("the scores have no customer_id column", column="customer_id",
                        expected="one row per customer, customer_id as a column or the index")
    if run is None or not str(run).strip():
        raise ParameterError("no run given", column="run", expected="the run the scores come from (a date)")
    out = out.drop(columns=["run"], errors="ignore")
    out.insert(0, "run", str(run))
    return out.rename(columns=str)


def _write_file(frame: pd.DataFrame, path: Path) -> str:
    name = path.name.lower()
    if not name.endswith(_FILE_KINDS):
        raise ParameterError("unknown target", value=str(path),
                             expected="a database URL with table=, or a .csv, .csv.gz or .parquet file")
    path.parent.mkdir(parents=True, exist_ok=True)
    if name.endswith((".parquet", ".pq")):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return str(path)


def _write_table(frame: pd.DataFrame, to: Any, table: str, run: str, if_exists: str) -> str:
    import sqlalchemy as sa

    schema, _, name = table.rpartition(".")
    if isinstance(to, (str, sa.engine.URL)):
        url = sa.engine.make_url(to) if isinstance(to, str) else to
        if url.get_backend_name() == "postgresql" and url.drivername in ("postgresql", "postgresql+psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
        engine, own = sa.create_engine(url), True
    else:
        engine, own = to, False
    try:
        with (engine.begin() if isinstance(engine, sa.engine.Engine) else engine.begin_nested()) as conn:
            exists = sa.inspect(conn).has_table(name, schema=schema or None)
            if exists and if_exists == "append":
                target = sa.table(name, sa.column("run"), schema=schema or None)
                conn.execute(sa.delete(target).where(target.c.run == run))  # a re-export replaces its run
            frame.to_sql(name, conn, schema=schema or None, index=False,
                         if_exists="replace" if if_exists == "replace" else "append", chunksize=10_000)
    finally:
        if own:
            engine.dispose()
    return f"{mask_url(to)} ({table})"


def export_scores(scores: pd.DataFrame, to: Any, *, table: str | None = None, run: Any,
                  source: Any = None, if_exists: str = "append", password_env: str | None = None) -> str:
    """Write per-customer scores, with their run, to a table or file the analyst names.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per customer: ``customer_id`` (column or index) and score columns (segment,
        clv, p_alive, churn_risk, next_best_offer, send_time ...).
    to : str, Path, sqlalchemy URL, Engine or Connection
        A database (then ``table`` is required) or a ``.csv`` / ``.csv.gz`` / ``.parquet`` path.
    table : str, optional
        Target table (``customer_scores`` or ``schema.customer_scores``); created when missing.
    run : str or date
        The run the scores come from, written into the ``run`` column.
    source : source spec, optional
        The source the run read (a source file, its name, or a URL): a target equal to it is refused.
    if_exists : {"append", "replace"}
        ``append`` keeps other runs' rows and replaces this run's; ``replace`` recreates the table.
        Files are always written whole.
    password_env : str, optional
        Environment variable holding the target database's password.

    Returns
    -------
    str
        Where the scores went, safe to print (password masked).

    Raises
    ------
    ParameterError
        No table for a database, unknown file kind, the target is the source, bad ``if_exists``.
    DataError
        No customer_id, or the database refused the write (one line, URL masked).
    """
    if if_exists not in ("append", "replace"):
        raise ParameterError("unknown if_exists", value=if_exists, expected="append or replace")
    frame = _frame(scores, run)
    database = is_sql_source(to)
    if database and not table:
        raise ParameterError("a database target needs table=", file=mask_url(to),
                             fix="pass --table customer_scores (a table other than the source's)")
    if not database and not isinstance(to, (str, os.PathLike)):
        raise ParameterError("unknown target", value=type(to).__name__, expected="a database URL or a file path")
    _refuse_source(to if database else Path(to), table if database else None, source)
    if not database:
        return _write_file(frame, Path(to).expanduser())
    if isinstance(to, str):
        to = with_password(to, password_env)
    try:
        return _write_table(frame, to, table, str(run), if_exists)
    except (DataError, ParameterError):
        raise
    except ImportError as exc:
        from crmlab.data.sql import POSTGRES_EXTRA

        raise DataError(f"no database driver ({exc.name or exc})", file=mask_url(to), fix=POSTGRES_EXTRA) from None
    except Exception as exc:  # noqa: BLE001 - one line, password scrubbed
        from crmlab.data.sql import _scrub

        raise DataError(f"the database refused the export: {_scrub(exc, to)}", file=mask_url(to),
                        column=table) from None


def run_scores(run: str, output_root: str | Path | None = None, *, notebook: str = "00-strategy-report",
               name: str = "customer_scores") -> pd.DataFrame:
    """The per-customer table a dated run published (``tables/<name>.parquet`` of ``notebook``).

    Parameters
    ----------
    run : str
        The run date (``2011-09-01``) or a run directory.
    output_root : path, optional
        The reports folder (default: crmlab's).
    notebook : str
        The report that published the table.
    name : str
        The table's name; ``customer_segments`` is used when ``customer_scores`` is absent.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        The run has no such table.
    """
    from crmlab.report import load_run

    tables = load_run(run, output_root, notebook=notebook).get("tables", {})
    for key in (name, "customer_segments"):
        if key in tables:
            return tables[key]
    raise DataError(f"the run has no {name} table", file=str(run), column=name,
                    expected="a run rendered with the strategy report", fix="render the run first")
