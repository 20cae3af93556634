"""Online Retail from PostgreSQL against the same job from the CSV: load + clean + RFM.

Target (database issue): the PostgreSQL path within 1.5x of the CSV path's median time, with
peak memory no higher. The script starts a throwaway PostgreSQL server (Debian's package, as
the tests do), writes the canonical Online Retail table into it with COPY, runs every repeat
of both cases in a fresh process against it, and stops the server at the end.

    python bench/bench_postgres.py            # 5 repeats each, medians and peak memory
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "data"))
from harness import case, main  # noqa: E402

URL_ENV = "CRMLAB_BENCH_PG_URL"


def _db_source() -> dict:
    from postgres_server import CANONICAL_TYPES

    return {"name": "Online Retail (PostgreSQL)", "url": os.environ[URL_ENV], "table": "orders",
            "columns": {c: c for c in CANONICAL_TYPES if c != "amount"}, "cancel_prefix": "C"}


def pipeline(spec):
    from crmlab import data, segments

    tx = data.load_source(spec)
    cleaned = data.clean(tx)
    r = segments.rfm(cleaned.data)
    return {"lines": len(tx), "customers": len(r.table)}


def setup_csv():
    import pyarrow.csv  # noqa: F401  (the reader's import is not the job's time)

    import crmlab.data  # noqa: F401
    import crmlab.segments  # noqa: F401

    return "online_retail"


def setup_postgres():
    import adbc_driver_postgresql.dbapi  # noqa: F401
    import sqlalchemy  # noqa: F401

    import crmlab.data  # noqa: F401
    import crmlab.segments  # noqa: F401

    return _db_source()


case("online_retail_csv_load_clean_rfm", setup_csv, pipeline, "the reference")
case("online_retail_postgres_load_clean_rfm", setup_postgres, pipeline,
     "within 1.5x of the CSV, peak memory no higher")


def _with_server() -> None:
    from postgres_server import CANONICAL_TYPES, PostgresServer

    from crmlab import data

    server = PostgresServer.start()
    try:
        server.copy_frame(data.load_transactions("online_retail"), "orders", CANONICAL_TYPES)
        os.environ[URL_ENV] = server.url()
        main()
    finally:
        server.stop()


if __name__ == "__main__":
    if "--once" in sys.argv or os.environ.get(URL_ENV):
        main()
    else:
        _with_server()
