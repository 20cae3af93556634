"""Campaigns without a control group: difference-in-differences from transactions.

When customers were *chosen* for a campaign rather than randomised, a comparison of
targeted and untargeted customers after the campaign measures the selection as much as the
campaign. The credible path compares how each group *changed*:

1. :func:`campaign_panel` builds a customer x week panel (spend and orders) around the
   campaign's start from the transactions and a campaign table (customer, campaign, start,
   end); the comparison group is every customer active before the start who was not
   targeted, optionally matched one-to-one on pre-period recency, frequency and spend.
2. :func:`did_campaign` estimates the effect by difference-in-differences (statsmodels OLS
   with customer and week fixed effects, standard errors clustered by customer), an event
   study by week relative to the start, and always runs the pre-trend test: the treated x
   week coefficients before the start must be jointly zero (cluster-robust Wald test), and a
   placebo campaign starting in the middle of the pre-period must show no effect. When the
   pre-trend test fails the result is labelled "not credible: pre-trends differ".

References
----------
Angrist & Pischke (2009), *Mostly Harmless Econometrics*, ch. 5. Bertrand, Duflo &
Mullainathan (2004), "How much should we trust differences-in-differences estimates?", QJE
(cluster-robust errors). Roth (2022), "Pretest with caution: event-study estimates after
testing for parallel trends", AER: Insights (a passed pre-test is not proof). Daw & Hatfield
(2018), "Matching and regression to the mean in difference-in-differences analysis", Health
Services Research.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from crmlab.columns import require_columns
from crmlab.errors import DataError, ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result, to_jsonable

__all__ = ["NOT_CREDIBLE", "ObservationalResult", "campaign_panel", "did_campaign", "event_study"]

#: The label of an estimate whose pre-trend test failed.
NOT_CREDIBLE = "not credible: pre-trends differ"


def _campaign_rows(campaigns, campaign, customer_col):
    require_columns(campaigns, {"customer": customer_col, "start": "start", "end": "end"},
                    what="campaign table", fix="the campaign table needs customer, start, end")
    c = campaigns
    if campaign is not None:
        if "campaign" not in c.columns:
            raise DataError("campaign table has no campaign column", column="campaign")
        c = c[c["campaign"] == campaign]
    elif "campaign" in c.columns and c["campaign"].nunique() > 1:
        raise ParameterError("the campaign table holds several campaigns; choose one",
                             value=sorted(map(str, c["campaign"].unique()))[:5],
                             fix="pass campaign=")
    if c.empty:
        raise DataError("no customers in the campaign table for this campaign", value=campaign)
    return c


def _pre_rfm(tx, start, customer_col, date_col, amount_col) -> pd.DataFrame:
    """Recency (days), orders and spend of every customer before ``start``."""
    pre = tx[tx[date_col] < start]
    g = pre.groupby(customer_col, observed=True)
    orders = g["order_id"].nunique() if "order_id" in pre.columns else g.size()
    return pd.DataFrame({"recency": (start - g[date_col].max()).dt.days,
                         "frequency": orders, "monetary": g[amount_col].sum()})


def _match(rfm: pd.DataFrame, treated: pd.Index) -> pd.Index:
    """Nearest untargeted customer (standardised log RFM, with replacement) for each treated."""
    from sklearn.neighbors import NearestNeighbors

    z = np.log1p(rfm.clip(lower=0))
    z = (z - z.mean()) / z.std(ddof=0).replace(0, 1)
    is_t = rfm.index.isin(treated)
    pool = z[~is_t]
    if pool.empty:
        raise DataError("no untargeted customers to match", fix="widen the customer base")
    nn = NearestNeighbors(n_neighbors=1).fit(pool.to_numpy())
    idx = nn.kneighbors(z[is_t].to_numpy(), return_distance=False)[:, 0]
    return pool.index[idx]


def campaign_panel(
    transactions: pd.DataFrame,
    campaigns: pd.DataFrame,
    *,
    campaign: Any = None,
    pre_weeks: int = 8,
    post_weeks: int | None = None,
    match: str | None = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """Customer x week panel around a campaign's start, targeted and comparison customers.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transactions (``customer_id``, ``order_ts``, ``amount``).
    campaigns : pandas.DataFrame
        One row per targeted customer: ``customer_id`` (``customer_col``), ``start``,
        ``end`` and, when it holds several campaigns, ``campaign``.
    campaign : object, optional
        Which campaign (when the table holds several).
    pre_weeks : int
        Weeks before the start in the panel (at least 2 for the pre-trend test).
    post_weeks : int, optional
        Weeks from the start on; default the campaign's length in whole weeks (at least 1).
    match : {None, "rfm"}
        ``"rfm"``: one comparison customer per targeted one, the nearest on pre-period
        recency, frequency and spend (with replacement; a matched customer appears once per
        match, with its own cluster id per copy). Matching on pre-period spend can bias the
        estimate upwards by regression to the mean when the groups differ in level (Daw &
        Hatfield 2018); use it when the comparison pool is very unlike the targeted.
    customer_col, date_col, amount_col : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``customer``, ``week`` (relative to the start, -pre_weeks..post_weeks-1),
        ``treated``, ``post``, ``spend``, ``orders``; ``attrs["start"]`` the start date.
    """
    require_columns(transactions, {"customer": customer_col, "date": date_col,
                                   "amount": amount_col})
    if int(pre_weeks) < 2:
        raise ParameterError("pre_weeks must be at least 2 for the pre-trend test", value=pre_weeks)
    if match not in (None, "rfm"):
        raise ParameterError("match must be None or 'rfm'", value=match)
    c = _campaign_rows(campaigns, campaign, customer_col)
    start = pd.Timestamp(pd.to_datetime(c["start"]).min()).normalize()
    end = pd.Timestamp(pd.to_datetime(c["end"]).max())
    if post_weeks is None:
        post_weeks = max(1, int(np.ceil(((end - start).days + 1) / 7)))
    tx = transactions[transactions[customer_col].notna()]
    rfm = _pre_rfm(tx, start, customer_col, date_col, amount_col)
    targeted = pd.Index(pd.unique(c[customer_col]))
    treated_ids = rfm.index.intersection(targeted)  # active before the start
    if treated_ids.empty:
        raise DataError("no targeted customer bought before the campaign start", value=str(start))
    comp = _match(rfm, treated_ids) if match == "rfm" else rfm.index.difference(targeted)
    units = pd.DataFrame({"customer": np.r_[treated_ids.to_numpy(object), comp.to_numpy(object)],
                          "treated": np.r_[np.ones(len(treated_ids), np.int8),
                                           np.zeros(len(comp), np.int8)]})
    units["unit"] = np.arange(len(units))
    lo, hi = start - pd.Timedelta(weeks=int(pre_weeks)), start + pd.Timedelta(weeks=int(post_weeks))
    w = tx[(tx[date_col] >= lo) & (tx[date_col] < hi)]
    w = pd.DataFrame({"customer": w[customer_col].to_numpy(object),
                      "week": ((w[date_col] - start).dt.days // 7).to_numpy(),
                      "amount": w[amount_col].to_numpy(float),
                      "order": w["order_id"].to_numpy(object) if "order_id" in w else np.arange(len(w))})
    agg = w.groupby(["customer", "week"]).agg(spend=("amount", "sum"), orders=("order", "nunique"))
    weeks = np.arange(-int(pre_weeks), int(post_weeks))
    panel = units.loc[units.index.repeat(len(weeks))].reset_index(drop=True)
    panel["week"] = np.tile(weeks, len(units))
    panel = panel.join(agg, on=["customer", "week"])
    panel[["spend", "orders"]] = panel[["spend", "orders"]].fillna(0)
    panel["post"] = (panel["week"] >= 0).astype(np.int8)
    panel.attrs["start"] = start
    return panel[["unit", "customer", "week", "treated", "post", "spend", "orders"]]


def _grid(panel, outcome, unit, week, treated):
    """Outcome and treated as unit x week matrices of a balanced panel (weeks sorted)."""
    require_columns(panel, {"outcome": outcome, "unit": unit, "week": week, "treated": treated},
                    what="panel", fix="build it with campaign_panel or pass {role}=")
    p = panel.sort_values([unit, week], kind="stable")
    units, u_idx = np.unique(p[unit].to_numpy(), return_inverse=True)
    weeks = np.unique(p[week].to_numpy())
    if len(p) != len(units) * len(weeks) or p.groupby(unit, sort=False)[week].nunique().min() < len(weeks):
        raise DataError("the panel is not balanced: every unit needs one row per week",
                        fix="build it with campaign_panel")
    Y = p[outcome].to_numpy(np.float64).reshape(len(units), len(weeks))
    tr = p[treated].to_numpy().reshape(len(units), len(weeks))[:, 0].astype(np.float64)
    if tr.min() == tr.max():
        raise DataError("the panel needs treated and comparison units", column=treated)
    return Y, tr, weeks


def _demean(M):
    """Two-way (unit and week) fixed effects removed from a balanced unit x week matrix."""
    return M - M.mean(axis=1, keepdims=True) - M.mean(axis=0, keepdims=True) + M.mean()


def _cluster_ols(y, X, groups):
    import statsmodels.api as sm

    # fixed effects are demeaned out: no constant to detect; QR instead of the pinv's SVD
    return sm.OLS(y, X, hasconst=False).fit(method="qr", cov_type="cluster",
                                            cov_kwds={"groups": groups})


def event_study(panel: pd.DataFrame, outcome: str = "spend", *, unit: str = "unit",
                week: str = "week", treated: str = "treated", ref: int = -1,
                alpha: float = 0.05) -> tuple[pd.DataFrame, dict]:
    """Event-study coefficients by week relative to the start, and the pre-trend test.

    ``y_it = a_i + b_t + sum_k g_k treated_i [t = k] + e``, ``k != ref``, customer and week
    fixed effects (demeaned out, not counted in the small-sample factor), errors clustered
    by unit (statsmodels).

    Parameters
    ----------
    panel : pandas.DataFrame
        Balanced unit x week panel (see :func:`campaign_panel`); weeks < 0 are before.
    outcome, unit, week, treated : str
        Column names.
    ref : int
        Reference week (coefficient 0), default the last week before the start.
    alpha : float
        Intervals are ``1 - alpha``.

    Returns
    -------
    tuple
        ``(table, pretrend)``: one row per week (``coef``, ``se``, ``ci_low``, ``ci_high``,
        ``p_value``) and the joint Wald test of the pre-start coefficients (``chi2``, ``df``,
        ``p_value``, ``passed`` at ``alpha``).
    """
    from scipy import stats

    Y, tr, weeks = _grid(panel, outcome, unit, week, treated)
    if ref not in weeks or (weeks < 0).sum() < 2:
        raise ParameterError("the reference week must be in the panel and two weeks before the "
                             "start are needed", value=ref)
    ks = [k for k in weeks if k != ref]
    U, W = Y.shape
    X = np.column_stack([_demean(np.outer(tr, weeks == k)).ravel() for k in ks])
    fit = _cluster_ols(_demean(Y).ravel(), X, np.repeat(np.arange(U), W))
    ci = fit.conf_int(alpha=alpha)
    table = pd.DataFrame({"week": ks, "coef": fit.params, "se": fit.bse, "ci_low": ci[:, 0],
                          "ci_high": ci[:, 1], "p_value": fit.pvalues})
    ref_row = pd.DataFrame([{"week": ref, "coef": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0,
                             "p_value": np.nan}])
    table = pd.concat([table, ref_row]).sort_values("week").set_index("week")
    pre = [i for i, k in enumerate(ks) if k < 0]
    b, V = fit.params[pre], fit.cov_params()[np.ix_(pre, pre)]
    chi2 = float(b @ np.linalg.solve(V, b))
    p = float(stats.chi2.sf(chi2, len(pre)))
    return table, {"chi2": chi2, "df": len(pre), "p_value": p, "passed": p >= alpha}


def _did(Y, tr, post, alpha):
    """Two-way fixed-effects DiD coefficient of treated x post with clustered errors."""
    U, W = Y.shape
    x = _demean(np.outer(tr, post)).ravel()
    fit = _cluster_ols(_demean(Y).ravel(), x[:, None], np.repeat(np.arange(U), W))
    lo, hi = fit.conf_int(alpha=alpha)[0]
    return {"estimate": float(fit.params[0]), "se": float(fit.bse[0]), "ci_low": float(lo),
            "ci_high": float(hi), "p_value": float(fit.pvalues[0])}


class ObservationalResult(Result):
    """Difference-in-differences of a non-randomised campaign, with its pre-trend test.

    Built by :func:`did_campaign`.

    Parameters
    ----------
    did : dict
        ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``p_value`` (per customer and week).
    pretrend : dict
        Joint Wald test of the pre-start event coefficients (``chi2``, ``df``, ``p_value``,
        ``passed``).
    placebo : dict
        The DiD of a fake start in the middle of the pre-period (``start_week`` too).
    events : pandas.DataFrame
        Event-study coefficients by week relative to the start.
    means : pandas.DataFrame
        Mean outcome per group and period.
    outcome : str
    n_units, n_treated : int
    alpha : float
    """

    title = "Campaign without a control group: difference-in-differences (observational)"

    def __init__(self, did, pretrend, placebo, events, means, outcome, n_units, n_treated, alpha):
        self.did = did
        self.pretrend = pretrend
        self.placebo = placebo
        self.events = events
        self.means = means
        self.outcome = outcome
        self.n_units = n_units
        self.n_treated = n_treated
        self.alpha = alpha

    @property
    def credible(self) -> bool:
        """The pre-trend test passed (necessary, not sufficient, for parallel trends)."""
        return bool(self.pretrend["passed"])

    @property
    def label(self) -> str:
        """``"observational (DiD)"`` or :data:`NOT_CREDIBLE`."""
        return "observational (DiD)" if self.credible else NOT_CREDIBLE

    @property
    def notes(self) -> tuple[str, ...]:
        d, pt, pl = self.did, self.pretrend, self.placebo
        est = (f"Difference-in-differences on {self.outcome}: {d['estimate']:+,.4g} per customer "
               f"and week ({100 * (1 - self.alpha):.0f}% interval {d['ci_low']:+,.4g} to "
               f"{d['ci_high']:+,.4g}, p = {d['p_value']:.3g}), {self.n_treated:,} targeted vs "
               f"{self.n_units - self.n_treated:,} comparison customers, errors clustered by "
               "customer.")
        pre = (f"Pre-trend test: the targeted and comparison customers' weekly {self.outcome} "
               f"before the start differ jointly with chi-square {pt['chi2']:.2f} on {pt['df']} "
               f"df, p = {pt['p_value']:.3g}; placebo start in week {pl['start_week']}: "
               f"{pl['estimate']:+,.4g} (p = {pl['p_value']:.3g}).")
        if self.credible:
            verdict = ("The groups moved in parallel before the campaign, so the estimate is "
                       "usable, but it remains observational evidence: a randomised holdout "
                       "would settle it.")
        else:
            verdict = ("Not credible: pre-trends differ. The targeted customers were already "
                       "moving differently before the campaign, so the estimate mixes the "
                       "campaign with that difference; do not report it as the campaign's effect.")
        return (est, pre, verdict)

    @property
    def summary(self) -> pd.DataFrame:
        d = self.did
        return pd.DataFrame([{
            "outcome": self.outcome, "did_estimate": d["estimate"], "se": d["se"],
            "ci_low": d["ci_low"], "ci_high": d["ci_high"], "p_value": d["p_value"],
            "pretrend_p": self.pretrend["p_value"], "placebo_p": self.placebo["p_value"],
            "n_units": self.n_units, "n_treated": self.n_treated, "evidence": self.label,
        }]).set_index("outcome")

    def to_dict(self) -> dict[str, Any]:
        """Flat: ``did_*`` numbers, ``pretrend_chi2``, ``pretrend_p_value``,
        ``placebo_estimate``, ``placebo_p_value``, ``credible`` and ``evidence`` (the label).

        Returns
        -------
        dict
        """
        out = {f"did_{k}": v for k, v in self.did.items()}
        out.update(pretrend_chi2=self.pretrend["chi2"], pretrend_df=self.pretrend["df"],
                   pretrend_p_value=self.pretrend["p_value"],
                   placebo_estimate=self.placebo["estimate"],
                   placebo_p_value=self.placebo["p_value"], credible=self.credible,
                   evidence=self.label, n_units=self.n_units, n_treated=self.n_treated)
        return to_jsonable(out)

    def _repr_html_(self) -> str:
        fmt = lambda x: f"{x:,.4g}"  # noqa: E731
        colour = "#2e7d32" if self.credible else "#b00020"
        head = f'<p style="color:{colour}"><b>{html.escape(self.label)}</b></p>'
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)
        return (f"<h4>{html.escape(self.title)}</h4>{head}{notes}"
                + self.summary.to_html(float_format=fmt) + self.means.to_html(float_format=fmt))

    def plot(self, ax=None):
        """Event study: effect by week relative to the start, with intervals.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = get_ax(ax, (6, 3.5), layout=None)
        e = self.events
        ax.errorbar(e.index, e["coef"], yerr=[e["coef"] - e["ci_low"], e["ci_high"] - e["coef"]],
                    fmt="o", capsize=3)
        ax.axhline(0, color="grey", lw=1)
        ax.axvline(-0.5, color="tab:red", ls="--", lw=1)
        ax.set_xlabel("week relative to the campaign start")
        ax.set_ylabel(f"targeted - comparison, {self.outcome}")
        ax.set_title(self.label)
        return ax


