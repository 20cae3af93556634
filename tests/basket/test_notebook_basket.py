"""notebooks/02-market-basket.ipynb runs through papermill and publishes the right numbers."""

from __future__ import annotations

from crmlab import basket, data

from conftest import FIXTURES

SAMPLE = FIXTURES / "online_retail_sample.csv.gz"


def test_market_basket_notebook(run_notebook):
    nb, m = run_notebook("02-market-basket.ipynb", data=str(SAMPLE), min_support=0.03,
                         segment_min_support=0.05, offers_per_customer=2,
                         exclude_items="POST, DOT")
    raw = data.load_transactions(SAMPLE, columns="online_retail")
    lines = data.clean(raw, unknown_customers=False, non_positive_price=False, duplicates=False).data
    model = basket.BasketModel(min_support=0.03, min_confidence=0.5, max_len=4,
                               exclude=["POST", "DOT"]).fit(lines)
    assert m["baskets"] == model.n_baskets_ == lines["order_id"].nunique()
    assert m["items"] == model.n_items_
    assert m["rules"] == len(model.rules_) > 0
    assert m["top_lift"] == model.rules_["lift"].iloc[0]
    known = data.clean(raw).data
    assert m["customers"] == known["customer_id"].nunique()
    offers = basket.recommend(model, known, k=2)
    assert m["customers_with_offer"] == offers.customers_with_offer
    assert m["offers"] == len(offers.table) <= 2 * m["customers_with_offer"]
    assert 0 <= m["customers_with_segment_offer"] <= m["customers"]
    # Customer IDs in the report are pseudonyms by default.
    text = "".join(str(o.get("data", {})) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "C-" in text
    some_id = offers.table["customer_id"].iloc[0]
    assert f">{some_id}<" not in text
