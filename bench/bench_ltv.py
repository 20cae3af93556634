"""Benchmark: customer summary + BG/NBD + Gamma-Gamma on VARIED CDNOW copies, against lifetimes.

CDNOW master (69,659 transactions of 23,570 customers) replicated as distinct customers, each
copy's transaction dates jittered by up to +-7 days (kept inside the data's range) and its
spends scaled by a log-normal factor (sigma 0.2), seeded per copy: the copies are different
histories, so the fits see as many distinct customer rows as real data of that size would
(identical copies only repeat the 1x rows, which flattered fits on distinct rows).

Cases (x50: 3.48 M transactions, 1.18 M customers):

* ``x50_crmlab`` / ``x50_lifetimes``: the job timed inside the process, crmlab's
  ``ltv.summary`` + ``BGNBD().fit`` + ``GammaGamma().fit`` against lifetimes'
  ``summary_data_from_transaction_data`` + ``BetaGeoFitter().fit`` + ``GammaGammaFitter().fit``
  (repeat buyers with a positive mean spend, as crmlab fits). Goal: 15x less work time.
* ``x50_crmlab_process`` / ``x50_lifetimes_process``: the whole process (start Python, import
  the library, read the transactions from a Parquet file, the job, exit): wall time, and the
  child's CPU time and peak memory as the case's. Goal: 8x.
* ``summary_<k>x``: ``ltv.summary`` alone on 1, 10, 50 and 200 varied copies (69.7 k to
  13.9 M order lines): linear in order lines means a flat ``s_per_m_lines``.

The parameters of the two libraries are compared after the runs (``param_equality`` in the
JSON: largest relative difference per model; goal 1e-6).

    python bench/bench_ltv.py                       # all cases, 5 repeats
    python bench/bench_ltv.py --case x50_crmlab      # with its peer
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import RESULTS_DIR, case, main  # noqa: E402

REPLICAS = 50
SUMMARY_SIZES = (1, 10, 50, 200)
#: The goal on parameters: largest relative difference between crmlab and lifetimes.
PARAM_TOLERANCE = 1e-6


def varied_copies(copies: int, seed: int = 0) -> pd.DataFrame:
    """``copies`` distinct-customer copies of CDNOW master, each with its own seeded jitter:
    dates moved by -7..7 days (clipped to the data's first and last day), spends times
    exp(N(0, 0.2))."""
    from crmlab import ltv

    tx = ltv.load_cdnow_master()
    n = len(tx)
    ts0 = tx["order_ts"].to_numpy(dtype="datetime64[ns]")
    lo, hi = ts0.min(), ts0.max()
    ids, ts, amounts = [], [], []
    for k in range(copies):
        rng = np.random.default_rng([seed, k])
        ids.append(tx["customer_id"].to_numpy(np.int64) + k * 100_000)
        ts.append(np.clip(ts0 + rng.integers(-7, 8, n).astype("timedelta64[D]"), lo, hi))
        amounts.append(tx["amount"].to_numpy(float) * np.exp(rng.normal(0, 0.2, n)))
    return pd.DataFrame({"customer_id": np.concatenate(ids), "order_ts": np.concatenate(ts),
                         "amount": np.concatenate(amounts)})


def cached_copies(copies: int) -> pd.DataFrame:
    """The varied copies, built once and kept as Parquet in bench/results/ (not committed)."""
    path = RESULTS_DIR / f"cdnow_varied_{copies}x.parquet"
    if not path.exists():
        RESULTS_DIR.mkdir(exist_ok=True)
        varied_copies(copies).to_parquet(path, index=False)
    return pd.read_parquet(path)


def _setup(copies: int, library: str):
    def setup():
        if library == "crmlab":
            # crmlab.ltv loads a module on first use of one of its names: load the job's
            # modules here, untimed, as lifetimes' are below (imports count in *_process)
            from crmlab import ltv

            ltv.summary, ltv.BGNBD, ltv.GammaGamma  # noqa: B018
            import crmlab.ltv.checks  # noqa: F401  (Gamma-Gamma's fit reads its thresholds)
        else:
            import lifetimes  # noqa: F401
            import lifetimes.utils  # noqa: F401
        return cached_copies(copies)

    return setup


def _params(values) -> dict:
    return {k: float(v) for k, v in values.items()}


def run_crmlab(tx: pd.DataFrame) -> dict:
    from crmlab import ltv

    s = ltv.summary(tx, unit="W")
    bg = ltv.BGNBD().fit(s)
    gg = ltv.GammaGamma().fit(s)
    return {"transactions": len(tx), "customers": len(s), "bg_rows": bg.n_rows_, "gg_rows": gg.n_rows_,
            "bgnbd": _params(bg.params_), "gamma_gamma": _params(gg.params_)}


def run_lifetimes(tx: pd.DataFrame) -> dict:
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    s = summary_data_from_transaction_data(tx, "customer_id", "order_ts", monetary_value_col="amount", freq="W")
    bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    repeat = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
    gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    gp = gg.params_
    return {"transactions": len(tx), "customers": len(s), "bgnbd": _params(bg.params_),
            "gamma_gamma": {"p": float(gp["p"]), "q": float(gp["q"]), "gamma": float(gp["v"])}}


def whole_process(job: str):
    """The job in a fresh Python process, timed from outside: wall and CPU time of the child."""
    def run(_state):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--once", job],
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr)
        inner = json.loads(proc.stdout.strip().splitlines()[-1])
        # the child's CPU time and peak memory stand for this case's (the harness's ratios
        # then compare whole processes); the wall time is the harness's own
        return {"cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
                "peak_mb": after.ru_maxrss / 1024, "process_wall_s": wall, "work_s": inner["seconds"]}

    return run


def summary_only(tx: pd.DataFrame) -> dict:
    from crmlab import ltv

    t0 = time.perf_counter()
    s = ltv.summary(tx, unit="W")
    seconds = time.perf_counter() - t0
    return {"lines": len(tx), "customers": len(s), "s_per_m_lines": seconds / len(tx) * 1e6}


def _max_rel(a: dict, b: dict) -> float:
    return max(abs(a[k] - b[k]) / abs(b[k]) for k in b)


def param_equality() -> None:
    """Add the crmlab-vs-lifetimes parameter comparison to the results file and print it."""
    path = RESULTS_DIR / "bench_ltv.json"
    if not path.exists():
        return
    report = json.loads(path.read_text())
    cases = report["cases"]
    if "x50_crmlab" not in cases or "x50_lifetimes" not in cases:
        return
    ours, ref = cases["x50_crmlab"]["extra"], cases["x50_lifetimes"]["extra"]
    out = {m: {"crmlab": ours[m], "lifetimes": ref[m], "max_rel_diff": _max_rel(ours[m], ref[m])}
           for m in ("bgnbd", "gamma_gamma")}
    out["tolerance"] = PARAM_TOLERANCE
    out["equal"] = all(out[m]["max_rel_diff"] <= PARAM_TOLERANCE for m in ("bgnbd", "gamma_gamma"))
    report["param_equality"] = out
    path.write_text(json.dumps(report, indent=2))
    print("parameters, crmlab vs lifetimes (x50): "
          + ", ".join(f"{m} max rel diff {out[m]['max_rel_diff']:.2e}" for m in ("bgnbd", "gamma_gamma"))
          + f" (goal {PARAM_TOLERANCE:g}): {'equal' if out['equal'] else 'NOT equal'}")


case("x50_crmlab", _setup(REPLICAS, "crmlab"), run_crmlab, target="15x less work time than lifetimes",
     peer="x50_lifetimes")
case("x50_lifetimes", _setup(REPLICAS, "lifetimes"), run_lifetimes, target="peer")
case("x50_crmlab_process", lambda: None, whole_process("x50_crmlab"), target="8x less whole-process time",
     peer="x50_lifetimes_process")
case("x50_lifetimes_process", lambda: None, whole_process("x50_lifetimes"), target="peer")
for k in SUMMARY_SIZES:
    case(f"summary_{k}x", _setup(k, "crmlab"), summary_only, target="s_per_m_lines flat (linear)")

if __name__ == "__main__":
    main()
    if "--once" not in sys.argv:
        param_equality()