def did_campaign(panel: pd.DataFrame, outcome: str = "spend", *, unit: str = "unit",
                 week: str = "week", treated: str = "treated",
                 alpha: float = 0.05) -> ObservationalResult:
    """Effect of a non-randomised campaign by difference-in-differences, pre-trends tested.

    Parameters
    ----------
    panel : pandas.DataFrame
        Balanced unit x week panel, weeks relative to the start (see :func:`campaign_panel`).
    outcome : str
        Outcome column (``"spend"`` or ``"orders"`` from :func:`campaign_panel`).
    unit, week, treated : str
        Column names.
    alpha : float
        Significance level of the intervals and of the pre-trend and placebo tests.

    Returns
    -------
    ObservationalResult
        ``label`` is :data:`NOT_CREDIBLE` when the pre-trend test fails.
    """
    if not 0 < alpha < 1:
        raise ParameterError("alpha must be between 0 and 1", value=alpha)
    Y, tr, weeks = _grid(panel, outcome, unit, week, treated)
    did = _did(Y, tr, (weeks >= 0).astype(float), alpha)
    events, pretrend = event_study(panel, outcome, unit=unit, week=week, treated=treated,
                                   alpha=alpha)
    pre = weeks < 0
    fake = int(weeks[pre][pre.sum() // 2])
    placebo = _did(Y[:, pre], tr, (weeks[pre] >= fake).astype(float), alpha)
    placebo["start_week"] = fake
    grp = np.where(tr == 1, "targeted", "comparison")
    means = pd.DataFrame({"pre": [Y[grp == g][:, pre].mean() for g in ("targeted", "comparison")],
                          "post": [Y[grp == g][:, ~pre].mean() for g in ("targeted", "comparison")]},
                         index=pd.Index(["targeted", "comparison"], name="group"))
    means["change"] = means["post"] - means["pre"]
    return ObservationalResult(did, pretrend, placebo, events, means, outcome, len(tr),
                               int(tr.sum()), alpha)
