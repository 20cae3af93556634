"""Campaign measurement: judge every campaign against a control group, and by customer type.

From planning to readout:

* :func:`plan` and :func:`holdout` size a test before it runs (sample size per arm, minimum
  detectable effect, power, how large the no-contact holdout must be);
* :func:`measure` reads out a randomised test: sample-ratio-mismatch check first, then per arm
  and outcome the rate or mean, absolute and relative lift with confidence intervals, a
  two-proportion z-test (binary outcomes) or Welch's t-test (amounts), multiple-testing
  corrected p-values and, with a pre-period covariate, CUPED variance reduction;
* :func:`segment_effects` splits the lift by customer type (RFM segment, new vs existing,
  channel) with a test of whether the effect really differs, so the report can say whom to
  target;
* :func:`roi` turns lifts into money: incremental conversions and revenue, cost, margin, ROI
  and lifetime value;
* :func:`diff_in_diff` estimates the effect of a campaign that was *not* randomised, clearly
  labelled as weaker evidence.

Every test is computed from per-arm sufficient statistics (counts, sums, sums of squares and
cross-products), gathered once with vectorised ``numpy.bincount``; this is what lets a
10-million-row experiment be read out in a few seconds. The tests prove the results equal
statsmodels and scipy called on the raw data.

References
----------
Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, Cambridge University
Press (sample ratio mismatch, ch. 21; the ``n > 355 * skewness**2`` rule for the t-test, ch. 17).
Deng, Xu, Kohavi & Walker (2013), "Improving the sensitivity of online controlled experiments
by utilizing pre-experiment data", WSDM (CUPED).
Welch (1947), "The generalization of Student's problem when several different population
variances are involved", Biometrika 34.
Holm (1979), "A simple sequentially rejective multiple test procedure", Scand. J. Statist. 6;
Benjamini & Hochberg (1995), "Controlling the false discovery rate", JRSS B 57.
Cohen (1988), *Statistical Power Analysis for the Behavioral Sciences* (effect size h).
Efron & Tibshirani (1993), *An Introduction to the Bootstrap* (percentile intervals).
Cochran (1954), "The combination of estimates from different experiments", Biometrics 10
(heterogeneity test used for segment interaction).
Angrist & Pischke (2009), *Mostly Harmless Econometrics*, ch. 5; Bertrand, Duflo &
Mullainathan (2004), "How much should we trust differences-in-differences estimates?", QJE
(difference-in-differences with cluster-robust errors).
"""

from __future__ import annotations

import html
import math
import re
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.errors import DataError, ParameterError
from crmlab.plots import get_ax
from crmlab.results import Result, to_jsonable

__all__ = [
    "DiDResult",
    "MeasureResult",
    "PlanResult",
    "ROIResult",
    "SampleRatioMismatchWarning",
    "SegmentEffectsResult",
    "diff_in_diff",
    "holdout",
    "load_experiment",
    "measure",
    "plan",
    "recommend",
    "roi",
    "segment_effects",
    "slug",
    "srm_check",
]

#: Kohavi et al. (2020): the t-test's normal approximation is adequate when each arm has
#: more than ``355 * skewness**2`` observations.
SKEW_RULE = 355.0
#: An SRM check that fails at this level is shown first and loud (Kohavi et al. 2020).
SRM_ALPHA = 0.001
#: Largest number of values drawn in one bootstrap (keeps it bounded on huge arms).
BOOTSTRAP_BUDGET = 4_000_000

_CORRECTIONS = {"holm": "holm", "bh": "fdr_bh", "fdr_bh": "fdr_bh", "bonferroni": "bonferroni"}


class SampleRatioMismatchWarning(UserWarning):
    """The arms' sizes differ from the intended split: assignment or logging is broken."""


def _label(text: str) -> str:
    """Plot text with dollar signs escaped (matplotlib would read "$100 - $200" as maths)."""
    return str(text).replace("$", r"\$")


def slug(value: Any) -> str:
    """Key-safe name used in ``to_dict()`` keys: ``"Mens E-Mail"`` -> ``"mens_e_mail"``."""
    s = re.sub(r"[^0-9a-z]+", "_", str(value).lower()).strip("_")
    return s or "blank"


# --------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------


def load_experiment(data: str | Path | pd.DataFrame = "hillstrom") -> pd.DataFrame:
    """An experiment table: one row per customer with arm, outcomes and covariates.

    Parameters
    ----------
    data : ``"hillstrom"`` (the Hillstrom e-mail test shipped in ``data/``), a path to a CSV
        file, or a DataFrame (returned as is).
    """
    if isinstance(data, pd.DataFrame):
        return data
    from crmlab import data as _data

    if str(data) == "hillstrom":
        return _data.load_hillstrom()
    path = Path(data)
    if not path.exists():
        raise DataError(
            "experiment file not found", file=path,
            fix='pass "hillstrom" or the path of a CSV with one row per customer',
        )
    return pd.read_csv(path)


def _require_columns(df: pd.DataFrame, columns: Iterable[str], role: str) -> None:
    for col in columns:
        if col not in df.columns:
            raise DataError(
                f"{role} column is missing", column=col,
                expected=f"one of {list(map(str, df.columns))[:20]}",
                fix=f"pass the name of the {role} column",
            )


def _arm_codes(df: pd.DataFrame, arm: str, control: Any, treatments: Sequence | None,
               intended: Mapping | Sequence | None = None) -> tuple[np.ndarray, list, np.ndarray]:
    """Integer codes for the arm column with the control first; checks labels and sizes.

    Returns (codes, labels, keep) where ``keep`` is None or a boolean row mask when only
    some arms are analysed.
    """
    _require_columns(df, [arm], "arm")
    col = df[arm]
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        labels = list(col.cat.categories)
    else:
        codes, uniques = pd.factorize(col, sort=False)
        labels = list(uniques)
    if (codes < 0).any():
        raise DataError(
            f"{int((codes < 0).sum())} rows have no arm label", column=arm,
            fix="drop or label the rows with a missing arm",
        )
    counts = np.bincount(codes, minlength=len(labels))
    if control not in labels:
        raise DataError(
            "control label not found in the arm column", column=arm, value=control,
            expected=f"one of {labels}", fix="pass control= with an existing arm label",
        )
    if treatments is None:
        treatments = [lab for lab in labels if lab != control]
    else:
        treatments = list(treatments)
        for t in treatments:
            if t not in labels:
                raise DataError(
                    "arm label not found in the arm column", column=arm, value=t,
                    expected=f"one of {labels}", fix="pass arms that exist in the data",
                )
    if not treatments:
        raise DataError(
            "only the control arm is present", column=arm, value=labels,
            fix="measure needs at least one treatment arm besides the control",
        )
    if intended is not None and isinstance(intended, Mapping):
        for lab in intended:
            if lab not in labels:
                raise DataError(
                    "arm of the intended split has no rows", column=arm, value=lab,
                    expected=f"one of {labels}", fix="check the arm labels of the split",
                )
    order = [control] + [t for t in treatments if t != control]
    for lab in order:
        if counts[labels.index(lab)] == 0:
            raise DataError(
                "arm has no rows", column=arm, value=lab,
                fix="remove the empty arm (unused category?) or check the assignment",
            )
    # recode so that the control is 0 and treatments follow in order; others -> -1
    remap = np.full(len(labels), -1, dtype=np.int64)
    for i, lab in enumerate(order):
        remap[labels.index(lab)] = i
    new = remap[codes]
    keep = None
    if len(order) < len(labels):
        keep = new >= 0
        new = new[keep]
    return new, order, keep


