"""Benchmark: fit an uplift model and score its ranking (Qini, uplift@30 %).

Cases (issue 13): the Hillstrom test (Womens E-Mail vs No E-Mail, visits; 42,693 of the 64,000
customers, fitted on half, scored on the other half) and a 10-million-customer synthetic
test (5 M fitted, 5 M scored). Model: crmlab's default, class transformation on a scaled
logistic regression.

    python bench/bench_uplift.py --repeats 3
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import case, main  # noqa: E402

from crmlab import campaign  # noqa: E402
from crmlab.campaign.targeting import HILLSTROM_FEATURES, default_model  # noqa: E402

N = 10_000_000


def setup_hillstrom():
    from sklearn.model_selection import train_test_split

    d = campaign.load_experiment("hillstrom")
    d = d[d["segment"].isin(["Womens E-Mail", "No E-Mail"])]
    X = campaign.one_hot(d[list(HILLSTROM_FEATURES)])
    t = (d["segment"] == "Womens E-Mail").to_numpy(np.int8)
    return train_test_split(X, d["visit"].to_numpy(), t, test_size=0.5, random_state=42)


def setup_synthetic():
    """10 M customers, 50/50 randomised: 6 numeric pre-period features and a 4-level channel
    (one-hot); visit probability 0.10 plus a treatment effect that depends on two features
    (0 to 0.08), deterministic seed. Features are float32 to halve the memory."""
    rng = np.random.default_rng(20260113)
    X = rng.standard_normal((N, 9), dtype=np.float32)
    X[:, 6:] = (rng.integers(0, 4, N)[:, None] == np.arange(1, 4)).astype(np.float32)
    t = rng.integers(0, 2, N, dtype=np.int8)
    tau = 0.04 * (1 + np.tanh(X[:, 0] - 0.5 * X[:, 1]))
    y = (rng.random(N, dtype=np.float32) < 0.10 + 0.02 * X[:, 2] ** 2 + t * tau).astype(np.int8)
    h = N // 2
    return X[:h], X[h:], y[:h], y[h:], t[:h], t[h:]


def run_fit_qini(state) -> dict:
    Xtr, Xte, ytr, yte, ttr, tte = state
    u = default_model(ytr).fit(Xtr, ytr, ttr).predict(Xte)
    return {"uplift_at_30": round(campaign.uplift_at_k(yte, u, tte, 0.3), 4),
            "qini_coefficient": round(campaign.qini_coefficient(yte, u, tte), 4),
            "qini_area": round(campaign.qini_area(yte, u, tte), 1)}


case("uplift_hillstrom_womens_visit", setup_hillstrom, run_fit_qini,
     target="uplift@30 % >= 0.0660 (scikit-uplift pipeline_usage_EN)")
case("uplift_synthetic_10M", setup_synthetic, run_fit_qini,
     target="fit on 5 M + Qini on 5 M; report median and peak memory")

if __name__ == "__main__":
    main()
