"""Campaign effect by customer type, and whether it really differs between types.

The lift of each arm is measured within each segment (RFM segment, new vs existing, channel)
and Cochran's (1954) Q heterogeneity test, corrected over every dimension scanned, says
whether targeting by that dimension is supported by the data.

References
----------
Cochran (1954), "The combination of estimates from different experiments", Biometrics 10.
"""

from __future__ import annotations

import html
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.campaign.io import arm_codes, is_binary, plot_label, require, slug, values
from crmlab.campaign.moments import Moments, welch, ztest_2prop
from crmlab.campaign.narrative import segment_recommendations
from crmlab.errors import ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result, to_jsonable
from crmlab.stats import adjust_pvalues, check_correction

__all__ = ["SegmentEffectsResult", "segment_effects"]


class SegmentEffectsResult(Result):
    """Lift per customer segment and whether the effect really differs between segments.

    Built by :func:`segment_effects`.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per dimension, segment, outcome and treatment arm: sizes, control and arm
        value, lift with interval, p-value and ``action`` ("target": the interval is above
        zero; "avoid": below zero; "unclear").
    interaction : pandas.DataFrame
        One row per dimension, outcome and arm: Cochran's Q, df, p-value, the corrected
        ``p_adjusted`` and ``differs`` (p_adjusted < alpha).
    alpha : float
        Significance level.
    recommendation : list of str
        Plain-language summary of whom to target, one sentence per interaction row.
    control : object, optional
        The control arm's label.
    """

    title = "Campaign effect by segment"

    def __init__(self, table, interaction, alpha, recommendation, control=None):
        self.control = control
        self.table = table
        self.interaction = interaction
        self.alpha = alpha
        self.recommendation = recommendation
        self.notes = tuple(recommendation)

    @property
    def summary(self) -> pd.DataFrame:
        cols = ["n_control", "n_arm", "control_value", "arm_value", "lift_abs", "ci_low",
                "ci_high", "lift_rel", "p_value", "action"]
        return self.table.set_index(["dimension", "segment", "outcome", "arm"])[cols]

    def targets(self, outcome: str | None = None, arm: Any | None = None) -> pd.DataFrame:
        """Segments whose lift interval lies above zero, largest lift first.

        Parameters
        ----------
        outcome, arm : optional
            Only rows of this outcome / treatment arm.

        Returns
        -------
        pandas.DataFrame
            Rows of :attr:`table`.
        """
        t = self.table[self.table["action"] == "target"]
        if outcome is not None:
            t = t[t["outcome"] == outcome]
        if arm is not None:
            t = t[t["arm"] == arm]
        return t.sort_values("lift_abs", ascending=False)

    def response(self, dimension: str, outcome: str | None = None,
                 arm: Any | None = None) -> pd.DataFrame:
        """Measured campaign response per segment of one dimension (one outcome and arm).

        Parameters
        ----------
        dimension : str
            An analysed segment column.
        outcome, arm : optional
            Default: the first outcome and arm.

        Returns
        -------
        pandas.DataFrame
            Indexed by segment label; columns ``lift_abs``, ``ci_low``, ``ci_high``,
            ``lift_rel``, ``p_value``, ``action``, ``n_arm``, ``n_control``.
        """
        t = self.table
        if dimension not in set(t["dimension"]):
            raise ParameterError("dimension was not analysed", value=dimension,
                                 expected=f"one of {sorted(set(t['dimension']))}")
        outcome = t["outcome"].iloc[0] if outcome is None else outcome
        arm = t["arm"].iloc[0] if arm is None else arm
        t = t[(t["dimension"] == dimension) & (t["outcome"] == outcome) & (t["arm"] == arm)]
        return t.set_index("segment")[["lift_abs", "ci_low", "ci_high", "lift_rel", "p_value",
                                       "action", "n_arm", "n_control"]]

    def to_dict(self) -> dict[str, Any]:
        """Flat numbers for the strategy report.

        Keys ``<outcome>__<arm>__<dimension>__<segment>__<metric>`` (metric in n_arm,
        n_control, control_value, arm_value, lift_abs, ci_low, ci_high, lift_rel, p_value,
        action) and ``<outcome>__<arm>__<dimension>__interaction_p_value`` / ``__differs``;
        every name passes through :func:`~crmlab.campaign.slug`.

        Returns
        -------
        dict
            Plain JSON values (NaN becomes None).
        """
        out: dict[str, Any] = {}
        for _, r in self.table.iterrows():
            base = f"{slug(r['outcome'])}__{slug(r['arm'])}__{slug(r['dimension'])}__{slug(r['segment'])}"
            for m in ("n_arm", "n_control", "control_value", "arm_value", "lift_abs", "ci_low",
                      "ci_high", "lift_rel", "p_value", "action"):
                out[f"{base}__{m}"] = r[m]
        for _, r in self.interaction.iterrows():
            base = f"{slug(r['outcome'])}__{slug(r['arm'])}__{slug(r['dimension'])}"
            out[f"{base}__interaction_q"] = r["q"]
            out[f"{base}__interaction_p_value"] = r["p_value"]
            out[f"{base}__interaction_p_adjusted"] = r["p_adjusted"]
            out[f"{base}__differs"] = bool(r["differs"])
        return to_jsonable(out)

    def _repr_html_(self) -> str:
        fmt = lambda x: f"{x:,.4g}"  # noqa: E731
        rec = "".join(f"<li>{html.escape(s)}</li>" for s in self.recommendation)
        return (f"<h4>{html.escape(self.title)}</h4><ul>{rec}</ul>"
                + self.interaction.set_index(["dimension", "outcome", "arm"]).to_html(float_format=fmt)
                + self.summary.to_html(float_format=fmt))

    def plot(self, outcome: str | None = None, arm: Any | None = None, *, dimension=None, ax=None):
        """Lift with interval per segment (one outcome and arm).

        Parameters
        ----------
        outcome, arm : optional
            Default: the first outcome and arm.
        dimension : str, optional
            Only this segment column.
        ax : matplotlib.axes.Axes, optional
            Where to draw.

        Returns
        -------
        matplotlib.axes.Axes
        """
        t = self.table
        outcome = t["outcome"].iloc[0] if outcome is None else outcome
        arm = t["arm"].iloc[0] if arm is None else arm
        t = t[(t["outcome"] == outcome) & (t["arm"] == arm)]
        if dimension is not None:
            t = t[t["dimension"] == dimension]
        ax = get_ax(ax, (6, 0.6 + 0.4 * len(t)), layout=None)
        y = np.arange(len(t))[::-1]
        colors = t["action"].map({"target": "tab:green", "avoid": "tab:red"}).fillna("tab:grey")
        for yi, (_, r), c in zip(y, t.iterrows(), colors):
            ax.errorbar(r["lift_abs"], yi, xerr=[[r["lift_abs"] - r["ci_low"]],
                                                  [r["ci_high"] - r["lift_abs"]]],
                        fmt="o", color=c, capsize=3)
        ax.axvline(0, color="grey", lw=1)
        ax.set_yticks(y, [plot_label(f"{d}: {s}") for d, s in zip(t["dimension"], t["segment"])])
        ax.set_xlabel(plot_label(f"lift in {outcome}, {arm} vs {self.control}"))
        return ax


