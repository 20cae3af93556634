"""The basket estimator: frequent itemsets and association rules, in the scikit-learn style.

:class:`BasketModel` only learns; what a fitted model is used for lives beside it:
:mod:`~crmlab.basket.offers` (next-best offers), :mod:`~crmlab.basket.assortment`
(anchors, families, bundles), :mod:`~crmlab.basket.ranking` (top and surprising rules) and
:mod:`~crmlab.basket.plotting`. Itemsets are mined by an engine of
:mod:`~crmlab.basket.engines`; every rule measure is defined in :mod:`~crmlab.basket.measures`.
"""

from __future__ import annotations

import functools
import html
import inspect
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from sklearn.base import BaseEstimator

from crmlab.basket.baskets import LEVELS, Baskets, basket_list, baskets_from
from crmlab.basket.engines import MINERS, frequency_order, resolve_engine
from crmlab.basket.itemsets import ItemsetStore, candidate_rules
from crmlab.basket.measures import COUNT_COLUMNS, MEASURES, rule_measures
from crmlab.errors import DataError, ParameterError
from crmlab.results import Result, to_jsonable
from crmlab.stats import check_correction
from crmlab.spark.session import is_spark_frame

__all__ = ["BasketModel", "RULE_COLUMNS", "check_fitted"]

#: Columns of ``BasketModel.rules_``, in order.
RULE_COLUMNS = ["antecedents", "consequents", "rule", "antecedent_len", "consequent_len",
                *COUNT_COLUMNS, *MEASURES]


def _check_fraction(name: str, value: Any, low: float, high: float, low_open: bool) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number", value=value,
                             expected=f"a number in {'(' if low_open else '['}{low}, {high}]") from None
    ok = (v > low if low_open else v >= low) and v <= high and not math.isnan(v)
    if not ok:
        raise ParameterError(
            f"{name} is out of range", value=value,
            expected=f"a number in {'(' if low_open else '['}{low}, {high}]",
            fix=f"pass {name} as a share, e.g. 0.01 for 1%",
        )
    return v


def _as_objects(values: list) -> np.ndarray:
    """A list (of tuples, say) as a 1-d object array, one element per entry."""
    return np.fromiter(values, dtype=object, count=len(values))


def _label_tuples(groups: list[np.ndarray], values: list, ids: np.ndarray) -> np.ndarray:
    """Rows of item ids (one array per group of rules) as tuples of ``values``, concatenated,
    then taken at ``ids``."""
    objects = _as_objects(values)
    singles = None
    out: list = []
    for grp in groups:
        if grp.shape[1] == 1:  # one tuple per item, shared by its rules
            if singles is None:
                singles = _as_objects([(v,) for v in values])
            out.extend(singles[grp[:, 0]].tolist())
        else:  # zip over per-position lists builds the tuples in C
            out.extend(zip(*[objects[grp[:, j]].tolist() for j in range(grp.shape[1])]))
    return _as_objects(out)[ids]


def _padded(groups: list[np.ndarray]) -> np.ndarray:
    """Groups of item-id rows, concatenated, as one array as wide as the widest (-1 past
    a row's last item)."""
    out = np.full((sum(len(g) for g in groups), max(g.shape[1] for g in groups)), -1, dtype=np.int64)
    start = 0
    for g in groups:
        out[start:start + len(g), :g.shape[1]] = g
        start += len(g)
    return out


@functools.cache
def _str_dtype() -> Any:
    """The dtype pandas gives a column of Python strings (pyarrow-backed ``str`` in pandas 3)."""
    return pd.Series(["x"]).dtype


