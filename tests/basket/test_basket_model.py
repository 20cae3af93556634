"""crmlab.basket.model: arules-exact rules, measures, pruning, engines and bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone

from crmlab import basket, data
from crmlab.errors import DataError, ParameterError

ENGINES = basket.available_engines()

FIVE = [["a", "b", "c"], ["a", "b"], ["a", "c"], ["b", "c"], ["a", "b", "d"]]


def rule(model, lhs, rhs):
    r = model.rules_
    hit = r[(r["antecedents"].map(frozenset) == frozenset(lhs)) & (r["consequents"].map(frozenset) == frozenset(rhs))]
    assert len(hit) == 1, f"rule {lhs} => {rhs} not found"
    return hit.iloc[0]


@pytest.fixture(scope="module")
def groceries():
    return data.load_groceries()


@pytest.fixture(scope="module")
def online_retail():
    """Every non-cancellation invoice line with positive quantity (unknown customers kept)."""
    tx = data.load_transactions("online_retail")
    return data.clean(tx, unknown_customers=False, non_positive_price=False, duplicates=False).data


# ----------------------------------------------------------------- published numbers


@pytest.mark.parametrize("engine", ENGINES)
def test_groceries_matches_arules(groceries, engine):
    """ANCHORS.md, Groceries (R arules apriori, support 0.001, confidence 0.5, one-item RHS):
    exactly 5,668 rules; top lift {Instant food products, soda} => {hamburger meat}, 18.9957."""
    m = basket.BasketModel(min_support=0.001, min_confidence=0.5, engine=engine).fit(groceries)
    assert m.n_baskets_ == 9835 and m.n_items_ == 169
    assert m.item_counts_["whole milk"] == 2513
    assert len(m.rules_) == 5668
    top = m.rules_.iloc[0]
    assert set(top["antecedents"]) == {"Instant food products", "soda"}
    assert top["consequents"] == ("hamburger meat",)
    assert top["lift"] == pytest.approx(18.9957, abs=5e-5)
    assert (m.rules_["consequent_len"] == 1).all()
    assert m.rules_["confidence"].min() >= 0.5 and m.rules_["support"].min() >= 0.001


def test_groceries_rules_identical_across_engines(groceries):
    """Every engine returns the same rule table (rows, order and every measure)."""
    frames = [basket.BasketModel(min_support=0.001, min_confidence=0.5, engine=e).fit(groceries).rules_
              for e in ENGINES]
    for other in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], other)


def test_groceries_multi_item_consequents_match_mlxtend(groceries):
    """ANCHORS.md: plain mlxtend association_rules gives 5,829 rules on Groceries because it
    also emits multi-item consequents; max_consequent=None reproduces that."""
    m = basket.BasketModel(min_support=0.001, min_confidence=0.5, max_consequent=None).fit(groceries)
    assert len(m.rules_) == 5829
    assert (m.rules_["consequent_len"] > 1).sum() == 5829 - 5668


def test_online_retail_rules_identical_across_engines(online_retail):
    """ANCHORS.md, Online Retail: 20,728 baskets over 3,941 stock codes; confidence 0.5 with
    one-item RHS gives 775 rules at support 0.01 and 17,958 at support 0.005, on every engine."""
    for support, expected in ((0.01, 775), (0.005, 17958)):
        tables = []
        for engine in ENGINES:
            m = basket.BasketModel(min_support=support, min_confidence=0.5, engine=engine).fit(online_retail)
            assert (m.n_baskets_, m.n_items_) == (20728, 3941)
            assert len(m.rules_) == expected
            tables.append(m.rules_.drop(columns=["rule"]))
        for other in tables[1:]:
            pd.testing.assert_frame_equal(tables[0], other)


# ----------------------------------------------------------------- hand-computed measures


def test_measures_on_five_baskets():
    """Hand-computed: 5 baskets {abc, ab, ac, bc, abd}; s(a)=s(b)=.8, s(c)=.6, s(d)=.2."""
    m = basket.BasketModel(min_support=0.2, min_confidence=0.5).fit(FIVE)
    ab = rule(m, ["a"], ["b"])
    assert (ab["count"], ab["antecedent_count"], ab["consequent_count"]) == (3, 4, 4)
    assert ab["support"] == pytest.approx(0.6)
    assert ab["confidence"] == pytest.approx(0.75)
    assert ab["lift"] == pytest.approx(0.9375)
    assert ab["leverage"] == pytest.approx(0.6 - 0.8 * 0.8)
    assert ab["conviction"] == pytest.approx(0.2 / 0.25)
    assert ab["zhangs_metric"] == pytest.approx(-0.04 / 0.16)  # max(.6*.2, .8*.2) = .16
    ca = rule(m, ["c"], ["a"])
    assert ca["confidence"] == pytest.approx(2 / 3)
    assert ca["lift"] == pytest.approx((2 / 3) / 0.8)
    assert ca["conviction"] == pytest.approx(0.2 / (1 / 3))
    assert ca["zhangs_metric"] == pytest.approx(-0.08 / 0.24)
    da = rule(m, ["d"], ["a"])
    assert da["confidence"] == 1.0 and da["lift"] == pytest.approx(1.25)
    assert math.isinf(da["conviction"])
    assert da["zhangs_metric"] == pytest.approx(0.04 / 0.16)
    assert da["p_value"] == pytest.approx(0.8)  # P(d's one basket holds a) = 4/5
    # by hand: a=>b, b=>a, a=>c (2/4), c=>a, b=>c, c=>b, d=>a, d=>b, ac=>b, bc=>a, ad=>b, bd=>a
    # (a=>d, b=>d, ab=>c, ab=>d fall below confidence .5)
    assert len(m.rules_) == 12


def test_redundancy_matches_definition_on_five_baskets():
    """arules is.redundant: a rule is redundant when a more general rule (same RHS, LHS a
    proper subset, the empty LHS included) has the same or higher confidence."""
    m = basket.BasketModel(min_support=0.2, min_confidence=0.5).fit(FIVE)
    assert rule(m, ["a", "d"], ["b"])["redundant"]  # {d} => {b} has confidence 1 too
    assert not rule(m, ["d"], ["b"])["redundant"]  # 1.0 > s(b) = .8
    assert rule(m, ["a"], ["b"])["redundant"]  # .75 <= s(b) = .8 (lift below 1)
    pruned = basket.BasketModel(min_support=0.2, min_confidence=0.5, remove_redundant=True).fit(FIVE)
    assert set(pruned.rules_["rule"]) == set(m.rules_.loc[~m.rules_["redundant"], "rule"])


def rule_set(model):
    r = model.rules_
    return {(frozenset(a), frozenset(c)) for a, c in zip(r["antecedents"], r["consequents"])}


def R(lhs, rhs):
    return (frozenset(lhs), frozenset(rhs))


def _constructed():
    """x and y bought together far above chance; z independent of both (half of every group)."""
    groups = [(["x", "y"], 30), (["x"], 10), (["y"], 10), ([], 50)]
    baskets = []
    for items, n in groups:
        for k in range(n):
            baskets.append(items + (["z"] if k % 2 == 0 else []))
    return baskets


def test_pruning_on_constructed_case():
    """Known answer: only x => y and y => x are non-redundant (every z rule has lift 1 or
    adds nothing to a more general rule); the Holm-significant rules are the four whose
    body holds x or y and whose head is the other."""
    model = basket.BasketModel(min_support=0.1, min_confidence=0.4, max_len=3)
    m = model.fit(_constructed())
    r = m.rules_
    # Fisher exact p-values agree with scipy's one-sided fisher_exact
    for _, row in r.iterrows():
        n = m.n_baskets_
        a, b, c = row["count"], row["antecedent_count"], row["consequent_count"]
        table = [[a, b - a], [c - a, n - b - c + a]]
        assert row["p_value"] == pytest.approx(stats.fisher_exact(table, alternative="greater")[1], rel=1e-8)
    nonred = basket.BasketModel(min_support=0.1, min_confidence=0.4, max_len=3, remove_redundant=True).fit(_constructed())
    assert rule_set(nonred) == {R("x", "y"), R("y", "x")}
    sig = basket.BasketModel(min_support=0.1, min_confidence=0.4, max_len=3, significance=0.05).fit(_constructed())
    assert rule_set(sig) == {R("x", "y"), R("y", "x"), R("xz", "y"), R("yz", "x")}
    both = basket.BasketModel(min_support=0.1, min_confidence=0.4, max_len=3, remove_redundant=True,
                              significance=0.05, correction="bh").fit(_constructed())
    assert rule_set(both) == {R("x", "y"), R("y", "x")}


def test_adjust_pvalues_matches_r_p_adjust():
    """By hand (as R's p.adjust): p = .01 .04 .03 .005 gives Holm .03 .06 .06 .02 and
    BH .02 .04 .04 .02; statsmodels' multipletests agrees on random p-values."""
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(basket.adjust_pvalues(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(basket.adjust_pvalues(p, "bh"), [0.02, 0.04, 0.04, 0.02])
    q = np.random.default_rng(7).random(50) ** 3
    np.testing.assert_allclose(basket.adjust_pvalues(q, "holm"), multipletests(q, method="holm")[1])
    np.testing.assert_allclose(basket.adjust_pvalues(q, "bh"), multipletests(q, method="fdr_bh")[1])


def _brute_force(baskets, min_count, max_len):
    sets = [frozenset(b) for b in baskets]
    items = sorted(set().union(*sets))
    out = {}
    for k in range(1, max_len + 1):
        for combo in itertools.combinations(items, k):
            c = sum(1 for s in sets if s.issuperset(combo))
            if c >= min_count:
                out[frozenset(combo)] = c
    return out


@pytest.mark.parametrize("seed,max_consequent", [(1, 1), (2, 1), (3, None)])
def test_engines_agree_with_brute_force(seed, max_consequent):
    """Every engine finds exactly the itemsets (and counts) a brute-force count finds, and
    redundancy agrees with checking every more general rule."""
    rng = np.random.default_rng(seed)
    items = [f"i{k}" for k in range(9)]
    weights = 1 / np.arange(1, 10)
    baskets = [list(rng.choice(items, size=rng.integers(1, 7), p=weights / weights.sum()))
               for _ in range(120)]
    truth = _brute_force(baskets, min_count=6, max_len=9)
    frames = []
    for engine in ENGINES:
        m = basket.BasketModel(min_support=0.05, min_confidence=0.3, max_consequent=max_consequent,
                               engine=engine).fit(baskets)
        found = dict(zip(m.itemsets_["itemsets"].map(frozenset), m.itemsets_["count"]))
        assert found == truth
        frames.append(m.rules_)
        n = m.n_baskets_
        # every split of every frequent itemset that reaches the confidence is a rule
        expected = {(A, S - A) for S in truth for k in range(1, len(S))
                    for A in map(frozenset, itertools.combinations(S, k))
                    if (max_consequent is None or len(S) - k <= max_consequent) and truth[S] / truth[A] >= 0.3}
        assert rule_set(m) == expected
        for _, row in m.rules_.iterrows():
            A, C = frozenset(row["antecedents"]), frozenset(row["consequents"])
            general = [truth[C] / n] + [truth[frozenset(s) | C] / truth[frozenset(s)]
                                        for k in range(1, len(A)) for s in itertools.combinations(A, k)]
            assert row["redundant"] == (row["confidence"] <= max(general))
    for other in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], other)


def test_category_level_and_names(online_retail):
    sample = online_retail[online_retail["order_id"] < "537000"]
    m = basket.BasketModel(min_support=0.05, min_confidence=0.3, level="name").fit(sample)
    assert m.item_column_ == "product_name"
    assert all(isinstance(i, str) for i in m.item_counts_.index)


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize("params", [
    {"min_support": 0}, {"min_support": 1.5}, {"min_support": -0.1}, {"min_support": "1%"},
    {"min_confidence": 1.2}, {"min_confidence": -0.5}, {"min_lift": -1}, {"max_len": 0},
    {"max_consequent": 1.5}, {"engine": "spark"}, {"correction": "fdr"}, {"significance": 0},
])
def test_bad_parameters_raise_parameter_error(params):
    with pytest.raises(ParameterError):
        basket.BasketModel(**params).fit(FIVE)


@pytest.mark.parametrize("bad", [[], [[], []], "milk,bread", [["milk"], "bread"], 42,
                                 pd.DataFrame({"order_id": [], "product_id": []}),
                                 pd.DataFrame({"order_id": ["1"], "sku": ["x"]})])
def test_bad_baskets_raise_data_error(bad):
    with pytest.raises(DataError):
        basket.BasketModel().fit(bad)


def test_threshold_with_no_frequent_item_gives_explained_empty_result():
    m = basket.BasketModel(min_support=0.9).fit(FIVE)
    assert len(m.rules_) == 0 and m.n_frequent_items_ == 0
    assert "Lower min_support" in m.notes[0]
    assert basket.recommend(m, {"ann": ["a"]}).table.empty
    assert basket.assortment(m).table.empty
    no_rules = basket.BasketModel(min_support=0.2, min_confidence=1.0, min_lift=2).fit(FIVE)
    assert len(no_rules.rules_) == 0 and "no rule reaches" in no_rules.notes[0]


def test_pyfim_engine_missing_is_a_clear_error():
    if "pyfim" in ENGINES:
        assert basket.BasketModel(engine="auto").fit(FIVE).engine_ == "pyfim"
    else:
        with pytest.raises(ParameterError, match="fast extra"):
            basket.BasketModel(engine="pyfim").fit(FIVE)
        assert basket.BasketModel(engine="auto").fit(FIVE).engine_ == "rusket"


def test_basket_model_is_a_scikit_learn_estimator():
    """__init__ stores the parameters only; get_params, set_params and clone work."""
    m = basket.BasketModel(min_support=0.2, exclude=["d"], correction="bogus")  # checked in fit, not here
    assert m.get_params()["exclude"] == ["d"] and not hasattr(m, "rules_")
    m.set_params(correction="holm")
    twin = clone(m)
    assert twin is not m and twin.get_params() == m.get_params()
    fitted = twin.fit(FIVE)
    assert fitted is twin and len(twin.rules_) > 0 and not hasattr(m, "rules_")


def test_rusket_recoding_in_chunks_counts_repeats_once(monkeypatch):
    """The rusket engine recodes baskets a chunk at a time; repeats inside a basket and empty
    baskets at chunk edges give the same itemsets and rules as every other engine."""
    from crmlab.basket import engines

    if "rusket" not in ENGINES:
        pytest.skip("rusket is not installed")
    monkeypatch.setattr(engines, "_CHUNK", 7)
    baskets = [["a", "b", "a"], [], ["c", "a"], ["b", "c", "b", "a"], ["a"], [], ["d", "a", "c"],
               ["a", "c"], ["b"], ["c", "b"]] * 5 + [[]] * 3
    fits = [basket.BasketModel(min_support=0.1, min_confidence=0.1, engine=e).fit(baskets) for e in ENGINES]
    for other in fits[1:]:
        pd.testing.assert_frame_equal(fits[0].itemsets_, other.itemsets_)
        pd.testing.assert_frame_equal(fits[0].rules_, other.rules_)
