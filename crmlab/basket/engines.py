"""Itemset miners: the registry ``BasketModel(engine=...)`` chooses from.

Mining frequent itemsets is the expensive step; crmlab does the rest (rules, measures,
pruning) itself, vectorised, so every engine returns the same rules. An engine is one entry
of :data:`MINERS`: a function ``mine(X, counts, min_count, max_len)`` that takes the sparse
basket x frequent-item matrix (items ordered most frequent first) and returns, per itemset
length, the sorted item-id rows and their basket counts.

``"mlxtend"`` (default install)
    Items and pairs are counted exactly with one sparse matrix product (items below the
    minimum support are dropped first). Longer itemsets are mined with mlxtend's H-Mine
    (Pei et al. 2001) item by item, each time only on the baskets that hold the item and
    only over the items it forms a frequent pair with. That is the same search mlxtend does
    over the whole one-hot table, cut into small pieces, and it is where plain mlxtend spends
    almost all of its time (its FP-growth builds conditional trees in pure Python).
``"rusket"`` (default install)
    The FP-growth of ``rusket`` (Rust, ships wheels for every platform: no C compiler),
    fed a compact basket x frequent-item matrix built with numpy (items recoded once with
    a hash table, items below the minimum support dropped before mining).
``"pyfim"``
    Christian Borgelt's C implementations (``fim``; ``pip install crmlab[fast]``); its Eclat
    is the fastest of them on retail baskets.
``"auto"``
    The available engine with the highest ``auto_priority``: ``"pyfim"`` when it is
    installed (the least CPU time of all on retail baskets), else ``"rusket"``, else
    ``"mlxtend"``.

Only this module imports mlxtend, rusket and fim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

import numpy as np
import pandas as pd
from scipy import sparse

from crmlab.errors import ParameterError

__all__ = ["Engine", "MINERS", "ENGINES", "available_engines", "resolve_engine"]


def _fim_module():
    try:
        import fim  # noqa: PLC0415 - optional extra
    except ImportError:
        return None
    return fim


def _rusket_module():
    try:
        from rusket import _rusket  # noqa: PLC0415 - the compiled miners rusket's own API calls
    except ImportError:
        return None
    return _rusket


def _levels_from_flat(counts: np.ndarray, offsets: np.ndarray, items: np.ndarray, zmin: int = 2) -> dict:
    """Itemsets given as one flat item array cut by ``offsets`` as sorted id rows and counts
    per length (lengths below ``zmin`` left out)."""
    offsets = np.asarray(offsets, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    lengths = np.diff(offsets)
    levels: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for length in np.unique(lengths[lengths >= zmin]).tolist():
        pick = np.flatnonzero(lengths == length)
        rows = np.sort(items[offsets[pick, None] + np.arange(length)], axis=1)
        levels[int(length)] = (rows, counts[pick])
    return levels


def _rusket_csr(indptr: np.ndarray, indices: np.ndarray, n_items: int, min_count: int, max_len: int | None) -> dict:
    """Itemsets of two or more items with rusket's FP-growth on a CSR basket x item matrix."""
    if len(indices) >= 2**31:  # pragma: no cover - rusket reads 32-bit offsets
        raise ParameterError("too many basket items for the rusket engine", value=len(indices),
                             expected="under 2**31 basket items", fix="use engine='pyfim'")
    if n_items < 2 or (max_len is not None and max_len < 2):
        return {}
    mined = _rusket_module().fpgrowth_from_csr(
        np.asarray(indptr, dtype=np.int32), np.asarray(indices, dtype=np.int32), int(n_items), int(min_count),
        None if max_len is None else int(max_len))
    return _levels_from_flat(*mined)


def _mine_rusket(X: sparse.csr_matrix, counts: np.ndarray, min_count: int, max_len: int | None) -> dict:
    """Frequent itemsets with rusket's FP-growth (Han, Pei & Yin 2000) over ``X``."""
    levels = {1: (np.arange(X.shape[1], dtype=np.int64).reshape(-1, 1), counts.astype(np.int64))}
    levels.update(_rusket_csr(X.indptr, X.indices, X.shape[1], min_count, max_len))
    return levels


#: Baskets recoded at a time: bounds the temporary arrays of :func:`_recode` (memory).
_CHUNK = 250_000


