"""Benchmarks for crmlab.basket: association rules at retail scale, against pyfim and mlxtend.

Sizes: Online Retail (20,728 baskets over 3,941 stock codes; support 0.005, confidence 0.5,
one-item consequents: 17,958 rules) and the same baskets 10 and 50 times (or10, or50: the
same rules); synthetic baskets (15k, 150k, 1.5M) over 70,000 products with Zipf-like
popularity (exponent 1.1, 3 to 12 items a basket, plus 300 planted product families), support
0.001. Per size:

* ``<size>_crmlab_rusket``: BasketModel on the default install's engine (rusket), peer
  ``<size>_pyfim_alone`` (``fim.fpgrowth(target="r")``: pyfim's whole job);
* ``<size>_crmlab_pyfim``: BasketModel with the fast extra, same peer;
* ``<size>_rusket_mine``: crmlab's rusket engine mining only (baskets to itemsets), peer
  ``<size>_pyfim_mine`` (``fim.eclat``, what crmlab's pyfim engine mines with);
* Online Retail: the mlxtend engine against plain mlxtend (TransactionEncoder, fpgrowth,
  association_rules); ``groceries_fixed_cost``: the cost after mining (itemsets to the rule
  table) over pyfim's mining time, minimum CPU times of 15 alternating runs in one process.

Baskets are built once and cached in bench/results/ (not committed); setup is not timed.

    python bench/bench_basket.py --case syn150k_crmlab_rusket     # with its peer
"""

from __future__ import annotations

import math
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import RESULTS_DIR, case, main  # noqa: E402

OR_SUPPORT = 0.005
SYN_SUPPORT = 0.001
CONFIDENCE = 0.5


def _imports():
    """Libraries are imported in setup, so every case times only the work."""
    import fim  # noqa: F401
    import mlxtend.frequent_patterns  # noqa: F401
    import pandas  # noqa: F401
    import rusket  # noqa: F401

    import crmlab.basket  # noqa: F401


def online_retail_lines():
    from crmlab import data

    _imports()
    tx = data.load_transactions("online_retail")
    return data.clean(tx, unknown_customers=False, non_positive_price=False, duplicates=False).data


def _cached(name, build):
    path = RESULTS_DIR / f"baskets_{name}.pkl"
    if not path.exists():
        RESULTS_DIR.mkdir(exist_ok=True)
        path.write_bytes(pickle.dumps(build(), protocol=pickle.HIGHEST_PROTOCOL))
    return pickle.loads(path.read_bytes())


def online_retail_baskets(copies=1):
    def build():
        lines = online_retail_lines()
        return lines.groupby("order_id", sort=False)["product_id"].agg(lambda s: list(dict.fromkeys(s))).tolist()

    def setup():
        _imports()
        return _cached("online_retail", build) * copies

    return setup


def synthetic(n_baskets):
    def setup():
        _imports()
        return _cached(f"syn{n_baskets}", lambda: synthetic_baskets(n_baskets))

    return setup


def synthetic_baskets(n_baskets: int = 150_000, n_products: int = 70_000, seed: int = 0):
    import numpy as np

    _imports()
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_products + 1) ** 1.1
    p /= p.sum()
    sizes = rng.integers(3, 13, size=n_baskets)
    items = rng.choice(n_products, size=int(sizes.sum()), p=p)
    # planted families: 300 groups of 3-5 mid-popularity products, each bought as a group by
    # a share of baskets, so there are real rules to find
    families = [rng.choice(np.arange(50, 5000), size=rng.integers(3, 6), replace=False) for _ in range(300)]
    chosen = rng.integers(0, len(families), size=n_baskets)
    takes = rng.random(n_baskets) < 0.35
    labels = np.array([f"P{k:05d}" for k in range(n_products)], dtype=object)
    out = np.split(labels[items], np.cumsum(sizes)[:-1])
    baskets = []
    for b, (row, fam, take) in enumerate(zip(out, chosen, takes)):
        row = row.tolist()
        if take:
            fam_items = families[fam]
            keep = rng.random(len(fam_items)) < 0.8
            row.extend(labels[fam_items[keep]].tolist())
        baskets.append(list(dict.fromkeys(row)))
    return baskets


def crmlab_fit(engine, support):
    def run(baskets):
        from crmlab import basket

        m = basket.BasketModel(min_support=support, min_confidence=CONFIDENCE, engine=engine).fit(baskets)
        return {"rules": len(m.rules_), "engine": m.engine_}

    return run


