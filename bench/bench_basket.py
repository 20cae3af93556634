"""Benchmarks for crmlab.basket: association rules at retail scale.

Cases (every one starts from a list of baskets built in setup, which is not timed):

* Online Retail (20,728 baskets over 3,941 stock codes), support 0.005, confidence 0.5,
  one-item consequents (17,958 rules): crmlab default install (engine "mlxtend"), crmlab with
  the fast engine ("pyfim"), plain mlxtend (TransactionEncoder, fpgrowth, association_rules)
  and pyfim alone (``fim.fpgrowth(target="r")``); plus crmlab fitted from the order lines.
* Synthetic: 150,000 baskets over 70,000 products with Zipf-like popularity (exponent 1.1,
  3 to 12 items a basket, plus 300 planted product families bought together), support 0.001.

    python bench/bench_basket.py --repeats 3
    python bench/bench_basket.py --repeats 3 --case or_crmlab_default
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import case, main  # noqa: E402

OR_SUPPORT = 0.005
SYN_SUPPORT = 0.001
CONFIDENCE = 0.5


def _imports():
    """Libraries are imported in setup, so every case times only the work."""
    import fim  # noqa: F401
    import mlxtend.frequent_patterns  # noqa: F401
    import pandas  # noqa: F401

    import crmlab.basket  # noqa: F401


def online_retail_lines():
    from crmlab import data

    _imports()
    tx = data.load_transactions("online_retail")
    return data.clean(tx, unknown_customers=False, non_positive_price=False, duplicates=False).data


def online_retail_baskets():
    lines = online_retail_lines()
    return lines.groupby("order_id", sort=False)["product_id"].agg(lambda s: list(dict.fromkeys(s))).tolist()


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
        return {"rules": len(m.rules_)}

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


case("or_crmlab_default", online_retail_baskets, crmlab_fit("mlxtend", OR_SUPPORT),
     "at least 5x faster than or_plain_mlxtend")
case("or_crmlab_fast", online_retail_baskets, crmlab_fit("pyfim", OR_SUPPORT),
     "within 1.5x of or_pyfim_alone")
case("or_plain_mlxtend", online_retail_baskets, plain_mlxtend(OR_SUPPORT), "reference (about 16 s, 770 MB)")
case("or_pyfim_alone", online_retail_baskets, pyfim_alone(OR_SUPPORT), "reference (about 0.25 s)")
case("or_crmlab_default_from_lines", online_retail_lines, crmlab_fit("mlxtend", OR_SUPPORT),
     "baskets built from order lines inside fit")
case("syn150k_crmlab_default", synthetic_baskets, crmlab_fit("mlxtend", SYN_SUPPORT), "peak under 2 GB")
case("syn150k_crmlab_fast", synthetic_baskets, crmlab_fit("pyfim", SYN_SUPPORT), "peak under 2 GB")
case("syn150k_pyfim_alone", synthetic_baskets, pyfim_alone(SYN_SUPPORT), "reference")
case("syn150k_plain_mlxtend_sparse", synthetic_baskets, plain_mlxtend(SYN_SUPPORT, sparse_encoding=True),
     "reference (dense one-hot would need ~10 GB)")

if __name__ == "__main__":
    main()
