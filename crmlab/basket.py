"""Market-basket analysis: association rules, cross-sell offers and assortment views.

Basket analysis answers two CRM questions: *which product do we put in front of which
customer* (the next-best offer) and *which products hold the assortment together* (anchors
that bring other products along). :class:`BasketModel` learns frequent itemsets and
association rules from transactions, in the scikit-learn style::

    from crmlab import basket
    model = basket.BasketModel(min_support=0.01, min_confidence=0.5).fit(tx)
    model.rules_                      # one row per rule, with every measure
    offers = model.recommend(tx, k=3) # top-3 products per customer, with the rule as reason

Rules follow R ``arules`` (Hahsler, Gruen & Hornik 2005): by default one item on the
right-hand side, support and confidence thresholds on counts, redundancy as
``is.redundant`` and significance as ``is.significant``. On the Groceries data at support
0.001 and confidence 0.5 this gives arules' 5,668 rules exactly.

Engines
-------
Mining frequent itemsets is the expensive step; crmlab does the rest (rules, measures,
pruning) itself, vectorised, so every engine returns the same rules.

``"mlxtend"`` (default install)
    Items and pairs are counted exactly with one sparse matrix product (items below the
    minimum support are dropped first). Longer itemsets are mined with mlxtend's H-Mine
    (Pei et al. 2001) item by item, each time only on the baskets that hold the item and
    only over the items it forms a frequent pair with. That is the same search mlxtend does
    over the whole one-hot table, cut into small pieces, and it is where plain mlxtend spends
    almost all of its time (its FP-growth builds conditional trees in pure Python).
``"pyfim"``
    Christian Borgelt's C implementations (``fim``; ``pip install crmlab[fast]``); its Eclat
    is the fastest of them on retail baskets.
``"auto"``
    ``"pyfim"`` when it is installed, else ``"mlxtend"``.

Only this module imports mlxtend and fim.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from itertools import chain, combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from crmlab.errors import DataError, ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result, to_jsonable

__all__ = [
    "BasketModel",
    "Offers",
    "Assortment",
    "SegmentRules",
    "rules_by_segment",
    "adjust_pvalues",
    "plot_rules",
    "plot_top_rules",
    "plot_rule_network",
    "ENGINES",
    "LEVELS",
]

#: Mining engines ``BasketModel(engine=...)`` accepts.
ENGINES = ("auto", "mlxtend", "pyfim")
#: Basket levels: a name for a canonical column, or any column of the transactions.
LEVELS = {"product": "product_id", "name": "product_name", "category": "category"}
_CORRECTIONS = ("holm", "bh", "bonferroni", "none")

RULE_COLUMNS = [
    "antecedents",
    "consequents",
    "rule",
    "antecedent_len",
    "consequent_len",
    "count",
    "antecedent_count",
    "consequent_count",
    "support",
    "antecedent_support",
    "consequent_support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "zhangs_metric",
    "improvement",
    "redundant",
    "p_value",
    "p_adjusted",
]


# --------------------------------------------------------------------------------------
# engines
# --------------------------------------------------------------------------------------


def _fim_module():
    try:
        import fim  # noqa: PLC0415 - optional extra
    except ImportError:
        return None
    return fim


def available_engines() -> list[str]:
    """Engines usable in this installation (``"pyfim"`` needs the ``fast`` extra)."""
    return ["mlxtend"] + (["pyfim"] if _fim_module() is not None else [])


def _resolve_engine(engine: str) -> str:
    if engine == "auto":
        return "pyfim" if _fim_module() is not None else "mlxtend"
    if engine == "pyfim" and _fim_module() is None:
        raise ParameterError(
            "engine 'pyfim' is not installed",
            value=engine,
            expected="one of " + ", ".join(available_engines()) + " or 'auto'",
            fix="install the fast extra (pip install 'crmlab[fast]', needs a C compiler) or use engine='auto'",
        )
    return engine


def _frequent_pairs(X: sparse.csc_matrix, min_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All item pairs (i < j) bought together in at least ``min_count`` baskets.

    One sparse product ``X.T @ X``, done in column blocks so memory stays bounded when many
    items are frequent.
    """
    n_items = X.shape[1]
    Xi = X.astype(np.int32)
    XT = Xi.T.tocsr()
    rows, cols, counts = [], [], []
    block = max(1, min(n_items, 4_000_000 // max(1, n_items)))
    for start in range(0, n_items, block):
        stop = min(n_items, start + block)
        C = (XT[:stop] @ Xi[:, start:stop]).tocoo()
        keep = (C.data >= min_count) & (C.row < C.col + start)
        rows.append(C.row[keep])
        cols.append(C.col[keep] + start)
        counts.append(C.data[keep])
    r = np.concatenate(rows).astype(np.int64)
    c = np.concatenate(cols).astype(np.int64)
    k = np.concatenate(counts).astype(np.int64)
    order = np.lexsort((c, r))
    return r[order], c[order], k[order]


def _mine_mlxtend(X: sparse.csr_matrix, counts: np.ndarray, min_count: int, max_len: int | None) -> dict:
    """Frequent itemsets with mlxtend's H-Mine, decomposed by item (see module docstring)."""
    from mlxtend.frequent_patterns import hmine  # noqa: PLC0415 - mlxtend lives here only

    n_items = X.shape[1]
    levels: dict[int, tuple[np.ndarray, np.ndarray]] = {
        1: (np.arange(n_items, dtype=np.int64).reshape(-1, 1), counts.astype(np.int64))
    }
    if n_items < 2 or (max_len is not None and max_len < 2):
        return levels
    Xc = X.tocsc()
    pi, pj, pc = _frequent_pairs(Xc, min_count)
    if len(pi) == 0:
        return levels
    levels[2] = (np.column_stack([pi, pj]), pc)
    if max_len is not None and max_len < 3:
        return levels
    longer: dict[int, list] = {}
    starts = np.searchsorted(pi, np.arange(n_items + 1))
    for i in range(n_items):
        partners = pj[starts[i]:starts[i + 1]]
        if len(partners) < 2:
            continue
        baskets = Xc.indices[Xc.indptr[i]:Xc.indptr[i + 1]]
        sub = X[baskets][:, partners].astype(np.int32)
        # a partner extends the item only if it forms a frequent pair with another partner
        # inside the item's baskets (one small sparse product), so the rest are dropped
        inner = (sub.T @ sub).tocoo()
        pair = (inner.data >= min_count) & (inner.row != inner.col)
        useful = np.zeros(len(partners), dtype=bool)
        useful[inner.row[pair]] = True
        if useful.sum() < 2:
            continue
        partners = partners[useful]
        dense = sub[:, np.flatnonzero(useful)].toarray()
        dense = dense[dense.sum(axis=1) >= 2]
        n_sub = dense.shape[0]
        if n_sub < min_count:
            continue
        frame = pd.DataFrame(dense.astype(bool))
        found = hmine(frame, min_support=(min_count - 0.5) / n_sub,
                      max_len=None if max_len is None else max_len - 1)
        for supp, items in zip(found["support"].to_numpy(), found["itemsets"]):
            if len(items) < 2:
                continue
            row = (i, *sorted(partners[list(items)].tolist()))
            longer.setdefault(len(row), []).append((row, int(round(supp * n_sub))))
    for length, found_rows in longer.items():
        levels[length] = (
            np.array([r for r, _ in found_rows], dtype=np.int64),
            np.array([c for _, c in found_rows], dtype=np.int64),
        )
    return levels


def _mine_pyfim(X: sparse.csr_matrix, counts: np.ndarray, min_count: int, max_len: int | None) -> dict:
    """Frequent itemsets with Borgelt's C library (``fim.eclat``; Borgelt 2012, WIREs DMKD 2:437)."""
    _fim_module()  # fail early, with advice, when pyfim is not installed
    n_items = X.shape[1]
    levels: dict[int, tuple[np.ndarray, np.ndarray]] = {
        1: (np.arange(n_items, dtype=np.int64).reshape(-1, 1), counts.astype(np.int64))
    }
    if n_items < 2 or (max_len is not None and max_len < 2):
        return levels
    # only baskets with two or more frequent items can hold a frequent pair
    sizes = np.diff(X.indptr)
    flat = X.indices.tolist()
    ptr = X.indptr.tolist()
    tracts = [flat[ptr[b]:ptr[b + 1]] for b in np.flatnonzero(sizes >= 2).tolist()]
    levels.update(_levels_from_fim(_run_fim(tracts, min_count, max_len, zmin=2)))
    return levels


def _run_fim(tracts: list, min_count: int, max_len: int | None, zmin: int) -> list:
    """All itemsets of ``zmin`` or more items in at least ``min_count`` transactions, with
    Borgelt's Eclat (the fastest of fim's miners on retail baskets; all give the same sets)."""
    fim = _fim_module()
    # fim leaves out item sets made only of items that are in every transaction; one empty
    # transaction avoids that without changing any count (supports are absolute).
    tracts = list(tracts)
    tracts.append([])
    limits = {} if max_len is None else {"zmax": int(max_len)}
    # algo "o": occurrence deliver (as in LCM), the fastest variant on sparse retail baskets
    return fim.eclat(tracts, target="s", supp=-min_count, zmin=zmin, report="a", algo="o", **limits)


def _levels_from_fim(found: list, ids: Mapping | None = None) -> dict:
    """fim's (itemset, count) pairs as sorted id rows and counts per length; ``ids`` maps
    item labels to ids when fim mined labels rather than ids."""
    levels: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if not found:
        return levels
    sets, counts_found = zip(*found)
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    items = chain.from_iterable(sets)
    if ids is not None:
        items = map(ids.__getitem__, items)
    flat = np.fromiter(items, dtype=np.int64, count=int(lengths.sum()))
    counts_found = np.asarray(counts_found, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    for length in np.unique(lengths):
        pick = np.flatnonzero(lengths == length)
        rows = np.sort(flat[offsets[pick, None] + np.arange(length)], axis=1)
        levels[int(length)] = (rows, counts_found[pick])
    return levels


def _frequency_order(labels: list, counts: np.ndarray) -> np.ndarray:
    """Positions of items, most baskets first, ties by label text: the internal item order,
    the same whichever way the counts were found."""
    key = pd.DataFrame({"count": -np.asarray(counts, dtype=np.int64), "label": [str(x) for x in labels]})
    return key.sort_values(["count", "label"], kind="stable").index.to_numpy()


_MINERS = {"mlxtend": _mine_mlxtend, "pyfim": _mine_pyfim}


# --------------------------------------------------------------------------------------
# itemset store: exact, vectorised look-up of any frequent itemset's count
# --------------------------------------------------------------------------------------


class _Itemsets:
    """Frequent itemsets by length, each level sorted lexicographically.

    A row of length L is found by its prefix's position in level L-1 and its last item, so
    a look-up is a chain of ``searchsorted`` calls: exact and vectorised. Every subset of a
    frequent itemset is frequent, so every look-up of a subset succeeds.
    """

    def __init__(self, levels: dict, n_items: int) -> None:
        self.n_items = n_items
        self.rows: dict[int, np.ndarray] = {}
        self.counts: dict[int, np.ndarray] = {}
        self.keys: dict[int, np.ndarray] = {}
        for length in sorted(levels):
            rows, counts = levels[length]
            rows = np.sort(np.asarray(rows, dtype=np.int64), axis=1)
            counts = np.asarray(counts, dtype=np.int64)
            if length == 1:
                key = rows[:, 0]
            else:
                key = self.find(rows[:, :-1]) * n_items + rows[:, -1]
                if (key < 0).any():  # pragma: no cover - engines return closed sets
                    raise RuntimeError("frequent itemsets are not downward closed")
            order = np.argsort(key, kind="stable")
            self.rows[length], self.counts[length], self.keys[length] = rows[order], counts[order], key[order]

    @property
    def max_len(self) -> int:
        return max(self.rows) if self.rows else 0

    def find(self, rows: np.ndarray) -> np.ndarray:
        """Positions of ``rows`` (sorted item ids) in their level; -1 where not frequent."""
        length = rows.shape[1]
        if length == 1:
            key = rows[:, 0]
        else:
            prefix = self.find(rows[:, :-1])
            key = np.where(prefix >= 0, prefix * self.n_items + rows[:, -1], -1)
        keys = self.keys.get(length)
        if keys is None or len(keys) == 0:
            return np.full(len(rows), -1, dtype=np.int64)
        pos = np.searchsorted(keys, key)
        pos_c = np.minimum(pos, len(keys) - 1)
        return np.where((key >= 0) & (keys[pos_c] == key), pos_c, -1)

    def count(self, rows: np.ndarray) -> np.ndarray:
        length = rows.shape[1]
        return self.counts[length][self.find(rows)]

    def total(self) -> int:
        return int(sum(len(c) for c in self.counts.values()))


def _squeeze_mask(mask: int, j: int) -> int:
    """Bit mask over positions after position ``j`` is removed from a row."""
    low = mask & ((1 << j) - 1)
    high = mask >> (j + 1)
    return low | (high << j)


def _rules_from_itemsets(store: _Itemsets, n_baskets: int, max_consequent: int | None):
    """Every candidate rule A => C with A, C non-empty and A u C frequent.

    Returns one tuple per (itemset length, consequent positions): the itemset rows, the
    antecedent and consequent positions, the counts of itemset, antecedent and consequent,
    the confidence and, per rule, the best confidence of a more general rule with the same
    consequent (the empty antecedent included: its confidence is the consequent's support).
    That last figure decides redundancy (Bayardo, Agrawal & Gunopulos 2000).
    """
    out = []
    # best[length][mask]: per itemset of that length, the best confidence of the rule with
    # consequent positions ``mask`` or of any more general rule with the same consequent
    best: dict[int, dict[int, np.ndarray]] = {}
    for length in range(2, store.max_len + 1):
        if length not in store.rows:
            break
        rows, cnt = store.rows[length], store.counts[length]
        n_rows = len(rows)
        best[length] = {}
        max_c = length - 1 if max_consequent is None else min(max_consequent, length - 1)
        # lookups of all rows with one position removed, shared by every mask
        drop_pos = [store.find(np.delete(rows, j, axis=1)) for j in range(length)]
        for m in range(1, max_c + 1):
            for cpos in combinations(range(length), m):
                mask = sum(1 << p for p in cpos)
                apos = [p for p in range(length) if p not in cpos]
                ant_cnt = store.count(rows[:, apos])
                con_cnt = store.count(rows[:, list(cpos)])
                conf = cnt / ant_cnt
                general = np.full(n_rows, -np.inf)
                if len(apos) == 1:
                    general = con_cnt / n_baskets
                else:
                    for j in apos:
                        sub_mask = _squeeze_mask(mask, j)
                        general = np.maximum(general, best[length - 1][sub_mask][drop_pos[j]])
                best[length][mask] = np.maximum(conf, general)
                out.append((length, rows, np.array(apos), np.array(cpos), cnt, ant_cnt, con_cnt, conf, general))
        best.pop(length - 1, None)  # only the level below is ever looked up
    return out


# --------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------


def adjust_pvalues(p: np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple testing.

    ``"holm"``: Holm (1979) step-down family-wise error control; ``"bh"``: Benjamini &
    Hochberg (1995) false discovery rate; ``"bonferroni"``; ``"none"``. Same results as R's
    ``p.adjust`` (which arules' ``is.significant`` uses).
    """
    p = np.asarray(p, dtype=float)
    m = len(p)
    if method == "none" or m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(1.0, p * m)
    if method == "holm":
        order = np.argsort(p, kind="stable")
        adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    elif method == "bh":
        order = np.argsort(p, kind="stable")[::-1]
        adj = np.minimum.accumulate(m / (m - np.arange(m)) * p[order])
    else:
        raise ParameterError("unknown p-value correction", value=method,
                             expected="one of " + ", ".join(_CORRECTIONS))
    out = np.empty(m)
    out[order] = np.minimum(1.0, adj)
    return out


def _log_hypergeom_pmf(x, N, K, d):
    from scipy.special import gammaln  # noqa: PLC0415

    def log_choose(a, b):
        return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

    return log_choose(K, x) + log_choose(N - K, d - x) - log_choose(N, d)


def _fisher_greater(count, ant_count, con_count, n) -> np.ndarray:
    """One-sided Fisher exact test that antecedent and consequent occur together more often
    than chance: P(X >= count) for X ~ Hypergeometric(n baskets, con_count, ant_count draws).

    Summed term by term with the pmf ratio recurrence, all rules at once (scipy's
    ``hypergeom.sf`` loops in Python per rule). Rules at or below the expected count use
    the lower tail: P(X >= a) = 1 - P(X <= a - 1).
    """
    a = np.asarray(count, dtype=float)
    d = np.asarray(ant_count, dtype=float)
    K = np.asarray(con_count, dtype=float)
    N = float(n)
    p = np.empty(len(a))
    upper = a > d * K / N
    lo_x = np.maximum(0.0, d + K - N)
    hi_x = np.minimum(d, K)
    # upper tail from a upwards
    if upper.any():
        x, dd, KK, hi = a[upper], d[upper], K[upper], hi_x[upper]
        term = np.exp(_log_hypergeom_pmf(x, N, KK, dd))
        total = term.copy()
        active = (x < hi) & (term > 0)
        while active.any():
            xa = x[active]
            ratio = (KK[active] - xa) * (dd[active] - xa) / ((xa + 1) * (N - KK[active] - dd[active] + xa + 1))
            term[active] *= ratio
            x[active] = xa + 1
            total[active] += term[active]
            active &= (x < hi) & (term > total * 1e-17)
        p[upper] = total
    lower = ~upper
    if lower.any():
        x, dd, KK, lo = a[lower] - 1, d[lower], K[lower], lo_x[lower]
        valid = x >= lo
        term = np.where(valid, np.exp(_log_hypergeom_pmf(np.maximum(x, lo), N, KK, dd)), 0.0)
        total = term.copy()
        active = valid & (x > lo) & (term > 0)
        while active.any():
            xa = x[active]
            ratio = xa * (N - KK[active] - dd[active] + xa) / ((KK[active] - xa + 1) * (dd[active] - xa + 1))
            term[active] *= ratio
            x[active] = xa - 1
            total[active] += term[active]
            active &= (x > lo) & (term > total * 1e-17)
        p[lower] = 1.0 - total
    return np.clip(p, 0.0, 1.0)


# --------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------


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


class _Baskets:
    """Baskets as a sparse basket x item incidence matrix with the item labels."""

    def __init__(self, matrix: sparse.csr_matrix, labels: pd.Index, basket_ids: pd.Index | None,
                 excluded_rows: int = 0) -> None:
        self.matrix = matrix
        self.labels = labels
        self.basket_ids = basket_ids
        self.excluded_rows = excluded_rows

    @property
    def n(self) -> int:
        return self.matrix.shape[0]


def _matrix(basket_codes: np.ndarray, item_codes: np.ndarray, n_baskets: int, n_items: int) -> sparse.csr_matrix:
    X = sparse.csr_matrix((np.ones(len(basket_codes), dtype=np.int32), (basket_codes, item_codes)),
                          shape=(n_baskets, n_items))
    X.sum_duplicates()  # an item bought twice in a basket counts once
    X.data = np.ones(len(X.data), dtype=np.int8)
    return X


def _item_column(frame: pd.DataFrame, level: str) -> str:
    col = LEVELS.get(level, level)
    if col not in frame.columns:
        raise DataError(
            f"no column for basket level {level!r}", column=col,
            expected="level 'product' (product_id), 'name' (product_name), 'category' or a column name; "
            f"columns are {', '.join(map(str, frame.columns))}",
            fix="pass level= one of the columns, or load the data with crmlab.data.load_transactions",
        )
    return col


def _purchases(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rows that are purchases: cancellations and non-positive quantities are left out."""
    keep = pd.Series(True, index=frame.index)
    if "is_cancellation" in frame.columns:
        keep &= ~frame["is_cancellation"].fillna(False).astype(bool)
    if "quantity" in frame.columns:
        keep &= pd.to_numeric(frame["quantity"], errors="coerce").fillna(0) > 0
    if keep.all():
        return frame, 0
    return frame.loc[keep], int((~keep).sum())


def _basket_list(transactions: Any) -> list:
    """The baskets as a list of sized iterables, or a DataError that says what is wrong."""
    if isinstance(transactions, pd.Series):
        transactions = transactions.tolist()
    if isinstance(transactions, (str, bytes)) or not isinstance(transactions, Iterable):
        raise DataError("transactions must be a DataFrame of order lines or a list of baskets",
                        value=type(transactions).__name__,
                        expected="a DataFrame with order_id and product_id, or a list of lists of items")
    baskets = transactions if isinstance(transactions, list) else list(transactions)
    if len(baskets) == 0:
        raise DataError("the basket list is empty", expected="at least one basket",
                        fix="check the data passed to fit")
    if set(map(type, baskets)) <= {list, tuple, set, frozenset}:  # the usual case, checked fast
        return baskets
    bad = next((k for k, b in enumerate(baskets)
                if isinstance(b, (str, bytes)) or not isinstance(b, Iterable) or not hasattr(b, "__len__")), None)
    if bad is not None:
        raise DataError("each basket must be a list of items", row=bad, value=baskets[bad],
                        expected="a list of lists, e.g. [['milk', 'bread'], ['soda']]")
    return baskets


def _baskets_from(transactions: Any, level: str, basket: str) -> _Baskets:
    if isinstance(transactions, pd.DataFrame):
        if basket not in transactions.columns:
            raise DataError("transactions have no basket column", column=basket,
                            expected="one row per order line with an order id column",
                            fix="pass basket= the column that identifies a basket (order)")
        item_col = _item_column(transactions, level)
        frame, excluded = _purchases(transactions)
        frame = frame[[basket, item_col]].dropna()
        if len(frame) == 0:
            raise DataError("no purchases to build baskets from", column=item_col,
                            expected="at least one order line with a positive quantity and an item",
                            fix="check the filters applied before fitting")
        bcodes, bids = pd.factorize(frame[basket], sort=False)
        icodes, labels = pd.factorize(frame[item_col], sort=False)
        X = _matrix(bcodes, icodes, len(bids), len(labels))
        return _Baskets(X, pd.Index(labels), pd.Index(bids, name=basket), excluded)
    baskets = _basket_list(transactions)
    lengths = np.fromiter(map(len, baskets), dtype=np.int64, count=len(baskets))
    flat = list(chain.from_iterable(baskets))
    icodes, labels = pd.factorize(pd.Series(flat, dtype=object), sort=False)
    bcodes = np.repeat(np.arange(len(baskets)), lengths)
    valid = icodes >= 0  # missing items (None/NaN) are dropped
    X = _matrix(bcodes[valid], icodes[valid], len(baskets), len(labels))
    return _Baskets(X, pd.Index(labels, dtype=object), None, 0)


def _fmt_items(items: tuple, names: Mapping | None) -> str:
    if names is not None:
        items = tuple(str(names.get(i, i)) for i in items)
    return "{" + ", ".join(map(str, items)) + "}"


# --------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------


class BasketModel(Result):
    """Frequent itemsets and association rules from baskets.

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
    correction : {"holm", "bh", "bonferroni", "none"}, default "holm"
        Multiple-testing correction for ``significance``: Holm (1979) or Benjamini &
        Hochberg (1995).
    engine : {"auto", "mlxtend", "pyfim"}, default "mlxtend"
        Itemset miner (see the module docstring); every engine gives the same rules.
    exclude : list or None, default None
        Items taken out of every basket before mining: codes that are not products
        (postage, fees, manual adjustments). Baskets are still counted.

    Attributes
    ----------
    rules_ : DataFrame
        One row per rule, sorted by lift (then confidence, support): ``antecedents`` and
        ``consequents`` (tuples of items), ``rule`` (readable, with product names when
        known), counts and the measures support, confidence, lift, leverage
        (Piatetsky-Shapiro 1991), conviction (Brin et al. 1997), Zhang's metric (Zhang &
        Wu 2011), improvement, ``redundant``, ``p_value`` and ``p_adjusted``.
    itemsets_ : DataFrame
        Frequent itemsets: ``itemsets`` (tuple), ``length``, ``count``, ``support``.
    item_counts_ : Series
        Baskets containing each item (all items, frequent or not), largest first.
    item_names_ : dict
        Product name per item when the transactions have ``product_name``.
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
        engine: str = "mlxtend",
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
    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "min_support", "min_confidence", "min_lift", "max_len", "max_consequent", "level",
            "basket", "remove_redundant", "significance", "correction", "engine", "exclude")}

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
        if self.correction not in _CORRECTIONS:
            raise ParameterError("unknown p-value correction", value=self.correction,
                                 expected="one of " + ", ".join(_CORRECTIONS))
        if self.engine not in ENGINES:
            raise ParameterError("unknown engine", value=self.engine,
                                 expected="one of " + ", ".join(ENGINES))
        if self.exclude is not None and (isinstance(self.exclude, (str, bytes))
                                         or not isinstance(self.exclude, Iterable)):
            raise ParameterError("exclude must be a list of items", value=self.exclude,
                                 expected="e.g. exclude=['POST', 'DOT']")

    # -- fitting ---------------------------------------------------------------------
    def fit(self, transactions: Any) -> "BasketModel":
        """Build baskets and learn frequent itemsets and rules.

        Parameters
        ----------
        transactions : DataFrame or list of baskets
            Either order lines in crmlab's canonical columns (``order_id`` and the item
            column of ``level``; rows flagged ``is_cancellation`` or with a non-positive
            ``quantity`` are not purchases and are left out), or a list of baskets, each a
            list of item labels (``crmlab.data.load_groceries()``).

        Returns
        -------
        self
        """
        self._validate()
        self.engine_ = _resolve_engine(self.engine)
        self._raw = None
        self._item_counts = None
        self.notes = ()
        frame = transactions if isinstance(transactions, pd.DataFrame) else None
        if frame is None and self.engine_ == "pyfim" and not self.exclude:
            # fim reads the caller's basket lists itself (recoding and pruning in C)
            baskets = _basket_list(transactions)
            if self._fit_fim_lists(baskets):
                return self
            data = _baskets_from(baskets, self.level, self.basket)
        else:
            data = _baskets_from(transactions, self.level, self.basket)
        self._fit_baskets(data, frame)
        return self

    def _start(self, n: int, frame: pd.DataFrame | None, excluded_rows: int) -> None:
        self.n_baskets_ = n
        self.n_rows_excluded_ = excluded_rows
        self.item_column_ = LEVELS.get(self.level, self.level) if frame is not None else None
        self.item_names_ = self._names(frame)
        self.min_count_ = max(1, int(math.ceil(self.min_support * n - 1e-9)))

    def _fit_fim_lists(self, baskets: list) -> bool:
        """Mine a list of baskets with fim directly; False when the general path must run
        (no frequent item to explain, or missing values among the frequent items)."""
        n = len(baskets)
        self._start(n, None, 0)
        found = _run_fim(baskets, self.min_count_, self.max_len, zmin=1)
        singles = [(s[0], c) for s, c in found if len(s) == 1]
        if not singles or any(x is None or (isinstance(x, float) and math.isnan(x)) for x, _ in singles):
            return False
        labels = [x for x, _ in singles]
        counts = np.array([c for _, c in singles], dtype=np.int64)
        order = _frequency_order(labels, counts)
        self._raw = baskets
        self._set_frequent(pd.Index([labels[k] for k in order], dtype=object))
        ids = dict(zip(self._labels, range(len(order))))
        levels = _levels_from_fim([(s, c) for s, c in found if len(s) > 1], ids)
        levels[1] = (np.arange(len(order), dtype=np.int64).reshape(-1, 1), counts[order])
        self._finish(levels)
        return True

    def _set_frequent(self, labels: pd.Index) -> None:
        self.n_frequent_items_ = len(labels)
        self._labels = labels  # internal item ids are positions here: most frequent first
        self._label_pos = pd.Index(labels)

    def _finish(self, levels: dict) -> None:
        self._store = _Itemsets(levels, max(1, self.n_frequent_items_))
        self._itemsets_frame = None
        self.rules_ = self._rule_frame(self.n_baskets_)
        if self.n_frequent_items_ and len(self.rules_) == 0 and not self.notes:
            self.notes = (
                f"{self.n_frequent_items_:,} items are frequent but no rule reaches confidence "
                f"{self.min_confidence} (lift {self.min_lift}); lower the thresholds to see rules.",
            )

    @property
    def item_counts_(self) -> pd.Series:
        """Baskets holding each item (every item, frequent or not), largest first."""
        self._check_fitted()
        if self._item_counts is None:
            data = _baskets_from(self._raw, self.level, self.basket)
            counts = np.asarray(data.matrix.sum(axis=0)).ravel().astype(np.int64)
            self._item_counts = pd.Series(counts, index=data.labels, name="baskets").sort_values(
                ascending=False, kind="stable")
        return self._item_counts

    @property
    def n_items_(self) -> int:
        """Distinct items in the baskets."""
        return len(self.item_counts_)

    def _fit_baskets(self, data: _Baskets, frame: pd.DataFrame | None) -> None:
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
        frequent = frequent[_frequency_order(labels[frequent].to_list(), counts_all[frequent])]
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
        levels = _MINERS[self.engine_](Xf, counts_all[frequent], self.min_count_, self.max_len)
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

    @property
    def itemsets_(self) -> pd.DataFrame:
        """Frequent itemsets (built on first use): itemsets, length, count, support."""
        self._check_fitted()
        if self._itemsets_frame is None:
            self._itemsets_frame = self._itemset_frame()
        return self._itemsets_frame

    def _itemset_frame(self) -> pd.DataFrame:
        parts = []
        labels = np.asarray(self._labels, dtype=object)
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

    def _rule_frame(self, n: int) -> pd.DataFrame:
        cands = _rules_from_itemsets(self._store, n, self.max_consequent)
        ant_rows, con_rows, cols = [], [], {k: [] for k in (
            "count", "antecedent_count", "consequent_count", "general")}
        for _length, rows, apos, cpos, cnt, ant_cnt, con_cnt, conf, general in cands:
            keep = conf >= self.min_confidence
            if self.min_lift > 0:
                keep &= conf * n / con_cnt >= self.min_lift
            if not keep.any():
                continue
            ant_rows.append(rows[np.ix_(keep, apos)])
            con_rows.append(rows[np.ix_(keep, cpos)])
            cols["count"].append(cnt[keep])
            cols["antecedent_count"].append(ant_cnt[keep])
            cols["consequent_count"].append(con_cnt[keep])
            cols["general"].append(general[keep])
        if not ant_rows:
            self._ant_items = sparse.csr_matrix((0, max(1, len(self._labels))), dtype=np.int8)
            self._con_items = self._ant_items.copy()
            return pd.DataFrame({c: pd.Series(dtype=float) for c in RULE_COLUMNS})
        cnt = np.concatenate(cols["count"]).astype(float)
        ac = np.concatenate(cols["antecedent_count"]).astype(float)
        cc = np.concatenate(cols["consequent_count"]).astype(float)
        general = np.concatenate(cols["general"])
        s, sa, sc = cnt / n, ac / n, cc / n
        conf = cnt / ac
        lift = conf / sc
        leverage = s - sa * sc
        with np.errstate(divide="ignore", invalid="ignore"):
            conviction = np.where(conf >= 1.0, np.inf, (1 - sc) / (1 - conf))
            denom = np.maximum(s * (1 - sa), sa * (sc - s))
            zhang = np.where(denom > 0, leverage / denom, 0.0)
        improvement = conf - general
        p = _fisher_greater(cnt, ac, cc, n)
        p_adj = adjust_pvalues(p, self.correction if self.correction != "none" else "none")
        labels = self._labels.to_list()

        def tuples(groups, values):
            # zip over per-position lists builds the tuples in C
            out: list = []
            for grp in groups:
                out.extend(zip(*[[values[i] for i in grp[:, j].tolist()] for j in range(grp.shape[1])]))
            return out

        ants, cons = tuples(ant_rows, labels), tuples(con_rows, labels)
        # sparse antecedent / consequent incidence, for offers and assortment
        self._ant_items = self._incidence(ant_rows)
        self._con_items = self._incidence(con_rows)
        frame = pd.DataFrame({
            "antecedents": ants,
            "consequents": cons,
            "antecedent_len": np.concatenate([g.shape[1] * np.ones(len(g), dtype=np.int64) for g in ant_rows]),
            "consequent_len": np.concatenate([g.shape[1] * np.ones(len(g), dtype=np.int64) for g in con_rows]),
            "count": cnt.astype(np.int64),
            "antecedent_count": ac.astype(np.int64),
            "consequent_count": cc.astype(np.int64),
            "support": s,
            "antecedent_support": sa,
            "consequent_support": sc,
            "confidence": conf,
            "lift": lift,
            "leverage": leverage,
            "conviction": conviction,
            "zhangs_metric": zhang,
            "improvement": improvement,
            "redundant": improvement <= 0,
            "p_value": p,
            "p_adjusted": p_adj,
        })
        frame["_id"] = np.arange(len(frame))
        keep = np.ones(len(frame), dtype=bool)
        self.n_rules_before_pruning_ = len(frame)
        if self.remove_redundant:
            keep &= ~frame["redundant"].to_numpy()
        if self.significance is not None:
            keep &= frame["p_adjusted"].to_numpy() <= self.significance
        shown = [str(self.item_names_.get(x, x)) if self.item_names_ else str(x) for x in labels]
        ant_text = [", ".join(t) for t in tuples(ant_rows, shown)]
        con_text = [", ".join(t) for t in tuples(con_rows, shown)]
        frame.insert(2, "rule", ["{" + a + "} => {" + c + "}" for a, c in zip(ant_text, con_text)])
        frame = frame.loc[keep]
        # strongest first; ties keep the (engine-independent) itemset order
        order = np.lexsort((frame["_id"].to_numpy(), -frame["support"].to_numpy(),
                            -frame["confidence"].to_numpy(), -frame["lift"].to_numpy()))
        frame = frame.iloc[order]
        ids = frame.pop("_id").to_numpy()
        self._ant_items = self._ant_items[ids]
        self._con_items = self._con_items[ids]
        return frame.reset_index(drop=True)

    def _incidence(self, groups: list[np.ndarray]) -> sparse.csr_matrix:
        n_items = max(1, len(self._labels))
        indptr = [np.zeros(1, dtype=np.int64)]
        indices = []
        offset = 0
        for g in groups:
            k = g.shape[1]
            indptr.append(offset + k * np.arange(1, len(g) + 1, dtype=np.int64))
            indices.append(g.ravel())
            offset += k * len(g)
        return sparse.csr_matrix(
            (np.ones(offset, dtype=np.int8), np.concatenate(indices), np.concatenate(indptr)),
            shape=(sum(len(g) for g in groups), n_items))

    # -- results ---------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "rules_"):
            raise ParameterError("this BasketModel is not fitted yet", fix="call fit(transactions) first")

    @property
    def summary(self) -> pd.DataFrame:
        """Headline numbers of the fit (one row per figure)."""
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

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"BasketModel({params})"

    def top_rules(self, n: int = 10, by: str = "lift") -> pd.DataFrame:
        """The ``n`` strongest rules by a measure, with the columns an analyst reads."""
        self._check_fitted()
        if by not in self.rules_.columns:
            raise ParameterError("unknown rule measure", value=by,
                                 expected="one of support, confidence, lift, leverage, conviction, zhangs_metric")
        cols = ["rule", "support", "confidence", "lift", "count"]
        return self.rules_.sort_values([by, "rule"], ascending=[False, True], kind="stable").head(n)[cols].reset_index(drop=True)

    def top_bundles(self, n: int = 5, by: str = "lift") -> pd.DataFrame:
        """The ``n`` strongest product groups: each itemset once (its rules in either direction
        collapse into one row), from non-redundant rules, with the group's support and the
        best rule's confidence and lift."""
        self._check_fitted()
        r = self.rules_.loc[~self.rules_["redundant"].astype(bool)] if len(self.rules_) else self.rules_
        if len(r) == 0:
            return pd.DataFrame(columns=["items", "support", "count", "best_rule", "confidence", "lift"])
        names = self.item_names_ or {}
        group = [tuple(sorted(a + c, key=str)) for a, c in zip(r["antecedents"], r["consequents"])]
        r = r.assign(_group=group).sort_values([by, "confidence"], ascending=False, kind="stable")
        r = r.drop_duplicates("_group").head(n)
        return pd.DataFrame({
            "items": ["{" + ", ".join(str(names.get(i, i)) for i in g) + "}" for g in r["_group"]],
            "support": r["support"].to_numpy(),
            "count": r["count"].to_numpy(),
            "best_rule": r["rule"].to_numpy(),
            "confidence": r["confidence"].to_numpy(),
            "lift": r["lift"].to_numpy(),
        })

    def families(self, min_lift: float = 5.0, n: int | None = 10) -> pd.DataFrame:
        """Product families: groups of products linked by rules with lift >= ``min_lift``.

        Every rule links all of its products; a family is a connected group of the graph
        (so a colour range or a set of matching pieces comes out as one family, not as many
        pairwise rules). ``lead_product`` is the family's most bought product. Sorted by the
        number of rules holding the family together.
        """
        import networkx as nx  # noqa: PLC0415

        self._check_fitted()
        r = self.rules_.loc[self.rules_["lift"] >= min_lift] if len(self.rules_) else self.rules_
        cols = ["family", "lead_product", "products", "items", "rules", "mean_lift", "best_rule"]
        if len(r) == 0:
            return pd.DataFrame(columns=cols)
        g = nx.Graph()
        for a, c in zip(r["antecedents"], r["consequents"]):
            items = list(a) + list(c)
            g.add_nodes_from(items)
            g.add_edges_from(zip(items[:-1], items[1:]))
        member = {item: k for k, comp in enumerate(nx.connected_components(g)) for item in comp}
        fam = np.array([member[a[0]] for a in r["antecedents"]])
        names = self.item_names_ or {}
        counts = self.item_counts_
        rows = []
        for k in np.unique(fam):
            sub = r.loc[fam == k]
            items = sorted((i for i, m in member.items() if m == k), key=lambda i: -counts.get(i, 0))
            rows.append({
                "lead_product": str(names.get(items[0], items[0])),
                "products": len(items),
                "items": ", ".join(str(names.get(i, i)) for i in items),
                "rules": len(sub),
                "mean_lift": float(sub["lift"].mean()),
                "best_rule": sub["rule"].iloc[0],
            })
        out = pd.DataFrame(rows).sort_values(["rules", "products"], ascending=False, kind="stable")
        out.insert(0, "family", np.arange(1, len(out) + 1))
        out = out.reset_index(drop=True)
        return out if n is None else out.head(n)

    def surprising_rules(self, n: int = 10) -> pd.DataFrame:
        """Rules least expected from the products' popularity: highest leverage among rules that
        are not redundant and are significant at 5% after Holm correction."""
        self._check_fitted()
        r = self.rules_
        p_holm = adjust_pvalues(r["p_value"].to_numpy(), "holm") if len(r) else np.array([])
        sel = r.loc[(~r["redundant"].astype(bool)).to_numpy() & (p_holm <= 0.05)]
        cols = ["rule", "support", "confidence", "lift", "leverage", "zhangs_metric", "p_value"]
        return sel.sort_values(["zhangs_metric", "leverage", "rule"], ascending=[False, False, True],
                               kind="stable").head(n)[cols].reset_index(drop=True)

    # -- offers ----------------------------------------------------------------------
    def _history_matrix(self, history: Any, customer: str) -> tuple[sparse.csr_matrix, pd.Index]:
        """Customer x frequent-item incidence of what each customer already bought."""
        if isinstance(history, pd.DataFrame):
            if customer not in history.columns:
                raise DataError("purchase history has no customer column", column=customer,
                                fix="pass customer= the column that identifies customers")
            item_col = self.item_column_ or _item_column(history, self.level)
            if item_col not in history.columns:
                item_col = _item_column(history, self.level)
            frame, _ = _purchases(history)
            frame = frame[[customer, item_col]].dropna()
            ccodes, cids = pd.factorize(frame[customer], sort=True)
            icodes = self._label_pos.get_indexer(frame[item_col])
            cids = pd.Index(cids, name=customer)
        else:
            if isinstance(history, Mapping):
                keys, values = list(history.keys()), list(history.values())
            else:
                values = list(history)
                keys = list(range(len(values)))
            cids = pd.Index(keys, name=customer)
            values = [[v] if isinstance(v, str) else list(v) for v in values]
            lengths = np.array([len(v) for v in values], dtype=np.int64)
            flat = [x for v in values for x in v]
            ccodes = np.repeat(np.arange(len(values)), lengths)
            icodes = self._label_pos.get_indexer(pd.Index(flat, dtype=object)) if flat else np.array([], dtype=np.int64)
        ok = icodes >= 0
        H = _matrix(np.asarray(ccodes)[ok], icodes[ok], len(cids), max(1, len(self._labels)))
        return H, cids

    def recommend(self, history: Any, k: int = 3, customer: str = "customer_id",
                  rules: pd.DataFrame | None = None, chunk: int = 2048) -> "Offers":
        """Next-best offers: each customer's top-``k`` products from the rules they trigger.

        A rule fires for a customer who has bought every item of its antecedent; its
        consequent is offered unless the customer already buys it. Each product keeps the
        rule with the highest confidence (then lift) as its reason; products are ranked by
        that confidence, then lift.

        Parameters
        ----------
        history : DataFrame or mapping or list
            Order lines with ``customer`` and the model's item column, or a mapping
            customer -> items bought, or a list of item lists (customers numbered 0..).
        k : int
            Offers per customer.
        rules : DataFrame, optional
            A subset of ``rules_`` (e.g. non-redundant ones) to use instead of all rules.
        """
        self._check_fitted()
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ParameterError("k must be a whole number >= 1", value=k)
        H, cids = self._history_matrix(history, customer)
        R = self.rules_
        ant, con = self._ant_items, self._con_items
        if rules is not None:
            pos = np.asarray(rules.index)
            R, ant, con = R.loc[pos], ant[pos], con[pos]
        single = (R["consequent_len"].to_numpy() == 1) if len(R) else np.array([], dtype=bool)
        R, ant, con = R.loc[R.index[single]], ant[single], con[single]
        empty = pd.DataFrame({customer: pd.Series(dtype=object), "rank": pd.Series(dtype=np.int64),
                              "item": pd.Series(dtype=object), "confidence": pd.Series(dtype=float),
                              "lift": pd.Series(dtype=float), "because": pd.Series(dtype=object)})
        if len(R) == 0 or H.shape[0] == 0:
            return Offers(empty, k, len(cids), self.item_names_)
        ant_len = np.asarray(ant.sum(axis=1)).ravel()
        target = con.indices[con.indptr[:-1]] if con.nnz else np.array([], dtype=np.int64)
        conf = R["confidence"].to_numpy()
        lift = R["lift"].to_numpy()
        antT = ant.T.tocsc().astype(np.int32)
        pieces = []
        Hi = H.astype(np.int32)
        for start in range(0, H.shape[0], chunk):
            block = Hi[start:start + chunk]
            hits = (block @ antT).tocoo()
            fired = hits.data == ant_len[hits.col]
            cust, rule = hits.row[fired] + start, hits.col[fired]
            item = target[rule]
            owned = np.asarray(H[cust, item]).ravel() > 0
            cust, rule, item = cust[~owned], rule[~owned], item[~owned]
            if len(cust) == 0:
                continue
            part = pd.DataFrame({"c": cust, "i": item, "r": rule, "conf": conf[rule], "lift": lift[rule]})
            part = part.sort_values(["c", "conf", "lift", "r"], ascending=[True, False, False, True], kind="stable")
            part = part.drop_duplicates(["c", "i"])
            part = part.groupby("c", sort=False).head(k)
            pieces.append(part)
        if not pieces:
            return Offers(empty, k, len(cids), self.item_names_)
        best = pd.concat(pieces, ignore_index=True)
        best["rank"] = best.groupby("c").cumcount() + 1
        labels = np.asarray(self._labels, dtype=object)
        rule_text = R["antecedents"].to_numpy()
        table = pd.DataFrame({
            customer: np.asarray(cids, dtype=object)[best["c"].to_numpy()],
            "rank": best["rank"].to_numpy(),
            "item": labels[best["i"].to_numpy()],
            "confidence": best["conf"].to_numpy(),
            "lift": best["lift"].to_numpy(),
            "because": [_fmt_items(a, self.item_names_) for a in rule_text[best["r"].to_numpy()]],
        })
        if self.item_names_ is not None:
            table.insert(3, "item_name", table["item"].map(self.item_names_))
        return Offers(table, k, len(cids), self.item_names_)

    # -- assortment ------------------------------------------------------------------
    def assortment(self, top: int = 3) -> "Assortment":
        """Product-level view: which products anchor baskets and which they bring along.

        For each frequent item: its basket share, how many rules it leads (as the only
        antecedent) and with what lift, how many rules it is brought along in, and its
        ``top`` companions (consequents of its one-item rules, by confidence).
        """
        self._check_fitted()
        labels = np.asarray(self._labels, dtype=object)
        n_f = len(labels)
        R = self.rules_
        table = pd.DataFrame({
            "item": labels,
            "baskets": self._store.counts[1] if 1 in self._store.counts else np.zeros(0, dtype=np.int64),
        }) if n_f else pd.DataFrame({"item": [], "baskets": []})
        table["basket_share"] = table["baskets"] / self.n_baskets_
        if len(R):
            single_con = R["consequent_len"].to_numpy() == 1
            ant_counts = np.asarray(self._ant_items.sum(axis=0)).ravel()
            con_counts = np.asarray(self._con_items[single_con].sum(axis=0)).ravel()
            table["rules_in_antecedent"] = ant_counts[:n_f]
            table["rules_as_consequent"] = con_counts[:n_f]
            one = (R["antecedent_len"].to_numpy() == 1) & single_con
            pairs = pd.DataFrame({
                "lead": self._ant_items[one].indices,
                "follow": self._con_items[one].indices,
                "confidence": R["confidence"].to_numpy()[one],
                "lift": R["lift"].to_numpy()[one],
            })
            led = pairs.groupby("lead").agg(leads_to=("follow", "size"), mean_lift=("lift", "mean"))
            table["brings_along"] = led["leads_to"].reindex(range(n_f)).fillna(0).astype(np.int64).to_numpy()
            table["mean_lift_led"] = led["mean_lift"].reindex(range(n_f)).to_numpy()
            pairs = pairs.sort_values(["lead", "confidence", "lift"], ascending=[True, False, False], kind="stable")
            names = self.item_names_
            comp = pairs.groupby("lead").head(top).groupby("lead")["follow"].apply(
                lambda s: ", ".join(str(names.get(labels[i], labels[i])) if names else str(labels[i]) for i in s))
            table["top_companions"] = comp.reindex(range(n_f)).fillna("").to_numpy()
            companions = pd.DataFrame({
                "product": labels[pairs["lead"].to_numpy()],
                "brings_along": labels[pairs["follow"].to_numpy()],
                "confidence": pairs["confidence"].to_numpy(),
                "lift": pairs["lift"].to_numpy(),
            })
        else:
            for c in ("rules_in_antecedent", "rules_as_consequent", "brings_along"):
                table[c] = 0
            table["mean_lift_led"] = np.nan
            table["top_companions"] = ""
            companions = pd.DataFrame({"product": [], "brings_along": [], "confidence": [], "lift": []})
        if self.item_names_ is not None:
            table.insert(1, "item_name", table["item"].map(self.item_names_))
            companions.insert(1, "product_name", companions["product"].map(self.item_names_))
            companions["brings_along_name"] = companions["brings_along"].map(self.item_names_)
        # anchor score: how many baskets a product is in, times how many products it pulls
        table["anchor_score"] = table["basket_share"] * table["brings_along"]
        table = table.sort_values(["anchor_score", "baskets"], ascending=False, kind="stable").reset_index(drop=True)
        return Assortment(table, companions.reset_index(drop=True))


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------


class Offers(Result):
    """Next-best offers per customer (``BasketModel.recommend``).

    ``table`` has one row per (customer, offer): rank, item, confidence and lift of the rule
    that suggests it and ``because`` (its antecedent). ``summary`` shows the products
    offered most often.
    """

    title = "Next-best offers"

    def __init__(self, table: pd.DataFrame, k: int, n_customers: int, names: dict | None = None) -> None:
        self.table = table
        self.k = k
        self.n_customers = n_customers
        self.names = names
        reached = table.iloc[:, 0].nunique() if len(table) else 0
        self.customers_with_offer = int(reached)
        self.notes = (
            f"{reached:,} of {n_customers:,} customers trigger at least one rule "
            f"(up to {k} offers each).",
        )

    @property
    def summary(self) -> pd.DataFrame:
        if len(self.table) == 0:
            return pd.DataFrame({"customers": pd.Series(dtype=np.int64),
                                 "mean_confidence": pd.Series(dtype=float),
                                 "mean_lift": pd.Series(dtype=float)})
        g = self.table.groupby("item", sort=False).agg(
            customers=("rank", "size"), first_choice=("rank", lambda r: int((r == 1).sum())),
            mean_confidence=("confidence", "mean"), mean_lift=("lift", "mean"))
        if self.names is not None:
            g.insert(0, "item_name", g.index.map(lambda i: self.names.get(i, i)))
        return g.sort_values(["customers", "mean_confidence"], ascending=False, kind="stable").head(20)

    def by_segment(self, column: str = "segment") -> pd.DataFrame:
        """Per segment (offers from :meth:`SegmentRules.recommend`): customers reached, offers,
        mean confidence and lift, and the product offered most often."""
        if column not in self.table.columns:
            raise ParameterError("these offers have no segment column", column=column,
                                 fix="use rules_by_segment(...).recommend(...) for offers per segment")
        t = self.table
        if len(t) == 0:
            return pd.DataFrame(columns=["customers", "offers", "mean_confidence", "mean_lift", "top_offer"])
        cust = t.columns[0]
        label = t["item_name"].fillna(t["item"].astype(str)) if "item_name" in t.columns else t["item"].astype(str)
        top = t.assign(_label=label).groupby(column, observed=True, sort=False)["_label"].agg(
            lambda x: x.value_counts().index[0])
        out = t.groupby(column, observed=True, sort=False).agg(
            customers=(cust, "nunique"), offers=("item", "size"),
            mean_confidence=("confidence", "mean"), mean_lift=("lift", "mean"))
        out["top_offer"] = top
        return out

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({"customers": self.n_customers, "customers_with_offer": self.customers_with_offer,
                            "offers": len(self.table)})


class Assortment(Result):
    """Product-level assortment view (``BasketModel.assortment``).

    ``table``: one row per frequent product with basket share, rules it leads and is in,
    how many products it brings along (one-item rules), their mean lift, top companions and
    an anchor score (basket share x products brought along). ``companions``: every one-item
    rule as product -> product it brings along, with confidence and lift.
    """

    title = "Assortment: anchors and companions"

    def __init__(self, table: pd.DataFrame, companions: pd.DataFrame) -> None:
        self.table = table
        self.companions = companions

    @property
    def summary(self) -> pd.DataFrame:
        return self.table.head(15).set_index("item")

    def to_dict(self) -> dict[str, Any]:
        anchors = self.table.loc[self.table["brings_along"] > 0]
        return to_jsonable({"products": len(self.table), "anchors": len(anchors),
                            "top_anchor": None if len(anchors) == 0 else anchors["item"].iloc[0]})


class SegmentRules(Result):
    """Rules mined separately within each customer segment (:func:`rules_by_segment`)."""

    title = "Rules by segment"

    def __init__(self, models: dict, baskets: dict, customers: dict, skipped: dict) -> None:
        self.models = models
        self.baskets = baskets
        self.customers = customers
        self.skipped = skipped
        self.notes = tuple(f"{seg}: {why}" for seg, why in skipped.items())

    @property
    def rules(self) -> pd.DataFrame:
        """All segments' rules in one table with a ``segment`` column."""
        parts = [m.rules_.assign(segment=seg) for seg, m in self.models.items() if len(m.rules_)]
        if not parts:
            return pd.DataFrame(columns=["segment", *RULE_COLUMNS])
        out = pd.concat(parts, ignore_index=True)
        return out[["segment", *[c for c in out.columns if c != "segment"]]]

    @property
    def summary(self) -> pd.DataFrame:
        rows = []
        for seg in list(self.models) + list(self.skipped):
            m = self.models.get(seg)
            top = m.rules_.iloc[0] if m is not None and len(m.rules_) else None
            rows.append({
                "segment": seg,
                "customers": self.customers.get(seg, 0),
                "baskets": self.baskets.get(seg, 0),
                "rules": 0 if m is None else len(m.rules_),
                "top_rule": None if top is None else top["rule"],
                "top_lift": None if top is None else float(top["lift"]),
            })
        return pd.DataFrame(rows).set_index("segment") if rows else pd.DataFrame(
            columns=["customers", "baskets", "rules", "top_rule", "top_lift"])

    def recommend(self, history: pd.DataFrame, segment_of: pd.Series, k: int = 3,
                  customer: str = "customer_id") -> Offers:
        """Offers for each customer from the rules of their own segment."""
        seg = pd.Series(segment_of)
        parts, n_customers, names = [], 0, None
        for name, model in self.models.items():
            ids = seg.index[seg.astype(object) == name]
            sub = history.loc[history[customer].isin(ids)]
            if len(sub) == 0:
                continue
            offers = model.recommend(sub, k=k, customer=customer)
            n_customers += offers.n_customers
            names = names or model.item_names_
            if len(offers.table):
                parts.append(offers.table.assign(segment=name))
        table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=[customer, "rank", "item", "confidence", "lift", "because", "segment"])
        return Offers(table, k, n_customers, names)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({str(s): len(m.rules_) for s, m in self.models.items()})


def rules_by_segment(transactions: pd.DataFrame, segment_of: pd.Series, customer: str = "customer_id",
                     min_baskets: int = 100, **params: Any) -> SegmentRules:
    """Mine rules separately within each customer segment.

    Parameters
    ----------
    transactions : DataFrame
        Order lines with ``customer`` and ``order_id`` (canonical columns).
    segment_of : Series
        Segment per customer, indexed by customer id (``segments.rfm(...).table["segment"]``).
    min_baskets : int
        Segments with fewer baskets are skipped (and say so in ``notes``): rules on a handful
        of baskets are noise.
    **params
        Passed to :class:`BasketModel` (thresholds, level, engine, ...). ``min_support`` is a
        share of the segment's own baskets.
    """
    if not isinstance(transactions, pd.DataFrame) or customer not in transactions.columns:
        raise DataError("per-segment rules need order lines with a customer column", column=customer,
                        fix="pass the transaction table from crmlab.data.load_transactions")
    seg = pd.Series(segment_of)
    cust_seg = transactions[customer].map(seg.astype(object))
    order = list(seg.cat.categories) if isinstance(seg.dtype, pd.CategoricalDtype) else list(pd.unique(seg.dropna()))
    basket_col = params.get("basket", "order_id")
    models, baskets, customers, skipped = {}, {}, {}, {}
    for name in order:
        sub = transactions.loc[(cust_seg == name).to_numpy()]
        nb = sub[basket_col].nunique() if len(sub) else 0
        baskets[name], customers[name] = int(nb), int(sub[customer].nunique()) if len(sub) else 0
        if nb < min_baskets:
            skipped[name] = f"{nb} baskets, fewer than min_baskets={min_baskets}; no rules mined"
            continue
        models[name] = BasketModel(**params).fit(sub)
    return SegmentRules(models, baskets, customers, skipped)


# --------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------


def _rules_of(rules: Any) -> pd.DataFrame:
    if isinstance(rules, BasketModel):
        rules._check_fitted()
        return rules.rules_
    if isinstance(rules, pd.DataFrame):
        return rules
    raise ParameterError("expected a fitted BasketModel or its rules_ table", value=type(rules).__name__)


def plot_rules(rules: Any, ax=None, max_points: int = 20_000):
    """Support-confidence scatter of the rules, coloured by lift (log support axis)."""
    r = _rules_of(rules)
    ax = get_ax(ax, (7, 5), layout=None)
    if len(r) == 0:
        ax.text(0.5, 0.5, "no rules", ha="center", va="center", transform=ax.transAxes)
        return ax
    if len(r) > max_points:
        r = r.nlargest(max_points, "lift")
    sc = ax.scatter(r["support"], r["confidence"], c=r["lift"], cmap="viridis", s=10, alpha=0.7)
    ax.set_xscale("log")
    ax.set_xlabel("support (share of baskets, log scale)")
    ax.set_ylabel("confidence")
    ax.set_title(f"{len(r):,} rules: support vs confidence, colour = lift")
    ax.figure.colorbar(sc, ax=ax, label="lift")
    return ax


def plot_top_rules(rules: Any, n: int = 10, by: str = "lift", ax=None, width: int = 60):
    """The ``n`` strongest rules as a table drawn on an axis."""
    r = _rules_of(rules)
    ax = get_ax(ax, (10, 0.4 * n + 1), layout=None)
    ax.axis("off")
    if len(r) == 0:
        ax.text(0.5, 0.5, "no rules", ha="center", va="center", transform=ax.transAxes)
        return ax
    top = r.sort_values(by, ascending=False, kind="stable").head(n)
    text = [s if len(s) <= width else s[: width - 3] + "..." for s in top["rule"]]
    cells = [[t, f"{s:.4f}", f"{c:.2f}", f"{lf:.2f}"]
             for t, s, c, lf in zip(text, top["support"], top["confidence"], top["lift"])]
    table = ax.table(cellText=cells, colLabels=["rule", "support", "confidence", "lift"],
                     loc="center", cellLoc="left", colWidths=[0.7, 0.1, 0.1, 0.1])
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    ax.set_title(f"Top {len(top)} rules by {by}")
    return ax


def plot_rule_network(rules: Any, n: int = 30, by: str = "lift", ax=None, names: Mapping | None = None,
                      seed: int = 0, label_width: int = 22):
    """Network of the ``n`` strongest rules: items are nodes, an arrow runs from each
    antecedent item to the consequent; arrow width grows with lift."""
    import networkx as nx  # noqa: PLC0415

    model = rules if isinstance(rules, BasketModel) else None
    r = _rules_of(rules)
    if names is None and model is not None:
        names = model.item_names_
    ax = get_ax(ax, (9, 7), layout=None)
    ax.axis("off")
    if len(r) == 0:
        ax.text(0.5, 0.5, "no rules", ha="center", va="center", transform=ax.transAxes)
        return ax
    top = r.sort_values(by, ascending=False, kind="stable").head(n)
    g = nx.DiGraph()
    for a, c, lift in zip(top["antecedents"], top["consequents"], top["lift"]):
        for x in a:
            for y in c:
                w = g.get_edge_data(x, y, {}).get("lift", 0)
                g.add_edge(x, y, lift=max(w, float(lift)))
    # each group of connected products gets its own cell of a grid, largest first, so
    # unrelated groups do not drift to the corners and the products of a group stay readable
    comps = sorted(nx.weakly_connected_components(g), key=lambda c: (-len(c), sorted(map(str, c))))
    cols = math.ceil(math.sqrt(len(comps)))
    pos = {}
    for k, comp in enumerate(comps):
        sub = g.subgraph(comp)
        local = nx.spring_layout(sub, seed=seed, k=2.0 / math.sqrt(len(comp))) if len(comp) > 1 else {
            next(iter(comp)): np.zeros(2)}
        xy = np.array(list(local.values()), dtype=float).reshape(-1, 2)
        xy -= xy.mean(axis=0)
        span = np.abs(xy).max() or 1.0
        centre = np.array([k % cols, -(k // cols)], dtype=float)
        for node, p in zip(local, xy):
            pos[node] = centre + 0.38 * p / span
    lifts = np.array([d["lift"] for _, _, d in g.edges(data=True)])
    widths = 0.5 + 3 * (lifts - lifts.min()) / (np.ptp(lifts) or 1)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=300, node_color="#9ecae1")
    nx.draw_networkx_edges(g, pos, ax=ax, width=widths, arrows=True, arrowsize=12, edge_color="#555555",
                           node_size=300)

    def label(x):
        s = str(names.get(x, x)) if names else str(x)
        return s if len(s) <= label_width else s[: label_width - 1] + "…"

    nx.draw_networkx_labels(g, pos, labels={x: label(x) for x in g.nodes}, ax=ax, font_size=7)
    ax.set_title(f"Top {len(top)} rules by {by}: antecedent -> consequent")
    return ax
