"""crmlab.strategy.rules_diff matches rules on antecedent set + consequent, not on text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab import basket, data
from crmlab.strategy import rules_diff


def _rules(ants, cons, texts, lifts, **extra):
    return pd.DataFrame({"antecedents": ants, "consequents": cons, "rule": texts, "lift": lifts, **extra})


def test_rules_diff_matches_item_sets_not_text():
    a = _rules([("x", "z"), ("p",)], [("y",), ("q",)], ["{x, z} => {y}", "{p} => {q}"], [3.0, 2.0])
    # same rule with items in another order, as arrays (parquet) and another product name
    b = _rules([np.array(["z", "x"]), ("m",)], [["y"], ("n",)], ["{Z renamed, x} => {y}", "{m} => {n}"],
               [3.5, 4.0])
    d = rules_diff(a, b)
    assert d["appeared"]["rule"].tolist() == ["{m} => {n}"]
    assert d["disappeared"]["rule"].tolist() == ["{p} => {q}"]
    assert d["stayed"][["lift_A", "lift_B"]].iloc[0].tolist() == [3.0, 3.5]


def test_rules_diff_antecedent_and_consequent_are_not_swapped():
    a = _rules([("x",)], [("y",)], ["{x} => {y}"], [2.0])
    b = _rules([("y",)], [("x",)], ["{y} => {x}"], [2.0])
    d = rules_diff(a, b)
    assert len(d["stayed"]) == 0 and len(d["appeared"]) == 1 and len(d["disappeared"]) == 1


def test_rules_diff_empty_tables():
    a = _rules([("x",)], [("y",)], ["{x} => {y}"], [2.0])
    for empty in (None, pd.DataFrame(), a.iloc[:0]):
        d = rules_diff(a, empty)
        assert len(d["disappeared"]) == 1 and len(d["appeared"]) == 0 and len(d["stayed"]) == 0
        d = rules_diff(empty, a)
        assert len(d["appeared"]) == 1 and len(d["disappeared"]) == 0
    assert all(len(v) == 0 for v in rules_diff(None, pd.DataFrame()).values())


def test_rules_diff_text_only_tables_and_segments():
    a = pd.DataFrame({"rule": ["{x} => {y}", "{p} => {q}"], "lift": [3.0, 2.0]})
    b = pd.DataFrame({"rule": ["{x} => {y}"], "lift": [3.5]})
    assert rules_diff(a, b)["disappeared"]["rule"].tolist() == ["{p} => {q}"]
    sa = _rules([("x",)], [("y",)], ["r"], [2.0], segment=["Loyal"])
    sb = _rules([("x",)], [("y",)], ["r"], [2.0], segment=["Champions"])
    assert len(rules_diff(sa, sb)["stayed"]) == 0


def test_rules_diff_of_a_model_with_itself_and_a_segment_model():
    baskets = data.load_groceries()
    m = basket.BasketModel(min_support=0.01, min_confidence=0.4).fit(baskets)
    d = rules_diff(m.rules_, m.rules_)
    assert len(d["stayed"]) == len(m.rules_) and len(d["appeared"]) == len(d["disappeared"]) == 0
    m2 = basket.BasketModel(min_support=0.02, min_confidence=0.4).fit(baskets)
    d = rules_diff(m.rules_, m2.rules_)
    # a higher support keeps a subset of the rules (same confidence threshold)
    assert len(d["appeared"]) == 0 and len(d["stayed"]) == len(m2.rules_)
