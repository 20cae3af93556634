"""Who the customers are: KPIs, value concentration, purchase timing, favourites, countries.

All functions take canonical, cleaned transactions (see :mod:`crmlab.data`) and ignore lines
without a customer where the question is about customers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.columns import known_customers
from crmlab.errors import DataError
from crmlab.plots import get_ax
from crmlab.results import Result, to_jsonable
from crmlab.spark.session import is_spark_frame

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _on_spark(name: str):
    """The twin of ``name`` in :mod:`crmlab.spark.customers` (Spark aggregates, pandas finishes)."""
    from crmlab.spark import customers as spark_customers

    return getattr(spark_customers, name)


class KPIs(Result):
    """Headline customer KPIs.

    Parameters
    ----------
    values : dict of str to scalar
        KPI name -> value, as built by :func:`kpis`.

    Attributes
    ----------
    values : dict of str to scalar
        customers, orders, revenue, average_order_value, orders_per_customer,
        revenue_per_customer, repeat_rate, first_date and last_date (ISO dates).
    """

    title = "Customer KPIs"

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"value": pd.Series(self.values, dtype=object)})

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self.values)


def kpis(tx: pd.DataFrame) -> KPIs:
    """Customers, orders, revenue, average order value, orders per customer and repeat rate.

    Repeat rate is the share of customers with two or more distinct orders.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical, cleaned order lines; lines without a customer are ignored.

    Returns
    -------
    KPIs

    Raises
    ------
    DataError
        When ``tx`` lacks customer_id, order_id, order_ts or amount, or no line has a known
        customer.
    """
    if is_spark_frame(tx):
        from crmlab.spark.segments import kpis as spark_kpis

        return spark_kpis(tx)
    t = known_customers(tx)
    orders_per_customer = t.groupby("customer_id", observed=True)["order_id"].nunique()
    revenue = float(t["amount"].sum())
    orders = int(t["order_id"].nunique())
    customers = int(len(orders_per_customer))
    return KPIs(
        {
            "customers": customers,
            "orders": orders,
            "revenue": revenue,
            "average_order_value": revenue / orders,
            "orders_per_customer": orders / customers,
            "revenue_per_customer": revenue / customers,
            "repeat_rate": float((orders_per_customer >= 2).mean()),
            "first_date": t["order_ts"].min().date().isoformat(),
            "last_date": t["order_ts"].max().date().isoformat(),
        }
    )


class Concentration(Result):
    """How revenue concentrates in a few customers (Pareto view, Lorenz curve, Gini).

    Parameters
    ----------
    values : pandas.Series of float
        Revenue per customer.
    tops : tuple of float
        Shares of customers (0.01 = top 1%) whose revenue share is reported.

    Attributes
    ----------
    values : pandas.Series of float
        Revenue per customer, as given.
    total : float
        Total revenue.
    top_shares : dict of float to float
        Top share of customers -> their share of revenue (NaN when the total is 0).
    lorenz : pandas.DataFrame
        Lorenz curve points: customer_share and value_share, customers smallest first,
        starting at (0, 0).
    gini : float
        Gini coefficient of revenue across customers.
    """

    title = "Value concentration"

    def __init__(self, values: pd.Series, tops: tuple[float, ...]) -> None:
        v = np.sort(values.to_numpy(dtype=float))[::-1]
        self.values = values
        self.total = float(v.sum())
        n = len(v)
        cum = np.cumsum(v)
        self.top_shares = {
            p: float(cum[max(int(np.ceil(p * n)), 1) - 1] / self.total) if self.total else np.nan for p in tops
        }
        asc = v[::-1]
        self.lorenz = pd.DataFrame(
            {
                "customer_share": np.concatenate([[0.0], np.arange(1, n + 1) / n]),
                "value_share": np.concatenate([[0.0], np.cumsum(asc) / self.total]) if self.total else np.nan,
            }
        )
        # Gini = 1 - 2 * area under the Lorenz curve (trapezoids).
        x, y = self.lorenz["customer_share"].to_numpy(), self.lorenz["value_share"].to_numpy()
        self.gini = float(1 - np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1])))

    @property
    def summary(self) -> pd.DataFrame:
        rows = {f"top {p:.0%} of customers": s for p, s in self.top_shares.items()}
        rows["Gini coefficient"] = self.gini
        return pd.DataFrame({"share_of_revenue": pd.Series(rows)})

    def to_dict(self) -> dict[str, Any]:
        d = {f"top_{round(p * 100)}pct_revenue_share": s for p, s in self.top_shares.items()}
        d["gini"] = self.gini
        return to_jsonable(d)

    def plot(self, ax: Any = None):
        """Lorenz curve with the line of equality; returns the Axes."""
        ax = get_ax(ax, (5, 5))
        ax.plot(self.lorenz["customer_share"], self.lorenz["value_share"], label="customers, smallest first")
        ax.plot([0, 1], [0, 1], ls="--", color="grey", label="equal value")
        ax.set_xlabel("share of customers")
        ax.set_ylabel("share of revenue")
        ax.set_title(f"Lorenz curve (Gini {self.gini:.2f})")
        ax.legend(loc="upper left")
        return ax


def concentration(tx: pd.DataFrame, tops: tuple[float, ...] = (0.01, 0.10, 0.20)) -> Concentration:
    """Revenue share of the top 1%, 10%, 20% of customers; Lorenz curve and Gini coefficient.

    Top p% means the ``ceil(p * n)`` customers with the highest revenue. Customers with net
    negative revenue count with their value (they lower the total).

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical, cleaned order lines; lines without a customer are ignored.
    tops : tuple of float
        Shares of customers to report the revenue share of.

    Returns
    -------
    Concentration

    Raises
    ------
    DataError
        When ``tx`` lacks customer_id, order_id, order_ts or amount, or no line has a known
        customer.
    """
    if is_spark_frame(tx):
        return _on_spark("concentration")(tx, tops)
    t = known_customers(tx)
    values = t.groupby("customer_id", observed=True)["amount"].sum()
    return Concentration(values, tops)


class Timing(Result):
    """When customers buy: orders by weekday and hour, and each customer's preferred time.

    Parameters
    ----------
    heatmap : pandas.DataFrame
        Orders by weekday (rows, Mon..Sun) and hour (columns).
    preferred : pandas.DataFrame
        Per customer: preferred_weekday, preferred_hour, orders, weekday_share.

    Attributes
    ----------
    heatmap : pandas.DataFrame
        As given; also the :attr:`summary`.
    preferred : pandas.DataFrame
        As given, indexed by ``customer_id``.
    """

    title = "Purchase timing"

    def __init__(self, heatmap: pd.DataFrame, preferred: pd.DataFrame) -> None:
        self.heatmap = heatmap
        self.preferred = preferred

    @property
    def summary(self) -> pd.DataFrame:
        return self.heatmap

    def to_dict(self) -> dict[str, Any]:
        by_day = self.heatmap.sum(axis=1)
        by_hour = self.heatmap.sum(axis=0)
        return {
            "busiest_weekday": str(by_day.idxmax()),
            "busiest_hour": int(by_hour.idxmax()),
            "busiest_weekday_share": float(by_day.max() / by_day.sum()),
        }

    def plot(self, ax: Any = None):
        """Weekday x hour heatmap of orders; returns the Axes."""
        ax = get_ax(ax, (9, 3.5))
        hm = self.heatmap
        im = ax.imshow(hm.to_numpy(), aspect="auto", cmap="Blues")
        ax.set_yticks(range(len(hm.index)), hm.index)
        ax.set_xticks(range(len(hm.columns)), [str(h) for h in hm.columns])
        ax.set_xlabel("hour of day")
        ax.set_title("Orders by weekday and hour")
        ax.figure.colorbar(im, ax=ax, label="orders")
        return ax


def active_count(tx: pd.DataFrame, since: Any) -> int:
    """Customers with an order on or after ``since`` (pandas or Spark).

    Parameters
    ----------
    tx : pandas.DataFrame or pyspark.sql.DataFrame
        Order lines with customer_id and order_ts.
    since : date-like

    Returns
    -------
    int
    """
    start = pd.Timestamp(since)
    if is_spark_frame(tx):
        from pyspark.sql import functions as F

        recent = tx.where(F.col("order_ts") >= F.lit(start.to_pydatetime()))
        return int(recent.agg(F.count_distinct("customer_id")).first()[0])
    return int(tx.loc[tx["order_ts"] >= start, "customer_id"].nunique())


def has_time_of_day(tx: pd.DataFrame) -> bool:
    """Whether the order timestamps carry a time of day (not only dates at midnight).

    Parameters
    ----------
    tx : pandas.DataFrame
        Transactions with ``order_ts``.

    Returns
    -------
    bool
    """
    if is_spark_frame(tx):
        return _on_spark("has_time_of_day")(tx)
    ts = tx["order_ts"]
    return bool((ts.dt.normalize() != ts).any())


def timing(tx: pd.DataFrame) -> Timing:
    """Orders by weekday x hour, and per customer the weekday and hour they order most.

    Each order counts once, at its timestamp. A customer's preferred weekday (hour) is the one
    with most of their orders; ties go to the earlier weekday (hour). ``share`` is the part of
    the customer's orders placed on the preferred weekday, a measure of how habitual they are.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical, cleaned order lines; lines without a customer are ignored.

    Returns
    -------
    Timing

    Raises
    ------
    DataError
        When ``tx`` lacks customer_id, order_id, order_ts or amount, or no line has a known
        customer.
    """
    if is_spark_frame(tx):
        return _on_spark("timing")(tx)
    t = known_customers(tx)
    orders = t.drop_duplicates("order_id")[["customer_id", "order_id", "order_ts"]]
    wd = orders["order_ts"].dt.day_of_week.to_numpy()
    hr = orders["order_ts"].dt.hour.to_numpy()
    hours = range(int(hr.min()), int(hr.max()) + 1)
    heat = (
        pd.crosstab(pd.Categorical(np.asarray(WEEKDAYS)[wd], categories=WEEKDAYS), hr)
        .reindex(index=list(WEEKDAYS), columns=list(hours), fill_value=0)
    )
    heat.index.name = "weekday"
    heat.columns.name = "hour"
    frame = pd.DataFrame({"customer_id": orders["customer_id"].to_numpy(), "wd": wd, "hr": hr})
    pref = {}
    for col in ("wd", "hr"):
        counts = frame.groupby(["customer_id", col], observed=True).size().rename("n").reset_index()
        counts = counts.sort_values(["customer_id", "n", col], ascending=[True, False, True])
        top = counts.drop_duplicates("customer_id").set_index("customer_id")
        pref[col] = top
    n_orders = frame.groupby("customer_id", observed=True).size()
    preferred = pd.DataFrame(
        {
            "preferred_weekday": pd.Categorical(
                np.asarray(WEEKDAYS)[pref["wd"]["wd"].to_numpy()], categories=WEEKDAYS
            ),
            "preferred_hour": pref["hr"]["hr"].astype(int).to_numpy(),
            "orders": n_orders.reindex(pref["wd"].index).to_numpy(),
            "weekday_share": (pref["wd"]["n"] / n_orders.reindex(pref["wd"].index)).to_numpy(),
        },
        index=pref["wd"].index,
    )
    return Timing(heat, preferred)


def favourite_products(tx: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Each customer's top-``k`` products by number of orders containing them (then quantity).

    Returns one row per customer and rank with product_id, product_name, orders and quantity.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical, cleaned order lines; lines without a customer are ignored.
    k : int
        Number of products per customer.

    Returns
    -------
    pandas.DataFrame
        Columns customer_id, rank (1..k), product_id, product_name, orders, quantity;
        ties on orders and quantity go to the smaller product_id.

    Raises
    ------
    DataError
        When ``tx`` lacks customer_id, order_id, order_ts or amount, or no line has a known
        customer.
    """
    if is_spark_frame(tx):
        return _on_spark("favourite_products")(tx, k)
    t = known_customers(tx)
    g = (
        t.groupby(["customer_id", "product_id"], observed=True)
        .agg(orders=("order_id", "nunique"), quantity=("quantity", "sum"), product_name=("product_name", "first"))
        .reset_index()
        .sort_values(["customer_id", "orders", "quantity", "product_id"], ascending=[True, False, False, True])
    )
    g["rank"] = g.groupby("customer_id", observed=True).cumcount() + 1
    return g[g["rank"] <= k][["customer_id", "rank", "product_id", "product_name", "orders", "quantity"]].reset_index(drop=True)


