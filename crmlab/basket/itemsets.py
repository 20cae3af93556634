"""Frequent itemsets as an exact, vectorised look-up table, and the candidate rules they hold."""

from __future__ import annotations

from itertools import combinations

import numpy as np

__all__ = ["ItemsetStore", "candidate_rules"]


class ItemsetStore:
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
        self._drops: dict[int, list[np.ndarray]] = {}
        self._dense = False
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
            if length == 1:
                self._dense = bool(np.array_equal(self.keys[1], np.arange(len(key))))

    @property
    def max_len(self) -> int:
        return max(self.rows) if self.rows else 0

    def find(self, rows: np.ndarray) -> np.ndarray:
        """Positions of ``rows`` (sorted item ids) in their level; -1 where not frequent."""
        length = rows.shape[1]
        if length == 1:
            key = rows[:, 0]
            if self._dense:  # level 1 holds the ids 0..k-1: an id is its own position
                return np.where((key >= 0) & (key < len(self.keys[1])), key, -1)
        else:
            prefix = self.find(rows[:, :-1])
            key = np.where(prefix >= 0, prefix * self.n_items + rows[:, -1], -1)
        keys = self.keys.get(length)
        if keys is None or len(keys) == 0:
            return np.full(len(rows), -1, dtype=np.int64)
        pos = np.searchsorted(keys, key)
        pos_c = np.minimum(pos, len(keys) - 1)
        return np.where((key >= 0) & (keys[pos_c] == key), pos_c, -1)

    def drop_positions(self, length: int) -> list[np.ndarray]:
        """Per position j, where each row of level ``length`` without its item j sits in level
        ``length - 1``: ``find(np.delete(rows, j, axis=1))``, one ``searchsorted`` per j.

        A row's prefix is already in its key (key // n_items); a row without item j < L-1 is
        the prefix without item j (found for the level below) followed by the last item.
        """
        if length in self._drops:
            return self._drops[length]
        rows, key = self.rows[length], self.keys[length]
        prefix = key // self.n_items
        if length == 2:
            drops = [self.find(rows[:, 1:]), prefix]
        else:
            keys_below = self.keys[length - 1]
            drops = []
            for below in self.drop_positions(length - 1):
                want = below[prefix] * self.n_items + rows[:, -1]
                pos = np.minimum(np.searchsorted(keys_below, want), len(keys_below) - 1)
                drops.append(np.where(keys_below[pos] == want, pos, -1))
            drops.append(prefix)
        self._drops[length] = drops
        return drops

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


def candidate_rules(store: ItemsetStore, n_baskets: int, max_consequent: int | None):
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
        drop_pos = store.drop_positions(length)
        cnt_below = store.counts[length - 1]
        for m in range(1, max_c + 1):
            for cpos in combinations(range(length), m):
                mask = sum(1 << p for p in cpos)
                apos = [p for p in range(length) if p not in cpos]
                # one-item consequent: the antecedent is the row without it, already looked up
                ant_cnt = cnt_below[drop_pos[cpos[0]]] if m == 1 else store.count(rows[:, apos])
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