def engine_mine(engine, support):
    def run(baskets):
        from crmlab.basket.engines import MINERS

        _, levels = MINERS[engine].mine_lists(baskets, math.ceil(support * len(baskets) - 1e-9), None)
        return {"itemsets": sum(len(rows) for rows, _ in levels.values())}

    return run


def pyfim_mine(support):
    def run(baskets):
        import fim

        found = fim.eclat(baskets + [[]], target="s", supp=-math.ceil(support * len(baskets) - 1e-9), zmin=1,
                          report="a", algo="o")
        return {"itemsets": len(found)}

    return run


def plain_mlxtend(support, sparse_encoding=False):
    def run(baskets):
        import pandas as pd
        from mlxtend.frequent_patterns import association_rules, fpgrowth
        from mlxtend.preprocessing import TransactionEncoder

        te = TransactionEncoder()
        onehot = te.fit(baskets).transform(baskets, sparse=sparse_encoding)
        frame = (pd.DataFrame.sparse.from_spmatrix(onehot, columns=te.columns_) if sparse_encoding
                 else pd.DataFrame(onehot, columns=te.columns_))
        itemsets = fpgrowth(frame, min_support=support, use_colnames=True)
        rules = association_rules(itemsets, metric="confidence", min_threshold=CONFIDENCE)
        return {"rules": int((rules["consequents"].map(len) == 1).sum()), "rules_all": len(rules)}

    return run


def pyfim_alone(support):
    def run(baskets):
        import fim

        # mode "o": support of the whole rule (fim's default is the body's support)
        rules = fim.fpgrowth(baskets, target="r", supp=-math.ceil(support * len(baskets) - 1e-9),
                             conf=CONFIDENCE * 100, zmin=2, report="a", mode="o")
        return {"rules": len(rules)}

    return run


def groceries():
    from crmlab import data

    _imports()
    return data.load_groceries()


def fixed_cost(baskets, repeats=15):
    """Cost after mining on Groceries: BasketModel(engine="pyfim") minus fim's mining, as
    minimum CPU times of alternating runs (the steadiest figure on a shared machine)."""
    import fim

    from crmlab import basket

    min_count = math.ceil(0.001 * len(baskets) - 1e-9)
    mine, fit = [], []
    for _ in range(repeats):
        c0 = time.process_time()
        fim.eclat(baskets + [[]], target="s", supp=-min_count, zmin=1, report="a", algo="o")
        c1 = time.process_time()
        basket.BasketModel(min_support=0.001, min_confidence=0.5, engine="pyfim").fit(baskets)
        c2 = time.process_time()
        mine.append(c1 - c0)
        fit.append(c2 - c1)
    fixed = min(fit) - min(mine)
    return {"pyfim_mining_cpu_s": min(mine), "crmlab_fit_cpu_s": min(fit), "fixed_cpu_s": fixed,
            "fixed_over_mining": fixed / min(mine)}


SIZES = {
    "or1": (online_retail_baskets(1), OR_SUPPORT), "or10": (online_retail_baskets(10), OR_SUPPORT),
    "or50": (online_retail_baskets(50), OR_SUPPORT), "syn15k": (synthetic(15_000), SYN_SUPPORT),
    "syn150k": (synthetic(150_000), SYN_SUPPORT), "syn1500k": (synthetic(1_500_000), SYN_SUPPORT),
}
for size, (setup, support) in SIZES.items():
    case(f"{size}_crmlab_rusket", setup, crmlab_fit("rusket", support), "default install", peer=f"{size}_pyfim_alone")
    case(f"{size}_crmlab_pyfim", setup, crmlab_fit("pyfim", support), "fast extra", peer=f"{size}_pyfim_alone")
    case(f"{size}_pyfim_alone", setup, pyfim_alone(support), "peer")
    case(f"{size}_rusket_mine", setup, engine_mine("rusket", support), "within 1.5x time, 1.3x memory",
         peer=f"{size}_pyfim_mine")
    case(f"{size}_pyfim_mine", setup, pyfim_mine(support), "peer")
case("or1_crmlab_mlxtend", SIZES["or1"][0], crmlab_fit("mlxtend", OR_SUPPORT), "no compiled miner",
     peer="or1_plain_mlxtend")
case("or1_plain_mlxtend", SIZES["or1"][0], plain_mlxtend(OR_SUPPORT), "peer")
case("groceries_fixed_cost", groceries, fixed_cost, "fixed_over_mining at most 2")

if __name__ == "__main__":
    main()
