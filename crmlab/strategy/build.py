"""Everything the strategy report needs, computed in one call from the order lines.

The strategy notebook is a memo: it calls :func:`build_strategy` and shows what comes back.
"""

from __future__ import annotations

import warnings

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crmlab import dates
from crmlab.strategy.metrics import at_risk_metrics, customer_value, last_value, metric_history, segment_shares
from crmlab.strategy.playbook import load_playbook, segment_strategy


@dataclass
class StrategyInputs:
    """What the strategy report shows; every field is computed by :func:`build_strategy`.

    Attributes
    ----------
    tx : the cleaned order lines before the report date
    as_of : the report date (orders strictly before it count)
    rfm : ``segments.rfm`` result
    kpis, concentration : dicts of headline numbers
    timing : ``customers.timing`` result
    value : ``ltv.clv`` result; values : its per-customer table
    at_risk : ``ltv.high_value_at_risk`` table (``at_risk`` column marks the lapsing ones)
    segment_rules : ``basket.rules_by_segment`` result, or None when the data has no products
    measured, money : campaign readout and ROI; best_arm, best_lift
    response : measured campaign response per segment, or None
    history : ``metric_history`` table
    plan : the per-segment plan table
    targeting : ``campaign.targeting_recommendation`` result (whom to contact next), or None
    has_time : whether order times carry an hour of day
    churn : ``ltv.churn_risk_model`` result (the churn measure that won on a holdout), or None
        when the history is too short for a holdout
    metrics : the flat metrics dict (names from :data:`crmlab.strategy.metrics.METRICS`)
    """

    tx: pd.DataFrame
    as_of: pd.Timestamp
    rfm: Any
    kpis: dict
    concentration: dict
    timing: Any
    value: Any
    values: pd.DataFrame
    at_risk: pd.DataFrame
    segment_rules: Any
    measured: Any
    money: Any
    best_arm: Any
    best_lift: Mapping
    response: pd.Series | None
    history: pd.DataFrame
    plan: pd.DataFrame
    metrics: dict
    targeting: Any = None
    churn: Any = None
    has_time: bool = True


def _campaign(experiment, experiment_segment, cost_per_contact, margin):
    from crmlab import campaign

    measured = campaign.measure(experiment, random_state=0)
    best_arm = measured.ranking("conversion")[0]
    money = campaign.roi(measured, cost_per_contact=cost_per_contact, margin=margin,
                         conversion="conversion", revenue="spend")
    response = None
    if experiment_segment:
        by_seg = campaign.segment_effects(experiment, experiment_segment, outcome="conversion",
                                          treatments=[best_arm])
        r = by_seg.response(experiment_segment, "conversion", best_arm)
        response = pd.Series([f"{lift:+.2%} pts ({act})" for lift, act in zip(r["lift_abs"], r["action"])],
                             index=r.index.astype(str))
    return measured, money, best_arm, measured.lift("conversion", best_arm), response


def campaign_response(design: Any, transactions: pd.DataFrame, window: Any = None) -> pd.Series:
    """The measured response per RFM segment of a designed campaign, for the plan's column.

    Reads out the campaign (:func:`crmlab.campaign.readout`: treatment against its randomised
    holdout, from the transactions in the window) and writes, per segment, the lift in the
    share of customers who bought and what to do about it.

    Parameters
    ----------
    design : str, Path or crmlab.campaign.AudienceDesign
        The design (its ``.json`` file) recorded when the audience was drawn.
    transactions : pandas.DataFrame
        Canonical transactions covering the campaign window.
    window : optional
        See :func:`crmlab.campaign.readout`.

    Returns
    -------
    pandas.Series
        Index segment; text such as ``"+4.10% pts (roll out)"``.
    """
    from crmlab import campaign

    r = campaign.readout(design, transactions, window).by_segment.response("segment", "bought", "treatment")
    return pd.Series([f"{lift:+.2%} pts ({act})" for lift, act in zip(r["lift_abs"], r["action"])],
                     index=r.index.astype(str))


def _churn(tx: pd.DataFrame, as_of: pd.Timestamp, window_days: int):
    """The churn measure that wins on a holdout, or None when the history is too short for one."""
    from crmlab import ltv
    from crmlab.errors import CrmlabError

    with warnings.catch_warnings():  # fits at the edge and assumption checks are the retention report's
        warnings.simplefilter("ignore")
        try:
            return ltv.churn_risk_model(tx, as_of, window_days=window_days)
        except CrmlabError:
            return None


