"""A throwaway PostgreSQL server for the tests and the benchmark.

Debian's ``postgresql`` package provides the binaries (``make test`` installs it); this module
runs ``initdb`` into a temporary folder, starts the server on a free localhost port (TCP only,
password authentication), and removes everything on :meth:`PostgresServer.stop`. Nothing is
installed or started at import time.

    with PostgresServer.start() as pg:
        pg.execute("create table t (x int)")
        url = pg.url()            # postgresql://crmlab:...@127.0.0.1:PORT/crm
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd

ADMIN, ADMIN_PASSWORD, DB = "crmlab", "crmlab-test", "crm"


def find_bin(name: str) -> str | None:
    """The newest Debian PostgreSQL binary ``name`` (initdb, pg_ctl), or one on PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return found[-1] if found else shutil.which(name)


def available() -> bool:
    """Whether initdb, pg_ctl and psycopg are all there."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False
    return find_bin("initdb") is not None and find_bin("pg_ctl") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, on 127.0.0.1:``port``.

    Parameters
    ----------
    root : Path
        The temporary folder (data directory and log inside it).
    port : int
    """

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.data = root / "data"
        self.log = root / "server.log"

    # -- life cycle -------------------------------------------------------------------
    @classmethod
    def start(cls) -> PostgresServer:
        """initdb a new cluster and start it (as the ``postgres`` user when run as root)."""
        root = Path(tempfile.mkdtemp(prefix="crmlab-pg-"))
        server = cls(root, _free_port())
        try:
            server._initdb()
            server._pg_ctl("start", "-w", "-t", "60", "-l", str(server.log),
                           "-o", f"-p {server.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
                                 " -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        except Exception:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return server

    def _run(self, *args: str) -> None:
        user = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
        proc = subprocess.run(list(args), capture_output=True, text=True, user=user, timeout=120)
        if proc.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed: {proc.stderr.strip()} {log[-2000:]}")

    def _initdb(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(ADMIN_PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        self._run(find_bin("initdb"), "-D", str(self.data), "-U", ADMIN, f"--pwfile={pwfile}",
                  "--auth=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        pwfile.unlink()

    def _pg_ctl(self, *args: str) -> None:
        self._run(find_bin("pg_ctl"), "-D", str(self.data), *args)

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        try:
            self._pg_ctl("stop", "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- using it ---------------------------------------------------------------------
    def url(self, user: str = ADMIN, password: str | None = ADMIN_PASSWORD, db: str = DB) -> str:
        """SQLAlchemy URL of database ``db`` (created on first use of :meth:`execute`)."""
        auth = user if password is None else f"{user}:{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{db}"

    def connect(self, db: str = DB):
        """A psycopg connection as the administrator (autocommit)."""
        import psycopg

        if db != "postgres":
            self._ensure_db(db)
        return psycopg.connect(host="127.0.0.1", port=self.port, user=ADMIN, password=ADMIN_PASSWORD,
                               dbname=db, autocommit=True)

    def _ensure_db(self, db: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=ADMIN, password=ADMIN_PASSWORD,
                             dbname="postgres", autocommit=True) as conn:
            if conn.execute("select 1 from pg_database where datname = %s", (db,)).fetchone() is None:
                conn.execute(f'create database "{db}"')

    def execute(self, sql: str, params=None, db: str = DB) -> list[tuple]:
        """Run one statement as the administrator; the rows it returns."""
        with self.connect(db) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def copy_frame(self, frame: pd.DataFrame, table: str, types: dict[str, str], db: str = DB) -> None:
        """Create ``table`` with column ``types`` and fill it from ``frame`` with COPY (CSV)."""
        cols = ", ".join(f'"{c}" {t}' for c, t in types.items())
        import pyarrow as pa
        import pyarrow.csv as pacsv

        buf = pa.BufferOutputStream()  # Arrow writes CSV ~5x faster than DataFrame.to_csv
        pacsv.write_csv(pa.Table.from_pandas(frame[list(types)], preserve_index=False), buf,
                        pacsv.WriteOptions(include_header=False))
        with self.connect(db) as conn:
            # one transaction: COPY into a table created in it skips the free-space map, so the
            # table's pages hold the lines in the frame's order
            with conn.transaction():
                conn.execute(f'drop table if exists "{table}"')
                conn.execute(f'create table "{table}" ({cols})')
                names = ", ".join(f'"{c}"' for c in types)
                with conn.cursor().copy(f'copy "{table}" ({names}) from stdin with (format csv)') as copy:
                    copy.write(buf.getvalue().to_pybytes())
            conn.execute(f'analyze "{table}"')


#: Column types of the canonical transaction table in PostgreSQL.
CANONICAL_TYPES = {
    "customer_id": "text", "order_id": "text", "order_ts": "timestamp", "product_id": "text",
    "product_name": "text", "quantity": "double precision", "unit_price": "double precision",
    "amount": "double precision", "country": "text",
}


def wait_ready(server: PostgresServer, seconds: float = 30) -> None:
    """Until the server accepts connections (pg_ctl -w already waits; kept for slow machines)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            server.execute("select 1", db="postgres")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
