"""Market-basket analysis: association rules, cross-sell offers and assortment views.

Basket analysis answers two CRM questions: *which product do we put in front of which
customer* (the next-best offer) and *which products hold the assortment together* (anchors
that bring other products along). :class:`BasketModel` learns frequent itemsets and
association rules from transactions, in the scikit-learn style; everything else is a
function of a fitted model::

    from crmlab import basket
    model = basket.BasketModel(min_support=0.01, min_confidence=0.5).fit(tx)
    model.rules_                              # one row per rule, with every measure
    offers = basket.recommend(model, tx, k=3) # top-3 products per customer, with the rule as reason
    basket.families(model, min_lift=5.0)      # product families held together by strong rules

Where things live (a new piece goes next to its kind):

- ``model``: :class:`BasketModel` (fit -> ``rules_``, ``itemsets_``, ``item_counts_``);
- ``engines``: the itemset miners (``MINERS``: a new engine is one entry);
- ``measures``: every rule measure (``MEASURES``: a new measure is one entry);
- ``baskets``: transactions or basket lists as a sparse basket x item matrix;
- ``itemsets``: the frequent-itemset store and the candidate rules;
- ``ranking``: :func:`top_rules`, :func:`surprising_rules`;
- ``offers``: :func:`recommend`, :func:`recommend_by_segment`, :class:`Offers`;
- ``merchandising``: :func:`assortment` (:class:`Assortment`), :func:`anchors`,
  :func:`families`, :func:`top_bundles`;
- ``segments``: :func:`rules_by_segment`, :class:`SegmentRules`;
- ``plotting``: :func:`plot_rules`, :func:`plot_top_rules`, :func:`plot_rule_network`;
- ``thresholds``: :func:`support_for_rules` (the support at which rules appear);
- ``narrative``: the report's sentences, written from the numbers (English and Korean).

Only :mod:`crmlab.basket.engines` imports mlxtend and fim.
"""

from __future__ import annotations

from crmlab.basket.baskets import LEVELS
from crmlab.basket.engines import ENGINES, MINERS, available_engines
from crmlab.basket.measures import MEASURES
from crmlab.basket.merchandising import Assortment, anchors, assortment, families, top_bundles
from crmlab.basket.model import RULE_COLUMNS, BasketModel
from crmlab.basket.offers import Offers, recommend, recommend_by_segment
from crmlab.basket.plotting import plot_rule_network, plot_rules, plot_top_rules
from crmlab.basket.ranking import surprising_rules, top_rules
from crmlab.basket.segments import SegmentRules, rules_by_segment
from crmlab.basket.thresholds import support_for_rules
from crmlab.stats import adjust_pvalues

__all__ = [
    "BasketModel",
    "Offers",
    "Assortment",
    "SegmentRules",
    "recommend",
    "recommend_by_segment",
    "assortment",
    "anchors",
    "families",
    "top_bundles",
    "top_rules",
    "surprising_rules",
    "rules_by_segment",
    "support_for_rules",
    "adjust_pvalues",
    "available_engines",
    "plot_rules",
    "plot_top_rules",
    "plot_rule_network",
    "ENGINES",
    "MINERS",
    "MEASURES",
    "LEVELS",
    "RULE_COLUMNS",
]
