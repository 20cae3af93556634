"""Database sources against a real PostgreSQL server started by the tests (and SQLite files).

The server is Debian's ``postgresql`` (``make test`` installs it), run from a temporary folder
on a free localhost port by :mod:`postgres_server` and stopped at the end of the module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlab import data
from crmlab.data import export, sql
from crmlab.errors import DataError, ParameterError

sys.path.insert(0, str(Path(__file__).parent))
import postgres_server  # noqa: E402

if not postgres_server.available():
    if os.environ.get("CI"):
        raise RuntimeError("PostgreSQL tests need Debian's postgresql and psycopg (make test installs them)")
    pytest.skip("PostgreSQL not installed (apt-get install postgresql; pip install 'crmlab[postgres]')",
                allow_module_level=True)

CANONICAL_MAP = {c: c for c in postgres_server.CANONICAL_TYPES if c != "amount"}
SECRET = "Pw-never-shown-7731"


@pytest.fixture(scope="module")
def pg():
    server = postgres_server.PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def csv_tx():
    return data.load_transactions("online_retail")


@pytest.fixture(scope="module")
def full_orders(pg, csv_tx):
    """Online Retail's canonical table in PostgreSQL, written with COPY."""
    pg.copy_frame(csv_tx, "orders", postgres_server.CANONICAL_TYPES)
    return "orders"


@pytest.fixture(scope="module")
def small_orders(pg, csv_tx):
    pg.copy_frame(csv_tx.head(3000), "small_orders", postgres_server.CANONICAL_TYPES)
    return "small_orders"


def _source(url, table=None, **extra):
    return {"name": "shop db", "url": url, **({"table": table} if table else {}), "columns": CANONICAL_MAP,
            "cancel_prefix": "C", **extra}


def test_online_retail_parity(pg, full_orders, csv_tx):
    """The same canonical table and quality figures from PostgreSQL as from the CSV."""
    db = data.load_source(_source(pg.url(), full_orders))
    assert len(db) == 541_909 and db["customer_id"].nunique() == 4_372
    assert list(db.columns) == list(csv_tx.columns) and db.dtypes.equals(csv_tx.dtypes)
    pd.testing.assert_frame_equal(db, csv_tx)  # line for line, in the file's order
    q_db, q_csv = data.quality_summary(db, data.clean(db)), data.quality_summary(csv_tx, data.clean(csv_tx))
    assert {**q_db.to_dict(), "source": None} == {**q_csv.to_dict(), "source": None}
    assert q_db.to_dict()["source"] == "shop db"
    # the report-date cut-off is done by the database and gives what the pandas cut-off gives
    cut = data.load_source(_source(pg.url(), full_orders), as_of="2011-06-01")
    expected = csv_tx[csv_tx["order_ts"] < "2011-06-01"]
    assert len(cut) == len(expected) and cut["order_ts"].max() < pd.Timestamp("2011-06-01")


@pytest.mark.parametrize("query", [
    "DROP TABLE small_orders",
    "INSERT INTO small_orders SELECT * FROM small_orders",
    "CREATE TABLE stolen AS SELECT * FROM small_orders",
    "select * from small_orders; drop table small_orders",
    "with gone as (delete from small_orders returning *) select * from gone",
    "select * into copied from small_orders",
])
def test_writing_queries_refused(pg, small_orders, query):
    before = pg.execute(f"select count(*) from {small_orders}")[0][0]
    with pytest.raises(ParameterError) as err:
        data.load_transactions(pg.url(), CANONICAL_MAP, query=query)
    assert "\n" not in str(err.value) and "query" in str(err.value)
    with pytest.raises(ParameterError):
        data.load_source(_source(pg.url(), query=query))
    assert pg.execute(f"select count(*) from {small_orders}")[0][0] == before == 3000
    assert not pg.execute("select 1 from pg_tables where tablename in ('stolen', 'copied')")


def test_session_is_read_only(pg, small_orders):
    """Even a SELECT that writes through a function is stopped by the read-only session."""
    pg.execute("create sequence if not exists crm_seq")
    with pytest.raises(DataError, match="read-only"):
        sql.read_sql(pg.url(), query="select nextval('crm_seq') as n")
    assert pg.execute("select last_value from crm_seq")[0][0] == 1  # never advanced


