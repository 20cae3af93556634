"""Sentences of the market-basket report: computed from the numbers, in English and Korean."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import basket
from crmlab.basket import narrative as say

TOY = [["milk", "cereal"], ["milk", "cereal"], ["milk", "cereal", "bread"], ["milk", "bread"],
       ["bread"], ["cereal", "milk"], ["eggs"], ["eggs", "bread"]]


@pytest.fixture(scope="module")
def model():
    return basket.BasketModel(min_support=0.25, min_confidence=0.6).fit(TOY)


def test_pct_never_scientific():
    assert say.pct(0.5) == "50%" and say.pct(0.025) == "2.5%" and say.pct(0.001) == "0.1%"
    assert say.pct(0.00012) == "0.012%" and "e" not in say.pct(1e-7)


def test_baskets_and_strongest_from_the_numbers(model):
    text = say.baskets(model, "en")
    assert "**8 baskets**" in text and f"{len(model.rules_)} rules" in text
    strong = say.strongest(model.rules_, None, "en")
    top = model.rules_.iloc[0]
    assert f"{top['lift']:,.1f} times" in strong
    for demo in ("design", "colour", "gift", "collection"):
        assert demo not in strong and demo not in text
    ko = say.strongest(model.rules_, None, "ko")
    assert "배" in ko and "**" not in ko and "<b>" in ko


def test_plurals_and_no_rules_suggestion(model):
    none = basket.BasketModel(min_support=0.9, min_confidence=0.6).fit(TOY)
    assert len(none.rules_) == 0
    found = basket.support_for_rules(none, TOY, min_baskets=2)
    assert found == (0.5, len(basket.BasketModel(min_support=0.5, min_confidence=0.6).fit(TOY).rules_))
    text = say.no_rules(none, found, lang="en")
    assert "No rule passes" in text and "min_support=0.5" in text
    assert "1 rule " in say.no_rules(none, (0.5, 1), lang="en")
    assert say.no_rules(none, None, None, "en").endswith("at a lower support.")
    assert "min_confidence" in say.no_rules(none, None, 0.25, "ko")


def test_recommendations_only_what_the_results_support():
    fam = pd.DataFrame({"lead_product": ["milk"], "products": [3]})
    full = say.recommendations({"rules": 5, "families": fam, "anchors": pd.DataFrame({"item": ["milk"]}),
                                "customers_with_offer": 40, "offers_per_customer": 2,
                                "segment": "Champions", "segment_own_rules": 4}, "en")
    assert full.count("\n") == 3 and "milk (3)" in full and "40 customers" in full and "4 rules of Champions" in full
    bare = say.recommendations({"rules": 5, "families": fam.iloc[:0], "anchors": None,
                                "customers_with_offer": None}, "en")
    assert bare.startswith("1. ") and "\n" not in bare and "customers" not in bare.split("offer")[0]
    none = say.recommendations({"rules": 0, "support_with_rules": (0.005, 12)}, "ko")
    assert "0.5%" in none and "12개" in none
    ko = say.recommendations({"rules": 5, "families": None, "anchors": None, "customers_with_offer": 3,
                              "segment": "Champions", "segment_own_rules": 2}, "ko")
    assert "챔피언" in ko and "Champions" not in ko


def test_short_notes_and_segments():
    assert "product_id" in say.no_products("My shop", "product_id", "en")
    assert "상품" in say.no_products("My shop", "product_id", "ko")
    assert "customer identifiers" in say.no_customers("en") and "고객 번호" in say.no_customers("ko")
    assert "order dates" in say.no_segments("en")
    few = say.segment_rules("Champions", {"rules": 0, "baskets": 20, "min_baskets": 100, "support": 0.02}, "en")
    assert "20 baskets, fewer than the 100" in few
    some = say.segment_rules("Loyal", {"rules": 0, "baskets": 500, "min_baskets": 100, "support": 0.02}, "en")
    assert "500 baskets but no rule" in some
    assert "1 segment " in say.segment_reach(10, 5, 1, "en")
    assert "every segment" in say.segment_reach(0, 5, 0, "en")


def test_offers_anchors_families(model):
    assert "all" not in say.offers(10, 10, 3, "en") and "other" not in say.offers(10, 10, 3, "en")
    assert "The other 5 buy" in say.offers(5, 10, 3, "en")
    a = basket.assortment(model).anchors
    assert ("lead at least one rule" in say.anchors(a, "en")) or ("leads at least one rule" in say.anchors(a, "en"))
    assert "No single product" in say.anchors(a.iloc[:0], "en")
    fam = basket.families(model, min_lift=1.0)
    n = len(basket.families(model, min_lift=1.0, n=None))
    assert say.families(fam, n, 1.0, "en").startswith(f"**{n} famil")
    assert "no strong product families" in say.families(fam.iloc[:0], 0, 5.0, "en")
