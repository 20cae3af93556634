"""Load, clean, RFM and segments on Online Retail and on a 10x enlarged copy (5.4 M lines).

Targets (foundation issue): Online Retail under 3 s; the 10x copy under 20 s with peak
memory under 4 GB. The enlarged copy is built once into bench/results/ (not committed): ten
copies of every line, each copy with its own invoice and customer numbers and dates shifted
by whole weeks, so there are ten times the customers and orders.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import RESULTS_DIR, case, main  # noqa: E402

from crmlab import config  # noqa: E402

X10 = RESULTS_DIR / "online_retail_x10.csv.gz"


def build_x10() -> Path:
    import pandas as pd

    if X10.exists():
        return X10
    RESULTS_DIR.mkdir(exist_ok=True)
    raw = pd.read_csv(config.ONLINE_RETAIL, dtype=str, keep_default_na=False)
    ts = pd.to_datetime(raw["InvoiceDate"])
    parts = []
    for k in range(10):
        p = raw.copy()
        cancel = p["InvoiceNo"].str.startswith("C")
        num = p["InvoiceNo"].str.lstrip("C")
        p["InvoiceNo"] = cancel.map({True: "C", False: ""}) + f"{k}" + num
        known = p["CustomerID"] != ""
        p.loc[known, "CustomerID"] = f"{k}" + p.loc[known, "CustomerID"]
        p["InvoiceDate"] = (ts + pd.Timedelta(weeks=k)).dt.strftime("%Y-%m-%d %H:%M:%S")
        parts.append(p)
    pd.concat(parts).to_csv(X10, index=False, compression={"method": "gzip", "compresslevel": 1})
    return X10


def pipeline(path):
    from crmlab import data, segments  # imported in setup already: not timed

    tx = data.load_transactions(path, columns="online_retail")
    cleaned = data.clean(tx)
    r = segments.rfm(cleaned.data)
    return {"lines": len(tx), "customers": len(r.table), "segments_nonempty": int((r.summary["customers"] > 0).sum())}


def setup(path_fn):
    def _setup():
        import crmlab.data  # noqa: F401  (import time is not the job's time)
        import crmlab.segments  # noqa: F401

        return path_fn()

    return _setup


case("online_retail_load_clean_rfm", setup(lambda: config.ONLINE_RETAIL), pipeline, "under 3 s")
case("online_retail_x10_load_clean_rfm", setup(build_x10), pipeline, "under 20 s, peak under 4 GB")

if __name__ == "__main__":
    main()
