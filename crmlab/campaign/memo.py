"""The steps of the campaign memo (notebook 04) that go beyond one library call.

The notebook shows results and explains them; what it decides (which money to count, which
arm meets which head to head, how the next test is sized, which numbers are published) is
written here once, where it is tested, instead of in cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmlab.campaign.design import PlanResult, holdout, plan
from crmlab.campaign.io import load_experiment, require
from crmlab.campaign.money import ROIResult, roi
from crmlab.campaign.readout import MeasureResult, measure
from crmlab.data.source import Source
from crmlab.errors import ParameterError

if TYPE_CHECKING:
    from crmlab.campaign.segments import SegmentEffectsResult

__all__ = ["ExperimentSetup", "cuped_table", "decision_money", "design_example", "experiment_setup",
           "head_to_head", "memo_metrics", "next_test_plans", "shown", "split_names", "targeting_metrics",
           "targeting_plan"]

#: how report tables show the columns of the campaign results
PERCENT = frozenset({"share", "best_share", "intended_share", "lift_rel", "rel_ci_low", "rel_ci_high", "roi", "roi_low",
                     "roi_high", "variance_reduction", "mde_rel", "power", "achieved_power", "holdout_share"})
MONEY = frozenset({"profit", "profit_low", "profit_high", "vs_all", "vs_all_low", "vs_all_high", "cost", "incremental_revenue", "incremental_revenue_low", "incremental_revenue_high",
                   "incremental_margin", "net_return", "net_return_low", "net_return_high"})
INTEGER = frozenset({"n", "contacts", "n_per_arm", "n_treatment", "n_total", "audience", "holdout", "contacted",
                     "df", "segments_tested", "n_control"})


def split_names(text: str) -> list[str]:
    """Column names from a comma-separated parameter (blanks dropped).

    Parameters
    ----------
    text : str
        ``"visit, conversion,spend"``.

    Returns
    -------
    list of str
    """
    return [s.strip() for s in text.split(",") if s.strip()]


@dataclass(frozen=True)
class ExperimentSetup:
    """What notebook 04 measures: the table, its columns' roles, and notes on what was left out.

    Parameters
    ----------
    data : pandas.DataFrame
        The experiment table.
    name : str
        The test's name (the source's ``name:``, else the file name).
    arm : str
        The arm column.
    control : str
        The control arm.
    outcomes : list of str
        Outcomes measured.
    outcome : str
        The outcome the decision rests on.
    revenue : str or None
        The revenue outcome for the money section.
    segments : list of str
        Customer-type columns to split the effect by.
    covariate : str or None
        Pre-period covariate for CUPED.
    missing_segments : list of str
        Segment columns asked for that the data lacks (left out).
    missing_covariate : str or None
        The covariate asked for when the data lacks it (CUPED skipped).
    """

    data: pd.DataFrame
    name: str
    arm: str
    control: str
    outcomes: list[str]
    outcome: str
    revenue: str | None
    segments: list[str]
    covariate: str | None
    missing_segments: list[str] = field(default_factory=list)
    missing_covariate: str | None = None


def _is_binary(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and bool(col.dropna().isin([0, 1]).all())


def _declared(given: str, declared: Any, what: str, key: str) -> str:
    value = given or (str(declared) if declared else "")
    if not value:
        raise ParameterError(f"no {what} given", column=key,
                             fix=f"pass {key}= or declare {key}: in the experiment source file")
    return value


def experiment_setup(source: Any, *, arm: str = "", control: str = "", outcomes: str = "", outcome: str = "",
                     revenue: str = "", segment_by: str = "", covariate: str = "") -> ExperimentSetup:
    """Load an experiment and settle the role of each column, as notebook 04's parameters say.

    A parameter left empty is taken from the source file (``arm:``, ``control:``,
    ``outcomes:``) or chosen from the data: the decision outcome is the last 0/1 outcome (else
    the first), the revenue outcome the first outcome that is not 0/1. Segment and covariate
    columns the data lacks are left out with a note instead of failing.

    Parameters
    ----------
    source : str, path or pandas.DataFrame
        As in :func:`~crmlab.campaign.load_experiment`.
    arm, control, outcomes : str
        Arm column, control arm, comma-separated outcomes ("" : from the source file).
    outcome : str
        The decision outcome ("": chosen from the data).
    revenue : str
        The revenue outcome ("": chosen from the data; "none": no money from revenue).
    segment_by : str
        Comma-separated customer-type columns.
    covariate : str
        Pre-period column for CUPED ("" or "none": none).

    Returns
    -------
    ExperimentSetup

    Raises
    ------
    ParameterError
        No arm, control or outcomes given or declared; a decision or revenue outcome that is
        not among the outcomes.
    """
    exp = load_experiment(source)
    src = Source.from_attrs(exp.attrs.get("source_spec"))
    arm = _declared(arm, getattr(src, "arm", None), "arm column", "arm")
    control = _declared(control, getattr(src, "control", None), "control arm", "control")
    outs = split_names(outcomes) or list(getattr(src, "outcomes", ()))
    if not outs:
        raise ParameterError("no outcomes given", column="outcomes",
                             fix="pass outcomes= or declare outcomes: in the experiment source file")
    require(exp, "outcome", outs, "outcomes")
    binary = [o for o in outs if _is_binary(exp[o])]
    outcome = outcome or (binary[-1] if binary else outs[0])
    amounts = [o for o in outs if o not in binary]
    revenue = None if revenue.strip().lower() == "none" else (revenue or (amounts[0] if amounts else None))
    for key, value in (("outcome", outcome), ("revenue", revenue)):
        if value is not None and value not in outs:
            raise ParameterError(f"the {key} outcome is not among the outcomes measured", column=key, value=value,
                                 expected="one of " + ", ".join(outs), fix=f"pass {key}= with one of them")
    wanted = [c for c in split_names(segment_by) if c != arm and c not in outs]
    segments = [c for c in wanted if c in exp.columns]
    covariate = None if covariate.strip().lower() in ("", "none") else covariate.strip()
    missing_cov = covariate if covariate is not None and covariate not in exp.columns else None
    name = getattr(src, "name", None) or (Path(str(source)).name if not isinstance(source, pd.DataFrame) else "")
    return ExperimentSetup(exp, name, arm, control, outs, outcome, revenue, segments,
                           None if missing_cov else covariate, [c for c in wanted if c not in segments], missing_cov)


def shown(table: pd.DataFrame | None, lang: str = "en", *, rates: Any = ()) -> Any:
    """A campaign result table as the report shows it (:func:`crmlab.results.report_table`).

    Shares, lifts, ROI and power as percentages, money with separators, counts as integers,
    yes/no in ``lang``; a row index of several levels becomes text columns.

    Parameters
    ----------
    table : pandas.DataFrame or None
    lang : str
    rates : iterable of str
        More columns to show as percentages (the rates of 0/1 outcomes).

    Returns
    -------
    ReportTable or None
    """
    from crmlab import i18n
    from crmlab.results import report_table

    if table is None:
        return None
    df = table.reset_index() if isinstance(table.index, pd.MultiIndex) else table.copy()
    for col in df.columns:
        if pd.api.types.is_bool_dtype(df[col]):
            df[col] = df[col].map(lambda v: i18n.t("yes" if v else "no", lang))
        elif col in ("kind", "test"):
            df[col] = df[col].map(lambda v: i18n.t(str(v), lang))
    cols = set(df.columns)
    return report_table(df, percent=[c for c in df.columns if c in PERCENT or c in set(rates)],
                        money=sorted(cols & MONEY), integer=sorted(cols & INTEGER), lang=lang)


def cuped_table(measured: MeasureResult) -> pd.DataFrame | None:
    """Plain and CUPED lift side by side, per outcome and arm (None without a covariate).

    Parameters
    ----------
    measured : MeasureResult

    Returns
    -------
    pandas.DataFrame or None
    """
    if not measured.covariate:
        return None
    return (measured.comparisons.set_index(["outcome", "arm"])
            [["lift_abs", "cuped_lift_abs", "cuped_ci_low", "cuped_ci_high", "cuped_p_adjusted",
              "variance_reduction"]])


def decision_money(measured: MeasureResult, outcome: str, *, revenue: str | None,
                   cost_per_contact: float, margin: float) -> ROIResult | None:
    """:func:`~crmlab.campaign.roi` on what can be counted as money.

    The decision outcome counts as conversions when it is binary; ``revenue`` as revenue.

    Parameters
    ----------
    measured : MeasureResult
    outcome : str
        The decision outcome.
    revenue : str or None
        The revenue outcome ("" or None: none).
    cost_per_contact, margin : float
        As in :func:`~crmlab.campaign.roi`.

    Returns
    -------
    ROIResult or None
        None when there is neither a binary decision outcome nor a revenue outcome.
    """
    binary = measured.kinds.get(outcome) == "binary"
    if not (revenue or binary):
        return None
    return roi(measured, cost_per_contact=cost_per_contact, margin=margin,
               conversion=outcome if binary else None, revenue=revenue or None)


def head_to_head(data: pd.DataFrame, measured: MeasureResult, outcome: str, *,
                 random_state: Any = 0) -> MeasureResult | None:
    """The best arm on ``outcome`` measured against the runner-up as control.

    Parameters
    ----------
    data : pandas.DataFrame
        The experiment table ``measured`` was read from.
    measured : MeasureResult
        The read-out against the control; its arm column, outcomes, correction and alpha are
        used again (no covariate).
    outcome : str
        The decision outcome that ranks the arms.
    random_state : int, numpy.random.Generator or None
        Seed for the bootstrap.

    Returns
    -------
    MeasureResult or None
        None when there is only one treatment arm.
    """
    ranked = measured.ranking(outcome)
    if len(ranked) < 2:
        return None
    return measure(data, arm=measured.arm, outcomes=measured.outcomes, control=ranked[1],
                   treatments=[ranked[0]], correction=measured.correction, alpha=measured.alpha,
                   random_state=random_state)


def next_test_plans(data: pd.DataFrame, measured: MeasureResult, outcome: str, *, mde_rel: float,
                    power: float, audience: int = 0) -> dict[str, PlanResult]:
    """Size of the next test, what this one could detect, and the next campaign's holdout.

    The baseline is the control's rate (binary outcome) or mean (amount, with the control's
    standard deviation) on the decision outcome.

    Parameters
    ----------
    data : pandas.DataFrame
        The experiment table ``measured`` was read from.
    measured : MeasureResult
    outcome : str
        The decision outcome.
    mde_rel : float
        Relative lift the next test must detect (0.25: +25 %).
    power : float
        Power of the next test; alpha is the read-out's.
    audience : int
        Customers the next campaign can reach (0: as many as in this test).

    Returns
    -------
    dict
        ``"next_test"`` (:func:`~crmlab.campaign.plan` for ``mde_rel``), ``"this_test"``
        (the MDE at this test's control size) and ``"holdout"``
        (:func:`~crmlab.campaign.holdout`).
    """
    top = measured.lift(outcome, measured.ranking(outcome)[0])
    baseline, alpha = top["control_value"], measured.alpha
    kind = "proportion" if measured.kinds[outcome] == "binary" else "mean"
    sd = None if kind == "proportion" else float(
        data.loc[data[measured.arm] == measured.control, outcome].std())
    return {
        "next_test": plan(baseline, mde=mde_rel, relative=True, power=power, alpha=alpha,
                          kind=kind, sd=sd),
        "this_test": plan(baseline, n_per_arm=int(top["n_control"]), power=power, alpha=alpha,
                          kind=kind, sd=sd),
        "holdout": holdout(audience or len(data), baseline, mde_rel, relative=True, power=power,
                           alpha=alpha, kind=kind, sd=sd),
    }


def memo_metrics(data: pd.DataFrame, measured: MeasureResult, outcome: str, *,
                 segments: SegmentEffectsResult | None, money: ROIResult | None,
                 head_to_head: MeasureResult | None, plans: dict[str, PlanResult]) -> dict[str, Any]:
    """The headline numbers notebook 04 publishes to ``metrics.json``.

    ``campaign_best_arm`` and ``campaign_best_lift`` (relative lift on the decision outcome)
    are read by the strategy report; ``measure__*`` repeats :meth:`MeasureResult.to_dict`.

    Parameters
    ----------
    data : pandas.DataFrame
        The experiment table.
    measured : MeasureResult
    outcome : str
        The decision outcome.
    segments : SegmentEffectsResult or None
        None when no segment column was analysed.
    money : ROIResult or None
    head_to_head : MeasureResult or None
    plans : dict
        From :func:`next_test_plans`.

    Returns
    -------
    dict
    """
    best = measured.ranking(outcome)[0]
    top = measured.lift(outcome, best)
    differing = ""
    if segments is not None:
        inter = segments.interaction
        best_seg = inter[(inter["arm"] == best) & (inter["outcome"] == outcome)]
        differing = ", ".join(best_seg.loc[best_seg["differs"], "dimension"])
    vr = measured.variance_reduction
    mrow = money.table.loc[best] if money is not None else None
    return dict(
        n_customers=len(data),
        srm_p_value=measured.srm["p_value"],
        srm_failed=measured.srm["failed"],
        best_arm=best,
        campaign_best_arm=best,  # names read by crmlab.strategy.key_findings
        campaign_best_lift=top["lift_rel"],
        campaign_outcome=outcome,
        best_lift_abs=top["lift_abs"],
        best_lift_rel=top["lift_rel"],
        best_p_adjusted=top["p_adjusted"],
        best_significant=bool(top["significant"]),
        variance_reduction=None if vr is None else float(vr.get(outcome)),
        roi=None if mrow is None else mrow.get("roi"),
        net_return=None if mrow is None else mrow.get("net_return"),
        head_to_head_p_value=None if head_to_head is None else head_to_head.lift(outcome, best)["p_value"],
        segments_differing=differing,
        next_test_n_per_arm=int(plans["next_test"]["n_per_arm"]),
        this_test_mde_rel=plans["this_test"]["mde_rel"],
        holdout=int(plans["holdout"]["holdout"]),
        holdout_feasible=bool(plans["holdout"]["feasible"]),
        **{f"measure__{k}": v for k, v in measured.to_dict().items()},
    )


def targeting_plan(setup: ExperimentSetup, measured: MeasureResult, *, target_arm: str,
                   target_outcomes: str, value_per_response: float, margin: float,
                   cost_per_contact: float, random_state: int = 42) -> dict[str, Any]:
    """Uplift targeting of one arm for each asked outcome (notebook 04, section 8).

    Features are every column that is neither the arm nor an outcome. An arm or outcome the
    data lacks falls back (the best arm on the decision outcome; the decision and revenue
    outcomes) with a note.

    Parameters
    ----------
    setup : ExperimentSetup
    measured : MeasureResult
    target_arm : str
        Arm whose audience the model ranks.
    target_outcomes : str
        Comma-separated outcomes.
    value_per_response, margin, cost_per_contact : float
        Money per response of a 0/1 outcome, margin rate on an amount, cost per contact.
    random_state : int
        Seed of the 50/50 split (42: scikit-uplift's published split).

    Returns
    -------
    dict
        ``arm``, ``results`` (outcome -> TargetingResult) and ``notes`` (the fallbacks).
    """
    from crmlab.campaign.targeting import targeting_recommendation

    exp, notes = setup.data, []
    arm = target_arm if target_arm in set(measured.treatments) else measured.ranking(setup.outcome)[0]
    if target_arm and arm != target_arm:
        notes.append(("fallback_arm", {"asked": target_arm, "arm": arm}))
    outs = [o for o in split_names(target_outcomes) if o in setup.outcomes]
    if not outs:
        outs = [o for o in (setup.outcome, setup.revenue) if o]
        if target_outcomes:
            notes.append(("fallback_outcomes", {"asked": target_outcomes, "outcomes": ", ".join(outs)}))
    features = [c for c in exp.columns if c != setup.arm and c not in setup.outcomes]
    results = {}
    for o in outs:
        binary = measured.kinds.get(o) == "binary"
        results[o] = targeting_recommendation(
            exp, arm=setup.arm, treatment=arm, control=setup.control, outcome=o, features=features,
            margin=value_per_response if binary else margin, cost=cost_per_contact,
            random_state=random_state)
    return {"arm": arm, "results": results, "notes": notes, "features": features}


def design_example(setup: ExperimentSetup, targeting: dict[str, Any], *, send_date: str = "2026-01-05",
                   random_state: int = 0) -> dict[str, Any]:
    """Next campaign's audience from the uplift ranking, and a readout on simulated orders.

    The audience is the best share of customers by predicted uplift on the first targeted
    outcome (30 % when no share pays), stratified by the first customer-type column, with
    a holdout sized for a +25 % lift in the control's response rate. The orders after
    sending are *simulated* from the rates this test measured (control rate for the
    holdout, control rate plus the arm's lift for the treated), so the readout shows the
    loop end to end; with real transactions :func:`~crmlab.campaign.readout` reads them.

    Parameters
    ----------
    setup : ExperimentSetup
    targeting : dict
        From :func:`targeting_plan`.
    send_date : str
    random_state : int

    Returns
    -------
    dict
        ``design`` (AudienceDesign), ``readout`` (ReadoutResult), ``transactions`` (the
        simulated orders), ``design_file`` (where the audience and design were written).
    """
    import tempfile

    import numpy as np

    from crmlab.campaign.audience import design_audience, readout

    exp = setup.data
    outcome, res = next(iter(targeting["results"].items()))
    t = exp[exp[setup.arm].isin([targeting["arm"], setup.control])]
    score = res.model.predict(res.encode(t))
    seg = setup.segments[0] if setup.segments else None
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in t.index], "score": score,
                              "segment": t[seg].astype(str).to_numpy() if seg else "all"})
    y, is_t = t[outcome].to_numpy(float), (t[setup.arm] == targeting["arm"]).to_numpy()
    base = float(np.clip(y[~is_t].mean(), 0.01, 0.5)) if res.metrics.get("binary", True) else 0.1
    top = res.best["share"] if res.best["share"] > 0 else 0.3
    d = design_audience(customers, campaign="next", offer=str(targeting["arm"]), send_date=send_date,
                        score="score", top=top, baseline=base, mde=0.25 * base,
                        random_state=random_state)
    rng = np.random.default_rng(random_state)
    aud = d.audience
    p = np.where(aud["group"] == "treatment", min(base * 1.25, 0.99), base)
    buy = rng.random(len(aud)) < p
    tx = pd.DataFrame({"customer_id": aud["customer_id"][buy].to_numpy(),
                       "order_id": [f"sim{i}" for i in range(int(buy.sum()))],
                       "order_ts": pd.Timestamp(send_date) + pd.to_timedelta(
                           rng.integers(0, 14 * 24, int(buy.sum())), unit="h"),
                       "amount": rng.gamma(2.0, 40.0, int(buy.sum()))})
    path = d.write(Path(tempfile.mkdtemp(prefix="crmlab-audience-")) / "audience.csv")
    return {"design": d, "readout": readout(path, tx), "transactions": tx, "design_file": path}


def targeting_metrics(targeting: dict[str, Any], act: dict[str, Any] | None = None) -> dict[str, Any]:
    """Published numbers of the targeting and design sections (``targeting__<outcome>__<key>``).

    Parameters
    ----------
    targeting : dict
        From :func:`targeting_plan`.
    act : dict, optional
        From :func:`design_example`.

    Returns
    -------
    dict
    """
    from crmlab.campaign.io import slug

    out: dict[str, Any] = {"targeting_arm": targeting["arm"]}
    for o, res in targeting["results"].items():
        for k, v in res.to_dict().items():
            if k not in ("outcome", "binary"):
                out[f"targeting__{slug(o)}__{k}"] = v
    if act is not None:
        d = act["design"].design
        out.update(design_n_audience=d["n_audience"], design_n_holdout=d["n_holdout"],
                   **{f"readout__{k}": v for k, v in act["readout"].to_dict().items()})
    return out