def test_engine_connection_and_params(pg, small_orders, csv_tx):
    import sqlalchemy as sa

    engine = sa.create_engine(pg.url().replace("postgresql://", "postgresql+psycopg://"))
    try:
        by_engine = data.load_transactions(engine, CANONICAL_MAP, table=small_orders)
        assert len(by_engine) == 3000
        with engine.connect() as conn:
            fr = sql.load_sql_transactions(conn, data.ColumnMap(columns=CANONICAL_MAP),
                                           query="select * from small_orders where country = :c", params={"c": "France"})
            assert not conn.in_transaction()  # rolled back, never committed
        assert len(fr) == int((csv_tx.head(3000)["country"] == "France").sum()) > 0
        by_url = sql.load_sql_transactions(pg.url(), data.ColumnMap(columns=CANONICAL_MAP),
                                           query="select * from small_orders where quantity > :q", params={"q": 10},
                                           as_of="2010-12-02")
        head = csv_tx.head(3000)
        assert len(by_url) == int(((head["quantity"] > 10) & (head["order_ts"] < "2010-12-02")).sum()) > 0
    finally:
        engine.dispose()


def test_password_never_shown(pg, small_orders, monkeypatch, tmp_path):
    pg.execute(f"do $$ begin if not exists (select from pg_roles where rolname = 'analyst') then "
               f"create role analyst login password '{SECRET}'; end if; end $$")
    pg.execute(f"grant select on {small_orders} to analyst")
    url = pg.url("analyst", None)
    monkeypatch.setenv("CRM_DB_PASSWORD", SECRET)
    src = data.read_source(_source(url, small_orders, password_env="CRM_DB_PASSWORD"))
    assert len(data.load_source(src)) == 3000
    assert SECRET not in src.where and SECRET not in str(data.describe(src)) and SECRET not in repr(src)
    # a wrong password, a bad query and a missing table: messages show no password
    for bad in (pg.url("analyst", "wrong-" + SECRET), pg.url("analyst", SECRET)):
        for kw in ({"table": "no_such_table"}, {"query": "select nope from small_orders"}):
            with pytest.raises(DataError) as err:
                data.load_transactions(bad, CANONICAL_MAP, **kw)
            assert SECRET not in str(err.value) and "***" in str(err.value)
    monkeypatch.delenv("CRM_DB_PASSWORD")
    with pytest.raises(ParameterError, match="CRM_DB_PASSWORD is not set"):
        data.load_source(src)
    # ~/.pgpass (here PGPASSFILE): libpq reads it itself, the URL holds no password
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg.port}:*:analyst:{SECRET}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert len(data.load_source(_source(url, small_orders))) == 3000


def test_missing_sqlite_file_is_an_error(tmp_path):
    missing = tmp_path / "typo.db"
    with pytest.raises(DataError, match="database file not found"):
        data.load_transactions(f"sqlite:///{missing}", CANONICAL_MAP, table="orders")
    with pytest.raises(DataError, match="database file not found"):
        data.load_source(_source(f"sqlite:///{missing}", "orders"))
    assert not missing.exists() and list(tmp_path.iterdir()) == []


def test_sqlite_is_opened_read_only(tmp_path, csv_tx):
    import sqlite3

    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        csv_tx.head(200).astype({"order_ts": str}).to_sql("orders", conn, index=False)
    with pytest.raises(ParameterError):
        data.load_transactions(f"sqlite:///{db}", CANONICAL_MAP, query="delete from orders")
    engine, _ = sql._engine(f"sqlite:///{db}")
    with engine.connect() as conn, pytest.raises(Exception, match="readonly"):
        conn.exec_driver_sql("delete from orders")
    engine.dispose()
    assert len(data.load_transactions(f"sqlite:///{db}", CANONICAL_MAP, table="orders")) == 200


def test_missing_driver_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "adbc_driver_postgresql.dbapi", None)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(DataError, match=r"crmlab\[postgres\]") as err:
        data.load_transactions(f"postgresql://analyst:{SECRET}@127.0.0.1:1/crm", CANONICAL_MAP, table="orders")
    assert SECRET not in str(err.value)