def _values(df: pd.DataFrame, col: str, keep: np.ndarray | None, role: str = "outcome") -> np.ndarray:
    s = df[col]
    if isinstance(s.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
    ):
        raise DataError(
            f"{role} is not numeric", column=col, value=str(s.dtype),
            expected="numbers (0/1 for yes/no outcomes, amounts for revenue)",
            fix="convert the column to numbers",
        )
    y = s.to_numpy(dtype=np.float64, na_value=np.nan)
    if keep is not None:
        y = y[keep]
    total = y.sum()
    if not np.isfinite(total):
        bad = int((~np.isfinite(y)).sum())
        raise DataError(
            f"{role} has {bad} missing or infinite values", column=col,
            fix="fill them (0 for no response) or drop those rows",
        )
    return y


def _is_binary(y: np.ndarray) -> bool:
    if y.size == 0:
        return False
    lo, hi = y.min(), y.max()
    if lo < 0 or hi > 1:
        return False
    return float(np.dot(y, 1.0 - y)) == 0.0


# --------------------------------------------------------------------------------------
# Sufficient statistics and the tests derived from them
# --------------------------------------------------------------------------------------


class _Moments:
    """Per-group count, mean, variance (ddof=1) and skewness of one variable."""

    def __init__(self, codes: np.ndarray, k: int, y: np.ndarray, *, third: bool = True,
                 shift: float | None = None, binary: bool = False):
        self.shift = float(y.mean()) if shift is None else shift
        yc = y - self.shift if self.shift != 0.0 else y
        self.n = np.bincount(codes, minlength=k).astype(np.float64)
        self.s1 = np.bincount(codes, weights=yc, minlength=k)
        if binary and self.shift == 0.0:
            # y * y == y for 0/1 values: the sum of squares is the count of ones
            self.s2, self.s3 = self.s1, None
            self._yc = yc
            return
        y2 = yc * yc
        self.s2 = np.bincount(codes, weights=y2, minlength=k)
        if third:
            y2 *= yc
            self.s3 = np.bincount(codes, weights=y2, minlength=k)
        else:
            self.s3 = None
        self._yc = yc  # kept for cross-products (CUPED); dropped by release()

    def release(self) -> None:
        self._yc = None

    @property
    def mean(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.shift + self.s1 / self.n

    @property
    def ss(self) -> np.ndarray:
        """Within-group centred sum of squares."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.maximum(self.s2 - self.s1 * self.s1 / self.n, 0.0)

    @property
    def var(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.ss / (self.n - 1)

    @property
    def skew(self) -> np.ndarray:
        """Sample skewness g1 (population moments, like ``scipy.stats.skew``)."""
        if self.s3 is None:
            return np.full_like(self.n, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = self.s1 / self.n
            m2 = self.s2 / self.n - m * m
            m3 = self.s3 / self.n - 3 * m * self.s2 / self.n + 2 * m**3
            return m3 / m2**1.5


def _welch(m1, v1, n1, m0, v0, n0, alpha):
    """Welch's t-test and interval for mean1 - mean0 from means, variances (ddof=1), sizes."""
    if n1 < 2 or n0 < 2:
        return m1 - m0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan
    a, b = v1 / n1, v0 / n0
    se = math.sqrt(a + b)
    diff = m1 - m0
    if se == 0:
        return diff, se, np.nan, np.nan, np.nan, diff, diff
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n0 - 1)) if (a + b) > 0 else np.nan
    t = diff / se
    p = 2 * stats.t.sf(abs(t), df)
    q = stats.t.ppf(1 - alpha / 2, df)
    return diff, se, t, df, p, diff - q * se, diff + q * se


def _ztest_2prop(x1, n1, x0, n0, alpha):
    """Two-proportion z-test (pooled variance) and Wald interval (unpooled) for p1 - p0."""
    p1, p0 = x1 / n1, x0 / n0
    p = (x1 + x0) / (n1 + n0)
    se0 = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n0))
    diff = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    z = diff / se0 if se0 > 0 else np.nan
    pval = 2 * stats.norm.sf(abs(z)) if se0 > 0 else np.nan
    q = stats.norm.ppf(1 - alpha / 2)
    return diff, se, z, pval, diff - q * se, diff + q * se


def _rel_interval(m1, m0, var_log, alpha, t_df=None):
    """Relative lift m1/m0 - 1 with a delta-method interval on the log ratio.

    For proportions ``var_log = 1/x1 - 1/n1 + 1/x0 - 1/n0`` (Katz et al. 1978), the same as
    statsmodels ``confint_proportions_2indep(compare="ratio", method="log")``.
    """
    if m0 <= 0 or m1 <= 0 or not np.isfinite(var_log):
        rel = m1 / m0 - 1 if m0 != 0 else np.nan
        return rel, np.nan, np.nan
    q = stats.norm.ppf(1 - alpha / 2)
    se = math.sqrt(var_log)
    r = m1 / m0
    return r - 1, r * math.exp(-q * se) - 1, r * math.exp(q * se) - 1


def _bootstrap_means(values_nz: np.ndarray, n: int, B: int, rng: np.random.Generator,
                     budget: int = BOOTSTRAP_BUDGET) -> np.ndarray:
    """Bootstrap distribution of the mean of ``n`` values of which ``values_nz`` are non-zero.

    Drawing ``n`` of ``n`` values with replacement picks Binomial(n, k/n) non-zero values, each
    uniform among the k non-zero ones; so only non-zero values are drawn (exact, and fast for
    revenue where most customers spend nothing). When even that exceeds the budget, an
    m-out-of-n bootstrap (m draws with replacement) is rescaled by sqrt(m/n) around the mean
    (Bickel, Goetze & van Zwet 1997).
    """
    k = values_nz.size
    if k == 0:
        return np.zeros(B)
    full_mean = values_nz.sum() / n
    p = k / n
    m = n if B * k <= budget else max(int(budget / (B * p)), 100)
    counts = rng.binomial(m, p, size=B)
    idx = rng.integers(0, k, size=int(counts.sum()))
    owner = np.repeat(np.arange(B), counts)
    means = np.bincount(owner, weights=values_nz[idx], minlength=B) / m
    if m != n:
        means = full_mean + (means - full_mean) * math.sqrt(m / n)
    return means


# --------------------------------------------------------------------------------------
# measure
# --------------------------------------------------------------------------------------


class MeasureResult(Result):
    """Read-out of a randomised campaign test (see :func:`measure`).

    Attributes
    ----------
    arms : DataFrame, one row per arm: size, share, intended share and each outcome's
        rate or mean (control first).
    srm : dict with ``chi2``, ``df``, ``p_value``, ``failed`` (p < 0.001) and ``message``.
    comparisons : DataFrame, one row per outcome and treatment arm against the control.
    """

    title = "Campaign measurement"

    def __init__(self, *, arm, control, outcomes, kinds, arms, srm, comparisons, covariate,
                 correction, alpha, notes):
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
        return list(self.arms.index[1:])

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
        """The comparison row of one outcome and treatment arm (first treatment by default)."""
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
        """Treatment arms ordered by absolute lift on ``outcome``, best first."""
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
        and variance_reduction with a covariate). Names pass through :func:`slug`.
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
        """Forest plot of the lift of each treatment arm (with its interval); returns the Axes."""
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
        ax.set_yticks(y, [_label(f"{o}: {a}") for o, a in zip(c["outcome"], c["arm"])])
        ax.set_xlabel(_label(("relative" if relative and not cuped else "absolute")
                             + f" lift vs {self.control} ({100 * (1 - self.alpha):.0f}% interval)"))
        return ax


