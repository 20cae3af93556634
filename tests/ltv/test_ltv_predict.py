"""Predictions of every purchase model: P(X(t)=n), P(active), expected purchases, next order.

Reference: lifetimes 0.11.3 (the CDNOW values of its docs and tests are computed here with
lifetimes itself, on the same parameters): ``probability_of_n_purchases_up_to_time`` and
``expected_number_of_purchases_up_to_time`` (BG/NBD: Fader, Hardie & Lee 2005, eq. 8 and 7;
MBG/NBD: Batislam et al. 2007) and ParetoNBDFitter's
``conditional_probability_of_n_purchases_up_to_time`` (Fader & Hardie note 028, eq. 16).
"""

from __future__ import annotations

import numpy as np
import pytest

from crmlab import ltv

pytest.importorskip("lifetimes")

HISTORIES = [(0, 0, 38.86), (2, 30.43, 38.86), (5, 20.0, 38.0), (14, 37.0, 38.86)]


@pytest.fixture(scope="module")
def fitted(cdnow):
    return {m._label: m.fit(cdnow, unit="W") for m in (ltv.BGNBD(), ltv.ParetoNBD(), ltv.MBGNBD())}


@pytest.mark.parametrize("label", ["BG/NBD", "MBG/NBD"])
@pytest.mark.parametrize("t", [1.0, 39.0, 78.0])
def test_new_customer_pmf_and_expectation_match_lifetimes(fitted, label, t):
    m = fitted[label]
    ref = m.to_lifetimes()
    for n in range(6):
        assert m.prob_purchases(t, n) == pytest.approx(ref.probability_of_n_purchases_up_to_time(t, n), rel=1e-9)
    assert m.expected_purchases_up_to(t) == pytest.approx(ref.expected_number_of_purchases_up_to_time(t), rel=1e-9)


def test_bgnbd_cdnow_published_new_customer_values(fitted):
    """lifetimes' CDNOW figures at r=0.2426, alpha=4.4136, a=0.7929, b=2.4259 (weeks):
    P(X(39)=0) = 0.574 and E[X(39)] = 1.195 for a customer just acquired."""
    m = fitted["BG/NBD"]
    assert m.prob_purchases(39, 0) == pytest.approx(0.5743, abs=5e-4)
    assert m.expected_purchases_up_to(39) == pytest.approx(1.195, abs=1e-3)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_pareto_conditional_pmf_matches_lifetimes(fitted, n):
    m = fitted["Pareto/NBD"]
    ref = m.to_lifetimes()
    for x, tx, T in HISTORIES:
        want = ref.conditional_probability_of_n_purchases_up_to_time(n, 39.0, x, tx, T)
        assert m.prob_purchases(39.0, n, frequency=x, recency=tx, T=T) == pytest.approx(want, rel=1e-7, abs=1e-12)


@pytest.mark.parametrize("label", ["BG/NBD", "Pareto/NBD", "MBG/NBD"])
def test_conditional_pmf_sums_to_one_and_to_the_expectation(fitted, label):
    """The pmf is a distribution and its mean is the model's conditional expectation
    (for BG/NBD the FHL 2005 figure E[X(39) | 2, 30.43, 38.86] = 1.226)."""
    m = fitted[label]
    for x, tx, T in HISTORIES:
        p = np.array([m.prob_purchases(39, n, frequency=x, recency=tx, T=T) for n in range(120)])
        assert p.sum() == pytest.approx(1.0, abs=1e-6)
        e = m.expected_purchases_up_to(39, frequency=x, recency=tx, T=T)
        assert (p * np.arange(120)).sum() == pytest.approx(e, rel=1e-5)
    assert fitted["BG/NBD"].expected_purchases_up_to(39, frequency=2, recency=30.43, T=38.86) == pytest.approx(
        1.226, abs=5e-4)


def test_vectorised_equals_single_customer(fitted, cdnow):
    for m in fitted.values():
        allp = m.prob_active(13, cdnow)
        assert allp.shape == (len(cdnow),)
        for i in (0, 5, 100):
            row = cdnow.iloc[i]
            one = m.prob_active(13, frequency=row["frequency"], recency=row["recency"], T=row["T"])
            assert isinstance(one, float) and one == pytest.approx(allp[i], rel=1e-12)
        # P(active in t) grows with t and never exceeds P(alive)
        assert np.all(m.prob_active(52, cdnow) >= allp - 1e-12)
        assert np.all(allp <= m.p_alive(cdnow) + 1e-12)


def test_next_order_date(fitted, cdnow):
    s = cdnow.copy()
    s.attrs.update(unit="W", observation_end="1997-09-30")
    nxt = fitted["BG/NBD"].next_order_date(s, horizon_months=12)
    assert list(nxt.columns) == ["p_alive", "prob_active_horizon", "median_wait", "expected_wait", "next_order"]
    known = nxt["next_order"].notna()
    # an order date is given exactly when the odds of ordering within the horizon are even or better
    assert (known == (nxt["prob_active_horizon"] >= 0.5)).all()
    assert (nxt.loc[known, "next_order"] >= np.datetime64("1997-10-01")).all()
    # at the median wait the probability of having ordered is one half
    r = nxt.loc[known].iloc[0]
    c = cdnow.loc[r.name]
    p = fitted["BG/NBD"].prob_active(r["median_wait"], frequency=c["frequency"], recency=c["recency"], T=c["T"])
    assert p == pytest.approx(0.5, abs=1e-6)