def _targeting(experiment: pd.DataFrame, arm: Any, outcome: str, cost: float, value: float):
    """Whom to contact next: an uplift model of the best arm against control on the test, or None
    when the test lacks the outcome or a control arm."""
    from crmlab import campaign
    from crmlab.errors import CrmlabError

    from crmlab.data.source import Source

    spec = Source.from_attrs(experiment.attrs.get("source_spec"))
    arm_col = getattr(spec, "arm", None) or "segment"
    control = getattr(spec, "control", None) or "No E-Mail"
    outcomes = set(getattr(spec, "outcomes", ()) or ("visit", "conversion", "spend"))
    if outcome not in experiment.columns or arm_col not in experiment.columns:
        return None
    features = [c for c in experiment.columns if c != arm_col and c not in outcomes | {outcome}]
    try:
        return campaign.targeting_recommendation(experiment, arm=arm_col, treatment=arm, control=control,
                                                 outcome=outcome, features=features, margin=value, cost=cost)
    except CrmlabError:
        return None


def _top_rule(seg_rules: Any) -> dict[str, Any]:
    """``top_rule`` and ``top_rule_lift``: the strongest rule mined within a segment (None without)."""
    top = (seg_rules.summary.dropna(subset=["top_rule"]).sort_values("top_lift", ascending=False).head(1)
           if seg_rules is not None else pd.DataFrame())
    if not len(top):
        return {"top_rule": None, "top_rule_lift": None}
    return {"top_rule": str(top.iloc[0]["top_rule"]), "top_rule_lift": float(top.iloc[0]["top_lift"])}


def _metrics(kpi, conc, rfm, history, values, at_risk, campaign_readout, seg_rules, churn, targeting) -> dict:
    """The flat metrics dict of the strategy report (names from :data:`METRICS`)."""
    from crmlab import segments

    best_arm, best_lift, money = campaign_readout
    m = {
        **kpi, **conc, **segment_shares(rfm.summary, segments.TOP_SEGMENTS),
        "best_customer_retention": last_value(history, "best_customer_retention"),
        "avg_clv": float(values["clv"].mean()),
        **at_risk_metrics(at_risk),
        "campaign_best_arm": best_arm,
        "campaign_best_lift": float(best_lift["lift_abs"]),
        "campaign_roi": float(money.table.loc[best_arm, "roi"]),
        **_top_rule(seg_rules),
    }
    if churn is not None:
        m.update({k: v for k, v in churn.to_dict().items() if k in ("churn_measure", "churn_auc", "churn_no_dropout")})
    if targeting is not None:
        m["uplift_best_share"] = float(targeting.best["share"])
        m["uplift_profit"] = float(targeting.best["profit"])
    return m