def _split_shares(intended, labels) -> np.ndarray:
    k = len(labels)
    if intended is None:
        return np.full(k, 1.0 / k)
    if isinstance(intended, Mapping):
        missing = [lab for lab in labels if lab not in intended]
        if missing:
            raise ParameterError(
                "intended split does not give a share for every arm", value=missing,
                fix="give intended_split={arm: share} for every arm",
            )
        w = np.array([float(intended[lab]) for lab in labels])
    else:
        w = np.asarray(list(intended), dtype=float)
        if w.size != k:
            raise ParameterError(
                "intended split has the wrong number of shares", value=list(w),
                expected=f"{k} shares in the order {labels}",
            )
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ParameterError(
            "intended split shares must be non-negative numbers", value=list(w),
            fix="give shares like {'control': 0.5, 'treatment': 0.5}",
        )
    return w / w.sum()


def srm_check(counts: Sequence[float], intended: Sequence[float] | None = None) -> dict:
    """Sample-ratio-mismatch chi-square test of arm sizes against the intended split.

    A p-value below 0.001 means the assignment or the logging is broken and the test's
    results cannot be trusted (Kohavi et al. 2020, ch. 21).

    Examples
    --------
    >>> round(srm_check([5100, 4900])["p_value"], 4)
    0.0455
    """
    obs = np.asarray(counts, dtype=float)
    if (obs < 0).any():
        raise ParameterError("arm sizes must not be negative", value=list(obs))
    shares = np.full(obs.size, 1 / obs.size) if intended is None else np.asarray(intended, float)
    if (shares < 0).any():
        raise ParameterError("intended shares must not be negative", value=list(shares))
    shares = shares / shares.sum()
    exp = shares * obs.sum()
    chi2 = float(((obs - exp) ** 2 / exp).sum())
    df = obs.size - 1
    p = float(stats.chi2.sf(chi2, df))
    return {"chi2": chi2, "df": df, "p_value": p, "failed": p < SRM_ALPHA}


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
) -> MeasureResult:
    """Measure a randomised campaign: every treatment arm against the control, per outcome.

    Parameters
    ----------
    data : one row per customer.
    arm : column with the arm label (Hillstrom: ``"segment"``).
    outcomes : outcome columns; 0/1 columns are treated as binary (rates), others as amounts.
    control : label of the control (no-contact) arm.
    treatments : arms to compare with the control (default: all others).
    binary : outcomes that must be binary (a two-proportion test is asked for); a non-0/1
        column named here raises :class:`~crmlab.errors.DataError`.
    intended_split : intended share per arm, ``{label: share}`` (preferred) or a sequence in
        the order of ``result.arms`` (control first, then the treatments as given or in order
        of first appearance); default: equal split.
    covariate : pre-period column for CUPED variance reduction (Hillstrom: ``"history"``).
    correction : ``"holm"`` (default), ``"bh"`` (Benjamini-Hochberg), ``"bonferroni"`` or
        None, applied over all outcome x arm comparisons.
    alpha : significance level; intervals are ``1 - alpha``.
    n_boot : bootstrap resamples for amounts too skewed for the t-test.
    random_state : seed or Generator for the bootstrap.

    Returns
    -------
    MeasureResult
        ``.srm`` is checked first: if it fails (p < 0.001), a
        :class:`SampleRatioMismatchWarning` is issued and the display leads with it.

    Notes
    -----
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
    ``1 - var(CUPED lift) / var(lift)``. Without randomisation use :func:`diff_in_diff`.
    """
    if not isinstance(data, pd.DataFrame):
        raise ParameterError("data must be a pandas DataFrame", value=type(data).__name__)
    if not 0 < alpha < 1:
        raise ParameterError("alpha must be between 0 and 1", value=alpha)
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    outcomes = list(outcomes)
    if not outcomes:
        raise ParameterError("no outcomes given", fix='pass outcomes=["conversion", ...]')
    method = None
    if correction is not None:
        if correction not in _CORRECTIONS:
            raise ParameterError("unknown correction", value=correction,
                                 expected=f"one of {sorted(_CORRECTIONS)} or None")
        method = _CORRECTIONS[correction]
    _require_columns(data, outcomes, "outcome")
    if covariate is not None:
        _require_columns(data, [covariate], "covariate")
    binary = list(binary or [])
    for b in binary:
        if b not in outcomes:
            raise ParameterError("binary outcome is not among the outcomes", value=b,
                                 expected=f"one of {outcomes}")
    if n_boot is None or n_boot < 0:
        raise ParameterError("n_boot must be a non-negative number of resamples", value=n_boot)
    rng = np.random.default_rng(random_state)

    codes, labels, keep = _arm_codes(data, arm, control, treatments, intended_split)
    k = len(labels)
    n = np.bincount(codes, minlength=k).astype(np.float64)

    # --- sample ratio mismatch, first
    shares = _split_shares(intended_split, labels)
    srm = srm_check(n, shares)
    if srm["failed"]:
        srm["message"] = (
            f"Sample ratio mismatch: arm sizes {dict(zip(map(str, labels), n.astype(int)))} "
            f"differ from the intended split {dict(zip(map(str, labels), np.round(shares, 4)))} "
            f"(chi-square {srm['chi2']:.1f}, p={srm['p_value']:.2g} < {SRM_ALPHA}). Assignment "
            "or logging is broken: do not trust the lifts below until the cause is found."
        )
        warnings.warn(srm["message"], SampleRatioMismatchWarning, stacklevel=2)
    else:
        srm["message"] = (f"Sample ratio check passed: chi-square {srm['chi2']:.2f}, "
                          f"p={srm['p_value']:.3g} against the intended split.")
    notes = [srm["message"]]

    xm = None
    if covariate is not None:
        x = _values(data, covariate, keep, role="covariate")
        xm = _Moments(codes, k, x, third=False)
        del x

    arms_tab = pd.DataFrame({"n": n.astype(np.int64), "share": n / n.sum(),
                             "intended_share": shares}, index=pd.Index(labels, name=arm))
    rows = []
    kinds = {}
    for o in outcomes:
        y = _values(data, o, keep)
        is_bin = _is_binary(y)
        if o in binary and not is_bin:
            bad = y[(y != 0) & (y != 1)]
            raise DataError(
                "a proportion test was asked for but the outcome is not binary", column=o,
                value=sorted(set(np.unique(bad[:1000]).tolist()))[:5],
                expected="only 0 and 1", fix="recode the outcome to 0/1 or drop it from binary=",
            )
        kind = "binary" if is_bin else "amount"
        kinds[o] = kind
        ym = _Moments(codes, k, y, third=not is_bin, shift=0.0 if is_bin else None,
                      binary=is_bin)
        means = ym.mean
        arms_tab[o] = means
        var = ym.var
        skew = ym.skew
        if xm is not None:
            sxy = np.bincount(codes, weights=ym._yc * xm._yc, minlength=k)
            cxy = sxy - ym.s1 * xm.s1 / n  # within-arm centred cross-products
            sxx = xm.ss
            theta = cxy.sum() / sxx.sum() if sxx.sum() > 0 else 0.0
            x_bar = xm.mean @ n / n.sum()
            adj_mean = means - theta * (xm.mean - x_bar)
            adj_var = np.maximum(var - 2 * theta * cxy / (n - 1) + theta**2 * xm.var, 0.0)
        nz_codes = nz_vals = boot_control = None
        for j in range(1, k):
            r: dict[str, Any] = {"outcome": o, "arm": labels[j], "kind": kind,
                                 "n_control": int(n[0]), "n_arm": int(n[j]),
                                 "control_value": means[0], "arm_value": means[j]}
            if is_bin:
                x1, x0 = ym.s1[j], ym.s1[0]
                diff, se, z, p, lo, hi = _ztest_2prop(x1, n[j], x0, n[0], alpha)
                var_log = (1 / x1 - 1 / n[j] + 1 / x0 - 1 / n[0]) if x1 > 0 and x0 > 0 else np.nan
                rel, rlo, rhi = _rel_interval(means[j], means[0], var_log, alpha)
                r.update(test="two-proportion z", statistic=z, df=np.nan, p_value=p,
                         lift_abs=diff, se=se, t_ci_low=lo, t_ci_high=hi, ci_low=lo, ci_high=hi,
                         lift_rel=rel, rel_ci_low=rlo, rel_ci_high=rhi, ci_method="Wald",
                         skew_control=np.nan, skew_arm=np.nan)
            else:
                diff, se, t, df, p, lo, hi = _welch(means[j], var[j], n[j], means[0], var[0],
                                                    n[0], alpha)
                with np.errstate(divide="ignore", invalid="ignore"):
                    var_log = (var[j] / (n[j] * means[j] ** 2) + var[0] / (n[0] * means[0] ** 2))
                rel, rlo, rhi = _rel_interval(means[j], means[0], var_log, alpha)
                r.update(test="Welch t", statistic=t, df=df, p_value=p, lift_abs=diff, se=se,
                         t_ci_low=lo, t_ci_high=hi, ci_low=lo, ci_high=hi, lift_rel=rel,
                         rel_ci_low=rlo, rel_ci_high=rhi, ci_method="Welch t",
                         skew_control=skew[0], skew_arm=skew[j])
                need = SKEW_RULE * np.nanmax([skew[0] ** 2, skew[j] ** 2])
                if np.isfinite(need) and min(n[0], n[j]) < need and n_boot > 0:
                    if nz_codes is None:
                        nz = y != 0
                        nz_codes, nz_vals = codes[nz], y[nz]
                    bt = _bootstrap_means(nz_vals[nz_codes == j], int(n[j]), n_boot, rng)
                    if boot_control is None:  # one control distribution for every arm
                        boot_control = _bootstrap_means(nz_vals[nz_codes == 0], int(n[0]),
                                                        n_boot, rng)
                    bc = boot_control
                    q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
                    r["ci_low"], r["ci_high"] = np.percentile(bt - bc, q)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        ratio = bt / bc - 1
                    ratio = ratio[np.isfinite(ratio)]
                    if ratio.size:
                        r["rel_ci_low"], r["rel_ci_high"] = np.percentile(ratio, q)
                    r["ci_method"] = f"bootstrap ({n_boot} resamples, percentile)"
                    notes.append(
                        f"{o}, {labels[j]} vs {labels[0]}: the amount is too skewed for the "
                        f"t-test (skewness {np.nanmax(np.abs([skew[0], skew[j]])):.1f}; the "
                        f"normal approximation needs more than {need:,.0f} customers per arm, "
                        f"it has {int(min(n[0], n[j])):,}). Intervals are percentile bootstrap "
                        "intervals; read the Welch p-value with care."
                    )
            if xm is not None:
                cdiff, cse, ct, cdf, cp, clo, chi = _welch(adj_mean[j], adj_var[j], n[j],
                                                           adj_mean[0], adj_var[0], n[0], alpha)
                plain_se2 = var[j] / n[j] + var[0] / n[0]
                r.update(cuped_theta=theta, cuped_lift_abs=cdiff, cuped_se=cse,
                         cuped_ci_low=clo, cuped_ci_high=chi, cuped_p_value=cp,
                         variance_reduction=1 - cse**2 / plain_se2 if plain_se2 > 0 else np.nan)
            rows.append(r)
        ym.release()
        del y
    comp = pd.DataFrame(rows)
    comp["p_adjusted"] = _adjust(comp["p_value"].to_numpy(), method)
    comp["significant"] = comp["p_adjusted"] < alpha
    if xm is not None:
        comp["cuped_p_adjusted"] = _adjust(comp["cuped_p_value"].to_numpy(), method)
        comp["cuped_significant"] = comp["cuped_p_adjusted"] < alpha
        vr = comp.groupby("outcome", sort=False)["variance_reduction"].mean()
        notes.append("CUPED on " + covariate + ": variance of the lift reduced by "
                     + ", ".join(f"{100 * v:.1f}% ({o})" for o, v in vr.items()) + ".")
    if method is not None and len(comp) > 1:
        notes.append(f"p_adjusted: {correction} correction over {len(comp)} comparisons.")
    return MeasureResult(arm=arm, control=control, outcomes=outcomes, kinds=kinds,
                         arms=arms_tab, srm=srm, comparisons=comp, covariate=covariate,
                         correction=correction, alpha=alpha, notes=notes)


