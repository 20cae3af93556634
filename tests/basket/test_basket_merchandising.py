"""crmlab.basket.merchandising: bundles and product families."""

from __future__ import annotations

import pytest

from crmlab import basket, data


@pytest.fixture(scope="module")
def groceries():
    return data.load_groceries()


@pytest.fixture(scope="module")
def online_retail():
    """Every non-cancellation invoice line with positive quantity (unknown customers kept)."""
    tx = data.load_transactions("online_retail")
    return data.clean(tx, unknown_customers=False, non_positive_price=False, duplicates=False).data


def test_exclude_and_bundles(groceries):
    """Excluded items leave every rule but the baskets still count; bundles list each
    product group once although its rules run both ways."""
    full = basket.BasketModel(min_support=0.005, min_confidence=0.3).fit(groceries)
    m = basket.BasketModel(min_support=0.005, min_confidence=0.3, exclude=["whole milk"]).fit(groceries)
    assert m.n_baskets_ == 9835
    assert not any("whole milk" in a + c for a, c in zip(m.rules_["antecedents"], m.rules_["consequents"]))
    kept = [("whole milk" not in a + c) for a, c in zip(full.rules_["antecedents"], full.rules_["consequents"])]
    assert len(m.rules_) == sum(kept)
    b = basket.top_bundles(full, 10)
    assert len(b) == 10 and b["items"].is_unique
    assert b["lift"].is_monotonic_decreasing


def test_product_families_on_online_retail(online_retail):
    """The five herb markers (basil, mint, parsley, rosemary, thyme) are bought as a set:
    at support 0.01 their rules form one family with nothing else in it."""
    m = basket.BasketModel(min_support=0.01, min_confidence=0.5, exclude=["POST", "DOT"]).fit(online_retail)
    fam = basket.families(m, min_lift=5.0, n=None)
    herbs = fam[fam["items"].str.contains("HERB MARKER")]
    assert len(herbs) == 1
    assert herbs["products"].iloc[0] == 5
    assert sorted(herbs["items"].iloc[0].split(", ")) == [
        f"HERB MARKER {h}" for h in ("BASIL", "MINT", "PARSLEY", "ROSEMARY", "THYME")]
    assert fam["rules"].sum() == (m.rules_["lift"] >= 5.0).sum()

