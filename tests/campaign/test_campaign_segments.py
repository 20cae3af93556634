"""Tests of crmlab.campaign.segments: lift by segment and the interaction test."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from crmlab import campaign
from crmlab.errors import ParameterError



@pytest.fixture(scope="module")
def hill() -> pd.DataFrame:
    return campaign.load_experiment("hillstrom")


def test_segment_interaction_equals_hc2_wald_test(hill):
    """Cochran's Q over segment lifts equals the Wald test of arm x segment interactions in
    the saturated OLS model with HC2 errors (statsmodels)."""
    sub = hill[hill["segment"].isin(["No E-Mail", "Womens E-Mail"])]
    se = campaign.segment_effects(sub, "channel", arm="segment", outcome="conversion",
                                  control="No E-Mail")
    fit = sm.OLS.from_formula("conversion ~ C(segment) * C(channel)", data=sub).fit(cov_type="HC2")
    names = [n for n in fit.params.index if ":" in n]
    R = np.zeros((len(names), len(fit.params)))
    for i, nm in enumerate(names):
        R[i, list(fit.params.index).index(nm)] = 1
    wald = fit.wald_test(R, scalar=True)
    row = se.interaction.iloc[0]
    assert row["q"] == pytest.approx(float(wald.statistic), rel=1e-8)
    assert row["p_value"] == pytest.approx(float(wald.pvalue), rel=1e-6)
    assert row["df"] == 2


def test_segment_effects_table_and_dict(hill):
    se = campaign.segment_effects(hill, ["newbie", "channel"], outcome=["conversion", "spend"])
    t = se.table
    # segment cells add up to the arms
    web = t[(t["dimension"] == "channel") & (t["outcome"] == "conversion")
            & (t["arm"] == "Mens E-Mail")]
    assert web["n_arm"].sum() == 21307 and web["n_control"].sum() == 21306
    # segment lift equals a direct computation
    phone = hill[hill["channel"] == "Phone"]
    direct = (phone.loc[phone["segment"] == "Mens E-Mail", "conversion"].mean()
              - phone.loc[phone["segment"] == "No E-Mail", "conversion"].mean())
    got = web.set_index("segment").loc["Phone", "lift_abs"]
    assert got == pytest.approx(direct, rel=1e-12)
    assert set(t["action"]) <= {"target", "avoid", "unclear"}
    assert (t.loc[t["action"] == "target", "ci_low"] > 0).all()
    d = se.to_dict()
    assert "conversion__mens_e_mail__channel__phone__lift_abs" in d
    assert "conversion__womens_e_mail__newbie__interaction_p_value" in d
    assert all(not isinstance(v, (dict, list)) for v in d.values())
    json.dumps(d)
    assert len(se.recommendation) == len(se.interaction)
    # interaction p-values are Holm-corrected over the 2 dimensions x 2 outcomes x 2 arms
    inter = se.interaction
    np.testing.assert_allclose(inter["p_adjusted"],
                               multipletests(inter["p_value"], method="holm")[1], rtol=1e-12)
    assert (inter["differs"] == (inter["p_adjusted"] < 0.05)).all()
    assert "<table" in se._repr_html_()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert se.plot("conversion", "Mens E-Mail", dimension="channel", ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "channel: Multichannel"
    plt.close(fig)


def test_segment_response_for_strategy_report():
    """Segments with missing labels get their own row; response() gives one row per segment."""
    rng = np.random.default_rng(4)
    n = 6000
    df = pd.DataFrame({
        "arm": rng.choice(["ctrl", "mail"], n),
        "rfm": rng.choice(["Champions", "At Risk", None], n),
    })
    # mail works only for At Risk customers (+10 points); Champions are unaffected
    base = 0.1 + 0.1 * ((df["arm"] == "mail") & (df["rfm"] == "At Risk"))
    df["buy"] = (rng.random(n) < base).astype(int)
    se = campaign.segment_effects(df, "rfm", arm="arm", outcome="buy", control="ctrl")
    resp = se.response("rfm")
    assert set(resp.index) == {"Champions", "At Risk", "(missing)"}
    assert resp.loc["At Risk", "action"] == "target"
    assert resp.loc["At Risk", "lift_abs"] == pytest.approx(0.1, abs=0.04)
    assert bool(se.interaction.loc[0, "differs"])
    assert "target At Risk" in se.recommendation[0]
    with pytest.raises(ParameterError, match="'channel'"):
        se.response("channel")