def _adjust(p: np.ndarray, method: str | None) -> np.ndarray:
    """Multiple-testing adjusted p-values; NaN stays NaN.

    Holm (1979) step-down, Benjamini & Hochberg (1995) step-up or Bonferroni; the same
    numbers as statsmodels ``multipletests`` (computed here because that function forces a
    garbage collection on every call, which dominates a small readout).
    """
    out = np.array(p, dtype=float)
    ok = np.isfinite(out)
    if method is None or ok.sum() == 0:
        return out
    q = out[ok]
    m = q.size
    order = np.argsort(q, kind="mergesort")
    ps = q[order]
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum((m - np.arange(m)) * ps, 1.0))
    elif method == "fdr_bh":
        adj = np.minimum.accumulate((m / np.arange(m, 0, -1) * ps[::-1]))[::-1]
        adj = np.minimum(adj, 1.0)
    else:  # bonferroni
        adj = np.minimum(m * ps, 1.0)
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


# --------------------------------------------------------------------------------------
# segment effects
# --------------------------------------------------------------------------------------


class SegmentEffectsResult(Result):
    """Lift per customer segment and whether the effect really differs between segments.

    Attributes
    ----------
    table : one row per dimension, segment, outcome and treatment arm: sizes, control and
        arm value, lift with interval, p-value and ``action`` ("target": the interval is
        above zero; "avoid": below zero; "unclear").
    interaction : one row per dimension, outcome and arm: Cochran's Q, df, p-value, the
        corrected ``p_adjusted`` and ``differs`` (p_adjusted < alpha).
    recommendation : plain-language summary of whom to target.
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
        """Segments whose lift interval lies above zero, largest lift first."""
        t = self.table[self.table["action"] == "target"]
        if outcome is not None:
            t = t[t["outcome"] == outcome]
        if arm is not None:
            t = t[t["arm"] == arm]
        return t.sort_values("lift_abs", ascending=False)

    def response(self, dimension: str, outcome: str | None = None,
                 arm: Any | None = None) -> pd.DataFrame:
        """Measured campaign response per segment of one dimension (one outcome and arm).

        Indexed by segment label; columns ``lift_abs``, ``ci_low``, ``ci_high``, ``lift_rel``,
        ``p_value``, ``action``, ``n_arm``, ``n_control``. Defaults: the first outcome and arm.
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
        every name passes through :func:`slug`.
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
        """Lift with interval per segment (one outcome and arm); returns the Axes."""
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
        ax.set_yticks(y, [_label(f"{d}: {s}") for d, s in zip(t["dimension"], t["segment"])])
        ax.set_xlabel(_label(f"lift in {outcome}, {arm} vs {self.control}"))
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
    data : one row per customer.
    by : segment column(s), e.g. ``"channel"``, ``["newbie", "zip_code"]`` or an RFM
        ``segment`` column joined onto the experiment; each is analysed separately.
    arm, outcome, control, treatments, alpha : as in :func:`measure`.
    correction : correction of the interaction p-values over all dimensions, outcomes and
        arms tested (``"holm"``, ``"bh"``, ``"bonferroni"`` or None): looking for *some*
        segment difference in many columns finds one by chance otherwise. ``differs`` uses
        the corrected p-value.

    Notes
    -----
    Within a segment the lift and its interval are as in :func:`measure` (Wald for rates,
    Welch for amounts). Whether the effect differs across the segments of a dimension is
    Cochran's (1954) Q heterogeneity test of the segment lifts, ``sum w (d - d_w)^2`` with
    ``w = 1 / se^2`` (per-cell variances with ddof=1), on k-1 degrees of freedom. It equals the
    Wald test of the arm x segment interaction terms in the saturated linear model
    ``outcome ~ C(arm) * C(segment)`` with HC2 robust errors. Segments where the lift has no
    variance (for example no conversions in either arm) are left out of Q.
    """
    if isinstance(by, str):
        by = [by]
    by = list(by)
    outcomes = [outcome] if isinstance(outcome, str) else list(outcome)
    method = None
    if correction is not None:
        if correction not in _CORRECTIONS:
            raise ParameterError("unknown correction", value=correction,
                                 expected=f"one of {sorted(_CORRECTIONS)} or None")
        method = _CORRECTIONS[correction]
    _require_columns(data, by, "segment")
    _require_columns(data, outcomes, "outcome")
    codes, labels, keep = _arm_codes(data, arm, control, treatments)
    k = len(labels)
    rows, inter = [], []
    ys = {}
    for o in outcomes:
        y = _values(data, o, keep)
        ys[o] = (y, _is_binary(y))
    for dim in by:
        s = data[dim]
        if keep is not None:
            s = s[keep]
        scodes, suniq = pd.factorize(s, sort=True, use_na_sentinel=True)
        suniq = list(suniq)
        if (scodes < 0).any():
            scodes = np.where(scodes < 0, len(suniq), scodes)
            suniq.append("(missing)")
        m = len(suniq)
        cell = codes * m + scodes
        for o in outcomes:
            y, is_bin = ys[o]
            mom = _Moments(cell, k * m, y, third=False, shift=0.0 if is_bin else None,
                           binary=is_bin)
            nn = mom.n.reshape(k, m)
            mean = mom.mean.reshape(k, m)
            var = mom.var.reshape(k, m)
            for j in range(1, k):
                d_list, w_list = [], []
                for si, seg in enumerate(suniq):
                    n1, n0 = nn[j, si], nn[0, si]
                    r = {"dimension": dim, "segment": seg, "outcome": o, "arm": labels[j],
                         "n_control": int(n0), "n_arm": int(n1),
                         "control_value": mean[0, si], "arm_value": mean[j, si]}
                    if n1 < 2 or n0 < 2:
                        r.update(lift_abs=np.nan, ci_low=np.nan, ci_high=np.nan,
                                 lift_rel=np.nan, p_value=np.nan, action="unclear")
                        rows.append(r)
                        continue
                    if is_bin:
                        x1, x0 = mean[j, si] * n1, mean[0, si] * n0
                        diff, se, _, p, lo, hi = _ztest_2prop(x1, n1, x0, n0, alpha)
                    else:
                        diff, se, _, _, p, lo, hi = _welch(mean[j, si], var[j, si], n1,
                                                           mean[0, si], var[0, si], n0, alpha)
                    rel = mean[j, si] / mean[0, si] - 1 if mean[0, si] != 0 else np.nan
                    action = "target" if lo > 0 else ("avoid" if hi < 0 else "unclear")
                    r.update(lift_abs=diff, ci_low=lo, ci_high=hi, lift_rel=rel, p_value=p,
                             action=action)
                    rows.append(r)
                    v = var[j, si] / n1 + var[0, si] / n0
                    if v > 0:
                        d_list.append(diff)
                        w_list.append(1 / v)
                d, w = np.array(d_list), np.array(w_list)
                if d.size >= 2:
                    dbar = (w * d).sum() / w.sum()
                    qstat = float((w * (d - dbar) ** 2).sum())
                    dfree = d.size - 1
                    pq = float(stats.chi2.sf(qstat, dfree))
                else:
                    qstat, dfree, pq = np.nan, 0, np.nan
                inter.append({"dimension": dim, "outcome": o, "arm": labels[j], "q": qstat,
                              "df": dfree, "p_value": pq,
                              "differs": bool(np.isfinite(pq) and pq < alpha),
                              "segments_tested": int(d.size)})
    table = pd.DataFrame(rows)
    interaction = pd.DataFrame(inter)
    interaction["p_adjusted"] = _adjust(interaction["p_value"].to_numpy(), method)
    interaction["differs"] = interaction["p_adjusted"] < alpha
    rec = []
    for _, r in interaction.iterrows():
        t = table[(table["dimension"] == r["dimension"]) & (table["outcome"] == r["outcome"])
                  & (table["arm"] == r["arm"])]
        tg = t[t["action"] == "target"].sort_values("lift_abs", ascending=False)
        av = t[t["action"] == "avoid"]
        names = ", ".join(map(str, tg["segment"])) or "no segment"
        if r["differs"]:
            msg = (f"{r['arm']} on {r['outcome']}: the effect differs by {r['dimension']} "
                   f"(interaction p={r['p_value']:.3g}, adjusted {r['p_adjusted']:.3g}); "
                   f"target {names}")
            if len(av):
                msg += f"; avoid {', '.join(map(str, av['segment']))}"
        else:
            msg = (f"{r['arm']} on {r['outcome']}: no evidence that the effect differs by "
                   f"{r['dimension']} (interaction p={r['p_value']:.3g}, adjusted "
                   f"{r['p_adjusted']:.3g}); judge the arm on its overall lift (segments with a "
                   f"clearly positive lift: {names})")
        rec.append(msg + ".")
    return SegmentEffectsResult(table, interaction, alpha, rec, control=control)


# --------------------------------------------------------------------------------------
# money
# --------------------------------------------------------------------------------------


class ROIResult(Result):
    """Incremental conversions, revenue, margin, cost and ROI per treatment arm."""

    title = "Campaign return on investment"

    def __init__(self, table: pd.DataFrame, assumptions: dict):
        self.table = table
        self.assumptions = assumptions
        self.notes = (
            "Assumptions: " + ", ".join(f"{k}={v}" for k, v in assumptions.items() if v is not None),
            "Incremental = (arm value - control value) x contacts in the arm; intervals carry "
            "the lift intervals through.",
        )

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        """Flat keys ``<arm>__<metric>`` (arm through :func:`slug`)."""
        out: dict[str, Any] = {}
        for arm_label, r in self.table.iterrows():
            for m, v in r.items():
                out[f"{slug(arm_label)}__{m}"] = v
        return to_jsonable(out)


def roi(
    measured: MeasureResult,
    *,
    cost_per_contact: float,
    margin: float,
    conversion: str | None = "conversion",
    revenue: str | None = "spend",
    clv: float | pd.Series | pd.DataFrame | None = None,
    fixed_cost: float = 0.0,
) -> ROIResult:
    """Money from a measured campaign: what the contacts cost and what they brought in.

    Parameters
    ----------
    measured : result of :func:`measure` containing the conversion and/or revenue outcome.
    cost_per_contact : cost of one contact (e-mail, letter, call), in currency units.
    margin : gross margin on revenue, as a fraction (0.3 = 30 %).
    conversion, revenue : outcome names in ``measured`` (None to skip one).
    clv : lifetime value of a newly converted customer: a number, or a CLV table (Series, or
        DataFrame with a ``clv`` column, e.g. predicted by ``crmlab.ltv``) whose mean is used.
    fixed_cost : set-up cost of the campaign per arm (creative, tooling).

    Returns
    -------
    ROIResult
        Per treatment arm: contacts, cost, incremental conversions and revenue (with
        intervals), incremental margin, net return (margin - cost), ROI (net / cost) with
        interval, cost per incremental conversion, break-even revenue lift per contact, and
        with ``clv`` the incremental lifetime value and lifetime ROI.
    """
    if cost_per_contact is None or not np.isfinite(cost_per_contact) or cost_per_contact < 0:
        raise ParameterError("cost_per_contact must be a non-negative number", value=cost_per_contact)
    if margin is None or not 0 <= margin <= 1:
        raise ParameterError("margin must be a fraction between 0 and 1", value=margin,
                             fix="give 0.3 for a 30 % gross margin")
    if fixed_cost < 0:
        raise ParameterError("fixed_cost must not be negative", value=fixed_cost)
    for o in (conversion, revenue):
        if o is not None and o not in measured.outcomes:
            raise ParameterError("outcome was not measured", value=o,
                                 expected=f"one of {measured.outcomes} or None")
    clv_value = None
    if clv is not None:
        if isinstance(clv, pd.DataFrame):
            if "clv" not in clv.columns:
                raise DataError("CLV table has no 'clv' column", column="clv",
                                expected=f"one of {list(clv.columns)}")
            clv = clv["clv"]
        clv_value = float(pd.Series(clv).mean()) if not np.isscalar(clv) else float(clv)
        if not np.isfinite(clv_value):
            raise ParameterError("clv must be a finite number or a table of numbers", value=clv_value)
    rows = {}
    for t in measured.treatments:
        n_t = int(measured.arms.loc[t, "n"])
        cost = cost_per_contact * n_t + fixed_cost
        r: dict[str, Any] = {"contacts": n_t, "cost": cost}
        if conversion is not None:
            c = measured.lift(conversion, t)
            r.update(incremental_conversions=c["lift_abs"] * n_t,
                     incremental_conversions_low=c["ci_low"] * n_t,
                     incremental_conversions_high=c["ci_high"] * n_t)
            inc = r["incremental_conversions"]
            r["cost_per_incremental_conversion"] = cost / inc if inc > 0 else np.nan
        if revenue is not None:
            c = measured.lift(revenue, t)
            inc_rev = c["lift_abs"] * n_t
            lo, hi = c["ci_low"] * n_t, c["ci_high"] * n_t
            net = margin * inc_rev - cost
            r.update(incremental_revenue=inc_rev, incremental_revenue_low=lo,
                     incremental_revenue_high=hi, incremental_margin=margin * inc_rev,
                     net_return=net, net_return_low=margin * lo - cost,
                     net_return_high=margin * hi - cost)
            if cost > 0:
                r.update(roi=net / cost, roi_low=(margin * lo - cost) / cost,
                         roi_high=(margin * hi - cost) / cost)
            r["break_even_revenue_per_contact"] = (cost / n_t) / margin if margin > 0 else np.inf
        if clv_value is not None and conversion is not None:
            r["clv_per_converted"] = clv_value
            r["incremental_clv"] = r["incremental_conversions"] * clv_value
            r["clv_roi"] = (r["incremental_clv"] - cost) / cost if cost > 0 else np.nan
        rows[t] = r
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = measured.arm
    return ROIResult(table, {"cost_per_contact": cost_per_contact, "margin": margin,
                             "fixed_cost": fixed_cost, "clv_per_converted": clv_value})


# --------------------------------------------------------------------------------------
# planning
# --------------------------------------------------------------------------------------


class PlanResult(Result):
    """Sample size, minimum detectable effect and power of a proposed test."""

    title = "Campaign test plan"

    def __init__(self, table: pd.DataFrame, notes: Sequence[str] = ()):
        self.table = table
        self.notes = tuple(notes)

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def __getitem__(self, key: str) -> Any:
        return self.table.iloc[0][key]

    def to_dict(self) -> dict[str, Any]:
        """Flat: the first row's fields (``n_per_arm``, ``mde_abs``, ``power``, ...)."""
        return to_jsonable(self.table.iloc[0].to_dict())


