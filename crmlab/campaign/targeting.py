"""Whom to contact: a cost-aware targeting policy from an uplift ranking.

:func:`targeting_policy` reads a holdout of a randomised test ranked by predicted uplift: for
each share ``q`` of customers contacted (best-ranked first) it estimates the incremental
outcome per contacted customer as the treated minus control mean among them, and the
incremental profit ``n_q (margin * uplift_q - cost)`` against sending to nobody. "Send to
all" is ``q = 1``; the best share maximises the profit. Intervals are normal, from the
arms' variances within the contacted customers; against send-to-all the estimate is the
difference of the two profits and its error is that of the skipped customers' uplift.
The best share is chosen on the same holdout, so its profit is slightly optimistic.

:func:`targeting_recommendation` is the one call a report needs: split a randomised test
50/50, fit an uplift model on one half, rank and read the policy on the other half, and give
one sentence with its numbers.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.campaign.qini import qini_coefficient, qini_curve, uplift_at_k
from crmlab.campaign.uplift import ClassTransformationUplift, check_uplift_data, one_hot
from crmlab.errors import ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result, to_jsonable

__all__ = ["HILLSTROM_FEATURES", "TargetingResult", "targeting_policy",
           "targeting_recommendation"]

#: Pre-period features of the Hillstrom test (the scikit-uplift feature set).
HILLSTROM_FEATURES = ("recency", "history_segment", "history", "mens", "womens", "zip_code",
                      "newbie", "channel")


class TargetingResult(Result):
    """Incremental profit of contacting the best-ranked share of customers.

    Built by :func:`targeting_policy`.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per share: ``share``, ``contacted``, ``uplift`` (per contacted customer),
        ``incremental`` outcomes, ``profit`` with ``profit_low``/``profit_high`` and
        ``vs_all`` with ``vs_all_low``/``vs_all_high``; scaled to the audience.
    best : dict
        The best row's numbers and ``send_all``, ``send_none`` profits.
    margin, cost : float
        Money per unit of outcome, and per contact.
    alpha : float
        Intervals are ``1 - alpha``.
    metrics : dict
        Ranking quality on the holdout (``uplift_at_30``, ``qini_coefficient``), if known.
    notes : sequence of str
    """

    title = "Uplift targeting: whom to contact"

    def __init__(self, table, best, margin, cost, alpha, metrics=None, notes=()):
        self.table = table
        self.best = best
        self.margin = margin
        self.cost = cost
        self.alpha = alpha
        self.metrics = dict(metrics or {})
        self.notes = tuple(notes)

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    @property
    def sentence(self) -> str:
        """The recommendation in one sentence, with its numbers."""
        b = self.best
        lvl = f"{100 * (1 - self.alpha):.0f}%"
        if b["share"] == 0:
            return ("Contact nobody: at a cost of {:,.2f} per contact no share of customers "
                    "earns back its cost (send to all: {:+,.0f}).".format(self.cost, b["send_all"]))
        return (
            f"Contact the {b['share']:.0%} of customers with the highest predicted uplift "
            f"({b['contacted']:,.0f}): expected incremental profit {b['profit']:+,.0f} "
            f"({lvl} interval {b['profit_low']:+,.0f} to {b['profit_high']:+,.0f}) against "
            f"sending to nobody, {b['vs_all']:+,.0f} ({b['vs_all_low']:+,.0f} to "
            f"{b['vs_all_high']:+,.0f}) against sending to all ({b['send_all']:+,.0f})."
        )

    def to_dict(self) -> dict[str, Any]:
        """Flat: ``best_share``, ``contacted``, ``profit`` (and interval), ``vs_all`` (and
        interval), ``send_all``, ``send_none``, the ranking metrics and ``sentence``.

        Returns
        -------
        dict
        """
        out = {("best_share" if k == "share" else k): v for k, v in self.best.items()}
        out.update(self.metrics)
        out["sentence"] = self.sentence
        return to_jsonable(out)

    def plot(self, ax=None):
        """Incremental profit against the share contacted, with its interval band.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = get_ax(ax, (6, 3.5), layout=None)
        t = self.table
        ax.plot(100 * t["share"], t["profit"], marker=".")
        ax.fill_between(100 * t["share"], t["profit_low"], t["profit_high"], alpha=0.2)
        ax.axhline(0, color="grey", lw=1)
        ax.axvline(100 * self.best["share"], color="tab:red", ls="--", lw=1)
        ax.set_xlabel("share contacted, best predicted uplift first (%)")
        ax.set_ylabel("incremental profit")
        return ax


