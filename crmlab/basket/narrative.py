"""Sentences of the market-basket report, written from the numbers (English and Korean).

Every claim is computed from the fitted model and its tables: the strongest rule, the product
brought along most often, how many customers an offer reaches, which families and anchors
exist. Nothing assumes what the products are. Each function takes ``lang`` ("en" or "ko")
and returns Markdown; text from the data (product names, rules) is escaped.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pandas as pd

from crmlab.i18n import pick as _pick
from crmlab.i18n import segment_name
from crmlab.report import escape_markdown as _md

__all__ = ["intro", "no_products", "baskets", "no_rules", "strongest", "redundancy", "network",
           "offers", "surprising_intro", "families_intro", "no_customers", "no_segments", "segment_reach", "segment_rules", "anchors",
           "families", "recommendations", "pct"]


def _n(k: int, one: str, many: str) -> str:
    return f"{k:,} {one if k == 1 else many}"


def pct(x: float) -> str:
    """A share as a percentage with as many decimals as a small share needs ("0.25%").

    Parameters
    ----------
    x : float

    Returns
    -------
    str
    """
    x = float(x)
    if x == 0 or abs(x) >= 0.1:
        return f"{x:.0%}"
    if abs(x) >= 0.01:
        return f"{x:.1%}".replace(".0%", "%")
    v = x * 100  # two significant digits, never scientific notation
    digits = max(0, 1 - math.floor(math.log10(abs(v))))
    return f"{v:.{digits}f}".rstrip("0").rstrip(".") + "%"


def intro(source_name: str, kind: str, lang: str = "en") -> str:
    """The report's question, data and method in three short paragraphs.

    Parameters
    ----------
    source_name : str
        ``Source.name``.
    kind : str
        ``Source.kind``: "transactions" or "baskets".
    lang : str

    Returns
    -------
    str
    """
    name = _md(source_name)
    basket_en = ("each basket as the source lists it" if kind == "baskets"
                 else "every order that is not a cancellation is a basket; returns are left out")
    basket_ko = ("원천 데이터의 바구니를 그대로 씁니다" if kind == "baskets"
                 else "취소되지 않은 주문 하나가 바구니 하나이며, 반품은 제외합니다")
    return _pick(
        lang,
        "**Question.** Which products are bought together, which of those links are strong enough to act on, "
        "and which product should each customer see next?\n\n"
        f"**Data.** {name}: {basket_en}.\n\n"
        "**Method.** Association rules as in R `arules`: frequent itemsets above a minimum support, rules with "
        "one product on the right-hand side above a minimum confidence, measured by lift, leverage, conviction "
        "and Zhang's metric; redundant rules and rules that fail a Fisher exact test (Holm correction) are flagged.",
        "**질문.** 어떤 상품이 함께 팔리고, 그중 어떤 연관이 실행할 만큼 강하며, 고객마다 다음에 무엇을 "
        "보여 줘야 할까요?\n\n"
        f"**데이터.** {name}: {basket_ko}.\n\n"
        "**방법.** R `arules` 방식의 연관 규칙: 최소 지지도 이상의 빈발 항목집합에서 오른쪽에 상품 하나를 둔 "
        "규칙을 최소 신뢰도 이상으로 찾고, 향상도·레버리지·확신도·Zhang 지표로 측정합니다. 중복 규칙과 "
        "Fisher 정확 검정(Holm 보정)을 통과하지 못한 규칙을 표시합니다.",
    )


def no_products(source_name: str, column: str = "product_id", lang: str = "en") -> str:
    """Why a source without an item column has no rules.

    Parameters
    ----------
    source_name : str
    column : str
        The canonical item column the source lacks.
    lang : str

    Returns
    -------
    str
    """
    name = _md(source_name)
    return _pick(
        lang,
        f"**No rules: {name} has no `{column}` column.** Market-basket rules need to know which items each "
        "basket holds; this source records only who bought, when and for how much. Declare the item column "
        "in the source file to mine rules; the customer and retention reports use this data fully.",
        f"**규칙 없음: {name}에는 `{column}` 열이 없습니다.** 장바구니 규칙을 찾으려면 바구니마다 어떤 상품이 "
        "들어 있는지 알아야 하지만, 이 데이터에는 누가 언제 얼마를 샀는지만 있습니다. 원천 파일에 상품 열을 "
        "지정하면 규칙을 찾을 수 있으며, 고객 분석과 유지율 보고서는 이 데이터를 그대로 사용합니다.",
    )


def baskets(model: Any, lang: str = "en", *, as_of: Any = None, excluded: int = 0) -> str:
    """Baskets, items, frequent items and rules of a fitted model.

    Parameters
    ----------
    model : BasketModel
        A fitted model.
    lang : str
    as_of : Timestamp, optional
        Report date (orders strictly before it count); None when the data has no dates.
    excluded : int
        Codes the source marks as non-products (left out of the baskets).

    Returns
    -------
    str
    """
    n, items, freq, rules = model.n_baskets_, model.n_items_, model.n_frequent_items_, len(model.rules_)
    share = freq / items if items else 0.0
    when_en = f"Orders before {as_of:%Y-%m-%d}: " if as_of is not None else ""
    when_ko = f"{as_of:%Y-%m-%d} 이전 주문: " if as_of is not None else ""
    skip_en = f" ({excluded:,} codes the source marks as non-products left out)" if excluded else ""
    skip_ko = f" (원천 파일이 상품이 아니라고 지정한 코드 {excluded:,}개 제외)" if excluded else ""
    return _pick(
        lang,
        f"{when_en}**{n:,} baskets** over **{items:,} items** ({model.level} level){skip_en}. "
        f"{_n(freq, 'item', 'items')} ({pct(share)} of all) {'is' if freq == 1 else 'are'} in at least "
        f"{model.min_count_:,} baskets "
        f"(support {pct(model.min_support)}); they form **{_n(rules, 'rule', 'rules')}** with a confidence of at least "
        f"{pct(model.min_confidence)}. Only these frequent items can carry a rule.",
        f"{when_ko}**바구니 {n:,}개**, **항목 {items:,}개**{skip_ko}. 항목 {freq:,}개(전체의 {pct(share)})가 "
        f"바구니 {model.min_count_:,}개 이상에 들어 있고(지지도 {pct(model.min_support)}), 이들로 신뢰도 "
        f"{pct(model.min_confidence)} 이상의 **규칙 {rules:,}개**가 만들어집니다. 빈발 항목만 규칙이 될 수 있습니다.",
    )


def no_rules(model: Any, found: tuple[float, int] | None, lowest: float | None = None, lang: str = "en") -> str:
    """No rule passes the thresholds: say so and name the support at which rules appear.

    Parameters
    ----------
    model : BasketModel
        The fitted model without rules.
    found : (float, int) or None
        :func:`crmlab.basket.support_for_rules`: the support that gives rules, and how many.
    lowest : float, optional
        The smallest support tried (when ``found`` is None).
    lang : str

    Returns
    -------
    str
    """
    head = _pick(lang, f"**No rule passes the thresholds** (support {pct(model.min_support)}, confidence "
                       f"{pct(model.min_confidence)}). ",
                 f"**기준을 통과한 규칙이 없습니다** (지지도 {pct(model.min_support)}, 신뢰도 "
                 f"{pct(model.min_confidence)}). ")
    if found is not None:
        s, k = found
        count = max(1, math.ceil(s * model.n_baskets_ - 1e-9))
        return head + _pick(
            lang,
            f"Rules appear at a support of **{pct(s)}** ({count:,} baskets): {_n(k, 'rule', 'rules')} there. "
            f"Rerun with `min_support={s:g}` to see them.",
            f"지지도 **{pct(s)}**(바구니 {count:,}개)에서 규칙 {k:,}개가 나타납니다. "
            f"`min_support={s:g}`로 다시 실행하면 볼 수 있습니다.")
    if lowest is None:
        return head + _pick(lang, "There are too few baskets to look for rules at a lower support.",
                            "바구니가 너무 적어 더 낮은 지지도에서 규칙을 찾을 수 없습니다.")
    return head + _pick(
        lang,
        f"Even at a support of {pct(lowest)} no rule reaches a confidence of {pct(model.min_confidence)}: "
        "these baskets hold no repeated combination strong enough to plan an offer around; lower "
        "`min_confidence` to see weaker links.",
        f"지지도 {pct(lowest)}에서도 신뢰도 {pct(model.min_confidence)}에 이르는 규칙이 없습니다. 제안을 설계할 "
        "만큼 반복되는 조합이 없으므로, 약한 연관을 보려면 `min_confidence`를 낮추십시오.")


def _most_common(values: Any) -> tuple[Any, int]:
    counts = Counter(values)
    if not counts:
        return None, 0
    top = max(counts.values())
    return min((k for k, v in counts.items() if v == top), key=str), top


def _name(item: Any, names: dict | None) -> str:
    return _md(names.get(item, item) if names else item)


def strongest(rules: pd.DataFrame, names: dict | None = None, lang: str = "en") -> str:
    """The strongest rule by lift and the product brought along by most rules.

    Parameters
    ----------
    rules : DataFrame
        ``BasketModel.rules_`` (at least one rule), sorted by lift.
    names : dict, optional
        Product name per item (``BasketModel.item_names_``).
    lang : str

    Returns
    -------
    str
    """
    top = rules.iloc[0]
    head, k = _most_common(c for cons in rules["consequents"] for c in cons)
    strong = int((rules["lift"] >= 2).sum())
    text = _pick(
        lang,
        f"The strongest link is **{_md(top['rule'])}**: a basket with the left-hand side holds the right-hand "
        f"product {pct(top['confidence'])} of the time, **{top['lift']:,.1f} times** as often as an average basket "
        f"({int(top['count']):,} baskets). {strong:,} of the {_n(len(rules), 'rule', 'rules')} "
        f"{'has' if strong == 1 else 'have'} a lift of 2 or more. ",
        f"가장 강한 연관은 **{_md(top['rule'])}**입니다. 왼쪽 상품이 든 바구니의 {pct(top['confidence'])}에 오른쪽 "
        f"상품이 함께 들어 있어, 평균 바구니보다 **{top['lift']:,.1f}배** 자주 나타납니다(바구니 "
        f"{int(top['count']):,}개). 규칙 {len(rules):,}개 중 {strong:,}개의 향상도가 2 이상입니다. ",
    )
    if k > 1:
        text += _pick(lang, f"The product brought along by the most rules is **{_name(head, names)}** ({k:,} rules): "
                            "the natural add-on to offer.",
                      f"가장 많은 규칙의 결과 상품은 **{_name(head, names)}**(규칙 {k:,}개)로, 함께 제안하기 좋은 "
                      "상품입니다.")
    return text


def surprising_intro(lang: str = "en") -> str:
    """What "surprising" means in the report.

    Parameters
    ----------
    lang : str

    Returns
    -------
    str
    """
    return _pick(lang, "Lift favours rare products. *Surprising* here means the rule holds far more often than the "
                       "products' popularity predicts (Zhang's metric and leverage), is not redundant (no simpler "
                       "rule does as well) and passes a Fisher exact test after Holm correction for the number of "
                       "rules tested.",
                 "향상도는 드문 상품에 유리합니다. 여기서 *의외*란 상품의 인기로 예상되는 것보다 규칙이 훨씬 자주 "
                 "성립하고(Zhang 지표와 레버리지), 중복이 아니며(더 단순한 규칙이 같은 성과를 내지 않음), 검정한 "
                 "규칙 수에 대한 Holm 보정 후 Fisher 정확 검정을 통과한다는 뜻입니다.")


def families_intro(min_lift: float, lang: str = "en") -> str:
    """What a product family is.

    Parameters
    ----------
    min_lift : float
    lang : str

    Returns
    -------
    str
    """
    return _pick(lang, f"Rules with a lift of at least {min_lift:g} (`family_min_lift`) link products into families: "
                       "a family is every product connected to another through such a rule, so products bought as "
                       "a group show up once rather than as many pairwise rules.",
                 f"향상도가 {min_lift:g}(`family_min_lift`) 이상인 규칙이 상품을 상품군으로 묶습니다. 상품군은 이런 "
                 "규칙으로 서로 이어진 모든 상품이므로, 함께 구매되는 상품 묶음이 여러 쌍 규칙 대신 한 번에 보입니다.")


def redundancy(n_rules: int, n_redundant: int, n_significant: int, alpha: float, lang: str = "en") -> str:
    """How many rules are redundant and how many significant.

    Parameters
    ----------
    n_rules, n_redundant, n_significant : int
    alpha : float
        Significance level after Holm correction.
    lang : str

    Returns
    -------
    str
    """
    en = (f"Of {n_rules:,} rules, **{n_redundant:,} {'is' if n_redundant == 1 else 'are'} redundant** (a simpler "
          f"rule with the same head is at least as confident) and **{n_significant:,} "
          f"{'is' if n_significant == 1 else 'are'} significant** at {pct(alpha)} after Holm correction.")
    ko = (f"규칙 {n_rules:,}개 중 **{n_redundant:,}개는 중복**(같은 결과의 더 단순한 규칙이 신뢰도가 같거나 높음)이고, "
          f"Holm 보정 후 유의수준 {pct(alpha)}에서 **{n_significant:,}개가 유의**합니다.")
    if n_redundant:
        en += " Redundant rules add nothing to a campaign: the simpler rule reaches more customers at the same hit rate."
        ko += " 중복 규칙은 캠페인에 보탬이 되지 않습니다. 더 단순한 규칙이 같은 적중률로 더 많은 고객에게 닿습니다."
    return _pick(lang, en, ko)


def network(rules: pd.DataFrame, n: int, names: dict | None = None, lang: str = "en") -> str:
    """Which product leads to the most others, and which is reached most, among the top rules.

    Parameters
    ----------
    rules : DataFrame
        ``BasketModel.rules_`` sorted by lift.
    n : int
        Rules drawn in the network.
    names : dict, optional
    lang : str

    Returns
    -------
    str
    """
    top = rules.head(n)
    edges = {(a, c) for ants, cons in zip(top["antecedents"], top["consequents"]) for a in ants for c in cons}
    out_item, out_k = _most_common(a for a, _ in edges)
    in_item, in_k = _most_common(c for _, c in edges)
    text = _pick(lang, f"The network draws the {_n(len(top), 'strongest rule', 'strongest rules')} as arrows from the products of the "
                       "left-hand side to the product they bring along. ",
                 f"네트워크는 가장 강한 규칙 {len(top):,}개를 왼쪽 상품에서 함께 팔리는 상품으로 가는 화살표로 "
                 "나타냅니다. ")
    if out_k > 1:
        text += _pick(lang, f"**{_name(out_item, names)}** points to the most other products ({out_k}): a traffic "
                            "builder worth featuring. ",
                      f"**{_name(out_item, names)}**에서 가장 많은 상품({out_k}개)으로 화살표가 나갑니다. 앞세워 "
                      "노출할 만한 상품입니다. ")
    if in_k > 1:
        text += _pick(lang, f"**{_name(in_item, names)}** is reached from the most products ({in_k}): the natural "
                            "add-on.",
                      f"**{_name(in_item, names)}**에는 가장 많은 상품({in_k}개)에서 화살표가 들어옵니다. 자연스러운 "
                      "추가 구매 상품입니다.")
    return text


def offers(with_offer: int, n_customers: int, k: int, lang: str = "en") -> str:
    """How many customers the shop-wide rules reach with an offer.

    Parameters
    ----------
    with_offer, n_customers, k : int
        Customers with an offer, customers, offers per customer.
    lang : str

    Returns
    -------
    str
    """
    reach = with_offer / n_customers if n_customers else 0.0
    text = _pick(lang, f"**{with_offer:,} of {_n(n_customers, 'customer', 'customers')} ({pct(reach)})** have bought the left-hand "
                       f"side of at least one rule and get up to {k} offers, each with its reason (the rule's "
                       "left-hand side) and expected hit rate (its confidence).",
                 f"**고객 {n_customers:,}명 중 {with_offer:,}명({pct(reach)})**이 한 규칙 이상의 왼쪽 상품을 "
                 f"구매했으며, 이유(규칙의 왼쪽 상품)와 예상 적중률(신뢰도)이 붙은 제안을 최대 {k}개 받습니다.")
    if with_offer < n_customers:
        text += _pick(lang, f" The other {n_customers - with_offer:,} buy outside the frequent patterns: reach them "
                            "with best-sellers, not with rules.",
                      f" 나머지 {n_customers - with_offer:,}명은 빈발 패턴 밖에서 구매하므로, 규칙보다 인기 상품으로 "
                      "접근하십시오.")
    return text


def no_customers(lang: str = "en") -> str:
    """One sentence: no per-customer offers without customer identifiers.

    Parameters
    ----------
    lang : str

    Returns
    -------
    str
    """
    return _pick(lang, "*The source has no customer identifiers, so there are no per-customer offers; the rules "
                       "above still serve page, shelf and bundle decisions.*",
                 "*원천 데이터에 고객 번호가 없어 고객별 제안은 만들 수 없습니다. 위 규칙은 진열, 페이지 구성, "
                 "묶음 상품 결정에 그대로 쓸 수 있습니다.*")


def no_segments(lang: str = "en") -> str:
    """One sentence: no RFM segments without customers and order dates.

    Parameters
    ----------
    lang : str

    Returns
    -------
    str
    """
    return _pick(lang, "*RFM segments need customer identifiers and order dates, which this source does not have; "
                       "there are no segment rules.*",
                 "*RFM 세그먼트에는 고객 번호와 주문 일시가 필요하지만 이 데이터에는 없으므로 세그먼트별 규칙은 "
                 "없습니다.*")


def segment_reach(segment_with: int, shop_with: int, n_segments: int, lang: str = "en") -> str:
    """Customers reached by segment rules compared with the shop-wide rules.

    Parameters
    ----------
    segment_with, shop_with : int
        Customers with an offer from segment rules and from shop-wide rules.
    n_segments : int
        Segments with rules of their own.
    lang : str

    Returns
    -------
    str
    """
    if not n_segments:
        return _pick(lang, "No segment has enough baskets for rules of its own at this support: every segment "
                           "gets the shop-wide offers.",
                     "이 지지도에서 자체 규칙을 만들 만큼 바구니가 많은 세그먼트가 없으므로, 모든 세그먼트가 전체 "
                     "규칙의 제안을 받습니다.")
    return _pick(lang, f"Rules mined inside {_n(n_segments, 'segment', 'segments')} reach **{segment_with:,} customers** with offers "
                       f"that fit their own segment's buying (shop-wide rules: {shop_with:,}). Segments without "
                       "rules of their own get the shop-wide offers.",
                 f"세그먼트 {n_segments:,}개 안에서 찾은 규칙이 **고객 {segment_with:,}명**에게 자기 세그먼트의 "
                 f"구매에 맞는 제안을 합니다(전체 규칙: {shop_with:,}명). 자체 규칙이 없는 세그먼트는 전체 규칙의 "
                 "제안을 받습니다.")


def segment_rules(segment: str, info: dict, lang: str = "en") -> str:
    """A segment's own rules against the shop-wide rules.

    Parameters
    ----------
    segment : str
    info : dict
        ``baskets``, ``rules``, ``own`` (rules not among the shop-wide ones, from
        :func:`crmlab.strategy.rules_diff`), ``top_rule``, ``top_lift``, ``with_offer``,
        ``customers``, ``support`` and ``min_baskets``; ``rules`` 0 when the segment has none.
    lang : str

    Returns
    -------
    str
    """
    seg = segment_name(segment, lang)
    if not info.get("rules"):
        nb = int(info.get("baskets", 0))
        if nb < info.get("min_baskets", 0):
            return _pick(lang, f"Segment **{seg}** has {_n(nb, 'basket', 'baskets')}, fewer than the "
                               f"{info['min_baskets']:,} needed for rules of its own: use the shop-wide rules for it.",
                         f"**{seg}** 세그먼트의 바구니는 {nb:,}개로 자체 규칙에 필요한 {info['min_baskets']:,}개보다 "
                         "적으므로 전체 규칙을 사용하십시오.")
        return _pick(lang, f"Segment **{seg}** has {_n(nb, 'basket', 'baskets')} but no rule at support "
                           f"{pct(info['support'])}: use the shop-wide rules for it.",
                     f"**{seg}** 세그먼트에는 바구니 {nb:,}개가 있지만 지지도 {pct(info['support'])}에서 규칙이 "
                     "없으므로 전체 규칙을 사용하십시오.")
    return _pick(
        lang,
        f"Within **{seg}** ({info['baskets']:,} baskets) there are {info['rules']:,} rules at support "
        f"{pct(info['support'])}; **{info['own']:,} of them are not among the shop-wide rules**. Top rule: "
        f"**{_md(info['top_rule'])}** (lift {info['top_lift']:,.1f}). {info['with_offer']:,} of the segment's "
        f"{info['customers']:,} customers get an offer from their own segment's rules.",
        f"**{seg}** 세그먼트(바구니 {info['baskets']:,}개)에는 지지도 {pct(info['support'])}에서 규칙 "
        f"{info['rules']:,}개가 있으며, **그중 {info['own']:,}개는 전체 규칙에 없습니다**. 최상위 규칙: "
        f"**{_md(info['top_rule'])}**(향상도 {info['top_lift']:,.1f}). 세그먼트 고객 {info['customers']:,}명 중 "
        f"{info['with_offer']:,}명이 자기 세그먼트 규칙의 제안을 받습니다.",
    )


def anchors(table: pd.DataFrame, lang: str = "en") -> str:
    """The products that lead rules on their own, and the top one.

    Parameters
    ----------
    table : DataFrame
        ``Assortment.anchors``.
    lang : str

    Returns
    -------
    str
    """
    if not len(table):
        return _pick(lang, "No single product leads a rule at these thresholds.",
                     "이 기준에서 단독으로 규칙을 이끄는 상품은 없습니다.")
    a0 = table.iloc[0]
    name = _md(a0.get("item_name", a0["item"]) if pd.notna(a0.get("item_name", a0["item"])) else a0["item"])
    return _pick(
        lang,
        f"**{_n(len(table), 'product', 'products')}** {'leads' if len(table) == 1 else 'lead'} at least one rule on their own. The top anchor, **{name}**, is in "
        f"{pct(a0['basket_share'])} of baskets and brings along "
        f"{_n(int(a0['brings_along']), 'other product', 'other products')} (top "
        f"companions: {_md(a0['top_companions'])}). A missing anchor costs its companions' sales too: keep "
        "anchors in stock.",
        f"**상품 {len(table):,}개**가 단독으로 규칙을 하나 이상 이끕니다. 최상위 앵커 **{name}**는 바구니의 "
        f"{pct(a0['basket_share'])}에 들어 있고 다른 상품 {int(a0['brings_along']):,}개를 함께 팔리게 합니다(주요 "
        f"동반 상품: {_md(a0['top_companions'])}). 앵커가 품절되면 동반 상품 매출도 잃으므로 재고를 유지하십시오.",
    )


def families(table: pd.DataFrame, n_families: int, min_lift: float, lang: str = "en") -> str:
    """How many product families the strong rules form, the largest and the tightest.

    Parameters
    ----------
    table : DataFrame
        :func:`crmlab.basket.families` (largest first).
    n_families : int
        Families in all.
    min_lift : float
    lang : str

    Returns
    -------
    str
    """
    if not len(table):
        return _pick(lang, f"No rule reaches a lift of {min_lift:g}: there are no strong product families at these "
                           "thresholds.",
                     f"향상도 {min_lift:g}에 이르는 규칙이 없어 이 기준에서는 강한 상품군이 없습니다.")
    f0 = table.iloc[0]
    tight = table.sort_values(["mean_lift", "family"], ascending=[False, True]).iloc[0]
    text = _pick(lang, f"**{_n(n_families, 'family', 'families')}.** The largest, led by **{_md(f0['lead_product'])}**, holds "
                       f"{_n(int(f0['products']), 'product', 'products')} and {_n(int(f0['rules']), 'rule', 'rules')}: range, place and promote "
                       "it as one group.",
                 f"**상품군 {n_families:,}개.** 가장 큰 상품군은 **{_md(f0['lead_product'])}**가 이끌며 상품 "
                 f"{int(f0['products']):,}개와 규칙 {int(f0['rules']):,}개를 포함합니다. 하나의 묶음으로 구성, 진열, "
                 "홍보하십시오.")
    if tight["family"] != f0["family"]:
        text += _pick(lang, f" The tightest, led by **{_md(tight['lead_product'])}**, has a mean lift of "
                            f"{tight['mean_lift']:,.1f}: offer its missing pieces together.",
                      f" 가장 결속이 강한 상품군은 **{_md(tight['lead_product'])}**가 이끌며 평균 향상도가 "
                      f"{tight['mean_lift']:,.1f}입니다. 빠진 상품을 함께 제안하십시오.")
    return text


def recommendations(results: dict, lang: str = "en") -> str:
    """Numbered recommendations from the report's results; only those the results support.

    Parameters
    ----------
    results : dict
        ``rules`` (int), ``families`` (DataFrame or None), ``anchors`` (DataFrame or None),
        ``customers_with_offer`` (int or None: no customers), ``offers_per_customer``,
        ``segment`` and ``segment_own_rules`` (int or None), ``support_with_rules``
        ((float, int) or None).
    lang : str

    Returns
    -------
    str
    """
    out = []
    if not results.get("rules"):
        found = results.get("support_with_rules")
        if found:
            out.append(_pick(lang, f"**Rerun at a support of {pct(found[0])}** (`min_support={found[0]:g}`) to see "
                                   f"the {_n(found[1], 'rule', 'rules')} that appear there before planning cross-sell.",
                             f"교차판매를 계획하기 전에 **지지도 {pct(found[0])}로 다시 실행**(`min_support="
                             f"{found[0]:g}`)하여 그 지지도에서 나타나는 규칙 {found[1]:,}개를 확인하십시오."))
        out.append(_pick(lang, "**Sell with best-sellers, not rules**: at these thresholds no combination repeats "
                               "often enough to plan an offer around.",
                         "**규칙 대신 인기 상품으로 판매하십시오**: 이 기준에서는 제안을 설계할 만큼 반복되는 조합이 "
                         "없습니다."))
        return "\n".join(f"{i}. {s}" for i, s in enumerate(out, 1))
    fam = results.get("families")
    if fam is not None and len(fam):
        groups = ", ".join(f"{_md(lead)} ({int(size):,})" for lead, size in
                           zip(fam["lead_product"].head(3), fam["products"].head(3)))
        out.append(_pick(lang, f"**Range, place and promote as groups** the largest product families (lead product "
                               f"and size): {groups}.",
                         f"가장 큰 상품군을 **하나의 묶음으로 구성, 진열, 홍보하십시오**(대표 상품과 상품 수): {groups}."))
    anc = results.get("anchors")
    if anc is not None and len(anc):
        col = "item_name" if "item_name" in anc.columns else "item"
        names = ", ".join(_md(x) for x in anc[col].head(3))
        out.append(_pick(lang, f"**Protect the anchors** ({names}): keep them in stock and visible; they bring "
                               "other products into the basket.",
                         f"**앵커 상품을 지키십시오**({names}): 재고를 유지하고 잘 보이게 두십시오. 다른 상품을 "
                         "바구니로 끌어옵니다."))
    reach = results.get("customers_with_offer")
    if reach:
        k = results.get("offers_per_customer", 3)
        out.append(_pick(lang, f"**Send next-best offers** to the {reach:,} customers who trigger a rule, top {k} "
                               "products each with the rule as reason, and measure the hit rate against the rule's "
                               "confidence with a hold-out group.",
                         f"규칙에 해당하는 고객 {reach:,}명에게 **다음 추천 상품을 보내십시오**. 고객마다 상위 {k}개 "
                         "상품을 규칙을 이유로 제안하고, 대조군을 두어 적중률을 규칙의 신뢰도와 비교하십시오."))
    own = results.get("segment_own_rules")
    if own:
        seg = segment_name(results["segment"], lang)
        out.append(_pick(lang, f"**Use the {_n(own, 'rule', 'rules')} of {seg}** that the shop-wide rules miss in campaigns for "
                               "that segment.",
                         f"전체 규칙에 없는 **{seg} 세그먼트의 규칙 {own:,}개**를 해당 세그먼트 캠페인에 쓰십시오."))
    if not out:
        out.append(_pick(lang, "**Use the strongest rules on product pages** (\"bought together\"); no family, anchor "
                               "or customer offer stands out at these thresholds.",
                         "**가장 강한 규칙을 상품 페이지에 쓰십시오**(\"함께 구매한 상품\"). 이 기준에서는 두드러진 "
                         "상품군, 앵커, 고객 제안이 없습니다."))
    return "\n".join(f"{i}. {s}" for i, s in enumerate(out, 1))