def _recode(baskets: list) -> tuple[list, np.ndarray, list, np.ndarray] | None:
    """Item codes of the baskets, a chunk of baskets at a time (bounded temporaries).

    Returns per chunk the items' codes (int32, each basket's repeats dropped) and the
    baskets' sizes, then the item labels (first seen first) and their basket counts; None
    when an item is missing (None or NaN).
    """
    codes_parts, size_parts = [], []
    labels: dict = {}
    for start in range(0, len(baskets), _CHUNK):
        chunk = baskets[start:start + _CHUNK]
        sizes = np.fromiter(map(len, chunk), dtype=np.int64, count=len(chunk))
        flat = np.fromiter(chain.from_iterable(chunk), dtype=object, count=int(sizes.sum()))
        local, uniques = pd.factorize(flat, sort=False)
        del flat
        if len(local) and local.min() < 0:
            return None
        to_global = np.fromiter((labels.setdefault(u, len(labels)) for u in uniques.tolist()),
                                dtype=np.int32, count=len(uniques))
        indptr = np.zeros(len(chunk) + 1, dtype=np.int64)
        np.cumsum(sizes, out=indptr[1:])
        X = sparse.csr_matrix((np.ones(len(local), dtype=np.int8), local.astype(np.int32), indptr),
                              shape=(len(chunk), max(1, len(uniques))))
        X.sum_duplicates()  # sorts each basket's items (in C++); an item bought twice counts once
        local, sizes = X.indices, np.diff(X.indptr)
        codes_parts.append(to_global[local])
        size_parts.append(sizes)
    counts = np.zeros(len(labels), dtype=np.int64)
    for part in codes_parts:
        counts += np.bincount(part, minlength=len(labels))
    return codes_parts, size_parts, list(labels), counts


def _rusket_lists(baskets: list, min_count: int, max_len: int | None) -> tuple[pd.Index, dict] | None:
    """Mine a list of baskets with rusket: items recoded with a hash table, each basket's
    repeats counted once, rare items dropped, then FP-growth on the compact matrix.

    Returns the frequent items (most baskets first) and the itemset levels over their
    positions, or None when the general path must run (missing values among the items).
    """
    recoded = _recode(baskets)
    if recoded is None:
        return None
    codes_parts, size_parts, labels, item_counts = recoded
    frequent = np.flatnonzero(item_counts >= min_count)
    if len(frequent) == 0:
        return None
    frequent = frequent[frequency_order([labels[k] for k in frequent.tolist()], item_counts[frequent])]
    new_id = np.full(len(labels), -1, dtype=np.int32)
    new_id[frequent] = np.arange(len(frequent), dtype=np.int32)
    indices, per_basket = [], []
    for part, sizes in zip(codes_parts, size_parts):
        mapped = new_id[part]
        keep = mapped >= 0
        indices.append(mapped[keep])
        # each basket's size once the rare items are dropped
        kept = np.zeros(len(keep) + 1, dtype=np.int64)
        np.cumsum(keep, out=kept[1:])
        ends = np.cumsum(sizes)
        per_basket.append(kept[ends] - kept[ends - sizes])
    del codes_parts
    indptr = np.zeros(sum(map(len, per_basket)) + 1, dtype=np.int64)
    np.cumsum(np.concatenate(per_basket), out=indptr[1:])
    levels = _rusket_csr(indptr, np.concatenate(indices), len(frequent), min_count, max_len)
    levels[1] = (np.arange(len(frequent), dtype=np.int64).reshape(-1, 1), item_counts[frequent])
    return pd.Index([labels[k] for k in frequent.tolist()], dtype=object), levels


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


def _levels_from_fim(found: list) -> dict:
    """fim's (itemset, count) pairs over item ids as sorted id rows and counts per length."""
    if not found:
        return {}
    sets = list(map(itemgetter(0), found))
    counts_found = np.fromiter(map(itemgetter(1), found), dtype=np.int64, count=len(found))
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    flat = np.fromiter(chain.from_iterable(sets), dtype=np.int64, count=int(lengths.sum()))
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return _levels_from_flat(np.asarray(counts_found, dtype=np.int64), offsets, flat, zmin=1)


def frequency_order(labels: list, counts: np.ndarray) -> np.ndarray:
    """Positions of items, most baskets first, ties by label text: the internal item order,
    the same whichever way the counts were found."""
    text = np.array([str(x) for x in labels], dtype=str) if len(labels) else np.zeros(0, dtype=str)
    return np.lexsort((text, -np.asarray(counts, dtype=np.int64)))


