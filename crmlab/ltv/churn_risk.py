"""Churn risk proven on a holdout: which measure says best who will not buy again?

For a report date ``as_of`` and a window (default 90 days) the evaluation cut-off is
``h = as_of - window``: every customer seen before ``h`` is labelled by whether they buy in
``[h, as_of)``. On that same holdout the candidates are scored:

- each purchase model's P(alive) at ``h`` (BG/NBD, Pareto/NBD, MBG/NBD);
- each model's P(at least one purchase in the window), :meth:`PurchaseModel.prob_active`;
- a scikit-learn gradient-boosting classifier on :func:`churn_features` (recency, frequency,
  monetary, tenure, inter-purchase rhythm, trend of the last periods, product and channel
  breadth where present), trained on the earlier cut-off ``h - window`` with its own labels;
- the naive baseline "customers keep their past rate" (Poisson: 1 - exp(-rate x window)).

Reported per measure: ROC AUC, Brier score, a calibration table, and the share of churners
(and of next-window buyers) among the riskiest 10 % / 20 %. The measure with the best holdout
AUC becomes ``churn_risk`` (1 - its probability of buying in the window), refitted at
``as_of``. A purchase model that sees no drop-out (P(alive) near 1 for nearly everyone, a
drop-out parameter at the edge of its range) is reported as "no dropout visible in this
data", with the evidence, not as a failure.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score
from threadpoolctl import threadpool_limits

from crmlab import dates
from crmlab.data.columnar import id_codes
from crmlab.data.frames import first_last, to_pandas
from crmlab.errors import ConvergenceWarning, DataError
from crmlab.memo import shared
from crmlab.ltv.bgnbd import BGNBD
from crmlab.ltv.mbgnbd import MBGNBD
from crmlab.ltv.pareto_nbd import ParetoNBD
from crmlab.ltv.summaries import summary
from crmlab.plots import get_ax
from crmlab.results import Result
from crmlab.spark.session import is_spark_frame

__all__ = ["churn_features", "buy_again_labels", "churn_risk_model", "ChurnRiskResult", "calibration_table",
           "FEATURES"]

#: Features of the classifier, in the order of :func:`churn_features`.
FEATURES = ("recency_days", "frequency", "monetary", "total_spend", "tenure_days", "mean_gap_days",
            "overdue_ratio", "orders_last_period", "orders_prev_period", "spend_trend", "products", "channels")
#: P(alive) this close to 1 counts as "the model sees no drop-out" for a customer.
_ALIVE_FLAT = 0.99


class _OrderLines:
    """What :func:`churn_features` needs of one frame of order lines, for any cut-off, exactly.

    Built once per frame (one pass over the lines, grouped on integer codes); the features at a
    cut-off then cost a pass over the orders, not over the lines. Kept per order (per
    customer-day without an order id): the first and last line time, the first line's row, the
    day of the first line and the sum of the amounts; and the lines of the orders spread over
    several times, which a cut-off can split: such an order is summed from its lines before the
    cut-off. Per (customer, product) and (customer, channel) pair: the first line time. The
    orders table at a cut-off has the rows, order and sums (in row order) the lines before it
    gave, so the features are the same to the last bit; customers come in sorted order, as
    before (the per-line version mixed first-seen and sorted groupbys, whose union pandas sorts).
    Built per call of the caller, never cached across calls: frames are mutable.
    """

    def __init__(self, tx: pd.DataFrame, customer_col: str, date_col: str, amount_col: str, order_col: str,
                 product_col: str, channel_col: str):
        ts, self.customers = tx[date_col], tx[customer_col]
        self.first_line, tn = ts.min(), ts.to_numpy()
        cust = np.asarray(id_codes(self.customers)[0], dtype=np.int64)
        ok = (cust >= 0) & ts.notna().to_numpy()
        key = (np.asarray(id_codes(tx[order_col])[0], dtype=np.int64) if order_col in tx.columns
               else pd.factorize(ts.dt.normalize())[0])
        rows = np.flatnonzero(ok & (key >= 0))
        g = pd.factorize(cust[rows] * (int(key.max()) + 1 if len(key) else 1) + key[rows])[0]  # orders, by first line
        amount = tx[amount_col].to_numpy(dtype=float)[rows]
        self.p = rows[_first_of(g)]
        self.t0, self.t1 = (pd.array(_extreme(tn[rows], g, len(self.p), f)) for f in (np.minimum, np.maximum))
        self.a = pd.Series(amount).groupby(g, sort=True).sum().to_numpy()  # compensated, in row order: as before
        # each order's customer numbered as groupby(customer, sort=True) sorts them (the index of the features)
        self.day, (self.rank, self.names) = self.t0.normalize(), pd.factorize(self.customers.take(self.p).to_numpy(),
                                                                             sort=True)
        multi = np.asarray(self.t0 != self.t1)[g]  # orders a cut-off can split: their lines
        self.split = pd.DataFrame({"g": g[multi], "t": pd.array(tn[rows][multi]), "a": amount[multi], "p": rows[multi]})
        ok_rows = np.flatnonzero(ok)
        self.n_codes = int(cust.max()) + 1 if len(cust) else 0
        first_row = np.full(self.n_codes, len(cust), dtype=np.int64)
        np.minimum.at(first_row, cust[ok_rows], ok_rows)
        self.cust_codes = np.flatnonzero(first_row < len(cust))
        self.cust_p = first_row[self.cust_codes]
        self.cust_t = pd.array(_extreme(tn[ok_rows], cust[ok_rows], self.n_codes, np.minimum)[self.cust_codes])
        self.pairs = {name: _first_pairs(tx[col], cust, ok, tn) if col in tx.columns else None
                      for name, col in (("products", product_col), ("channels", channel_col))}

    def orders(self, c: pd.Timestamp) -> pd.DataFrame:
        """The orders with a line before ``c`` in the order of their first line before it: customer
        number ``r`` (:attr:`names`), day ``d`` of the first line, sum ``a`` of the lines before ``c``
        (in row order)."""
        a, p = self.a, self.p
        keep = np.asarray(self.t0 < c)
        cut = keep & np.asarray(self.t1 >= c)
        if cut.any():  # orders the cut-off splits: their lines before it only
            s = self.split
            s = s.loc[np.asarray(s["t"].array < c) & cut[s["g"].to_numpy()]].groupby("g", sort=True).agg(
                a=("a", "sum"), p=("p", "min"))
            a, p = a.copy(), p.copy()
            a[s.index.to_numpy()], p[s.index.to_numpy()] = s["a"].to_numpy(), s["p"].to_numpy()
        idx = np.flatnonzero(keep)
        idx = idx[np.argsort(p[idx], kind="stable")]
        return pd.DataFrame({"r": self.rank[idx], "d": self.day.take(idx), "a": a[idx]})

    def breadth(self, c: pd.Timestamp) -> dict[str, Any]:
        """Distinct products and channels before ``c`` per customer with a line before it (NaN when absent),
        indexed as ``groupby(customer).nunique()`` on those lines."""
        present = np.asarray(self.cust_t < c)
        codes = self.cust_codes[present]
        keys = self.customers.take(self.cust_p[present]).reset_index(drop=True)
        out: dict[str, Any] = {}
        for name, pairs in self.pairs.items():
            if pairs is None:
                out[name] = np.nan
                continue
            n = np.bincount(pairs[0][np.asarray(pairs[1] < c)], minlength=self.n_codes)[codes]
            out[name] = pd.Series(n).groupby(keys, observed=True).sum().astype(float)
        return out


def _first_pairs(values: pd.Series, cust: np.ndarray, ok: np.ndarray, tn: np.ndarray) -> tuple[np.ndarray, Any]:
    """Per distinct (customer, value) of the lines ``ok`` with a value: the customer code and the first line time."""
    v = np.asarray(id_codes(values)[0], dtype=np.int64)
    rows = np.flatnonzero(ok & (v >= 0))
    g = pd.factorize(cust[rows] * (int(v.max()) + 1 if len(v) else 1) + v[rows])[0]
    first = _first_of(g)
    return cust[rows][first], pd.array(_extreme(tn[rows], g, len(first), np.minimum))


def _first_of(g: np.ndarray) -> np.ndarray:
    """Where each group first occurs, for groups numbered 0, 1, ... in the order they first occur."""
    if not len(g):
        return np.zeros(0, dtype=np.int64)
    seen = np.maximum.accumulate(g)
    return np.flatnonzero(np.concatenate(([True], seen[1:] > seen[:-1])))


def _extreme(values: np.ndarray, g: np.ndarray, n: int, ufunc: np.ufunc) -> np.ndarray:
    """Per group 0 .. n-1 the least (``np.minimum``) or greatest (``np.maximum``) of datetime ``values``
    (groups without a value: any value)."""
    if values.dtype.kind != "M":  # times with a zone come as objects
        s = pd.Series(values).groupby(g).agg("min" if ufunc is np.minimum else "max")
        return s.reindex(range(n)).to_numpy()
    i8 = values.view(np.int64)
    out = np.full(n, np.iinfo(np.int64).max if ufunc is np.minimum else np.iinfo(np.int64).min + 1)
    ufunc.at(out, g, i8)
    return out.view(values.dtype)


def _lines(tx: Any, cols: dict[str, str]) -> _OrderLines | None:
    """The summary of ``tx`` for :func:`churn_features` at many cut-offs (None for a Spark frame)."""
    return None if is_spark_frame(tx) else _OrderLines(tx, **cols)


def _features(tx: Any, lines: _OrderLines | None, cutoff: Any, period_days: int, cols: dict[str, str]) -> pd.DataFrame:
    """:func:`churn_features` of ``tx``, from its summary ``lines`` when there is one."""
    if lines is None:
        return churn_features(tx, cutoff, period_days=period_days, **cols)
    return _features_at(lines, pd.Timestamp(cutoff), period_days, cols["customer_col"])


def churn_features(tx: pd.DataFrame, cutoff: Any, *, period_days: int = 90, customer_col: str = "customer_id",
                   date_col: str = "order_ts", amount_col: str = "amount", order_col: str = "order_id",
                   product_col: str = "product_id", channel_col: str = "channel") -> pd.DataFrame:
    """Per-customer features from the orders strictly before ``cutoff``.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical order lines.
    cutoff : date-like
        Features use orders strictly before it.
    period_days : int
        Length of the "last period" of the trend features.
    customer_col, date_col, amount_col, order_col, product_col, channel_col : str
        Column names; product and channel breadth are NaN when the column is absent.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FEATURES`, indexed by customer.
    """
    c = pd.Timestamp(cutoff)
    if is_spark_frame(tx):  # the per-customer sums by Spark, the features from them as here
        from crmlab.spark.holdout import churn_feature_sums

        return _features_from_sums(churn_feature_sums(tx, c, period_days, customer_col, date_col, amount_col,
                                                      order_col, product_col, channel_col), c)
    if not (tx[date_col] < c).any():
        raise DataError("no orders before the cut-off", value=str(c.date()), fix="choose a later cut-off")
    lines = _OrderLines(tx, customer_col, date_col, amount_col, order_col, product_col, channel_col)
    return _features_at(lines, c, period_days, customer_col)


def _features_at(lines: _OrderLines, c: pd.Timestamp, period_days: int, customer_col: str) -> pd.DataFrame:
    """:func:`churn_features` at ``c`` from the summary of the lines."""
    if not lines.first_line < c:
        raise DataError("no orders before the cut-off", value=str(c.date()), fix="choose a later cut-off")
    o = lines.orders(c)
    age = (c - o["d"]).dt.days.to_numpy()
    o["last"] = age < period_days
    o["prev"] = (age >= period_days) & (age < 2 * period_days)
    o["spend_last"], o["spend_prev"] = o["a"].where(o["last"], 0.0), o["a"].where(o["prev"], 0.0)
    g = o.groupby("r", sort=True)  # customers in sorted order; sums over their orders in row order, as before
    f = pd.DataFrame({"first": g["d"].min(), "lastd": g["d"].max(), "frequency": g.size().astype(float),
                      "total_spend": g["a"].sum(), "orders_last_period": g["last"].sum().astype(float),
                      "orders_prev_period": g["prev"].sum().astype(float), "spend_last": g["spend_last"].sum(),
                      "spend_prev": g["spend_prev"].sum()})
    f.index = pd.Index(lines.names[f.index.to_numpy()])
    for name, col in lines.breadth(c).items():
        f[name] = col
    f.index.name = customer_col
    return _features_from_sums(f, c)


def _features_from_sums(f: pd.DataFrame, c: pd.Timestamp) -> pd.DataFrame:
    """:data:`FEATURES` from the per-customer first and last order day, orders, spend and breadth."""
    f["recency_days"] = (c - f["lastd"]).dt.days.astype(float)
    f["tenure_days"] = (c - f["first"]).dt.days.astype(float)
    f["monetary"] = f["total_spend"] / f["frequency"]
    span = (f["lastd"] - f["first"]).dt.days.astype(float)
    f["mean_gap_days"] = np.where(f["frequency"] > 1, span / (f["frequency"] - 1).clip(lower=1), np.nan)
    f["overdue_ratio"] = f["recency_days"] / f["mean_gap_days"].clip(lower=1)
    f["spend_trend"] = (f["spend_last"] - f["spend_prev"]) / (f["spend_last"] + f["spend_prev"]).where(
        lambda s: s > 0)
    return f[list(FEATURES)]


def buy_again_labels(tx: pd.DataFrame, customers: pd.Index, start: Any, window_days: int = 90, *,
                     customer_col: str = "customer_id", date_col: str = "order_ts") -> pd.Series:
    """1 for each customer who orders in ``[start, start + window_days)``, else 0.

    Parameters
    ----------
    tx : pandas.DataFrame
        Order lines.
    customers : pandas.Index
        The customers to label.
    start : date-like
        First day of the window.
    window_days : int
        Window length.
    customer_col, date_col : str
        Column names.

    Returns
    -------
    pandas.Series
        0/1 per customer, named ``buys``.
    """
    s = pd.Timestamp(start)
    if is_spark_frame(tx):  # the buyers of the window found by Spark
        from crmlab.spark.holdout import window_buyers

        buyers = window_buyers(tx, s, int(window_days), customer_col, date_col)
        return pd.Series(customers.isin(buyers).astype(int), index=customers, name="buys")
    inside = (tx[date_col] >= s) & (tx[date_col] < s + pd.Timedelta(days=int(window_days)))
    buyers = pd.Index(tx.loc[inside, customer_col].unique())
    return pd.Series(customers.isin(buyers).astype(int), index=customers, name="buys")


def calibration_table(y: Any, p: Any, bins: int = 10) -> pd.DataFrame:
    """Predicted vs observed buy-again rate by band of predicted probability.

    Parameters
    ----------
    y : array-like
        0/1 outcomes.
    p : array-like
        Predicted probabilities.
    bins : int
        Equal-width bands on [0, 1].

    Returns
    -------
    pandas.DataFrame
        customers, predicted (mean) and observed (rate) per non-empty band.
    """
    y, p = np.asarray(y, float), np.clip(np.asarray(p, float), 0, 1)
    band = np.minimum((p * bins).astype(int), bins - 1)
    labels = [f"{i / bins:.1f}-{(i + 1) / bins:.1f}" for i in range(bins)]
    t = pd.DataFrame({"band": pd.Categorical.from_codes(band, labels), "p": p, "y": y})
    out = t.groupby("band", observed=True).agg(customers=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    out.index.name = "predicted band"
    return out


def _capture(y: np.ndarray, p_buy: np.ndarray, share: float, rng: np.random.Generator) -> tuple[float, float]:
    """Shares of churners and of buyers among the riskiest ``share`` (lowest p_buy, ties broken at random)."""
    order = np.lexsort((rng.random(len(y)), p_buy))
    top = order[: max(1, int(round(share * len(y))))]
    churners, buyers = (y == 0).sum(), (y == 1).sum()
    return (float((y[top] == 0).sum() / churners) if churners else np.nan,
            float((y[top] == 1).sum() / buyers) if buyers else np.nan)


def _score_row(y: np.ndarray, p_buy: np.ndarray, probability: bool) -> dict[str, float]:
    rng = np.random.default_rng(0)
    row = {"auc": float(roc_auc_score(y, p_buy)) if 0 < y.sum() < len(y) else np.nan,
           "brier": float(brier_score_loss(y, np.clip(p_buy, 0, 1))) if probability else np.nan}
    for share in (0.1, 0.2):
        ch, bu = _capture(y, p_buy, share, rng)
        row[f"churners_in_riskiest_{int(share * 100)}"] = ch
        row[f"buyers_in_riskiest_{int(share * 100)}"] = bu
    return row


def _degenerate(model: Any, p_alive: np.ndarray) -> str:
    """Evidence, in words, that a fitted purchase model sees no drop-out (empty when it does)."""
    flat = float(np.mean(p_alive >= _ALIVE_FLAT))
    p = model.params_
    drop = {"a": "a", "s": "s"}
    edge = [f"{k} = {p[k]:.4f}" for k in drop if k in p.index and p[k] < 0.01]
    if flat < 0.9 and not edge:
        return ""
    bits = [f"P(alive) is {_ALIVE_FLAT:.2f} or more for {flat:.0%} of customers"]
    if edge:
        bits.append("the drop-out parameter runs to zero (" + ", ".join(edge) + ")")
    if not model.converged_:
        bits.append("the fit did not converge")
    return "no dropout visible in this data: " + "; ".join(bits)


def _btyd_scores(tx: pd.DataFrame, cut: pd.Timestamp, customers: pd.Index, window_days: int, cols: dict[str, str],
                 only: str | None = None):
    """P(alive) and P(active in the window) of each purchase model at ``cut``, and degeneracy notes."""
    s = to_pandas(summary(tx, unit="W", as_of=cut, customer_col=cols["customer_col"], date_col=cols["date_col"],
                          amount_col=None), index="customer_id").reindex(customers)  # Spark: one row per customer
    scores, notes, models = {}, {}, {}
    for mdl in (BGNBD(), ParetoNBD(), MBGNBD()):
        if only is not None and not only.startswith(mdl._label + " "):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mdl.fit(s)
        pa = mdl.p_alive(s)
        scores[f"{mdl._label} P(alive)"] = pa
        scores[f"{mdl._label} P(active {window_days}d)"] = mdl.prob_active(window_days / 7, s)
        notes[mdl._label] = _degenerate(mdl, pa)
        models[mdl._label] = mdl
    return scores, notes, models


def _classifier(tx: pd.DataFrame, cut: pd.Timestamp, window_days: int, cols: dict[str, Any],
                random_state: int = 0, lines: _OrderLines | None = None) -> tuple[HistGradientBoostingClassifier, list[str]]:
    """Gradient boosting trained at ``cut - window`` on who bought in ``[cut - window, cut)``
    (features from ``lines``, the summary of ``tx``, when given)."""
    train_cut = cut - pd.Timedelta(days=window_days)
    X = _features(tx, lines, train_cut, window_days, cols)
    use = [c for c in X.columns if X[c].notna().any()]
    y = buy_again_labels(tx, X.index, train_cut, window_days, customer_col=cols["customer_col"],
                         date_col=cols["date_col"])
    if y.nunique() < 2:
        raise DataError("the training window has only buyers or only non-buyers", value=str(train_cut.date()))
    clf = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20,
                                         l2_regularization=1.0, random_state=random_state)
    # one thread: the trees are small, and OpenMP oversubscription on a shared machine costs 10-100x
    with threadpool_limits(1):
        clf.fit(X[use].to_numpy(dtype=float), y.to_numpy())
    return clf, use


def _naive(X: pd.DataFrame, window_days: int) -> np.ndarray:
    """"Customers keep their past rate": orders per day of tenure, Poisson over the window."""
    rate = X["frequency"] / X["tenure_days"].clip(lower=window_days)
    return (1 - np.exp(-rate * window_days)).to_numpy()


def _candidates(tx: pd.DataFrame, cut: pd.Timestamp, window_days: int, cols: dict[str, Any],
                only: str | None = None, lines: _OrderLines | None = None):
    """Every measure's (or just ``only``'s) probability of buying in ``[cut, cut + window)``
    for the customers seen before ``cut``, and the purchase models' degeneracy notes (features
    from ``lines``, the summary of ``tx``, when given)."""
    X = _features(tx, lines, cut, window_days, cols)
    core = {k: cols[k] for k in ("customer_col", "date_col")}
    scores, notes = {}, {}
    if only is None or " P(" in only:
        scores, notes, _ = _btyd_scores(tx, cut, X.index, window_days, core, only)
    if only in (None, "gradient boosting"):
        clf, use = _classifier(tx, cut, window_days, cols, lines=lines)
        with threadpool_limits(1):
            scores["gradient boosting"] = clf.predict_proba(X[use].to_numpy(dtype=float))[:, 1]
    if only in (None, "naive past rate"):
        scores["naive past rate"] = _naive(X, window_days)
    return X, scores, notes


class ChurnRiskResult(Result):
    """Churn risk per customer from the measure that won on the holdout, and the evidence.

    Parameters
    ----------
    table : pandas.DataFrame
        Per customer at ``as_of``: churn_risk, p_buy_window.
    measure : str
        The chosen measure.
    comparison : pandas.DataFrame
        Holdout scores of every measure (auc, brier, captures, degenerate note).
    calibration : dict of str -> pandas.DataFrame
        Calibration table per probability measure.
    notes_by_model : dict of str -> str
        "no dropout visible" evidence per purchase model (empty when it sees drop-out).
    info : dict
        Cut-offs, window and holdout size.
    """

    title = "Churn risk: measures compared on the holdout"

    def __init__(self, table: pd.DataFrame, measure: str, comparison: pd.DataFrame,
                 calibration: dict[str, pd.DataFrame], notes_by_model: dict[str, str], info: dict[str, Any]):
        self.table, self.measure, self.comparison = table, measure, comparison
        self.calibration, self.notes_by_model, self.info = calibration, notes_by_model, info
        row = comparison.loc[measure]
        self.auc = float(row["auc"])
        n1, n0 = info["holdout_buyers"], info["holdout_customers"] - info["holdout_buyers"]
        # standard error of the AUC of a random ranking (Mann-Whitney null)
        self.auc_null_se = float(np.sqrt((n1 + n0 + 1) / (12 * max(n1, 1) * max(n0, 1))))
        runner = comparison.drop(index=measure)["auc"].max()
        self.why = (f"{measure} ranks next-window buyers best on the holdout: AUC {self.auc:.3f} vs "
                    f"{runner:.3f} for the next best and 0.5 for a random ranking "
                    f"({(self.auc - 0.5) / self.auc_null_se:.0f} standard errors above it); its riskiest 20% "
                    f"hold {row['churners_in_riskiest_20']:.0%} of the customers who did not buy")
        self.notes = (self.why, *[f"{k}: {v}" for k, v in notes_by_model.items() if v])

    @property
    def summary(self) -> pd.DataFrame:
        return self.comparison

    def to_dict(self) -> dict[str, Any]:
        return {"churn_measure": self.measure, "churn_auc": self.auc, "churn_why": self.why,
                "churn_auc_null_se": self.auc_null_se,
                "churn_no_dropout": [k for k, v in self.notes_by_model.items() if v],
                **{f"churn_{k}": (str(v.date()) if isinstance(v, pd.Timestamp) else v) for k, v in self.info.items()}}

    def plot(self, ax=None):
        """Calibration of the chosen measure: observed vs predicted buy-again rate."""
        ax = get_ax(ax, (6, 4), layout=None)
        cal = self.calibration.get(self.measure)
        ax.plot([0, 1], [0, 1], ls=":", color="#999999", label="perfect calibration")
        if cal is not None:
            ax.plot(cal["predicted"], cal["observed"], "o-", color="#4C72B0", label=self.measure)
        ax.set_xlabel(f"predicted P(buy within {self.info['window_days']} days)")
        ax.set_ylabel("observed share who bought")
        ax.legend()
        return ax


def _compare(y: np.ndarray, scores: dict[str, np.ndarray], notes: dict[str, str]):
    rows, cal = {}, {}
    for name, p in scores.items():
        rows[name] = _score_row(y, np.asarray(p, float), True)
        model = name.split(" P(")[0]
        rows[name]["note"] = notes.get(model, "")
        cal[name] = calibration_table(y, p)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "measure"
    return table.sort_values(["auc", "brier"], ascending=[False, True]), cal


@shared("churn_risk")
def churn_risk_model(tx: pd.DataFrame, as_of: Any = None, window_days: int = 90, *,
                     customer_col: str = "customer_id", date_col: str = "order_ts", amount_col: str = "amount",
                     order_col: str = "order_id", product_col: str = "product_id",
                     channel_col: str = "channel") -> ChurnRiskResult:
    """Compare churn measures on a holdout and score every customer with the winner.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical order lines (datetime ``date_col``).
    as_of : str or Timestamp, optional
        Report date (:func:`crmlab.dates.cutoff`); default the day after the last order.
    window_days : int
        "Buys again within" window; the holdout is the last window before ``as_of`` and the
        classifier trains on the window before that.
    customer_col, date_col, amount_col, order_col, product_col, channel_col : str
        Column names (order, product and channel are optional).

    Returns
    -------
    ChurnRiskResult
        ``table`` (churn_risk, p_buy_window per customer at ``as_of``), ``measure``, ``auc``,
        ``why``, ``comparison``, ``calibration``, ``notes_by_model``.
    """
    tx, as_of_ts = dates.cutoff(tx, as_of, date_col)
    window_days = int(window_days)
    hold = as_of_ts - pd.Timedelta(days=window_days)
    if hold - pd.Timedelta(days=window_days) <= first_last(tx, date_col)[0]:
        raise DataError("too little history for a holdout and an earlier training window",
                        expected=f"orders before {(hold - pd.Timedelta(days=window_days)).date()}",
                        fix="use a shorter window_days")
    cols = dict(customer_col=customer_col, date_col=date_col, amount_col=amount_col, order_col=order_col,
                product_col=product_col, channel_col=channel_col)
    lines = _lines(tx, cols)  # the lines summarised once for the features at the three cut-offs
    X, scores, notes = _candidates(tx, hold, window_days, cols, lines=lines)
    y = buy_again_labels(tx, X.index, hold, window_days, customer_col=customer_col, date_col=date_col).to_numpy()
    comparison, cal = _compare(y, scores, notes)
    measure = str(comparison["auc"].idxmax())
    # the winner, refitted at the report date
    Xn, now, notes_now = _candidates(tx, as_of_ts, window_days, cols, only=measure, lines=lines)
    p = np.clip(np.asarray(now[measure], float), 0, 1)
    table = pd.DataFrame({"churn_risk": 1 - p, "p_buy_window": p}, index=Xn.index)
    info = {"as_of": as_of_ts, "holdout_cutoff": hold, "training_cutoff": hold - pd.Timedelta(days=window_days),
            "window_days": window_days, "holdout_customers": int(len(y)), "holdout_buyers": int(y.sum())}
    return ChurnRiskResult(table, measure, comparison, cal, {**notes, **{k: v for k, v in notes_now.items() if v}},
                           info)