def build_strategy(
    tx: pd.DataFrame,
    experiment: pd.DataFrame,
    *,
    as_of: Any = None,
    experiment_segment: str = "",
    horizon_months: int = 12,
    margin: float = 0.3,
    cost_per_contact: float = 0.1,
    offer_support: float = 0.02,
    offer_confidence: float = 0.3,
    offer_min_baskets: int = 100,
    playbook: Mapping[str, Any] | None = None,
    products: bool = True,
    target_outcome: str = "visit",
    value_per_response: float = 2.0,
    campaign_design: Any = None,
    all_transactions: pd.DataFrame | None = None,
) -> StrategyInputs:
    """Compute the strategy report's content from cleaned order lines and a campaign test.

    Parameters
    ----------
    tx : pandas.DataFrame
        Cleaned canonical transactions (``data.clean(...).data``).
    experiment : pandas.DataFrame
        A campaign test with a control group (``campaign.load_experiment``).
    as_of : str, Timestamp or None
        Report date: orders strictly before it count (:func:`crmlab.dates.cutoff`).
    experiment_segment : str
        Column of the test data holding RFM segment names ("" when it has none).
    horizon_months, margin, cost_per_contact : numbers for CLV and ROI.
    offer_support, offer_confidence, offer_min_baskets : thresholds of the per-segment rules.
    playbook : mapping, optional
        :func:`load_playbook` output (default: ``notebooks/playbook.yml``); its
        ``churn_threshold`` and ``churn_days`` define the at-risk rule.
    target_outcome, value_per_response : the outcome the uplift targeting optimises and what one
        more response is worth (margin), for :func:`crmlab.campaign.targeting_recommendation`.
    campaign_design, all_transactions : optional; a campaign drawn with
        :func:`crmlab.campaign.design_audience` fills the plan's response per segment from its
        read-out (:func:`campaign_response`) on ``all_transactions`` (default ``tx``).
    products : bool
        Whether the data has products; without them no cross-sell rules are mined.

    Returns
    -------
    StrategyInputs
    """
    from crmlab import basket, customers, ltv, segments
    pb = {"churn_days": 90, **(dict(playbook) if playbook is not None else load_playbook())}
    pb["churn_days"] = pb["churn_days"] or 90
    tx, as_of_ts = dates.cutoff(tx, as_of)
    rfm = segments.rfm(tx, as_of=as_of_ts)
    kpi = customers.kpis(tx).to_dict()
    conc = customers.concentration(tx).to_dict()
    timing = customers.timing(tx)
    value = customer_value(tx, as_of_ts, horizon_months, margin)
    values = value.customer_values()
    at_risk = ltv.high_value_at_risk(value, rfm.table["monetary"], days_since_last=rfm.table["recency_days"],
                                     p_alive_below=float(pb["churn_threshold"]), silent_days=int(pb["churn_days"]))
    seg_rules = (basket.rules_by_segment(tx, rfm.table["segment"], min_support=offer_support, min_confidence=offer_confidence,
                                         min_baskets=offer_min_baskets) if products else None)
    offers = seg_rules.summary["top_rule"] if seg_rules is not None else None
    has_time = customers.has_time_of_day(tx)
    measured, money, best_arm, best_lift, response = _campaign(experiment, experiment_segment,
                                                               cost_per_contact, margin)
    if campaign_design:
        response = campaign_response(campaign_design, all_transactions if all_transactions is not None else tx)
    history = metric_history(tx, horizon_months=horizon_months, margin=margin)
    history.loc[history.index[-1], "campaign_roi"] = money.table.loc[best_arm, "roi"]
    churn = _churn(tx, as_of_ts, int(pb["churn_days"]))
    plan = segment_strategy(rfm.table, playbook=pb, customer_values=values, preferred_times=timing.preferred,
                            offers=offers, campaign_response=response, send_hours=has_time,
                            churn_scores=None if churn is None else churn.table["churn_risk"]).table
    targeting = _targeting(experiment, best_arm, target_outcome, cost_per_contact, value_per_response)
    m = _metrics(kpi, conc, rfm, history, values, at_risk, (best_arm, best_lift, money), seg_rules, churn, targeting)
    return StrategyInputs(has_time=has_time, churn=churn, targeting=targeting, tx=tx, as_of=as_of_ts, rfm=rfm, kpis=kpi,
                          concentration=conc, timing=timing, value=value, values=values, at_risk=at_risk, segment_rules=seg_rules,
                          measured=measured, money=money, best_arm=best_arm, best_lift=best_lift,
                          response=response, history=history, plan=plan, metrics=m)


def customer_scores(s: StrategyInputs, playbook: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per customer for the act step: what a campaign tool needs to pick the audience.

    Parameters
    ----------
    s : StrategyInputs
        :func:`build_strategy` output.
    playbook : mapping, optional
        For the at-risk rule (``churn_threshold``, ``churn_days``); default the shipped playbook.

    Returns
    -------
    pandas.DataFrame
        Index ``customer_id``; columns segment, clv, p_alive, churn_risk (from the churn measure
        proven on a holdout; without enough history, 1 for the at-risk rule: P(alive) below the
        threshold or silent longer than ``churn_days``), next_best_offer
        (the segment's strongest cross-sell rule), send_weekday, send_hour (the customer's own
        preferred time; no hour when the data has dates only).
    """
    pb = dict(playbook) if playbook is not None else load_playbook()
    seg = s.rfm.table["segment"].astype(str)
    out = pd.DataFrame({"segment": seg})
    vals = s.values.reindex(out.index)
    out["clv"] = vals["clv"]
    out["p_alive"] = vals["prob_alive"]
    if s.churn is not None:
        out["churn_risk"] = s.churn.table["churn_risk"].reindex(out.index)
    else:
        risky = out["p_alive"] < float(pb["churn_threshold"])
        risky |= s.rfm.table["recency_days"].reindex(out.index) > int(pb.get("churn_days") or 90)
        out["churn_risk"] = risky.astype(float)
    out["next_best_offer"] = seg.map(s.plan["best_offer"]).astype(object) if "best_offer" in s.plan else None
    pref = s.timing.preferred.reindex(out.index)
    out["send_weekday"] = pref["preferred_weekday"].astype(object)
    out["send_hour"] = pref["preferred_hour"] if s.has_time else pd.NA
    out.index.name = "customer_id"
    return out