def _effect(kind: str, baseline: float, target: float, sd: float | None) -> float:
    if kind == "proportion":
        from statsmodels.stats.proportion import proportion_effectsize

        return abs(float(proportion_effectsize(target, baseline)))
    return abs(target - baseline) / sd


def _target_from_effect(kind: str, baseline: float, es: float, sd: float | None) -> float:
    if kind == "proportion":
        phi = 2 * math.asin(math.sqrt(baseline)) + es
        return math.sin(min(phi, math.pi) / 2) ** 2
    return baseline + es * sd


def _check_plan_args(kind, baseline, sd, alpha, power):
    if kind not in ("proportion", "mean"):
        raise ParameterError("kind must be 'proportion' or 'mean'", value=kind)
    if kind == "proportion" and not 0 < baseline < 1:
        raise ParameterError("baseline rate must be between 0 and 1", value=baseline)
    if kind == "mean" and (sd is None or not sd > 0):
        raise ParameterError("a positive standard deviation sd= is needed for a mean", value=sd)
    if not 0 < alpha < 1:
        raise ParameterError("alpha must be between 0 and 1", value=alpha)
    if power is not None and not 0 < power < 1:
        raise ParameterError("power must be between 0 and 1", value=power)


def _power_tool(kind):
    from statsmodels.stats.power import NormalIndPower, TTestIndPower

    return NormalIndPower() if kind == "proportion" else TTestIndPower()


