"""Tests of crmlab.campaign.did: difference-in-differences, weaker evidence."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from crmlab import campaign
from crmlab.errors import DataError



def test_diff_in_diff_matches_statsmodels_and_says_weaker_evidence():
    rng = np.random.default_rng(5)
    units = 400
    u = np.repeat(np.arange(units), 2)
    treated = np.repeat(rng.integers(0, 2, units), 2)
    post = np.tile([0, 1], units)
    level = np.repeat(rng.normal(0, 2, units), 2)
    y = 10 + level + 1.5 * treated + 0.7 * post + 2.0 * treated * post + rng.normal(0, 1, 2 * units)
    df = pd.DataFrame({"customer": u, "treated": treated, "post": post, "y": y})
    r = campaign.diff_in_diff(df, outcome="y", treated="treated", post="post", unit="customer")
    fit = sm.OLS.from_formula("y ~ treated * post", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df["customer"]})
    assert r.estimate == pytest.approx(fit.params["treated:post"], rel=1e-10)
    assert r.se == pytest.approx(fit.bse["treated:post"], rel=1e-10)
    assert r.ci_low < 2.0 < r.ci_high
    assert "weaker evidence" in r.title
    assert r.to_dict()["evidence"] == "observational"
    m = r.means
    assert r.estimate == pytest.approx(m.loc["treated", "change"] - m.loc["comparison", "change"])


def test_diff_in_diff_bad_input():
    df = pd.DataFrame({"u": [1, 1, 2, 2], "treated": [1, 1, 0, 0], "post": [0, 2, 0, 2],
                       "y": [1.0, 2, 1, 1]})
    with pytest.raises(DataError, match=r"column 'post'.*not 0/1"):
        campaign.diff_in_diff(df, outcome="y", treated="treated", post="post", unit="u")
    df["post"] = [0, 0, 0, 1]
    with pytest.raises(DataError, match="both before and after"):
        campaign.diff_in_diff(df, outcome="y", treated="treated", post="post", unit="u")
