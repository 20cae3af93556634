"""crmlab.segments: RFM scores and segments on hand-computed toy tables."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import segments
from crmlab.errors import DataError, ParameterError


def make_tx(spec):
    """spec: customer -> list of (date, amount); one order per entry."""
    rows = []
    for cust, orders in spec.items():
        for i, (day, amount) in enumerate(orders):
            rows.append({"customer_id": cust, "order_id": f"{cust}-{i}", "order_ts": pd.Timestamp(day), "amount": amount})
    tx = pd.DataFrame(rows)
    tx["customer_id"] = tx["customer_id"].astype("string")
    return tx


# Five customers, hand-scored: recency days from as_of 2024-01-11, orders, spend.
TOY = {
    "A": [("2024-01-02", 100)] * 4 + [("2024-01-10", 100)],  # 1 day, 5 orders, 500
    "B": [("2023-12-01", 100)] * 3 + [("2024-01-08", 100)],  # 3 days, 4 orders, 400
    "C": [("2023-12-01", 100)] * 2 + [("2024-01-05", 100)],  # 6 days, 3 orders, 300
    "D": [("2023-11-01", 100), ("2024-01-01", 100)],          # 10 days, 2 orders, 200
    "E": [("2023-12-20", 100)],                               # 22 days, 1 order, 100
}


def test_toy_scores_and_segments():
    r = segments.rfm(make_tx(TOY), as_of="2024-01-11")
    t = r.table
    assert t["recency_days"].to_dict() == {"A": 1, "B": 3, "C": 6, "D": 10, "E": 22}
    assert t["frequency"].to_dict() == {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1}
    assert t["monetary"].to_dict() == {"A": 500, "B": 400, "C": 300, "D": 200, "E": 100}
    assert t["rfm_score"].to_dict() == {"A": "555", "B": "444", "C": "333", "D": "222", "E": "111"}
    assert t["segment"].astype(str).to_dict() == {
        "A": "Champions", "B": "Loyal", "C": "Need Attention", "D": "Hibernating", "E": "Lost",
    }
    s = r.summary
    assert s.loc["Champions", "revenue_share"] == pytest.approx(500 / 1500)
    assert s["customers"].sum() == 5 and list(s.index) == list(segments.SEGMENTS)


def test_default_as_of_is_day_after_last_order():
    r = segments.rfm(make_tx(TOY))
    assert r.as_of == pd.Timestamp("2024-01-11")
    assert r.table.loc["A", "recency_days"] == 1


def test_as_of_excludes_later_orders():
    r = segments.rfm(make_tx(TOY), as_of="2024-01-06")
    assert r.table.loc["A", "frequency"] == 4 and r.table.loc["A", "recency_days"] == 4
    assert r.table.loc["B", "frequency"] == 3


def test_ties_get_equal_scores():
    spec = dict(TOY)
    spec["E2"] = TOY["E"]
    t = segments.rfm(make_tx(spec), as_of="2024-01-11").table
    assert t.loc["E", "rfm_score"] == t.loc["E2", "rfm_score"]
    # E and E2 share ranks 1 and 2 of 6: average pct rank 1.5/6 = 0.25 -> ceil(1.25) = 2
    assert t.loc["E", "f_score"] == 2


def test_business_bins_and_fm_rounding():
    bins = {"recency": [2, 5, 8, 15], "frequency": [2, 3, 4, 5], "monetary": [150, 250, 350, 450]}
    t = segments.rfm(make_tx(TOY), as_of="2024-01-11", bins=bins).table
    assert t["r_score"].to_dict() == {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1}
    assert t["f_score"].to_dict() == {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1}
    # Recency 6 on the edge list [2, 5, 8, 15] falls in the third bin; a value on an edge goes up.
    t2 = segments.rfm(make_tx(TOY), as_of="2024-01-10", bins=bins).table
    assert t2.loc["C", "recency_days"] == 5 and t2.loc["C", "r_score"] == 3
    # FM = round half up of (F + M) / 2: F=2, M=3 -> 3
    spec = {"X": [("2024-01-10", 300), ("2024-01-01", 0.0)]}
    t3 = segments.rfm(make_tx(spec), as_of="2024-01-11", bins={**bins, "monetary": [100, 200, 250, 400]}).table
    assert (t3.loc["X", "f_score"], t3.loc["X", "m_score"], t3.loc["X", "fm_score"]) == (2, 4, 3)


def test_grid_is_complete_and_matches_definitions():
    seen = {segments.segment_of(r, fm) for r in range(1, 6) for fm in range(1, 6)}
    assert seen == set(segments.SEGMENTS)
    assert segments.segment_of(5, 1) == "New"
    assert segments.segment_of(4, 1) == "Promising"
    assert segments.segment_of(1, 5) == "Can't Lose Them"
    assert segments.segment_of(2, 3) == "At Risk"
    assert segments.segment_of(4, 5) == "Loyal"
    assert list(segments.segment_of([5, 1], [5, 1])) == ["Champions", "Lost"]


def test_bad_input():
    with pytest.raises(ParameterError, match="four increasing cut points"):
        segments.rfm(make_tx(TOY), bins={"recency": [5, 2, 8, 15]})
    with pytest.raises(ParameterError, match="unknown RFM measure"):
        segments.rfm(make_tx(TOY), bins={"tenure": [1, 2, 3, 4]})
    with pytest.raises(DataError, match="no transactions before as_of=2020-01-01"):
        segments.rfm(make_tx(TOY), as_of="2020-01-01")
    with pytest.raises(DataError, match="'amount'"):
        segments.rfm(make_tx(TOY).drop(columns="amount"))


def test_migration_matrix():
    before = pd.Series({"a": "Champions", "b": "Loyal", "c": "Lost", "d": "Loyal"})
    after = pd.Series({"a": "Loyal", "b": "Loyal", "d": "At Risk", "e": "New"})
    m = segments.migration(before, after)
    assert m.loc["Champions", "Loyal"] == 1
    assert m.loc["Loyal", "Loyal"] == 1 and m.loc["Loyal", "At Risk"] == 1
    assert m.loc["Lost", "(gone)"] == 1
    assert m.loc["(not a customer)", "New"] == 1
    assert m.to_numpy().sum() == 5


@pytest.mark.parametrize("shared_order", [False, True])
def test_frequency_counts_distinct_orders_per_customer(shared_order):
    # lines of one order repeat it; an order number two customers share (a data error some
    # exports have) counts once for each of them
    tx = pd.DataFrame({
        "customer_id": pd.array(["A", "A", "A", "B", "B", "C"], dtype="string"),
        "order_id": pd.array(["o1", "o1", "o2", "o3", "o3", "o3" if shared_order else "o4"], dtype="string"),
        "order_ts": pd.to_datetime(["2024-01-01"] * 6),
        "amount": [1.0] * 6,
    })
    freq = segments.rfm(tx).table["frequency"].to_dict()
    assert freq == {"A": 2, "B": 1, "C": 1}
    expected = tx.groupby("customer_id")["order_id"].nunique().to_dict()
    assert freq == expected