def plan(
    baseline: float,
    *,
    mde: float | None = None,
    relative: bool = False,
    n_per_arm: float | None = None,
    power: float | None = 0.8,
    alpha: float = 0.05,
    ratio: float = 1.0,
    kind: str = "proportion",
    sd: float | None = None,
) -> PlanResult:
    """Plan a test: sample size per arm, minimum detectable effect (MDE) or power.

    Give ``mde`` to get the size per arm; give ``n_per_arm`` to get the MDE at ``power``; give
    both (and ``power=None``) to get the power.

    Parameters
    ----------
    baseline : control rate (``kind="proportion"``) or mean (``kind="mean"``).
    mde : smallest lift worth detecting, absolute (0.02 = two points) or, with
        ``relative=True``, relative to the baseline (0.2 = +20 %).
    n_per_arm : customers in the control arm; the treatment arm has ``ratio`` times as many.
    power, alpha : desired power and two-sided significance level.
    kind : ``"proportion"`` (Cohen's h, normal test) or ``"mean"`` (Cohen's d = mde / sd,
        t-test).
    sd : standard deviation of the outcome, for ``kind="mean"``.

    Notes
    -----
    statsmodels ``NormalIndPower`` / ``TTestIndPower`` (Cohen 1988). For 10 % vs 12 %,
    alpha 0.05 and power 0.8: h = 0.063982 and 3,835 customers per arm.
    """
    _check_plan_args(kind, baseline, sd, alpha, power)
    if ratio is None or not ratio > 0:
        raise ParameterError("ratio (treatment / control size) must be positive", value=ratio)
    if mde is not None and not mde > 0:
        raise ParameterError("mde must be positive", value=mde)
    if n_per_arm is not None and not n_per_arm > 1:
        raise ParameterError("n_per_arm must be a positive size above 1", value=n_per_arm)
    tool = _power_tool(kind)
    mde_abs = None if mde is None else (mde * baseline if relative else mde)
    if mde_abs is not None:
        target = baseline + mde_abs
        if kind == "proportion" and not 0 < target < 1:
            raise ParameterError("baseline + mde must be a rate between 0 and 1", value=target)
        es = _effect(kind, baseline, target, sd)
        if n_per_arm is None:
            if power is None:
                raise ParameterError("give power= or n_per_arm=")
            n_raw = float(tool.solve_power(effect_size=es, nobs1=None, alpha=alpha,
                                           power=power, ratio=ratio))
            n_per_arm = math.ceil(n_raw - 1e-9)
        achieved = float(tool.power(effect_size=es, nobs1=n_per_arm, alpha=alpha, ratio=ratio))
        power_out = achieved if power is None else power
    else:
        if n_per_arm is None:
            raise ParameterError("give mde= (to size the test) or n_per_arm= (to get the MDE)")
        if power is None:
            raise ParameterError("give power= to compute the minimum detectable effect")
        es = float(tool.solve_power(effect_size=None, nobs1=n_per_arm, alpha=alpha,
                                    power=power, ratio=ratio))
        target = _target_from_effect(kind, baseline, es, sd)
        mde_abs = target - baseline
        achieved = power_out = power
        n_raw = float(n_per_arm)
    n_t = math.ceil(n_per_arm * ratio - 1e-9)
    table = pd.DataFrame([{
        "kind": kind, "baseline": baseline, "target": target, "mde_abs": mde_abs,
        "mde_rel": mde_abs / baseline if baseline else np.nan, "effect_size": es,
        "alpha": alpha, "power": power_out, "achieved_power": achieved,
        "n_per_arm": int(n_per_arm), "n_treatment": int(n_t), "n_total": int(n_per_arm + n_t),
        "ratio": ratio,
    }])
    return PlanResult(table)


