"""Benchmark: customer summary + BG/NBD + Gamma-Gamma on CDNOW master replicated 50 times.

3.48 M transactions of 1.18 M customers (each replica's customer ids shifted, so the
replicas are distinct customers with identical histories). Target: summary plus both fits
under 3 s in total. For comparison, lifetimes' summary_data_from_transaction_data,
BetaGeoFitter.fit and GammaGammaFitter.fit took 3.6 s + 19.0 s + 5.4 s on the same 2-core
machine (pandas 3), with the same parameters. The `unaggregated_equal` case checks that
fitting on the distinct (frequency, recency, T) rows with weights gives the parameters of
the one-row-per-customer fit (reported as the largest relative difference).

    python bench/bench_ltv.py --repeats 3
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import case, main  # noqa: E402

REPLICAS = 50


def setup():
    from crmlab import ltv

    tx = ltv.load_cdnow_master()
    n = len(tx)
    rep = np.repeat(np.arange(REPLICAS, dtype=np.int64), n)
    return pd.DataFrame({
        "customer_id": np.tile(tx["customer_id"].to_numpy(), REPLICAS) + rep * 100_000,
        "order_ts": np.tile(tx["order_ts"].to_numpy(), REPLICAS),
        "amount": np.tile(tx["amount"].to_numpy(), REPLICAS),
    })


def run_pipeline(tx):
    from crmlab import ltv

    s = ltv.summary(tx, unit="W")
    bg = ltv.BGNBD().fit(s)
    gg = ltv.GammaGamma().fit(s)
    return {"transactions": len(tx), "customers": len(s), "distinct_rows": bg.n_rows_,
            "bg_r": round(float(bg.params_["r"]), 6), "gg_p": round(float(gg.params_["p"]), 6)}


def setup_equal():
    from crmlab import ltv

    return ltv.summary(setup(), unit="W")


def run_equal(s):
    from crmlab import ltv

    out = {}
    for cls in (ltv.BGNBD, ltv.GammaGamma):
        agg = cls().fit(s).params_
        full = cls(aggregate=False).fit(s).params_
        out[cls.__name__ + "_max_rel_diff"] = float(((agg - full).abs() / full.abs()).max())
    return out


case("summary_bgnbd_gammagamma_50x", setup, run_pipeline, target="< 3 s in total")
case("unaggregated_equal", setup_equal, run_equal, target="max relative difference < 1e-4")

if __name__ == "__main__":
    main()