def _rule_text(ant: np.ndarray, con: np.ndarray, shown: list) -> Any:
    """``{a, b} => {c}`` per rule from padded item-id rows (see :func:`_padded`): joined by
    Arrow when pandas stores strings in Arrow (the column pandas would build from the same
    Python strings), else with ``str.format``."""
    dtype = _str_dtype()
    if getattr(dtype, "storage", None) == "pyarrow":
        items = pa.array(shown, type=pa.large_string())
        lit = {t: pa.scalar(t, type=pa.large_string()) for t in ("{", ", ", "} => {", "}", "")}
        sides = []
        for ids_by_pos in (ant, con):
            # one column per position, null past a rule's last item: skipped with its separator
            cols = [items.take(pa.array(col, mask=col < 0)) for col in ids_by_pos.T]
            sides.append(pc.binary_join_element_wise(*cols, lit[", "], null_handling="skip"))
        text = pc.binary_join_element_wise(lit["{"], sides[0], lit["} => {"], sides[1], lit["}"], lit[""])
        return pd.array(text, dtype=dtype)
    objects = _as_objects(shown)
    out = np.empty(len(ant), dtype=object)
    widths = (ant >= 0).sum(axis=1) * (con.shape[1] + 1) + (con >= 0).sum(axis=1)
    for w in np.unique(widths).tolist():
        rows = np.flatnonzero(widths == w)
        na, nc = divmod(w, con.shape[1] + 1)
        fmt = "{{" + ", ".join(["{}"] * na) + "}} => {{" + ", ".join(["{}"] * nc) + "}}"
        cols = [objects[side[rows, j]].tolist() for side, k in ((ant, na), (con, nc)) for j in range(k)]
        out[rows] = list(map(fmt.format, *cols))
    return out


def _incidence(padded: np.ndarray, n_items: int) -> sparse.csr_matrix:
    """Rule x item 0/1 matrix of padded item-id rows (one row per rule)."""
    present = padded >= 0
    indptr = np.zeros(len(padded) + 1, dtype=np.int64)
    np.cumsum(present.sum(axis=1), out=indptr[1:])
    return sparse.csr_matrix((np.ones(int(indptr[-1]), dtype=np.int8), padded[present], indptr),
                             shape=(len(padded), n_items))


def check_fitted(model: Any) -> None:
    """Raise a clear error unless ``model`` is a fitted :class:`BasketModel`.

    Parameters
    ----------
    model : BasketModel

    Raises
    ------
    ParameterError
        Not a BasketModel, or not fitted yet.
    """
    if not isinstance(model, BasketModel):
        raise ParameterError("expected a fitted BasketModel", value=type(model).__name__,
                             fix="fit one with crmlab.basket.BasketModel(...).fit(transactions)")
    if not hasattr(model, "rules_"):
        raise ParameterError("this BasketModel is not fitted yet", fix="call fit(transactions) first")


