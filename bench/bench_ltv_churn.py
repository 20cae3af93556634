"""Benchmark: churn classifier on the 10x demo data, and scoring 1.18 M customers on VARIED
CDNOW copies.

- ``churn_classifier_10x_demo``: the demo data (Online Retail, 4,338 customers) replicated 10
  times as distinct customers (43 k), each copy's dates jittered by up to +-7 days and its
  spends scaled by a log-normal factor; timed: features at two cut-offs, labels, training of
  the gradient-boosting classifier and scoring every customer.
- ``cdnow_50x_summary_fit``: CDNOW master replicated 50 times (3.48 M transactions, 1.18 M
  customers), every transaction's date jittered by up to +-7 days and its spend by a
  log-normal factor (sigma 0.2), so the copies are not identical histories; timed: the
  weekly summary, BG/NBD and Gamma-Gamma fits.
- ``cdnow_50x_scoring``: on the same fitted models, P(alive), P(active in the next 13
  weeks) and a 12-month CLV (no intervals) for all 1.18 M customers. Target: under 3 s.

    python bench/bench_ltv_churn.py --repeats 3
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import case, main  # noqa: E402

REPLICAS = 50
DEMO_COPIES = 10


def _vary(tx: pd.DataFrame, copies: int, id_step: int, seed: int = 0) -> pd.DataFrame:
    """``copies`` distinct-customer copies, dates jittered +-7 days (kept inside the data's range)
    and spends scaled by exp(N(0, 0.2))."""
    rng = np.random.default_rng(seed)
    n = len(tx)
    rep = np.repeat(np.arange(copies, dtype=np.int64), n)
    ts = np.tile(tx["order_ts"].to_numpy(dtype="datetime64[ns]"), copies)
    jitter = rng.integers(-7, 8, n * copies).astype("timedelta64[D]")
    lo, hi = ts.min(), ts.max()
    ts = np.clip(ts + jitter, lo, hi)
    out = {"customer_id": np.tile(pd.to_numeric(tx["customer_id"]).to_numpy(np.int64), copies) + rep * id_step,
           "order_ts": ts, "amount": np.tile(tx["amount"].to_numpy(float), copies) * np.exp(rng.normal(0, 0.2, n * copies))}
    for col in ("order_id", "product_id"):
        if col in tx.columns:
            out[col] = np.char.add(np.repeat(np.arange(copies).astype(str), n),
                                   np.tile(tx[col].astype(str).to_numpy(), copies)) if col == "order_id" \
                else np.tile(tx[col].to_numpy(), copies)
    return pd.DataFrame(out)


def setup_demo():
    from crmlab import data

    tx = data.clean(data.load_source("online_retail")).data
    return _vary(tx, DEMO_COPIES, 1_000_000)


def run_classifier(tx):
    from threadpoolctl import threadpool_limits

    from crmlab.ltv import churn_risk

    end = tx["order_ts"].max().normalize() + pd.Timedelta(days=1)
    cut = end - pd.Timedelta(days=90)
    cols = dict(customer_col="customer_id", date_col="order_ts", amount_col="amount", order_col="order_id",
                product_col="product_id", channel_col="channel")
    clf, use = churn_risk._classifier(tx, cut, 90, cols)
    X = churn_risk.churn_features(tx, cut, period_days=90, **cols)
    with threadpool_limits(1):
        p = clf.predict_proba(X[use].to_numpy(dtype=float))[:, 1]
    y = churn_risk.buy_again_labels(tx, X.index, cut, 90)
    from sklearn.metrics import roc_auc_score

    return {"lines": len(tx), "customers_scored": len(X), "holdout_auc": round(float(roc_auc_score(y, p)), 4)}


def setup_cdnow():
    from crmlab import ltv

    return _vary(ltv.load_cdnow_master(), REPLICAS, 100_000)


def run_summary_fit(tx):
    from crmlab import ltv

    s = ltv.summary(tx, unit="W")
    bg = ltv.BGNBD().fit(s)
    gg = ltv.GammaGamma().fit(s)
    return {"transactions": len(tx), "customers": len(s), "distinct_rows": bg.n_rows_,
            "bg_r": round(float(bg.params_["r"]), 4), "bg_a": round(float(bg.params_["a"]), 4),
            "gg_p": round(float(gg.params_["p"]), 4)}


def setup_scoring():
    import warnings

    from crmlab import ltv

    s = ltv.summary(setup_cdnow(), unit="W")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return s, ltv.BGNBD().fit(s), ltv.GammaGamma().fit(s)


def run_scoring(state):
    from crmlab import ltv

    s, bg, gg = state
    pa = bg.p_alive(s)
    act = bg.prob_active(13, s)
    value = ltv.clv(bg, gg, s, horizon_months=12, margin=0.3, intervals=False)
    return {"customers": len(s), "p_alive_mean": round(float(pa.mean()), 4),
            "prob_active_13w_mean": round(float(act.mean()), 4), "clv_total": round(value.to_dict()["clv_total"])}


case("churn_classifier_10x_demo", setup_demo, run_classifier, target="training + scoring 43 k customers")
case("cdnow_50x_summary_fit", setup_cdnow, run_summary_fit, target="summary + BG/NBD + Gamma-Gamma, 1.18 M customers")
case("cdnow_50x_scoring", setup_scoring, run_scoring, target="P(alive) + P(active) + CLV for 1.18 M customers < 3 s")

if __name__ == "__main__":
    main()
