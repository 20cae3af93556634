"""Test design: how large a test must be, how many customers to hold out, and whether the
arms came out in the intended proportions.

References
----------
Cohen (1988), *Statistical Power Analysis for the Behavioral Sciences* (effect size h).
Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, Cambridge University
Press (sample ratio mismatch, ch. 21).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.campaign.narrative import num, p_text
from crmlab.errors import ParameterError
from crmlab.results import Result, to_jsonable

__all__ = ["SRM_ALPHA", "PlanResult", "SampleRatioMismatchWarning", "holdout", "plan", "srm_check"]

#: A share further than this from the intended split suggests deliberate targeting.
CHOSEN_GAP = 0.05

#: An SRM check that fails at this level is shown first and loud (Kohavi et al. 2020).
SRM_ALPHA = 0.001


class SampleRatioMismatchWarning(UserWarning):
    """The arms' sizes differ from the intended split: assignment or logging is broken."""


def srm_check(counts: Sequence[float], intended: Sequence[float] | None = None) -> dict:
    """Sample-ratio-mismatch chi-square test of arm sizes against the intended split.

    A p-value below 0.001 means the assignment or the logging is broken and the test's
    results cannot be trusted (Kohavi et al. 2020, ch. 21).

    Parameters
    ----------
    counts : sequence of float
        Observed arm sizes.
    intended : sequence of float, optional
        Intended share (or weight) per arm, in the order of ``counts``; default equal.

    Returns
    -------
    dict
        ``chi2``, ``df``, ``p_value`` and ``failed`` (p below :data:`SRM_ALPHA`).

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


def split_shares(intended: Mapping | Sequence[float] | None, labels: list) -> np.ndarray:
    """The intended share of each arm, in the order of ``labels``, summing to 1.

    Parameters
    ----------
    intended : mapping, sequence of float or None
        ``{label: share}``, shares in the order of ``labels``, or None for an equal split.
    labels : list
        The analysed arms, control first.

    Returns
    -------
    numpy.ndarray
    """
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


def observational_readout(n: np.ndarray, labels: list) -> dict:
    """The SRM slot of a readout whose groups were chosen, not randomised: no test, a warning.

    Parameters
    ----------
    n : numpy.ndarray
        Group sizes, in the order of ``labels``.
    labels : list
        Group labels.

    Returns
    -------
    dict
        ``chi2``, ``df``, ``p_value`` (NaN), ``failed`` (False) and ``message``.
    """
    sizes = {str(lab): int(v) for lab, v in zip(labels, n)}
    return {"chi2": np.nan, "df": len(n) - 1, "p_value": np.nan, "failed": False, "message": (
        f"Observational comparison: the groups {sizes} were chosen, not randomised, so no "
        "sample-ratio check applies and the differences below mix the campaign with how the "
        "customers were selected; they are not its effect. Measure it with "
        "campaign.campaign_panel and campaign.did_campaign (difference-in-differences with a "
        "pre-trend test).")}


def srm_readout(n: np.ndarray, labels: list, shares: np.ndarray, stacklevel: int = 3) -> dict:
    """:func:`srm_check` with the message a readout shows first; warns when it fails.

    Parameters
    ----------
    n : numpy.ndarray
        Observed arm sizes, in the order of ``labels``.
    labels : list
        Arm labels.
    shares : numpy.ndarray
        Intended shares (see :func:`split_shares`).
    stacklevel : int
        Of the warning (3: the caller of the function that called this one).

    Returns
    -------
    dict
        :func:`srm_check`'s fields and ``message``. A failed check also issues a
        :class:`SampleRatioMismatchWarning` pointing at the caller of :func:`measure`.
    """
    srm = srm_check(n, shares)
    if srm["failed"]:
        srm["message"] = (
            f"Sample ratio mismatch: arm sizes {dict(zip(map(str, labels), n.astype(int)))} "
            f"differ from the intended split {dict(zip(map(str, labels), np.round(shares, 4)))} "
            f"(chi-square {srm['chi2']:.1f}, {p_text(srm['p_value'])} < {SRM_ALPHA}). Assignment "
            "or logging is broken: do not trust the lifts below until the cause is found."
        )
        if np.max(np.abs(n / n.sum() - shares)) > CHOSEN_GAP:
            srm["message"] += (
                " The split is far from the intended one: if the customers were chosen "
                "(targeted) rather than randomised, this is not a broken test but an "
                "observational comparison; pass assignment='observational' and measure the "
                "campaign with campaign.campaign_panel and campaign.did_campaign."
            )
        warnings.warn(srm["message"], SampleRatioMismatchWarning, stacklevel=stacklevel)
    else:
        srm["message"] = (f"Sample ratio check passed: chi-square {srm['chi2']:.2f}, "
                          f"{p_text(srm['p_value'])} against the intended split.")
    return srm


class PlanResult(Result):
    """Sample size, minimum detectable effect and power of a proposed test.

    ``result["n_per_arm"]`` reads a field of the (one-row) table.

    Parameters
    ----------
    table : pandas.DataFrame
        One row: the plan's fields (``n_per_arm``, ``mde_abs``, ``power``, ...).
    notes : sequence of str
        Sentences shown with the table.
    """

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
        """Flat: the first row's fields (``n_per_arm``, ``mde_abs``, ``power``, ...).

        Returns
        -------
        dict
            Plain JSON values (NaN becomes None).
        """
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


def _check_plan_sizes(mde, n_per_arm, ratio):
    if ratio is None or not ratio > 0:
        raise ParameterError("ratio (treatment / control size) must be positive", value=ratio)
    if mde is not None and not mde > 0:
        raise ParameterError("mde must be positive", value=mde)
    if n_per_arm is not None and not n_per_arm > 1:
        raise ParameterError("n_per_arm must be a positive size above 1", value=n_per_arm)


def _mde_at_size(tool, kind, baseline, sd, n_per_arm, alpha, power, ratio) -> tuple[float, float]:
    """Effect size and target value detectable with ``n_per_arm`` at ``power``."""
    if power is None:
        raise ParameterError("give power= to compute the minimum detectable effect")
    es = float(tool.solve_power(effect_size=None, nobs1=n_per_arm, alpha=alpha,
                                power=power, ratio=ratio))
    return es, _target_from_effect(kind, baseline, es, sd)


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
    baseline : float
        Control rate (``kind="proportion"``) or mean (``kind="mean"``).
    mde : float, optional
        Smallest lift worth detecting, absolute (0.02 = two points) or, with
        ``relative=True``, relative to the baseline (0.2 = +20 %).
    relative : bool
        Read ``mde`` relative to the baseline.
    n_per_arm : float, optional
        Customers in the control arm; the treatment arm has ``ratio`` times as many.
    power, alpha : float
        Desired power (None: compute it) and two-sided significance level.
    ratio : float
        Treatment arm size over control arm size.
    kind : str
        ``"proportion"`` (Cohen's h, normal test) or ``"mean"`` (Cohen's d = mde / sd,
        t-test).
    sd : float, optional
        Standard deviation of the outcome, for ``kind="mean"``.

    Returns
    -------
    PlanResult
        One row: kind, baseline, target, mde_abs, mde_rel, effect_size, alpha, power,
        achieved_power, n_per_arm, n_treatment, n_total, ratio.

    Notes
    -----
    statsmodels ``NormalIndPower`` / ``TTestIndPower`` (Cohen 1988). For 10 % vs 12 %,
    alpha 0.05 and power 0.8: h = 0.063982 and 3,835 customers per arm.
    """
    _check_plan_args(kind, baseline, sd, alpha, power)
    _check_plan_sizes(mde, n_per_arm, ratio)
    tool = _power_tool(kind)
    if mde is not None:
        mde_abs = mde * baseline if relative else mde
        target = baseline + mde_abs
        if kind == "proportion" and not 0 < target < 1:
            raise ParameterError("baseline + mde must be a rate between 0 and 1", value=target)
        es = _effect(kind, baseline, target, sd)
        if n_per_arm is None:
            if power is None:
                raise ParameterError("give power= or n_per_arm=")
            n_per_arm = math.ceil(float(tool.solve_power(effect_size=es, nobs1=None, alpha=alpha,
                                                         power=power, ratio=ratio)) - 1e-9)
        achieved = float(tool.power(effect_size=es, nobs1=n_per_arm, alpha=alpha, ratio=ratio))
        power_out = achieved if power is None else power
    else:
        if n_per_arm is None:
            raise ParameterError("give mde= (to size the test) or n_per_arm= (to get the MDE)")
        es, target = _mde_at_size(tool, kind, baseline, sd, n_per_arm, alpha, power, ratio)
        mde_abs = target - baseline
        achieved = power_out = power
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
    audience : int
        Customers the campaign could reach (holdout + contacted).
    baseline, mde, relative, power, alpha, kind, sd
        As in :func:`plan` (``mde`` is required here).

    Returns
    -------
    PlanResult
        One row: audience, holdout, holdout_share, contacted, baseline, mde_abs, mde_rel,
        effect_size, alpha, power, achieved_power, feasible; the notes say what to do.
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
            f"The audience of {audience:,} is too small to detect a lift of {num(mde_abs)} "
            f"({mde_abs / baseline:+.0%}) with power {power}: even a 50/50 split detects only "
            f"{num(mde_half['mde_abs'])} ({mde_half['mde_rel']:+.0%}). Test on a larger audience "
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