def test_export_scores(pg, small_orders, tmp_path):
    scores = pd.DataFrame({"customer_id": ["12347", "12348", "17850"], "segment": ["Champions", "Loyal", "At risk"],
                           "clv": [1200.5, 310.0, 95.25], "p_alive": [0.98, 0.81, 0.2],
                           "next_best_offer": ["22423", None, "85123A"], "send_hour": [10, 14, 9]})
    where = export.export_scores(scores, pg.url(), table="customer_scores", run="2011-09-01",
                                 source=_source(pg.url(), small_orders))
    assert "crmlab-test" not in where and "customer_scores" in where
    back = sql.read_sql(pg.url(), table="customer_scores")
    assert back.columns[0] == "run" and set(back["run"]) == {"2011-09-01"}
    pd.testing.assert_frame_equal(back.drop(columns="run"), scores, check_dtype=False)
    # re-exporting a run replaces it; another run is appended
    export.export_scores(scores, pg.url(), table="customer_scores", run="2011-09-01")
    export.export_scores(scores.head(1), pg.url(), table="customer_scores", run="2011-10-01")
    assert pg.execute("select run, count(*) from customer_scores group by run order by run") == \
        [("2011-09-01", 3), ("2011-10-01", 1)]
    with pytest.raises(ParameterError, match="never writes to its source"):
        export.export_scores(scores, pg.url(), table=small_orders, run="x", source=_source(pg.url(), small_orders))
    with pytest.raises(ParameterError, match="needs table="):
        export.export_scores(scores, pg.url(), run="x")
    assert pg.execute(f"select count(*) from {small_orders}")[0][0] == 3000
    for name in ("scores.csv", "scores.parquet"):
        export.export_scores(scores.set_index("customer_id"), tmp_path / name, run="2011-09-01")
        read = pd.read_csv if name.endswith(".csv") else pd.read_parquet
        got = read(tmp_path / name, dtype={"customer_id": str}) if name.endswith(".csv") else read(tmp_path / name)
        assert list(got["customer_id"].astype(str)) == list(scores["customer_id"]) and set(got["run"]) == {"2011-09-01"}


@pytest.fixture(scope="module")
def sample_orders(pg):
    """The Online Retail sample (every 15th customer) as a table: quick enough to render reports on."""
    from conftest import FIXTURES

    tx = data.load_source(FIXTURES / "online_retail_sample.yml")
    pg.copy_frame(tx, "sample_orders", postgres_server.CANONICAL_TYPES)
    return "sample_orders"


def test_rendered_reports_never_hold_the_password_and_scores_export_matches(pg, sample_orders, tmp_path):
    """Render the customer analysis and the strategy report on a source whose URL carries a password:
    no file under the reports folder contains it. Then export the strategy report's scores to a second
    database table: they read back equal to the report's table."""
    import yaml

    from crmlab import report
    pg.execute(f"grant select on {sample_orders} to public")
    src = tmp_path / "shop.yml"
    src.write_text(yaml.safe_dump(_source(pg.url(), sample_orders) | {"name": "shop db"}), encoding="utf-8")
    out = tmp_path / "reports"
    for nb in ("01-customer-analysis", "00-strategy-report"):
        res = report.render(nb, {"source": str(src)}, output_root=out)
        assert res.ok, res.error
    leaked = [p for p in out.rglob("*") if p.is_file() and postgres_server.ADMIN_PASSWORD.encode() in p.read_bytes()]
    assert not leaked, leaked
    strategy_dir = next(p.parent for p in out.rglob("report.html") if "00-strategy-report" in str(p))
    published = pd.read_parquet(strategy_dir / "tables" / "customer_scores.parquet")
    target = pg.url(db="crm_scores")
    pg._ensure_db("crm_scores")
    export.export_scores(published, target, table="customer_scores", run="test-run")
    back = pd.read_sql("select * from customer_scores order by customer_id",
                       __import__("sqlalchemy").create_engine(target))
    mine = published.sort_values("customer_id").reset_index(drop=True)
    assert len(back) == len(mine) > 100 and (back["run"] == "test-run").all()
    assert back["customer_id"].tolist() == mine["customer_id"].tolist()
    assert back["segment"].tolist() == mine["segment"].tolist()
    assert np.allclose(back["clv"].to_numpy(float), mine["clv"].to_numpy(float), equal_nan=True)
