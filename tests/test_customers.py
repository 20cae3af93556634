"""crmlab.customers: KPIs, concentration, timing, favourites on hand-computed toys and Online Retail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import customers, data


def toy():
    # Customer a: two orders (Mon 10:xx, Mon 10:xx next week), b: one order Wed 15:00
    # with two lines; c: one order Fri 09:00. Revenue a=60, b=30, c=10.
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c", None],
            "order_id": ["1", "2", "3", "3", "4", "5"],
            "order_ts": pd.to_datetime(
                ["2024-01-01 10:05", "2024-01-08 10:30", "2024-01-03 15:00", "2024-01-03 15:00",
                 "2024-01-05 09:00", "2024-01-05 09:00"]
            ),
            "product_id": ["x", "x", "x", "y", "y", "y"],
            "product_name": ["X", "X", "X", "Y", "Y", "Y"],
            "quantity": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
            "amount": [20.0, 40.0, 10.0, 20.0, 10.0, 99.0],
        }
    )
    tx["customer_id"] = tx["customer_id"].astype("string")
    return tx


def test_kpis_toy():
    k = customers.kpis(toy()).to_dict()
    assert k["customers"] == 3 and k["orders"] == 4
    assert k["revenue"] == 100.0
    assert k["average_order_value"] == 25.0
    assert k["repeat_rate"] == pytest.approx(1 / 3)


def test_concentration_toy():
    c = customers.concentration(toy(), tops=(0.01, 1 / 3, 0.5))
    # ceil(0.01*3)=1 customer -> a: 60/100; ceil(0.5*3)=2 -> 90/100
    assert c.top_shares[0.01] == pytest.approx(0.6)
    assert c.top_shares[0.5] == pytest.approx(0.9)
    # Lorenz points (0,0),(1/3,.1),(2/3,.4),(1,1): area = 1/3*(.1 + .5 + 1.4)/2 = 1/3; Gini = 1 - 2/3
    assert c.gini == pytest.approx(1 / 3)
    ax = c.plot()
    assert ax.get_xlabel() == "share of customers"


def test_timing_toy():
    t = customers.timing(toy())
    assert t.heatmap.loc["Mon", 10] == 2 and t.heatmap.loc["Wed", 15] == 1  # order 3 counted once
    assert t.heatmap.to_numpy().sum() == 4
    p = t.preferred
    assert p.loc["a", "preferred_weekday"] == "Mon" and p.loc["a", "preferred_hour"] == 10
    assert p.loc["a", "weekday_share"] == 1.0
    assert t.to_dict()["busiest_weekday"] == "Mon"


def test_favourite_products_toy():
    fav = customers.favourite_products(toy(), k=1)
    assert fav.set_index("customer_id")["product_id"].to_dict() == {"a": "x", "b": "x", "c": "y"}


def test_online_retail_concentration_invariants():
    tx = data.clean(data.load_transactions("online_retail")).data
    c = customers.concentration(tx)
    assert 0 < c.top_shares[0.01] < c.top_shares[0.10] < c.top_shares[0.20] < 1
    assert c.lorenz["value_share"].iloc[-1] == pytest.approx(1.0)
    assert np.all(np.diff(c.lorenz["customer_share"]) > 0)
    mix = customers.country_mix(tx)
    assert mix.index[0] == "United Kingdom"
    assert mix["revenue"].sum() == pytest.approx(tx["amount"].sum())
