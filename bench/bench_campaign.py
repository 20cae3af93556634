"""Benchmark: read out a 10-million-row, three-arm campaign test.

Target (campaign measurement issue): all outcomes (two rates and one amount), the SRM check,
multiple-testing corrections and CUPED in under 5 s with peak memory under 3 GB.

    python bench/bench_campaign.py --repeats 3
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import case, main  # noqa: E402

from crmlab import campaign  # noqa: E402  (imported once, like in a notebook session)

N = 10_000_000
ARMS = np.array(["No E-Mail", "Womens E-Mail", "Mens E-Mail"], dtype=object)


def setup_experiment() -> pd.DataFrame:
    """Hillstrom-like experiment, deterministic: arm labels as strings (as read from a CSV),
    pre-period spend ``history``, visit and conversion rates with an arm effect, and spend
    that is zero for non-buyers and lognormal for buyers (heavy right tail)."""
    rng = np.random.default_rng(20260101)
    arm = rng.integers(0, 3, N)
    history = rng.gamma(1.2, 200.0, N)
    lift = np.array([0.0, 0.04, 0.07])[arm]
    visit = (rng.random(N) < 0.10 + lift + history / 20_000).astype(np.int8)
    conversion = (visit & (rng.random(N) < 0.06 + history / 50_000)).astype(np.int8)
    spend = np.where(conversion == 1, rng.lognormal(4.5, 1.0, N), 0.0)
    df = pd.DataFrame({
        "segment": pd.Series(ARMS[arm], dtype="str"),
        "history": history,
        "visit": visit,
        "conversion": conversion,
        "spend": spend,
    })
    return df


def run_measure(df: pd.DataFrame) -> dict:
    r = campaign.measure(df, arm="segment", outcomes=["visit", "conversion", "spend"],
                         control="No E-Mail", covariate="history", correction="holm",
                         random_state=0)
    spend = r.lift("spend", "Mens E-Mail")
    return {"rows": int(r.arms["n"].sum()), "srm_p": round(r.srm["p_value"], 4),
            "spend_ci": spend["ci_method"].split(" ")[0]}


def setup_skewed() -> pd.DataFrame:
    """The same experiment with spend so heavy-tailed (buyers' spend to the power 2.2) that
    the skewness rule sends the spend intervals to the bounded bootstrap."""
    df = setup_experiment()
    df["spend"] = np.where(df["spend"] > 0, df["spend"] ** 2.2, 0.0)
    return df


def run_measure_bootstrap(df: pd.DataFrame) -> dict:
    r = campaign.measure(df, arm="segment", outcomes=["visit", "conversion", "spend"],
                         control="No E-Mail", covariate="history", random_state=0)
    return {"spend_ci": r.lift("spend", "Mens E-Mail")["ci_method"].split(" ")[0]}


case("measure_10M_3arms_cuped", setup_experiment, run_measure,
     target="< 5 s, < 3 GB peak (3 outcomes, SRM, Holm, CUPED)")
case("measure_10M_3arms_skewed_bootstrap", setup_skewed, run_measure_bootstrap,
     target="< 5 s, < 3 GB peak (spend so skewed that intervals are bootstrapped)")

if __name__ == "__main__":
    main()