def holdout(
    audience: int,
    baseline: float,
    mde: float,
    *,
    relative: bool = False,
    power: float = 0.8,
    alpha: float = 0.05,
    kind: str = "proportion",
    sd: float | None = None,
) -> PlanResult:
    """How many customers of a campaign's audience to hold out (not contact) as control.

    The smallest holdout that still detects ``mde`` with ``power``, everybody else being
    contacted: each customer held out is revenue forgone, each one too few makes the
    measurement blind. If even a 50/50 split cannot reach the power, the result says so
    and gives the MDE that a 50/50 split can detect.

    Parameters
    ----------
    audience : customers the campaign could reach (holdout + contacted).
    baseline, mde, relative, power, alpha, kind, sd : as in :func:`plan`.
    """
    _check_plan_args(kind, baseline, sd, alpha, power)
    if audience is None or not audience >= 4:
        raise ParameterError("audience must be a positive number of customers (at least 4)",
                             value=audience)
    if not mde > 0:
        raise ParameterError("mde must be positive", value=mde)
    audience = int(audience)
    mde_abs = mde * baseline if relative else mde
    target = baseline + mde_abs
    if kind == "proportion" and not 0 < target < 1:
        raise ParameterError("baseline + mde must be a rate between 0 and 1", value=target)
    es = _effect(kind, baseline, target, sd)
    tool = _power_tool(kind)

    def pw(h: float) -> float:
        return float(tool.power(effect_size=es, nobs1=h, alpha=alpha, ratio=(audience - h) / h))

    half = audience / 2
    notes = []
    if pw(half) < power:
        h = math.floor(half)
        mde_half = plan(baseline, n_per_arm=h, power=power, alpha=alpha, kind=kind, sd=sd)
        feasible = False
        notes.append(
            f"The audience of {audience:,} is too small to detect a lift of {mde_abs:.4g} "
            f"({mde_abs / baseline:+.0%}) with power {power}: even a 50/50 split detects only "
            f"{mde_half['mde_abs']:.4g} ({mde_half['mde_rel']:+.0%}). Test on a larger audience "
            "or accept a larger minimum detectable effect."
        )
    else:
        from scipy.optimize import brentq

        lo = 2.0
        if pw(lo) >= power:
            h = 2
        else:
            h = math.ceil(brentq(lambda v: pw(v) - power, lo, half, xtol=1e-6) - 1e-9)
        feasible = True
        notes.append(f"Hold out {h:,} of {audience:,} customers ({h / audience:.1%}) and contact "
                     f"the other {audience - h:,}.")
    table = pd.DataFrame([{
        "audience": audience, "holdout": int(h), "holdout_share": h / audience,
        "contacted": audience - int(h), "baseline": baseline, "mde_abs": mde_abs,
        "mde_rel": mde_abs / baseline if baseline else np.nan, "effect_size": es,
        "alpha": alpha, "power": power, "achieved_power": pw(h), "feasible": feasible,
    }])
    return PlanResult(table, notes)


# --------------------------------------------------------------------------------------
# without randomisation
# --------------------------------------------------------------------------------------


class DiDResult(Result):
    """Difference-in-differences estimate of a non-randomised campaign (weaker evidence)."""

    title = "Difference-in-differences (not randomised: weaker evidence than a controlled test)"

    def __init__(self, estimate, se, ci_low, ci_high, p_value, means, n_units, n_rows, outcome,
                 alpha):
        self.estimate = estimate
        self.se = se
        self.ci_low = ci_low
        self.ci_high = ci_high
        self.p_value = p_value
        self.means = means
        self.n_units = n_units
        self.n_rows = n_rows
        self.outcome = outcome
        self.alpha = alpha
        self.notes = (
            "Evidence grade: observational. The estimate assumes the treated and comparison "
            "groups would have moved in parallel without the campaign (parallel trends); "
            "nothing in the data guarantees it. Prefer a randomised holdout for the next "
            "campaign.",
            "Standard errors are cluster-robust by unit (Bertrand, Duflo & Mullainathan 2004).",
        )

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "outcome": self.outcome, "did_estimate": self.estimate, "se": self.se,
            "ci_low": self.ci_low, "ci_high": self.ci_high, "p_value": self.p_value,
            "n_units": self.n_units, "n_rows": self.n_rows, "evidence": "observational (DiD)",
        }]).set_index("outcome")

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({
            "did_estimate": self.estimate, "did_se": self.se, "did_ci_low": self.ci_low,
            "did_ci_high": self.ci_high, "did_p_value": self.p_value, "did_n_units": self.n_units,
            "evidence": "observational",
        })

    def _repr_html_(self) -> str:
        fmt = lambda x: f"{x:,.4g}"  # noqa: E731
        notes = "".join(f"<p><i>{html.escape(n)}</i></p>" for n in self.notes)
        return (f"<h4>{html.escape(self.title)}</h4>{notes}"
                + self.summary.to_html(float_format=fmt) + self.means.to_html(float_format=fmt))


