"""Read out a randomised campaign test: sample-ratio check first, then the lift of every arm.

Per arm and outcome: the rate or mean, absolute and relative lift with confidence intervals,
a two-proportion z-test (binary outcomes) or Welch's t-test (amounts, bootstrapped when too
skewed), multiple-testing corrected p-values and, with a pre-period covariate, CUPED variance
reduction.

Binary outcomes: two-proportion z-test with pooled variance (statsmodels
``proportions_ztest``), Wald interval for the difference, Katz log interval for the ratio.
Amounts: Welch's t-test and interval (scipy ``ttest_ind(equal_var=False)``); relative lift
by the delta method on the log ratio. When an arm has fewer than ``355 * skewness**2``
customers (Kohavi et al. 2020) the normal approximation is doubtful: a note says so and
``ci_low``/``ci_high`` (and the relative interval) become percentile bootstrap intervals
(resampling within each arm, seeded by ``random_state``; Efron & Tibshirani 1993), the
Welch interval staying in ``t_ci_low``/``t_ci_high``.

CUPED (Deng et al. 2013): ``y - theta * (x - mean(x))`` with ``theta`` the within-arm
pooled regression slope of the outcome on the covariate; ``variance_reduction`` is
``1 - var(CUPED lift) / var(lift)``.

References
----------
Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, Cambridge University
Press (the ``n > 355 * skewness**2`` rule for the t-test, ch. 17).
Deng, Xu, Kohavi & Walker (2013), "Improving the sensitivity of online controlled experiments
by utilizing pre-experiment data", WSDM (CUPED).
Welch (1947), "The generalization of Student's problem when several different population
variances are involved", Biometrika 34.
Efron & Tibshirani (1993), *An Introduction to the Bootstrap* (percentile intervals).
"""

from __future__ import annotations

import html
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from crmlab.campaign.design import observational_readout, split_shares, srm_readout
from crmlab.campaign.io import arm_codes, is_binary, plot_label, require, slug, values
from crmlab.campaign.moments import Moments, bootstrap_means, rel_interval, welch, ztest_2prop
from crmlab.errors import DataError, ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result, to_jsonable
from crmlab.stats import adjust_pvalues, check_correction
from crmlab.spark.session import is_spark_frame

__all__ = ["SKEW_RULE", "MeasureResult", "measure"]

#: Kohavi et al. (2020): the t-test's normal approximation is adequate when each arm has
#: more than ``355 * skewness**2`` observations.
SKEW_RULE = 355.0


