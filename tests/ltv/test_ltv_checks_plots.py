"""Assumption checks and the lifetimes-style plots (crmlab.ltv.checks, crmlab.ltv.plots)."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import ltv  # noqa: E402
from crmlab.ltv import checks, plots  # noqa: E402


@pytest.fixture(scope="module")
def bg(cdnow):
    s = cdnow.copy()
    s.attrs["unit"] = "W"
    return ltv.BGNBD().fit(s), s


def test_spend_correlation_warns_beyond_the_threshold():
    rng = np.random.default_rng(1)
    x = rng.integers(1, 20, 500).astype(float)
    s = pd.DataFrame({"frequency": x, "recency": x + 1, "T": x + 5,
                      "monetary_value": 10 + 2 * x + rng.normal(0, 3, 500)})
    with pytest.warns(ltv.AssumptionWarning, match="correlate at 0.9"):
        r = checks.check_spend_independence(s)
    assert not r["ok"] and r["value"] > 0.9
    with pytest.warns(ltv.AssumptionWarning, match="Gamma-Gamma"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ltv.base.ConvergenceWarning)  # the toy spends are not Gamma-Gamma
        ltv.GammaGamma().fit(s)
    ok = checks.check_spend_independence(s.assign(monetary_value=rng.gamma(5, 4, 500)), warn=False)
    assert ok["ok"] and abs(ok["value"]) < 0.3


def test_calibration_length_and_identification(bg, cdnow):
    model, s = bg
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert checks.check_calibration_length(s)["ok"]  # 40 weeks >= 26
        assert checks.check_identified(model)["ok"]
    short = s[s["T"] < 10].copy()
    short.attrs["unit"] = "W"
    with pytest.warns(ltv.AssumptionWarning, match="fewer than the 26"):
        assert not checks.check_calibration_length(short)["ok"]

    class Fake:
        _label = "X"
        summary = pd.DataFrame({"estimate": [1.0, 0.001], "se": [0.1, np.nan]}, index=["a", "b"])

    with pytest.warns(ltv.AssumptionWarning, match="not identified"):
        assert not checks.check_identified(Fake())["ok"]
    t = ltv.model_checks(s, model)
    assert list(t.index) == ["calibration length", "BG/NBD identified"] and t["ok"].all()


def test_period_transactions_match_the_paper(bg):
    """FHL (2005) fig. 2: BG/NBD reproduces CDNOW's repeat-purchase histogram (1,411 customers
    without a repeat purchase; the model expects 1,408)."""
    model, s = bg
    t = plots.period_transactions(model, s)
    assert t["actual"].sum() == len(s) and t["model"].sum() == pytest.approx(len(s))
    assert t.loc["0", "actual"] == 1411 and t.loc["0", "model"] == pytest.approx(1408, abs=1)


def test_plots_draw(bg):
    model, s = bg
    ax = plots.plot_probability_alive_matrix(model, max_frequency=10)
    z = ax.images[0].get_array()
    assert z.shape == (11, 53) and np.nanmax(z) <= 1
    ax = plots.plot_frequency_recency_matrix(model, 4, max_frequency=10)
    assert ax.images and "expected purchases" in ax.get_title()
    ax = plots.plot_period_transactions(model, s)
    assert len(ax.patches) == 16