def diff_in_diff(
    data: pd.DataFrame,
    *,
    outcome: str,
    treated: str,
    post: str,
    unit: str,
    alpha: float = 0.05,
) -> DiDResult:
    """Effect of a campaign that was not randomised, from pre/post periods.

    Fits ``outcome ~ treated + post + treated:post`` by OLS (statsmodels) with standard errors
    clustered by ``unit`` (customer or store); the interaction is the estimate. This is
    weaker evidence than a randomised test: it rests on parallel trends (Angrist & Pischke
    2009, ch. 5; Bertrand, Duflo & Mullainathan 2004).

    Parameters
    ----------
    data : long table, one row per unit and period.
    outcome : outcome column.
    treated : 0/1 (or bool) column, 1 for units that received the campaign.
    post : 0/1 (or bool) column, 1 for periods after the campaign started.
    unit : column identifying the unit, used for clustering.
    """
    import statsmodels.api as sm

    _require_columns(data, [outcome, treated, post, unit], "difference-in-differences")
    y = _values(data, outcome, None)
    tr = _values(data, treated, None, role="treated indicator")
    po = _values(data, post, None, role="post-period indicator")
    for col, v in ((treated, tr), (post, po)):
        if not _is_binary(v):
            raise DataError("indicator is not 0/1", column=col,
                            value=sorted(pd.unique(v))[:5], expected="0/1 or True/False")
    cells = pd.crosstab(tr, po)
    if cells.shape != (2, 2) or (cells.to_numpy() == 0).any():
        raise DataError("difference-in-differences needs treated and comparison units both "
                        "before and after", column=f"{treated}, {post}",
                        value=cells.to_dict(), fix="check the treated and post columns")
    groups, _ = pd.factorize(data[unit])
    if (groups < 0).any():
        raise DataError("unit has missing values", column=unit, fix="drop rows without a unit")
    X = np.column_stack([np.ones_like(y), tr, po, tr * po])
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
    est, se, p = float(fit.params[3]), float(fit.bse[3]), float(fit.pvalues[3])
    lo, hi = (float(v) for v in fit.conf_int(alpha=alpha)[3])
    means = (pd.DataFrame({"y": y, "group": np.where(tr == 1, "treated", "comparison"),
                           "period": np.where(po == 1, "post", "pre")})
             .pivot_table(index="group", columns="period", values="y", aggfunc="mean")
             [["pre", "post"]])
    means["change"] = means["post"] - means["pre"]
    return DiDResult(est, se, lo, hi, p, means, int(groups.max() + 1), len(y), outcome, alpha)


# --------------------------------------------------------------------------------------
# recommendation
# --------------------------------------------------------------------------------------


def recommend(
    measured: MeasureResult,
    outcome: str,
    *,
    head_to_head: MeasureResult | None = None,
    segments: SegmentEffectsResult | None = None,
    money: ROIResult | None = None,
    next_test: PlanResult | None = None,
    holdout_plan: PlanResult | None = None,
) -> list[str]:
    """The read-out in sentences: which arm, to whom, whether it pays, how large the next test.

    Parameters
    ----------
    measured : the test read-out from :func:`measure`.
    outcome : the outcome the decision rests on (e.g. ``"conversion"``).
    head_to_head : :func:`measure` of the best arm against the runner-up (runner-up as control).
    segments : :func:`segment_effects` for the same outcome.
    money : :func:`roi` of ``measured``.
    next_test, holdout_plan : :func:`plan` and :func:`holdout` for the next campaign.
    """
    lines: list[str] = []
    if measured.srm["failed"]:
        lines.append("Do not act on this test: " + measured.srm["message"])
    ranked = measured.ranking(outcome)
    best = ranked[0]
    row = measured.lift(outcome, best)
    kind = measured.kinds[outcome]
    fmt = (lambda v: f"{100 * v:.2f} points") if kind == "binary" else (lambda v: f"{v:,.3g}")
    if row["significant"] and row["lift_abs"] > 0:
        lines.append(
            f"Send {best}: it lifts {outcome} by {fmt(row['lift_abs'])} over {measured.control} "
            f"({row['lift_rel']:+.0%}; {100 * (1 - measured.alpha):.0f}% interval "
            f"{fmt(row['ci_low'])} to {fmt(row['ci_high'])}; adjusted p={row['p_adjusted']:.2g})."
        )
    else:
        lines.append(
            f"No arm lifts {outcome} significantly over {measured.control} (best: {best}, "
            f"adjusted p={row['p_adjusted']:.2g}); do not roll out on this evidence."
        )
    if head_to_head is not None and len(ranked) > 1:
        h = head_to_head.lift(outcome, best)
        other = head_to_head.control
        if h["p_value"] < measured.alpha and h["lift_abs"] > 0:
            lines.append(f"{best} also beats {other} head to head by {fmt(h['lift_abs'])} "
                         f"(p={h['p_value']:.2g}).")
        else:
            lines.append(f"{best} and {other} cannot be told apart head to head "
                         f"(difference {fmt(h['lift_abs'])}, p={h['p_value']:.2g}).")
    if segments is not None:
        inter = segments.interaction
        inter = inter[(inter["arm"] == best) & (inter["outcome"] == outcome)]
        tab = segments.table
        for _, r in inter.iterrows():
            t = tab[(tab["arm"] == best) & (tab["outcome"] == outcome)
                    & (tab["dimension"] == r["dimension"])]
            tg = t[t["action"] == "target"].sort_values("lift_abs", ascending=False)
            names = ", ".join(map(str, tg["segment"])) or "none"
            if r["differs"]:
                lines.append(f"By {r['dimension']} the effect of {best} differs "
                             f"(interaction adjusted p={r['p_adjusted']:.2g}): target {names}.")
            else:
                lines.append(f"By {r['dimension']} there is no evidence that the effect of {best} "
                             f"differs (interaction adjusted p={r['p_adjusted']:.2g}); send it to "
                             f"all, clearly positive in: {names}.")
    if money is not None and best in money.table.index:
        r = money.table.loc[best]
        if "roi" in r and np.isfinite(r.get("roi", np.nan)):
            verdict = ("pays for itself even at the low end of its interval" if r["roi_low"] > 0
                       else "pays on average but its interval includes a loss" if r["roi"] > 0
                       else "does not pay at these costs and margin")
            lines.append(f"Money: {best} returns a net {r['net_return']:,.0f} on a cost of "
                         f"{r['cost']:,.0f} (ROI {r['roi']:.0%}, interval {r['roi_low']:.0%} to "
                         f"{r['roi_high']:.0%}): it {verdict}.")
    if next_test is not None:
        p = next_test.table.iloc[0]
        lines.append(f"Next test: {int(p['n_per_arm']):,} customers per arm detect a lift of "
                     f"{p['mde_rel']:+.0%} on a baseline of {p['baseline']:.3g} with power "
                     f"{p['power']:.0%} at alpha {p['alpha']}.")
    if holdout_plan is not None:
        lines.extend(holdout_plan.notes)
    return lines