def _cumulative(y, t, order):
    """Per arm: cumulative count, sum and sum of squares of the ranked outcome."""
    y, t = y[order], t[order]
    out = {}
    for arm, m in (("t", t == 1), ("c", t == 0)):
        out["n" + arm] = np.r_[0, np.cumsum(m)]
        out["s" + arm] = np.r_[0.0, np.cumsum(y * m)]
        out["q" + arm] = np.r_[0.0, np.cumsum(y * y * m)]
    return out


def _block(cum, lo, hi):
    """Uplift and its standard error among ranked customers ``lo:hi`` (vectorised); the
    uplift is 0 when an arm is absent, the error NaN when an arm has fewer than two."""
    u = np.zeros(np.size(hi))
    se = np.full(np.size(hi), np.nan)
    parts = []
    for arm in ("t", "c"):
        n = (cum["n" + arm][hi] - cum["n" + arm][lo]).astype(np.float64)
        s = cum["s" + arm][hi] - cum["s" + arm][lo]
        q = cum["q" + arm][hi] - cum["q" + arm][lo]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = s / n
            var = np.maximum(q - n * mean**2, 0) / (n - 1)
        parts.append((n, mean, var))
    (nt, mt, vt), (nc, mc, vc) = parts
    ok = (nt > 0) & (nc > 0)
    u[ok] = (mt - mc)[ok]
    se[(nt == 0) & (nc == 0)] = 0.0  # nobody in the block: exactly zero
    big = (nt > 1) & (nc > 1)
    se[big] = np.sqrt(vt / nt + vc / nc)[big]
    return u, se


def targeting_policy(
    y,
    uplift,
    treatment,
    *,
    margin: float,
    cost: float,
    audience: int | None = None,
    shares: Sequence[float] | None = None,
    alpha: float = 0.05,
    metrics: dict | None = None,
) -> TargetingResult:
    """Share of customers worth contacting and its incremental profit, from a holdout.

    Parameters
    ----------
    y : array-like
        Outcome of the holdout customers (0/1 or an amount).
    uplift : array-like
        Predicted uplift (the ranking).
    treatment : array-like
        1 treated, 0 control, in the holdout.
    margin : float
        Money earned per unit of outcome (per visit or conversion; for spend, the margin
        rate, e.g. 0.3).
    cost : float
        Money per contact.
    audience : int, optional
        Customers the campaign will reach; profits are scaled from the holdout to it
        (default: the holdout's size).
    shares : sequence of float, optional
        Shares to evaluate (default 0, 0.05, ..., 1).
    alpha : float
        Intervals are ``1 - alpha``.
    metrics : dict, optional
        Ranking metrics to carry into the result.

    Returns
    -------
    TargetingResult
    """
    yv, t = check_uplift_data(y, y, treatment)
    if not 0 < alpha < 1:
        raise ParameterError("alpha must be between 0 and 1", value=alpha)
    if not (np.isfinite(margin) and np.isfinite(cost)) or cost < 0:
        raise ParameterError("margin and cost must be numbers, cost not negative",
                             value=(margin, cost))
    n = yv.size
    grid = np.round(np.linspace(0, 1, 21), 4) if shares is None else np.asarray(shares, float)
    if ((grid < 0) | (grid > 1)).any():
        raise ParameterError("shares must lie in [0, 1]", value=list(grid))
    order = np.argsort(np.asarray(uplift, dtype=np.float64), kind="mergesort")[::-1]
    cum = _cumulative(yv, t, order)
    k = np.ceil(grid * n - 1e-9).astype(np.int64)
    scale = (audience if audience is not None else n) / n
    z = stats.norm.ppf(1 - alpha / 2)
    u_top, se_top = _block(cum, np.zeros_like(k), k)
    u_bot, se_bot = _block(cum, k, np.full_like(k, n))
    contacted = k * scale
    profit = contacted * (margin * u_top - cost)
    skipped = (n - k) * scale
    vs_all = profit - profit[-1] if grid[-1] == 1 else -skipped * (margin * u_bot - cost)
    table = pd.DataFrame({
        "share": grid, "contacted": contacted, "uplift": u_top, "incremental": contacted * u_top,
        "profit": profit, "profit_low": profit - z * contacted * abs(margin) * se_top,
        "profit_high": profit + z * contacted * abs(margin) * se_top,
        "vs_all": vs_all, "vs_all_low": vs_all - z * skipped * abs(margin) * se_bot,
        "vs_all_high": vs_all + z * skipped * abs(margin) * se_bot,
    })
    i = int(np.argmax(profit))
    best = table.iloc[i].to_dict()
    best["send_all"] = float(n * scale * (margin * u_top[-1] - cost)) if grid[-1] == 1 else np.nan
    best["send_none"] = 0.0
    return TargetingResult(table, best, margin, cost, alpha, metrics)