def country_mix(tx: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """Customers, orders and revenue by country, largest revenue first; the rest pooled as 'Other'.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical, cleaned order lines with a ``country`` column; lines without a customer
        are ignored.
    top : int
        Countries shown by name; the others are summed into one "Other" row.

    Returns
    -------
    pandas.DataFrame
        Indexed by country: customers, orders, revenue, revenue_share.

    Raises
    ------
    DataError
        When the transactions have no ``country`` column, lack customer_id, order_id,
        order_ts or amount, or no line has a known customer.
    """
    if is_spark_frame(tx):
        return _on_spark("country_mix")(tx, top)
    t = known_customers(tx)
    if "country" not in t.columns:
        raise DataError("transactions have no 'country' column", column="country",
                        fix="map a country column in load_transactions(columns=...)")
    g = t.groupby("country", observed=True).agg(
        customers=("customer_id", "nunique"), orders=("order_id", "nunique"), revenue=("amount", "sum")
    ).sort_values("revenue", ascending=False)
    return pool_countries(g, top)


def pool_countries(g: pd.DataFrame, top: int) -> pd.DataFrame:
    """Countries by revenue (largest first) with all but the ``top`` pooled as 'Other', and shares.

    Parameters
    ----------
    g : pandas.DataFrame
        Indexed by country: customers, orders, revenue, sorted by revenue descending.
    top : int

    Returns
    -------
    pandas.DataFrame
        As :func:`country_mix` returns it.
    """
    if len(g) > top:
        rest = g.iloc[top:].sum()
        g = pd.concat([g.iloc[:top], pd.DataFrame([rest], index=["Other"])])
        g = g.astype({"customers": "int64", "orders": "int64"})
    g["revenue_share"] = g["revenue"] / g["revenue"].sum()
    g.index.name = "country"
    return g
