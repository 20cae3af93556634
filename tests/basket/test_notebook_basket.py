"""notebooks/02-market-basket.ipynb renders on every data shape and publishes the right numbers.

Each render is checked by numbers in metrics.json against a direct computation, and the
report HTML is searched for what a business report must not show: tracebacks, missing-glyph
warnings, NaN, scientific notation and sentences that assume the demo data.
"""

from __future__ import annotations

import re

import pytest

from crmlab import basket, data
from crmlab.report import render

from conftest import FIXTURES

SAMPLE = FIXTURES / "online_retail_sample.yml"
KOREAN = FIXTURES / "korean_shop.yml"
NOTEBOOK = "02-market-basket"
DEMO_PHRASES = ("gift retailer", "same design", "different colours", "colour range", "matching pieces",
                "UCI", "Online Retail", "wholesaler", "postage")
SCIENTIFIC = re.compile(r"\d\.?\d*e[-+]\d+", re.IGNORECASE)


def _render(tmp_path, **params):
    result = render(NOTEBOOK, params, output_root=tmp_path, update_index=False)
    assert result.ok, result.error
    return result.metrics, result.html.read_text(encoding="utf-8")


def _visible_text(html: str) -> str:
    """The report's text without embedded pictures, styles, tags and the parameter header."""
    html = re.sub(r"<(style|script|header)\b.*?</\1>", " ", html, flags=re.S | re.I)
    html = re.sub(r'src="data:[^"]*"', " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def _clean_report(html: str, *, demo: bool = False) -> str:
    text = _visible_text(html)
    for bad in ("Traceback", "Glyph", "NaN", "nan%", "Warning"):
        assert bad not in text, bad
    assert not SCIENTIFIC.search(text), SCIENTIFIC.search(text).group(0)
    if not demo:
        for phrase in DEMO_PHRASES:
            assert phrase.lower() not in text.lower(), phrase
    return text


def _lines(source):
    raw = data.load_source(source)
    return raw, data.clean(raw, unknown_customers=False, non_positive_price=False, duplicates=False).data


def test_basket_notebook_demo_sample(tmp_path):
    m, html = _render(tmp_path, source=str(SAMPLE), min_support=0.03, segment_min_support=0.05,
                      offers_per_customer=2)
    src = data.read_source(SAMPLE)
    raw, lines = _lines(src)
    model = basket.BasketModel(min_support=0.03, min_confidence=0.5, max_len=4,
                               exclude=list(src.exclude_products)).fit(lines)
    assert m["has_products"] is True and m["has_customers"] is True
    assert m["baskets"] == model.n_baskets_ == lines["order_id"].nunique()
    assert m["items"] == model.n_items_
    assert m["rules"] == len(model.rules_) > 0
    assert m["top_lift"] == pytest.approx(model.rules_["lift"].iloc[0])
    known = data.clean(raw).data
    assert m["customers"] == known["customer_id"].nunique()
    offers = basket.recommend(model, known, k=2)
    assert m["customers_with_offer"] == offers.customers_with_offer
    assert m["offers"] == len(offers.table) <= 2 * m["customers_with_offer"]
    assert 0 <= m["customers_with_segment_offer"] <= m["customers"]
    # postage codes come from the source file: none is an item of a rule
    items = {i for side in ("antecedents", "consequents") for r in model.rules_[side] for i in r}
    assert not items & set(src.exclude_products)
    text = _clean_report(html, demo=True)
    # customer IDs in the report are pseudonyms by default
    assert "C-" in text
    assert f" {offers.table['customer_id'].iloc[0]} " not in text


def test_basket_notebook_groceries_baskets(tmp_path):
    m, html = _render(tmp_path, source="groceries", min_support=0.001, min_confidence=0.5)
    model = basket.BasketModel(min_support=0.001, min_confidence=0.5, max_len=4).fit(data.load_groceries())
    assert m["rules"] == len(model.rules_)
    assert m["baskets"] == 9835 and m["has_customers"] is False
    full = basket.BasketModel(min_support=0.001, min_confidence=0.5).fit(data.load_groceries())
    assert len(full.rules_) == 5668  # arules' published count (max_len 4 keeps nearly all of them)
    assert m["families"] >= 1 and m["anchors"] >= 0
    assert "customers" not in m and "segments_with_rules" not in m
    text = _clean_report(html)
    assert "no customer identifiers" in text and "RFM segments need" in text


def test_basket_notebook_says_where_rules_appear(tmp_path):
    """At the default support Groceries has rules; at a high support it has none: say where they appear."""
    m, html = _render(tmp_path, source="groceries", min_support=0.2)
    assert m["rules"] == 0
    model = basket.BasketModel(min_support=0.2, min_confidence=0.5, max_len=4).fit(data.load_groceries())
    found = basket.support_for_rules(model, data.load_groceries())
    assert found is not None and m["support_with_rules"] == found[0]
    assert basket.BasketModel(min_support=found[0], min_confidence=0.5, max_len=4).fit(
        data.load_groceries()).rules_.shape[0] == found[1] > 0
    text = _clean_report(html)
    assert "No rule passes the thresholds" in text and f"min_support={found[0]:g}" in text
    assert "<img" not in html.split("No rule passes")[1]  # no empty axes after the note


def test_basket_notebook_korean_export(tmp_path):
    m, html = _render(tmp_path, source=str(KOREAN), lang="ko", min_support=0.03, segment_min_support=0.05)
    src = data.read_source(KOREAN)
    raw, lines = _lines(src)
    model = basket.BasketModel(min_support=0.03, min_confidence=0.5, max_len=4,
                               exclude=list(src.exclude_products)).fit(lines)
    assert m["baskets"] == model.n_baskets_ and m["rules"] == len(model.rules_) > 0
    assert m["top_lift"] == pytest.approx(model.rules_["lift"].iloc[0])
    known = data.clean(raw).data
    assert m["customers"] == known["customer_id"].nunique()
    assert m["customers_with_offer"] == basket.recommend(model, known, k=3).customers_with_offer
    text = _clean_report(html)
    for heading in ("장바구니 분석", "1. 바구니와 항목", "2. 가장 강한 규칙", "7. 카테고리 관리자를 위한 권고"):
        assert heading in text
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    english = [h for h in headers if re.fullmatch(r"[A-Za-z_ ]*", h.strip())]
    assert not english, english
    for word in ("Recommendations", "The strongest", "customers", "baskets"):
        assert word not in text, word


def test_basket_notebook_without_products(tmp_path):
    m, html = _render(tmp_path, source="cdnow")
    assert m["rules"] == 0 and m["has_products"] is False
    text = _clean_report(html)
    assert re.search(r"has no\s+product_id\s+column", text)
    assert "<img" not in html  # a short report: no figures