def targeting_recommendation(
    data: pd.DataFrame,
    *,
    arm: str = "segment",
    treatment: Any = "Womens E-Mail",
    control: Any = "No E-Mail",
    outcome: str = "visit",
    features: Sequence[str] = HILLSTROM_FEATURES,
    margin: float,
    cost: float,
    model=None,
    audience: int | None = None,
    test_size: float = 0.5,
    random_state: int = 42,
) -> TargetingResult:
    """Fit an uplift model on half of a randomised test and recommend whom to contact.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer of a randomised test (default columns: the Hillstrom test).
    arm : str
        Arm column.
    treatment, control : object
        Labels of the campaign arm and the no-contact arm.
    outcome : str
        Outcome column (0/1 or an amount).
    features : sequence of str
        Pre-period feature columns; text columns are one-hot encoded.
    margin, cost : float
        As in :func:`targeting_policy`.
    model : uplift estimator, optional
        Default: :class:`~crmlab.campaign.uplift.ClassTransformationUplift` on a scaled
        logistic regression (a regressor for amounts).
    audience : int, optional
        Customers to scale the profits to (default: all treated and control customers).
    test_size : float
        Share held out for the policy (scikit-learn ``train_test_split``).
    random_state : int
        Seed of the split.

    Returns
    -------
    TargetingResult
        With ``metrics``: ``uplift_at_30`` and ``qini_coefficient`` on the holdout; its
        :attr:`~TargetingResult.sentence` is the recommendation. Also ``model`` (the fitted
        uplift model), ``encode`` (customers -> its feature matrix) and ``curve`` (the
        holdout's Qini curve).
    """
    from sklearn.model_selection import train_test_split

    d = data[data[arm].isin([treatment, control])]
    if d.empty or d[arm].nunique() < 2:
        raise ParameterError("the data must hold both the treatment and the control arm",
                             value=(treatment, control), fix="check arm=, treatment=, control=")
    X = one_hot(d[list(features)])
    y = d[outcome].to_numpy(np.float64)
    t = (d[arm] == treatment).to_numpy(np.int8)
    Xtr, Xte, ytr, yte, ttr, tte = train_test_split(X, y, t, test_size=test_size,
                                                    random_state=random_state)
    model = default_model(y) if model is None else model
    u = model.fit(Xtr, ytr, ttr).predict(Xte)
    metrics = {"uplift_at_30": uplift_at_k(yte, u, tte, 0.3),
               "qini_coefficient": qini_coefficient(yte, u, tte),
               "holdout_size": int(yte.size), "outcome": outcome,
               "binary": bool(np.isin(y, (0, 1)).all())}
    res = targeting_policy(yte, u, tte, margin=margin, cost=cost,
                           audience=audience if audience is not None else len(d),
                           metrics=metrics)
    res.curve = qini_curve(yte, u, tte)
    res.model = model
    res.encode = lambda frame: one_hot(frame[list(features)]).reindex(columns=X.columns,
                                                                      fill_value=0.0)
    return res


def default_model(y) -> ClassTransformationUplift:
    """Class transformation on a scaled logistic regression (0/1 outcome) or ridge (amount).

    Parameters
    ----------
    y : array-like
        The outcome, to choose between the two.

    Returns
    -------
    ClassTransformationUplift
    """
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    binary = np.isin(np.asarray(y), (0, 1)).all()
    est = LogisticRegression(max_iter=1000) if binary else Ridge()
    return ClassTransformationUplift(make_pipeline(StandardScaler(), est))