def segment_effects(
    data: pd.DataFrame,
    by: str | Sequence[str],
    *,
    arm: str = "segment",
    outcome: str | Sequence[str] = "conversion",
    control: Any = "No E-Mail",
    treatments: Sequence | None = None,
    alpha: float = 0.05,
    correction: str | None = "holm",
) -> SegmentEffectsResult:
    """Effect of each treatment arm within each segment, and whether the effect differs.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer.
    by : str or sequence of str
        Segment column(s), e.g. ``"channel"``, ``["newbie", "zip_code"]`` or an RFM
        ``segment`` column joined onto the experiment; each is analysed separately.
    arm, outcome, control, treatments, alpha
        As in :func:`~crmlab.campaign.measure` (``outcome`` may be one name or several).
    correction : str or None
        Correction of the interaction p-values over all dimensions, outcomes and arms tested
        (``"holm"``, ``"bh"``/``"fdr_bh"``, ``"bonferroni"`` or None): looking for *some*
        segment difference in many columns finds one by chance otherwise. ``differs`` uses
        the corrected p-value.

    Returns
    -------
    SegmentEffectsResult

    Notes
    -----
    Within a segment the lift and its interval are as in :func:`~crmlab.campaign.measure` (Wald for rates,
    Welch for amounts). Whether the effect differs across the segments of a dimension is
    Cochran's (1954) Q heterogeneity test of the segment lifts, ``sum w (d - d_w)^2`` with
    ``w = 1 / se^2`` (per-cell variances with ddof=1), on k-1 degrees of freedom. It equals the
    Wald test of the arm x segment interaction terms in the saturated linear model
    ``outcome ~ C(arm) * C(segment)`` with HC2 robust errors. Segments where the lift has no
    variance (for example no conversions in either arm) are left out of Q.
    """
    by = [by] if isinstance(by, str) else list(by)
    outcomes = [outcome] if isinstance(outcome, str) else list(outcome)
    check_correction(correction)
    require(data, "segment", by, "by")
    require(data, "outcome", outcomes, "outcome")
    codes, labels, keep = arm_codes(data, arm, control, treatments)
    ys = {}
    for o in outcomes:
        y = values(data, o, keep)
        ys[o] = (y, is_binary(y))
    rows, inter = [], []
    for dim in by:
        scodes, suniq = _segment_codes(data[dim], keep)
        for o in outcomes:
            r, q = _dimension_effects(dim, o, *ys[o], codes, labels, scodes, suniq, alpha)
            rows += r
            inter += q
    table = pd.DataFrame(rows)
    interaction = pd.DataFrame(inter)
    interaction["p_adjusted"] = adjust_pvalues(interaction["p_value"].to_numpy(), correction)
    interaction["differs"] = interaction["p_adjusted"] < alpha
    rec = segment_recommendations(table, interaction)
    return SegmentEffectsResult(table, interaction, alpha, rec, control=control)