class MeasureResult(Result):
    """Read-out of a randomised campaign test (see :func:`measure`, which builds it).

    Parameters
    ----------
    arm : str
        The arm column.
    control : object
        The control arm's label.
    outcomes : list of str
        The measured outcomes.
    kinds : dict
        ``"binary"`` or ``"amount"`` per outcome.
    arms : pandas.DataFrame
        One row per arm (control first): size, share, intended share and each outcome's
        rate or mean.
    srm : dict
        ``chi2``, ``df``, ``p_value``, ``failed`` (p < 0.001) and ``message``.
    comparisons : pandas.DataFrame
        One row per outcome and treatment arm against the control.
    covariate : str or None
        The CUPED covariate.
    correction : str or None
        The multiple-testing correction as it was asked for.
    alpha : float
        Significance level.
    notes : sequence of str
        Sentences shown with the tables, the SRM message first.
    assignment : str
        ``"randomised"`` or ``"observational"``.
    """

    title = "Campaign measurement"

    def __init__(self, *, arm, control, outcomes, kinds, arms, srm, comparisons, covariate,
                 correction, alpha, notes, assignment="randomised"):
        self.assignment = assignment
        self.arm = arm
        self.control = control
        self.outcomes = list(outcomes)
        self.kinds = dict(kinds)
        self.arms = arms
        self.srm = srm
        self.comparisons = comparisons
        self.covariate = covariate
        self.correction = correction
        self.alpha = alpha
        self.notes = tuple(notes)

    @property
    def treatments(self) -> list:
        """Treatment arm labels, in the order of :attr:`arms`."""
        return list(self.arms.index[1:])

    @property
    def variance_reduction(self) -> pd.Series | None:
        """Mean CUPED variance reduction of the lift per outcome (None without a covariate)."""
        return None if not self.covariate else _variance_reduction(self.comparisons)

    @property
    def summary(self) -> pd.DataFrame:
        cols = ["outcome", "arm", "kind", "control_value", "arm_value", "lift_abs",
                "ci_low", "ci_high", "lift_rel", "rel_ci_low", "rel_ci_high", "test",
                "p_value", "p_adjusted", "significant", "ci_method"]
        if self.covariate is not None:
            cols += ["cuped_lift_abs", "cuped_ci_low", "cuped_ci_high", "cuped_p_value",
                     "cuped_p_adjusted", "variance_reduction"]
        return self.comparisons[cols].set_index(["outcome", "arm"])

    def lift(self, outcome: str, arm: Any | None = None) -> pd.Series:
        """The comparison row of one outcome and treatment arm.

        Parameters
        ----------
        outcome : str
            A measured outcome.
        arm : object, optional
            A treatment arm; default the first.

        Returns
        -------
        pandas.Series
            The row of :attr:`comparisons`.
        """
        arm = self.treatments[0] if arm is None else arm
        c = self.comparisons
        row = c[(c["outcome"] == outcome) & (c["arm"] == arm)]
        if row.empty:
            raise ParameterError(
                "no such comparison", value=(outcome, arm),
                expected=f"outcome in {self.outcomes}, arm in {self.treatments}",
            )
        return row.iloc[0]

    def ranking(self, outcome: str) -> list:
        """Treatment arms ordered by absolute lift on ``outcome``, best first.

        Parameters
        ----------
        outcome : str
            A measured outcome.

        Returns
        -------
        list
            Arm labels.
        """
        c = self.comparisons[self.comparisons["outcome"] == outcome]
        if c.empty:
            raise ParameterError("outcome was not measured", value=outcome,
                                 expected=f"one of {self.outcomes}")
        return list(c.sort_values("lift_abs", ascending=False)["arm"])

    def to_dict(self) -> dict[str, Any]:
        """Flat headline numbers.

        Keys: ``n_total``, ``srm_chi2``, ``srm_p_value``, ``srm_failed``, ``n__<arm>``,
        ``<outcome>__<arm>__mean`` for every arm, and for every treatment arm
        ``<outcome>__<arm>__<metric>`` with metric in lift_abs, ci_low, ci_high, lift_rel,
        rel_ci_low, rel_ci_high, p_value, p_adjusted, significant (and the cuped_* metrics
        and variance_reduction with a covariate). Names pass through :func:`~crmlab.campaign.slug`.

        Returns
        -------
        dict
            Plain JSON values (NaN becomes None).
        """
        out: dict[str, Any] = {
            "arm_column": self.arm,
            "control": str(self.control),
            "control_slug": slug(self.control),
            "n_total": int(self.arms["n"].sum()),
            "srm_chi2": self.srm["chi2"],
            "srm_p_value": self.srm["p_value"],
            "srm_failed": bool(self.srm["failed"]),
            "correction": self.correction,
            "assignment": self.assignment,
        }
        for lab, row in self.arms.iterrows():
            out[f"n__{slug(lab)}"] = int(row["n"])
            for o in self.outcomes:
                out[f"{o}__{slug(lab)}__mean"] = row[o]
        metrics = ["lift_abs", "ci_low", "ci_high", "lift_rel", "rel_ci_low", "rel_ci_high",
                   "p_value", "p_adjusted", "significant"]
        if self.covariate is not None:
            metrics += ["cuped_lift_abs", "cuped_ci_low", "cuped_ci_high", "cuped_p_value",
                        "cuped_p_adjusted", "variance_reduction"]
        for _, r in self.comparisons.iterrows():
            for m in metrics:
                out[f"{r['outcome']}__{slug(r['arm'])}__{m}"] = r[m]
        return to_jsonable(out)

    def _repr_html_(self) -> str:
        srm = self.srm
        if srm["failed"]:
            banner = (
                '<div style="border:3px solid #b00020;background:#fdecea;padding:8px;'
                'margin-bottom:8px"><b style="color:#b00020;font-size:1.2em">SAMPLE RATIO '
                f"MISMATCH</b><br>{html.escape(srm['message'])}</div>"
            )
        else:
            banner = f'<p style="color:#2e7d32">{html.escape(srm["message"])}</p>'
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes if n != srm["message"])
        fmt = lambda x: f"{x:,.4g}"  # noqa: E731
        arms = self.arms.to_html(float_format=fmt)
        table = self.summary.to_html(float_format=fmt)
        return f"<h4>{html.escape(self.title)}</h4>{banner}{arms}{table}{notes}"

    def __repr__(self) -> str:
        return (f"{self.title}\n{self.srm['message']}\n{self.arms.to_string()}\n"
                f"{self.summary.to_string()}")

    def plot(self, outcome: str | None = None, *, relative: bool = True, cuped: bool = False,
             ax=None):
        """Forest plot of the lift of each treatment arm with its interval.

        Parameters
        ----------
        outcome : str, optional
            Only this outcome (default all).
        relative : bool
            Relative instead of absolute lifts.
        cuped : bool
            The CUPED lifts (absolute), when a covariate was given.
        ax : matplotlib.axes.Axes, optional
            Where to draw.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = get_ax(ax, (6, 0.6 + 0.45 * len(self.comparisons)), layout=None)
        c = self.comparisons if outcome is None else self.comparisons[
            self.comparisons["outcome"] == outcome]
        if cuped and self.covariate is not None:
            est, lo, hi = c["cuped_lift_abs"], c["cuped_ci_low"], c["cuped_ci_high"]
        elif relative:
            est, lo, hi = c["lift_rel"], c["rel_ci_low"], c["rel_ci_high"]
        else:
            est, lo, hi = c["lift_abs"], c["ci_low"], c["ci_high"]
        y = np.arange(len(c))[::-1]
        ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", capsize=3)
        ax.axvline(0, color="grey", lw=1)
        ax.set_yticks(y, [plot_label(f"{o}: {a}") for o, a in zip(c["outcome"], c["arm"])])
        ax.set_xlabel(plot_label(("relative" if relative and not cuped else "absolute")
                             + f" lift vs {self.control} ({100 * (1 - self.alpha):.0f}% interval)"))
        return ax


def _measure_on_spark(kw: dict) -> MeasureResult:
    """:func:`measure` of a Spark DataFrame (crmlab.spark.campaign; randomised tests only)."""
    from crmlab.spark.campaign import measure as spark_measure

    kw.pop("assignment", None)
    return spark_measure(kw.pop("data"), kw.pop("arm"), kw.pop("outcomes"), kw.pop("control"), **kw)


def measure(
    data: pd.DataFrame,
    arm: str = "segment",
    outcomes: Sequence[str] = ("visit", "conversion", "spend"),
    control: Any = "No E-Mail",
    *,
    treatments: Sequence | None = None,
    binary: Sequence[str] | None = None,
    intended_split: Mapping | Sequence[float] | None = None,
    covariate: str | None = None,
    correction: str | None = "holm",
    alpha: float = 0.05,
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = 0,
    assignment: str = "randomised",
) -> MeasureResult:
    """Measure a randomised campaign: every treatment arm against the control, per outcome.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer.
    arm : str
        Column with the arm label (Hillstrom: ``"segment"``).
    outcomes : sequence of str
        Outcome columns; 0/1 columns are treated as binary (rates), others as amounts.
    control : object
        Label of the control (no-contact) arm.
    treatments : sequence, optional
        Arms to compare with the control (default: all others).
    binary : sequence of str, optional
        Outcomes that must be 0/1 (else :class:`~crmlab.errors.DataError`).
    intended_split : mapping or sequence of float, optional
        Intended share per arm, ``{label: share}`` (preferred) or a sequence in the order of
        ``result.arms`` (control first, then the treatments as given or in order of first
        appearance); default: equal split.
    covariate : str, optional
        Pre-period column for CUPED variance reduction (Hillstrom: ``"history"``).
    correction : str or None
        ``"holm"`` (default), ``"bh"`` or ``"fdr_bh"`` (Benjamini-Hochberg),
        ``"bonferroni"``, or None / ``"none"``, applied over all outcome x arm comparisons
        (:func:`crmlab.stats.adjust_pvalues`).
    alpha : float
        Significance level; intervals are ``1 - alpha``.
    n_boot, random_state : bootstrap resamples (for amounts too skewed for the t-test) and seed.
    assignment : {"randomised", "observational"}
        ``"observational"`` for chosen (targeted) groups: no SRM check; the first note says
        the differences are not effects and points to :func:`~crmlab.campaign.did_campaign`.

    Returns
    -------
    MeasureResult
        ``.srm`` is checked first: if it fails (p < 0.001), a
        :class:`~crmlab.campaign.SampleRatioMismatchWarning` is issued and the display leads
        with it.

    Notes
    -----
    Tests, intervals, the bootstrap rule and CUPED: see :mod:`crmlab.campaign.readout`.
    Without randomisation: :func:`~crmlab.campaign.did_campaign`.
    """
    if is_spark_frame(data):  # sufficient statistics aggregated in Spark, the same tests
        return _measure_on_spark(dict(locals()))
    outcomes, binary = _check_measure_args(data, outcomes, binary, covariate, correction, alpha, n_boot)
    rng = np.random.default_rng(random_state)
    codes, labels, keep = arm_codes(data, arm, control, treatments, intended_split)
    arms_tab, srm = _arms_and_split(codes, labels, arm, intended_split, assignment)
    notes = [srm["message"]]
    xm = _covariate_moments(data, covariate, keep, codes, len(labels))
    rows, kinds = [], {}
    for o in outcomes:
        kinds[o], arms_tab[o], o_rows = _measure_outcome(data, o, keep, binary, codes, labels,
                                                         xm, n_boot, rng, alpha, notes)
        rows += o_rows
    comp = _adjust(pd.DataFrame(rows), correction, alpha, covariate, notes)
    return MeasureResult(arm=arm, control=control, outcomes=outcomes, kinds=kinds, arms=arms_tab,
                         srm=srm, comparisons=comp, covariate=covariate, correction=correction,
                         alpha=alpha, notes=notes, assignment=assignment)


def _arms_and_split(codes, labels, arm, intended_split, assignment):
    """Arm table (size, share, intended share) and the split check: the sample-ratio test
    (first, since a broken split voids every lift) or, for chosen groups, the observational
    note."""
    n = np.bincount(codes, minlength=len(labels)).astype(np.float64)
    shares = split_shares(intended_split, labels)
    if assignment not in ("randomised", "observational"):
        raise ParameterError("assignment must be 'randomised' or 'observational'", value=assignment)
    srm = (observational_readout(n, labels) if assignment == "observational"
           else srm_readout(n, labels, shares, stacklevel=4))
    arms_tab = pd.DataFrame({"n": n.astype(np.int64), "share": n / n.sum(), "intended_share": shares},
                            index=pd.Index(labels, name=arm))
    return arms_tab, srm


def _check_measure_args(data, outcomes, binary, covariate, correction, alpha, n_boot):
    """Validated outcomes and binary lists; raises for anything :func:`measure` cannot use."""
    if not isinstance(data, pd.DataFrame):
        raise ParameterError("data must be a pandas DataFrame", value=type(data).__name__)
    if not 0 < alpha < 1:
        raise ParameterError("alpha must be between 0 and 1", value=alpha)
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    if not outcomes:
        raise ParameterError("no outcomes given", fix='pass outcomes=["conversion", ...]')
    check_correction(correction)
    require(data, "outcome", outcomes, "outcomes")
    if covariate is not None:
        require(data, "covariate", [covariate], "covariate")
    binary = list(binary or [])
    for b in binary:
        if b not in outcomes:
            raise ParameterError("binary outcome is not among the outcomes", value=b,
                                 expected=f"one of {outcomes}")
    if n_boot is None or n_boot < 0:
        raise ParameterError("n_boot must be a non-negative number of resamples", value=n_boot)
    return outcomes, binary


def _covariate_moments(data, covariate, keep, codes, k) -> Moments | None:
    """Per-arm moments of the CUPED covariate (None without one)."""
    if covariate is None:
        return None
    return Moments(codes, k, values(data, covariate, keep, role="covariate"), third=False)


def _outcome_kind(o: str, y: np.ndarray, binary: list) -> str:
    """``"binary"`` for 0/1 outcomes, else ``"amount"``; raises if ``binary=`` names a non-0/1 one."""
    if is_binary(y):
        return "binary"
    if o in binary:
        bad = y[(y != 0) & (y != 1)]
        raise DataError(
            "a proportion test was asked for but the outcome is not binary", column=o,
            value=sorted(set(np.unique(bad[:1000]).tolist()))[:5],
            expected="only 0 and 1", fix="recode the outcome to 0/1 or drop it from binary=",
        )
    return "amount"


def _measure_outcome(data, o, keep, binary, codes, labels, xm, n_boot, rng, alpha, notes):
    """Kind, per-arm means and comparison rows of one outcome (its values freed after)."""
    y = values(data, o, keep)
    kind = _outcome_kind(o, y, binary)
    is_bin = kind == "binary"
    ym = Moments(codes, len(labels), y, third=not is_bin, shift=0.0 if is_bin else None,
                 binary=is_bin)
    boot = _Bootstrap(codes, y, ym.n, n_boot, rng)
    rows = _compare_arms(o, kind, labels, ym, xm, codes, boot, alpha, notes)
    return kind, ym.mean, rows


def _compare_arms(o, kind, labels, ym, xm, codes, boot, alpha, notes) -> list[dict]:
    """One comparison row per treatment arm against the control, for outcome ``o``."""
    n, means, var, skew = ym.n, ym.mean, ym.var, ym.skew
    cuped = _cuped_fit(codes, ym, xm) if xm is not None else None
    rows = []
    for j in range(1, len(labels)):
        r: dict[str, Any] = {"outcome": o, "arm": labels[j], "kind": kind,
                             "n_control": int(n[0]), "n_arm": int(n[j]),
                             "control_value": means[0], "arm_value": means[j]}
        if kind == "binary":
            r.update(_binary_lift(ym.s1, n, means, j, alpha))
        else:
            r.update(_amount_lift(means, var, skew, n, j, alpha))
            need = SKEW_RULE * np.nanmax([skew[0] ** 2, skew[j] ** 2])
            if np.isfinite(need) and min(n[0], n[j]) < need and boot.n_boot > 0:
                r.update(boot.intervals(j, alpha))
                notes.append(
                    f"{o}, {labels[j]} vs {labels[0]}: the amount is too skewed for the "
                    f"t-test (skewness {np.nanmax(np.abs([skew[0], skew[j]])):.1f}; the "
                    f"normal approximation needs more than {need:,.0f} customers per arm, "
                    f"it has {int(min(n[0], n[j])):,}). Intervals are percentile bootstrap "
                    "intervals; read the Welch p-value with care."
                )
        if cuped is not None:
            r.update(_cuped_lift(cuped, var, n, j, alpha))
        rows.append(r)
    return rows


def _binary_lift(ones, n, means, j, alpha) -> dict:
    """Two-proportion z-test, Wald interval and Katz log interval of arm ``j`` vs control."""
    x1, x0 = ones[j], ones[0]
    diff, se, z, p, lo, hi = ztest_2prop(x1, n[j], x0, n[0], alpha)
    var_log = (1 / x1 - 1 / n[j] + 1 / x0 - 1 / n[0]) if x1 > 0 and x0 > 0 else np.nan
    rel, rlo, rhi = rel_interval(means[j], means[0], var_log, alpha)
    return dict(test="two-proportion z", statistic=z, df=np.nan, p_value=p,
                lift_abs=diff, se=se, t_ci_low=lo, t_ci_high=hi, ci_low=lo, ci_high=hi,
                lift_rel=rel, rel_ci_low=rlo, rel_ci_high=rhi, ci_method="Wald",
                skew_control=np.nan, skew_arm=np.nan)


def _amount_lift(means, var, skew, n, j, alpha) -> dict:
    """Welch's t-test and interval, delta-method relative interval of arm ``j`` vs control."""
    diff, se, t, df, p, lo, hi = welch(means[j], var[j], n[j], means[0], var[0], n[0], alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_log = (var[j] / (n[j] * means[j] ** 2) + var[0] / (n[0] * means[0] ** 2))
    rel, rlo, rhi = rel_interval(means[j], means[0], var_log, alpha)
    return dict(test="Welch t", statistic=t, df=df, p_value=p, lift_abs=diff, se=se,
                t_ci_low=lo, t_ci_high=hi, ci_low=lo, ci_high=hi, lift_rel=rel,
                rel_ci_low=rlo, rel_ci_high=rhi, ci_method="Welch t",
                skew_control=skew[0], skew_arm=skew[j])


class _Bootstrap:
    """Percentile bootstrap intervals of one amount outcome, drawn only for arms that need
    them; the control's distribution is drawn once and shared by every arm."""

    def __init__(self, codes, y, n, n_boot, rng):
        self.codes, self.y, self.n, self.n_boot, self.rng = codes, y, n, n_boot, rng
        self._nonzero = None
        self._control = None

    def _means(self, j: int) -> np.ndarray:
        if self._nonzero is None:
            nz = self.y != 0
            self._nonzero = (self.codes[nz], self.y[nz])
        codes, vals = self._nonzero
        return bootstrap_means(vals[codes == j], int(self.n[j]), self.n_boot, self.rng)

    def intervals(self, j: int, alpha: float) -> dict:
        bt = self._means(j)
        if self._control is None:
            self._control = self._means(0)
        bc = self._control
        q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
        out: dict[str, Any] = {}
        out["ci_low"], out["ci_high"] = np.percentile(bt - bc, q)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = bt / bc - 1
        ratio = ratio[np.isfinite(ratio)]
        if ratio.size:
            out["rel_ci_low"], out["rel_ci_high"] = np.percentile(ratio, q)
        out["ci_method"] = f"bootstrap ({self.n_boot} resamples, percentile)"
        return out


def _cuped_fit(codes, ym, xm) -> tuple[float, np.ndarray, np.ndarray]:
    """CUPED slope (within-arm pooled) and the adjusted mean and variance per arm."""
    n, k = ym.n, len(ym.n)
    sxy = np.bincount(codes, weights=ym.yc * xm.yc, minlength=k)
    cxy = sxy - ym.s1 * xm.s1 / n  # within-arm centred cross-products
    sxx = xm.ss
    theta = cxy.sum() / sxx.sum() if sxx.sum() > 0 else 0.0
    x_bar = xm.mean @ n / n.sum()
    adj_mean = ym.mean - theta * (xm.mean - x_bar)
    adj_var = np.maximum(ym.var - 2 * theta * cxy / (n - 1) + theta**2 * xm.var, 0.0)
    return theta, adj_mean, adj_var


def _cuped_lift(cuped, var, n, j, alpha) -> dict:
    """Welch test on the CUPED-adjusted outcome and the variance reduction it brings."""
    theta, adj_mean, adj_var = cuped
    cdiff, cse, _, _, cp, clo, chi = welch(adj_mean[j], adj_var[j], n[j], adj_mean[0], adj_var[0],
                                           n[0], alpha)
    plain_se2 = var[j] / n[j] + var[0] / n[0]
    return dict(cuped_theta=theta, cuped_lift_abs=cdiff, cuped_se=cse, cuped_ci_low=clo,
                cuped_ci_high=chi, cuped_p_value=cp,
                variance_reduction=1 - cse**2 / plain_se2 if plain_se2 > 0 else np.nan)


def _variance_reduction(comp: pd.DataFrame) -> pd.Series:
    return comp.groupby("outcome", sort=False)["variance_reduction"].mean()


def _adjust(comp: pd.DataFrame, correction, alpha, covariate, notes) -> pd.DataFrame:
    """Corrected p-values and significance over all comparisons (plain and CUPED)."""
    comp["p_adjusted"] = adjust_pvalues(comp["p_value"].to_numpy(), correction)
    comp["significant"] = comp["p_adjusted"] < alpha
    if covariate is not None:
        comp["cuped_p_adjusted"] = adjust_pvalues(comp["cuped_p_value"].to_numpy(), correction)
        comp["cuped_significant"] = comp["cuped_p_adjusted"] < alpha
        vr = _variance_reduction(comp)
        notes.append("CUPED on " + covariate + ": variance of the lift reduced by "
                     + ", ".join(f"{100 * v:.1f}% ({o})" for o, v in vr.items()) + ".")
    if check_correction(correction) is not None and len(comp) > 1:
        notes.append(f"p_adjusted: {correction} correction over {len(comp)} comparisons.")
    return comp