def _fim_lists(baskets: list, min_count: int, max_len: int | None) -> tuple[pd.Index, dict] | None:
    """Mine a list of baskets with fim directly (recoding and pruning in C).

    Returns the frequent items (most baskets first) and the itemset levels over their
    positions, or None when the general path must run (no frequent item to explain, or
    missing values among the frequent items).
    """
    found = _run_fim(baskets, min_count, max_len, zmin=1)
    if not found:
        return None
    # itemgetter maps, not zip(*found): zip would make one iterator per itemset (and so wake
    # the garbage collector many times over)
    sets = list(map(itemgetter(0), found))
    counts_found = np.fromiter(map(itemgetter(1), found), dtype=np.int64, count=len(found))
    del found
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    flat = np.fromiter(chain.from_iterable(sets), dtype=object, count=int(lengths.sum()))
    codes, labels = pd.factorize(flat, sort=False)  # every frequent item is also a single
    if (codes < 0).any():
        return None
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    single = np.flatnonzero(lengths == 1)
    item_counts = np.zeros(len(labels), dtype=np.int64)
    item_counts[codes[offsets[single]]] = counts_found[single]
    order = frequency_order(labels.tolist(), item_counts)
    new_id = np.empty(len(order), dtype=np.int64)
    new_id[order] = np.arange(len(order))
    levels = _levels_from_flat(counts_found, offsets, new_id[codes])
    levels[1] = (np.arange(len(order), dtype=np.int64).reshape(-1, 1), item_counts[order])
    return pd.Index(labels[order], dtype=object), levels


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Engine:
    """One itemset miner of the registry.

    Parameters
    ----------
    mine : callable
        ``mine(X, counts, min_count, max_len) -> {length: (rows, counts)}`` over the sparse
        basket x frequent-item matrix ``X`` (items most frequent first) and their counts.
    available : callable
        True when the engine can run in this installation.
    auto_priority : int
        ``engine="auto"`` picks the available engine with the highest priority.
    install : str
        What to do when the engine is asked for but not available.
    mine_lists : callable or None
        Optional fast path from a list of baskets: ``mine_lists(baskets, min_count, max_len)``
        returns (frequent item labels, levels) or None to fall back to ``mine``.
    """

    mine: Callable[..., dict]
    available: Callable[[], bool] = _always
    auto_priority: int = 0
    install: str = ""
    mine_lists: Callable[..., tuple[pd.Index, dict] | None] | None = None


#: The miners, by name: adding an engine is one entry.
MINERS: dict[str, Engine] = {
    "mlxtend": Engine(mine=_mine_mlxtend),
    "rusket": Engine(
        mine=_mine_rusket, available=lambda: _rusket_module() is not None, auto_priority=1,
        install="pip install rusket (wheels for every platform), or use engine='auto'",
        mine_lists=_rusket_lists,
    ),
    "pyfim": Engine(
        mine=_mine_pyfim, available=lambda: _fim_module() is not None, auto_priority=2,
        install="install the fast extra (pip install 'crmlab[fast]', needs a C compiler) or use engine='auto'",
        mine_lists=_fim_lists,
    ),
}

#: Engine names ``BasketModel(engine=...)`` accepts.
ENGINES = ("auto", *MINERS)


def available_engines() -> list[str]:
    """Engines usable in this installation.

    Returns
    -------
    list of str
        Registered engine names whose dependencies are installed (``"pyfim"`` needs the
        ``fast`` extra).
    """
    return [name for name, engine in MINERS.items() if engine.available()]


def resolve_engine(engine: str) -> str:
    """The engine that runs for ``engine``: ``"auto"`` resolved, availability checked.

    Parameters
    ----------
    engine : str
        ``"auto"`` or a name in :data:`MINERS`.

    Returns
    -------
    str
        A name in :data:`MINERS` whose engine is available.

    Raises
    ------
    ParameterError
        Unknown engine, or an engine that is not installed.
    """
    if engine == "auto":
        return max(available_engines(), key=lambda name: MINERS[name].auto_priority)
    if engine not in MINERS:
        raise ParameterError("unknown engine", value=engine, expected="one of " + ", ".join(("auto", *MINERS)))
    if not MINERS[engine].available():
        raise ParameterError(
            f"engine {engine!r} is not installed",
            value=engine,
            expected="one of " + ", ".join(available_engines()) + " or 'auto'",
            fix=MINERS[engine].install,
        )
    return engine
