"""crmlab.basket.offers and segments: next-best offers per customer and per segment."""

from __future__ import annotations

import pytest

from crmlab import basket, data, segments
from crmlab.errors import ParameterError

from conftest import FIXTURES

SAMPLE = FIXTURES / "online_retail_sample.csv.gz"

FIVE = [["a", "b", "c"], ["a", "b"], ["a", "c"], ["b", "c"], ["a", "b", "d"]]


def test_recommend_offers_consequents_not_yet_bought():
    m = basket.BasketModel(min_support=0.2, min_confidence=0.5).fit(FIVE)
    offers = basket.recommend(m, {"ann": ["d"], "bob": ["a", "b", "c", "d"], "cy": ["zzz"]}, k=2)
    t = offers.table
    assert set(t["customer_id"]) == {"ann"}  # bob owns everything, cy triggers nothing
    ann = t[t["customer_id"] == "ann"].sort_values("rank")
    # {d} => {a} and {d} => {b} both have confidence 1 and lift 1.25
    assert list(ann["item"]) == ["a", "b"] and (ann["confidence"] == 1.0).all()
    assert list(ann["because"]) == ["{d}", "{d}"]
    assert offers.to_dict() == {"customers": 3, "customers_with_offer": 1, "offers": 2}


def test_offers_assortment_and_segments_on_sample():
    tx = data.clean(data.load_transactions(SAMPLE, columns="online_retail")).data
    m = basket.BasketModel(min_support=0.02, min_confidence=0.5).fit(tx)
    assert len(m.rules_) > 0 and m.item_names_ is not None
    offers = basket.recommend(m, tx, k=3)
    t = offers.table
    assert t.groupby("customer_id").size().max() <= 3
    owned = set(zip(tx["customer_id"], tx["product_id"]))
    assert not any((c, i) in owned for c, i in zip(t["customer_id"], t["item"]))
    # every offer's reason is a rule whose body the customer bought
    bought = tx.groupby("customer_id")["product_id"].agg(set)
    r0 = t.iloc[0]
    body = m.rules_.loc[m.rules_["consequents"] == (r0["item"],), "antecedents"]
    assert any(set(b) <= set(bought[r0["customer_id"]]) for b in body)
    a = basket.assortment(m)
    assert a.table["brings_along"].sum() == (m.rules_["antecedent_len"] == 1).sum()
    assert len(a.companions) == (m.rules_["antecedent_len"] == 1).sum()
    seg = segments.rfm(tx).table["segment"]
    sr = basket.rules_by_segment(tx, seg, min_baskets=100, min_support=0.05, min_confidence=0.5, max_len=3)
    assert sum(sr.baskets.values()) == tx["order_id"].nunique()
    assert set(sr.summary.index) == set(seg.cat.categories)
    assert all(sr.baskets[s] >= 100 for s in sr.models)
    assert len(sr.rules) == sum(len(x.rules_) for x in sr.models.values())
    so = basket.recommend_by_segment(sr, tx, seg, k=2)
    assert so.table.groupby("customer_id")["segment"].nunique().max() <= 1
    per = so.by_segment()
    assert per["customers"].sum() == so.customers_with_offer
    assert per["offers"].sum() == len(so.table)
    assert set(per.index) <= set(sr.models)
    with pytest.raises(ParameterError):
        offers.by_segment()

