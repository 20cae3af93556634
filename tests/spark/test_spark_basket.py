"""FPGrowth on Spark gives the pandas engines' rule table: Groceries, 5,668 rules."""

import pandas as pd
import pytest
from spark_session import SPARK, spark

from crmlab import basket, data

pytestmark = [SPARK, pytest.mark.spark, pytest.mark.slow]  # full-size parity runs; test_spark_quick is the small-data version


@pytest.fixture(scope="module")
def groceries():
    return data.load_groceries()


def test_groceries_rules_equal_pandas(groceries):
    from crmlab.spark.basket import fit_rules

    ref = basket.BasketModel(min_support=0.001, min_confidence=0.5).fit(groceries)
    sdf = spark().createDataFrame([(b,) for b in groceries], "items array<string>")
    got = fit_rules(basket.BasketModel(min_support=0.001, min_confidence=0.5), sdf)
    assert len(got.rules_) == 5668
    pd.testing.assert_frame_equal(got.rules_, ref.rules_, check_exact=True)
    pd.testing.assert_frame_equal(got.itemsets_, ref.itemsets_)
    pd.testing.assert_series_equal(got.item_counts_.sort_index(), ref.item_counts_.sort_index())


def test_order_lines_with_pruning():
    from crmlab.spark.basket import fit_rules
    from crmlab.spark.data import load_source

    spark()
    lines = load_source("groceries")  # a baskets source: one canonical line per item
    params = dict(min_support=0.005, min_confidence=0.3, remove_redundant=True, exclude=["whole milk"])
    got = fit_rules(basket.BasketModel(**params), lines)
    ref = basket.BasketModel(**params).fit(data.load_source("groceries"))
    pd.testing.assert_frame_equal(got.rules_, ref.rules_, check_exact=True)