class BasketModel(Result, BaseEstimator):
    """Frequent itemsets and association rules from baskets.

    Rules follow R ``arules`` (Hahsler, Gruen & Hornik 2005): by default one item on the
    right-hand side, support and confidence thresholds on counts, redundancy as
    ``is.redundant`` and significance as ``is.significant``. On the Groceries data at support
    0.001 and confidence 0.5 this gives arules' 5,668 rules exactly. ``__init__`` only stores
    the parameters (scikit-learn style: ``get_params``, ``set_params`` and ``clone`` work);
    ``fit`` checks them.

    Parameters
    ----------
    min_support : float, default 0.01
        Minimum share of baskets that contain all items of a rule, in (0, 1]. Applied as a
        count: an itemset is frequent when it is in at least ``ceil(min_support * n)``
        baskets (as arules and Borgelt's fim).
    min_confidence : float, default 0.5
        Minimum confidence P(consequent | antecedent), in [0, 1].
    min_lift : float, default 0.0
        Minimum lift; 1.0 keeps only rules better than the consequent's base rate.
    max_len : int or None, default None
        Longest itemset (antecedent plus consequent) to mine; None for no limit.
    max_consequent : int or None, default 1
        Most items on the right-hand side. 1 is arules' and retail practice; None allows
        any split of an itemset (mlxtend's ``association_rules``).
    level : str, default "product"
        What an item is when ``fit`` gets a transaction table: ``"product"`` (product_id),
        ``"name"`` (product_name), ``"category"`` or any column name.
    basket : str, default "order_id"
        Column that identifies a basket (use ``"customer_id"`` for customer baskets).
    remove_redundant : bool, default False
        Drop redundant rules: a rule is redundant when a more general rule (same consequent,
        a proper subset of the antecedent, the empty antecedent included) has the same or a
        higher confidence, i.e. its improvement (Bayardo, Agrawal & Gunopulos 2000) is <= 0.
        Same as arules' ``is.redundant``.
    significance : float or None, default None
        Keep only rules whose one-sided Fisher exact test p-value, corrected for the number
        of rules with ``correction``, is at most this level (arules' ``is.significant``;
        Webb 2007, "Discovering significant patterns"). None keeps every rule (the p-values
        are still reported).
    correction : {"holm", "bh", "fdr_bh", "bonferroni", "none"}, default "holm"
        Multiple-testing correction for ``significance``: Holm (1979) or Benjamini &
        Hochberg (1995) (``"bh"`` is an alias of ``"fdr_bh"``); see
        :func:`crmlab.stats.adjust_pvalues`.
    engine : {"auto", "mlxtend", "rusket", "pyfim"}, default "auto"
        Itemset miner (see :mod:`crmlab.basket.engines`); every engine gives the same rules.
        ``"auto"`` takes pyfim when installed, else rusket (a core dependency).
    exclude : list or None, default None
        Items taken out of every basket before mining: codes that are not products
        (postage, fees, manual adjustments). Baskets are still counted.

    Attributes
    ----------
    rules_ : DataFrame
        One row per rule, sorted by lift (then confidence, support): ``antecedents`` and
        ``consequents`` (tuples of items), ``rule`` (readable, with product names when
        known), counts and every measure of :data:`crmlab.basket.measures.MEASURES`
        (support, confidence, lift, leverage, conviction, Zhang's metric, improvement,
        ``redundant``, ``p_value`` and ``p_adjusted``).
    itemsets_ : DataFrame
        Frequent itemsets: ``itemsets`` (tuple), ``length``, ``count``, ``support``.
    item_counts_ : Series
        Baskets containing each item (all items, frequent or not), largest first.
    item_names_ : dict or None
        Product name per item when the transactions have ``product_name``.
    frequent_items_ : Index
        The frequent items, most baskets first; rows of ``antecedent_items_`` and
        ``consequent_items_`` refer to their positions.
    antecedent_items_, consequent_items_ : scipy.sparse.csr_matrix
        Rule x frequent-item 0/1 matrices, one row per row of ``rules_``.
    n_baskets_, n_items_, n_frequent_items_, min_count_, engine_ : as named.
    """

    title = "Market-basket rules"

    def __init__(
        self,
        min_support: float = 0.01,
        min_confidence: float = 0.5,
        min_lift: float = 0.0,
        max_len: int | None = None,
        max_consequent: int | None = 1,
        level: str = "product",
        basket: str = "order_id",
        remove_redundant: bool = False,
        significance: float | None = None,
        correction: str = "holm",
        engine: str = "auto",
        exclude: list | None = None,
    ) -> None:
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.min_lift = min_lift
        self.max_len = max_len
        self.max_consequent = max_consequent
        self.level = level
        self.basket = basket
        self.remove_redundant = remove_redundant
        self.significance = significance
        self.correction = correction
        self.engine = engine
        self.exclude = exclude

    # -- parameters ------------------------------------------------------------------
    def _validate(self) -> None:
        _check_fraction("min_support", self.min_support, 0.0, 1.0, low_open=True)
        _check_fraction("min_confidence", self.min_confidence, 0.0, 1.0, low_open=False)
        try:
            lift = float(self.min_lift)
        except (TypeError, ValueError):
            lift = float("nan")
        if not lift >= 0:
            raise ParameterError("min_lift must be a number >= 0", value=self.min_lift,
                                 expected="0 (no filter) or e.g. 1.0 for better than chance")
        for name in ("max_len", "max_consequent"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
                raise ParameterError(f"{name} must be a whole number >= 1 or None", value=v)
        if self.significance is not None:
            _check_fraction("significance", self.significance, 0.0, 1.0, low_open=True)
        check_correction(self.correction)
        if self.exclude is not None and (isinstance(self.exclude, (str, bytes))
                                         or not isinstance(self.exclude, Iterable)):
            raise ParameterError("exclude must be a list of items", value=self.exclude,
                                 expected="e.g. exclude=['POST', 'DOT']")

    # -- fitting ---------------------------------------------------------------------
    def fit(self, transactions: Any, y: None = None) -> "BasketModel":
        """Build baskets and learn frequent itemsets and rules.

        Parameters
        ----------
        transactions : DataFrame or list of baskets
            Either order lines in crmlab's canonical columns (``order_id`` and the item
            column of ``level``; rows flagged ``is_cancellation`` or with a non-positive
            ``quantity`` are not purchases and are left out), or a list of baskets, each a
            list of item labels (``crmlab.data.load_groceries()``).
        y : None
            Ignored (scikit-learn convention).

        Returns
        -------
        BasketModel
            self, fitted.
        """
        if is_spark_frame(transactions):  # Spark ML's FPGrowth mines, this model makes the rules
            from crmlab.spark.basket import fit_rules

            return fit_rules(self, transactions)
        self._validate()
        self.engine_ = resolve_engine(self.engine)
        self._raw = None
        self._item_counts = None
        self.notes = ()
        frame = transactions if isinstance(transactions, pd.DataFrame) else None
        mine_lists = MINERS[self.engine_].mine_lists
        if frame is None and mine_lists is not None and not self.exclude:
            # the engine reads the caller's basket lists itself
            baskets = basket_list(transactions)
            self._start(len(baskets), None, 0)
            found = mine_lists(baskets, self.min_count_, self.max_len)
            if found is not None:
                self._raw = baskets
                self._set_frequent(found[0])
                self._finish(found[1])
                return self
            data = baskets_from(baskets, self.level, self.basket)
        else:
            data = baskets_from(transactions, self.level, self.basket)
        self._fit_baskets(data, frame)
        return self

    def _start(self, n: int, frame: pd.DataFrame | None, excluded_rows: int) -> None:
        self.n_baskets_ = n
        self.n_rows_excluded_ = excluded_rows
        self.item_column_ = LEVELS.get(self.level, self.level) if frame is not None else None
        self.item_names_ = self._names(frame)
        self.min_count_ = max(1, int(math.ceil(self.min_support * n - 1e-9)))

    def _set_frequent(self, labels: pd.Index) -> None:
        self.n_frequent_items_ = len(labels)
        self.frequent_items_ = labels  # internal item ids are positions here: most frequent first

    def _finish(self, levels: dict) -> None:
        self._store = ItemsetStore(levels, max(1, self.n_frequent_items_))
        self._itemsets_frame = None
        self.rules_ = self._rule_frame(self.n_baskets_)
        if self.n_frequent_items_ and len(self.rules_) == 0 and not self.notes:
            self.notes = (
                f"{self.n_frequent_items_:,} items are frequent but no rule reaches confidence "
                f"{self.min_confidence} (lift {self.min_lift}); lower the thresholds to see rules.",
            )

    def _fit_baskets(self, data: Baskets, frame: pd.DataFrame | None) -> None:
        X, labels = data.matrix, data.labels
        n = data.n
        self._start(n, frame, data.excluded_rows)
        counts_all = np.asarray(X.sum(axis=0)).ravel().astype(np.int64)
        self._item_counts = pd.Series(counts_all, index=labels, name="baskets").sort_values(
            ascending=False, kind="stable")
        eligible = counts_all >= self.min_count_
        if self.exclude:
            eligible &= ~labels.isin(list(self.exclude))
        frequent = np.flatnonzero(eligible)
        frequent = frequent[frequency_order(labels[frequent].to_list(), counts_all[frequent])]
        self._set_frequent(labels[frequent])
        if n == 0:
            raise DataError("there are no baskets", expected="at least one basket")
        if len(labels) == 0:
            raise DataError("the baskets hold no items", expected="baskets with at least one item",
                            fix="check the item column or the basket lists passed to fit")
        if len(frequent) == 0:
            top = self._item_counts.iloc[0]
            self.notes = (
                f"No item is in {self.min_count_:,} or more of the {n:,} baskets "
                f"(min_support={self.min_support}); the most common item is in {top:,}. "
                f"Lower min_support to at most {top / n:.4g} to find rules.",
            )
        Xf = X[:, frequent].tocsr()
        levels = MINERS[self.engine_].mine(Xf, counts_all[frequent], self.min_count_, self.max_len)
        self._finish(levels)

    def _names(self, frame: pd.DataFrame | None) -> dict | None:
        if frame is None or self.item_column_ != "product_id" or "product_name" not in frame.columns:
            return None
        pairs = frame[["product_id", "product_name"]].dropna()
        if len(pairs) == 0:
            return None
        top = pairs.groupby(["product_id", "product_name"], observed=True).size().reset_index(name="n")
        top = top.sort_values(["product_id", "n"], ascending=[True, False], kind="stable")
        top = top.drop_duplicates("product_id")
        return dict(zip(top["product_id"], top["product_name"].astype(str)))

    # -- learned tables ----------------------------------------------------------------
    @property
    def item_counts_(self) -> pd.Series:
        """Baskets holding each item (every item, frequent or not), largest first."""
        self._check_fitted()
        if self._item_counts is None:
            data = baskets_from(self._raw, self.level, self.basket)
            counts = np.asarray(data.matrix.sum(axis=0)).ravel().astype(np.int64)
            self._item_counts = pd.Series(counts, index=data.labels, name="baskets").sort_values(
                ascending=False, kind="stable")
        return self._item_counts

    @property
    def n_items_(self) -> int:
        """Distinct items in the baskets."""
        return len(self.item_counts_)

    @property
    def frequent_counts_(self) -> np.ndarray:
        """Baskets holding each frequent item, in the order of ``frequent_items_``."""
        self._check_fitted()
        return self._store.counts.get(1, np.zeros(0, dtype=np.int64))

    @property
    def itemsets_(self) -> pd.DataFrame:
        """Frequent itemsets (built on first use): itemsets, length, count, support."""
        self._check_fitted()
        if self._itemsets_frame is None:
            self._itemsets_frame = self._itemset_frame()
        return self._itemsets_frame

    def _itemset_frame(self) -> pd.DataFrame:
        parts = []
        labels = np.asarray(self.frequent_items_, dtype=object)
        for length, rows in self._store.rows.items():
            if len(rows) == 0:
                continue
            parts.append(pd.DataFrame({
                "itemsets": [tuple(x) for x in labels[rows].tolist()],
                "length": length,
                "count": self._store.counts[length],
            }))
        frame = (pd.concat(parts, ignore_index=True) if parts
                 else pd.DataFrame({"itemsets": [], "length": [], "count": []}))
        frame["length"] = frame["length"].astype(np.int64)
        frame["count"] = frame["count"].astype(np.int64)
        frame["support"] = frame["count"] / self.n_baskets_
        return frame.sort_values(["length", "count"], ascending=[True, False], kind="stable").reset_index(drop=True)

    # -- rules -------------------------------------------------------------------------
    def _candidates(self, n: int) -> tuple[list, list, dict]:
        """Item-id rows of antecedents and consequents that pass confidence and lift, with their counts."""
        ant_rows, con_rows = [], []
        cols: dict[str, list] = {k: [] for k in (*COUNT_COLUMNS, "general")}
        for _length, rows, apos, cpos, cnt, ant_cnt, con_cnt, conf, general in candidate_rules(
                self._store, n, self.max_consequent):
            keep = conf >= self.min_confidence
            if self.min_lift > 0:
                keep &= conf * n / con_cnt >= self.min_lift
            if not keep.any():
                continue
            ant_rows.append(rows[np.ix_(keep, apos)])
            con_rows.append(rows[np.ix_(keep, cpos)])
            for name, values in zip(cols, (cnt, ant_cnt, con_cnt, general)):
                cols[name].append(values[keep])
        return ant_rows, con_rows, {k: np.concatenate(v) if v else v for k, v in cols.items()}

    def _rule_frame(self, n: int) -> pd.DataFrame:
        n_items = max(1, len(self.frequent_items_))
        ant_rows, con_rows, counts = self._candidates(n)
        if not ant_rows:
            self.antecedent_items_ = sparse.csr_matrix((0, n_items), dtype=np.int8)
            self.consequent_items_ = self.antecedent_items_.copy()
            self.n_rules_before_pruning_ = 0
            return pd.DataFrame({c: pd.Series(dtype=float) for c in RULE_COLUMNS})
        measures = rule_measures(counts["count"], counts["antecedent_count"], counts["consequent_count"],
                                 counts["general"], n, self.correction)
        self.n_rules_before_pruning_ = len(measures["count"])
        keep = np.ones(self.n_rules_before_pruning_, dtype=bool)
        if self.remove_redundant:
            keep &= ~measures["redundant"]
        if self.significance is not None:
            keep &= measures["p_adjusted"] <= self.significance
        ids = np.flatnonzero(keep)
        # strongest first; ties keep the (engine-independent) itemset order
        order = np.lexsort((ids, -measures["support"][ids], -measures["confidence"][ids], -measures["lift"][ids]))
        ids = ids[order]
        labels = self.frequent_items_.to_list()
        shown = [str(self.item_names_.get(x, x)) if self.item_names_ else str(x) for x in labels]
        ant, con = _padded(ant_rows)[ids], _padded(con_rows)[ids]
        frame = pd.DataFrame({
            "antecedents": _label_tuples(ant_rows, labels, ids),
            "consequents": _label_tuples(con_rows, labels, ids),
            "rule": _rule_text(ant, con, shown),
            "antecedent_len": (ant >= 0).sum(axis=1).astype(np.int64),
            "consequent_len": (con >= 0).sum(axis=1).astype(np.int64),
            **{name: values[ids] for name, values in measures.items()},
        })
        self.antecedent_items_ = _incidence(ant, n_items)
        self.consequent_items_ = _incidence(con, n_items)
        return frame

    # -- results ---------------------------------------------------------------------
    def _check_fitted(self) -> None:
        check_fitted(self)

    @property
    def summary(self) -> pd.DataFrame:
        """Headline numbers of the fit (one row per figure); the parameters before fitting."""
        if not hasattr(self, "rules_"):
            return pd.DataFrame({"value": pd.Series(self.get_params(), dtype=object)})
        rules = self.rules_
        top = rules.iloc[0] if len(rules) else None
        rows = {
            "baskets": self.n_baskets_,
            "items": self.n_items_,
            "frequent items": self.n_frequent_items_,
            "frequent itemsets": self._store.total(),
            "rules": len(rules),
            "min_support": self.min_support,
            "min_count (baskets)": self.min_count_,
            "min_confidence": self.min_confidence,
            "engine": self.engine_,
            "top rule by lift": None if top is None else top["rule"],
            "top lift": None if top is None else round(float(top["lift"]), 4),
        }
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def to_dict(self) -> dict[str, Any]:
        """Headline numbers for ``metrics.json``.

        Returns
        -------
        dict
            baskets, items, frequent_items, itemsets, rules and top_lift.
        """
        self._check_fitted()
        return to_jsonable({
            "baskets": self.n_baskets_, "items": self.n_items_,
            "frequent_items": self.n_frequent_items_, "itemsets": self._store.total(),
            "rules": len(self.rules_),
            "top_lift": float(self.rules_["lift"].iloc[0]) if len(self.rules_) else None,
        })

    def _repr_html_(self) -> str:
        if not hasattr(self, "rules_"):
            return f"<pre>{html.escape(repr(self))}</pre>"
        return super()._repr_html_()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        # Jupyter asks for this first; scikit-learn's would draw its estimator diagram
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def __repr__(self) -> str:
        values = self.get_params(deep=False)
        params = ", ".join(f"{k}={values[k]!r}" for k in inspect.signature(type(self).__init__).parameters
                           if k in values)
        return f"BasketModel({params})"
