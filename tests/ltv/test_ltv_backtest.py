"""Rolling-origin backtest (crmlab.ltv.backtest)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import FIXTURES
from crmlab import ltv
from crmlab.ltv.backtest import TIE_TOLERANCE


@pytest.fixture(scope="module")
def sample_tx():
    from crmlab import data

    return data.clean(data.load_source(FIXTURES / "online_retail_sample.yml")).data


@pytest.fixture(scope="module")
def bt(sample_tx):
    return ltv.backtest(sample_tx, unit="D", horizon_days=90)


def test_leaderboard_ranks_every_candidate(bt):
    lb = bt.leaderboard
    assert set(lb.index) == {"BG/NBD", "Pareto/NBD", "MBG/NBD", "gradient boosting", "naive past rate"}
    assert bt.per_cutoff["cutoff"].nunique() >= 2
    assert list(lb["rank"]) == list(range(1, 6))
    # increasing, up to ties (errors within the tie tolerance keep the models' given order)
    assert (lb["mae"].diff().dropna() >= -TIE_TOLERANCE * lb["mae"].abs().max()).all()
    assert bt.best == lb.index[0]
    assert bt.best_purchase_model == lb.loc[lb["purchase_model"]].index[0]
    assert bt.best_purchase_model in {"BG/NBD", "Pareto/NBD", "MBG/NBD"}
    assert lb["wins"].sum() == bt.per_cutoff["cutoff"].nunique()
    d = bt.to_dict()
    assert d["backtest_best"] == bt.best and d["backtest_mae_naive past rate"] == pytest.approx(
        lb.loc["naive past rate", "mae"])
    assert bt.plot() is not None


def test_actual_counts_equal_the_holdout_counts(bt, sample_tx):
    """The backtest's actual purchases are calibration_holdout's holdout periods (same customers)."""
    first = bt.per_cutoff.iloc[0]
    cut = first["cutoff"]
    ch = ltv.calibration_holdout(sample_tx, cut - pd.Timedelta(seconds=1),
                                 observation_end=cut + pd.Timedelta(days=90) - pd.Timedelta(seconds=1), unit="D")
    assert first["customers"] == len(ch)
    assert first["actual_total"] == ch["frequency_holdout"].sum()


def test_default_cutoffs_leave_room_for_training(sample_tx):
    cuts = ltv.default_cutoffs(sample_tx, n_cutoffs=10, horizon_days=90)
    assert cuts == sorted(cuts)
    first = sample_tx["order_ts"].min()
    assert all(c - pd.Timedelta(days=180) >= first.normalize() for c in cuts)
    assert np.all(np.diff([c.value for c in cuts]) == pd.Timedelta(days=90).value)
    with pytest.raises(Exception, match="too little history"):
        ltv.default_cutoffs(sample_tx, horizon_days=400)


def test_errors_within_the_tie_tolerance_keep_the_given_order():
    """Hand-made leaderboard: two models a billionth apart are a tie (given order wins), a model
    1e-3 behind is not; NaN errors go last."""
    import numpy as np
    import pandas as pd

    from crmlab.ltv.backtest import _rank

    lb = pd.DataFrame({"mae": [0.7436563092, 0.7436563083, 0.70, 0.7444, np.nan]},
                      index=["BG/NBD", "Pareto/NBD", "naive", "MBG/NBD", "broken"])
    assert list(_rank(lb).index) == ["naive", "BG/NBD", "Pareto/NBD", "MBG/NBD", "broken"]
    lb.loc["Pareto/NBD", "mae"] = 0.7430  # now clearly better
    assert list(_rank(lb).index)[:3] == ["naive", "Pareto/NBD", "BG/NBD"]