def _segment_codes(s: pd.Series, keep: np.ndarray | None) -> tuple[np.ndarray, list]:
    """Integer codes of a segment column (sorted labels); missing labels get "(missing)"."""
    if keep is not None:
        s = s[keep]
    scodes, suniq = pd.factorize(s, sort=True, use_na_sentinel=True)
    suniq = list(suniq)
    if (scodes < 0).any():
        scodes = np.where(scodes < 0, len(suniq), scodes)
        suniq.append("(missing)")
    return scodes, suniq


def _dimension_effects(dim, o, y, is_bin, codes, labels, scodes, suniq, alpha):
    """Per-segment rows and one interaction row per treatment arm, for one dimension and outcome."""
    k, m = len(labels), len(suniq)
    mom = Moments(codes * m + scodes, k * m, y, third=False, shift=0.0 if is_bin else None,
                  binary=is_bin)
    nn, mean, var = mom.n.reshape(k, m), mom.mean.reshape(k, m), mom.var.reshape(k, m)
    rows, inter = [], []
    for j in range(1, k):
        d_list, w_list = [], []
        for si, seg in enumerate(suniq):
            n1, n0 = nn[j, si], nn[0, si]
            r = {"dimension": dim, "segment": seg, "outcome": o, "arm": labels[j],
                 "n_control": int(n0), "n_arm": int(n1),
                 "control_value": mean[0, si], "arm_value": mean[j, si]}
            rows.append(r)
            if n1 < 2 or n0 < 2:
                r.update(lift_abs=np.nan, ci_low=np.nan, ci_high=np.nan, lift_rel=np.nan,
                         p_value=np.nan, action="unclear")
                continue
            r.update(_segment_lift(mean[:, si], var[:, si], n1, n0, j, is_bin, alpha))
            v = var[j, si] / n1 + var[0, si] / n0
            if v > 0:
                d_list.append(r["lift_abs"])
                w_list.append(1 / v)
        qstat, dfree, pq = _cochran_q(np.array(d_list), np.array(w_list))
        inter.append({"dimension": dim, "outcome": o, "arm": labels[j], "q": qstat,
                      "df": dfree, "p_value": pq,
                      "differs": bool(np.isfinite(pq) and pq < alpha),  # corrected later
                      "segments_tested": len(d_list)})
    return rows, inter


def _segment_lift(mean, var, n1, n0, j, is_bin, alpha) -> dict:
    """Lift of arm ``j`` over the control within one segment, its interval and action."""
    if is_bin:
        diff, _, _, p, lo, hi = ztest_2prop(mean[j] * n1, n1, mean[0] * n0, n0, alpha)
    else:
        diff, _, _, _, p, lo, hi = welch(mean[j], var[j], n1, mean[0], var[0], n0, alpha)
    rel = mean[j] / mean[0] - 1 if mean[0] != 0 else np.nan
    action = "target" if lo > 0 else ("avoid" if hi < 0 else "unclear")
    return dict(lift_abs=diff, ci_low=lo, ci_high=hi, lift_rel=rel, p_value=p, action=action)


def _cochran_q(d: np.ndarray, w: np.ndarray) -> tuple[float, int, float]:
    """Cochran's Q of lifts ``d`` with weights ``w`` (1 / variance): statistic, df, p-value."""
    if d.size < 2:
        return np.nan, 0, np.nan
    dbar = (w * d).sum() / w.sum()
    qstat = float((w * (d - dbar) ** 2).sum())
    dfree = d.size - 1
    return qstat, dfree, float(stats.chi2.sf(qstat, dfree))
