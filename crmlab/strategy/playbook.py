"""The playbook: a per-segment plan (action, channel, offer, send time) an analyst can edit."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from crmlab import config
from crmlab.errors import DataError
from crmlab.results import TableResult
from crmlab.segments import SEGMENTS

PLAYBOOK = config.NOTEBOOKS_DIR / "playbook.yml"

_FIELDS = ("action", "channel", "offer_type", "priority")


def load_yaml(path: str | Path, what: str) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping (a playbook, the targets).

    Parameters
    ----------
    path : str or Path
        The YAML file (UTF-8).
    what : str
        What the file holds ("playbook", "targets"), for the error messages.

    Returns
    -------
    dict
        The parsed document.

    Raises
    ------
    DataError
        When the file does not exist, is not valid YAML (the message gives the line), or its
        top level is not a mapping.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", file=path, expected=f"a {what} YAML file")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", file=path,
            row=None if mark is None else mark.line + 1, fix="check indentation and colons",
        ) from None
    if not isinstance(doc, dict):
        raise DataError("expected a mapping at the top level", file=path, expected=f"a {what}")
    return doc


def load_playbook(path: str | Path = PLAYBOOK) -> dict[str, Any]:
    """Read and check a playbook: ``segments`` (segment -> action, channel, ...) and ``rules``.

    Parameters
    ----------
    path : str or Path
        The playbook YAML file; default ``notebooks/playbook.yml``.

    Returns
    -------
    dict
        The document, with ``churn_threshold`` defaulting to 0.5 and ``_path`` set to the
        file it was read from.

    Raises
    ------
    DataError
        When the file cannot be read as a YAML mapping (see :func:`load_yaml`), names a
        segment not in :data:`crmlab.segments.SEGMENTS`, or has a rule without ``when``.
    """
    doc = load_yaml(path, "playbook")
    segs = doc.get("segments") or {}
    unknown = sorted(set(segs) - set(SEGMENTS))
    if unknown:
        raise DataError(
            f"unknown segment(s) {unknown}", file=path, column="segments",
            expected="names among " + ", ".join(SEGMENTS),
        )
    for i, rule in enumerate(doc.get("rules") or [], start=1):
        if not isinstance(rule, dict) or "when" not in rule:
            raise DataError(f"rule {i} has no 'when' condition", file=path, column="rules",
                            expected="- when: churn_risk > 0.5\n  action: ...")
    doc.setdefault("churn_threshold", 0.5)
    doc["_path"] = str(path)
    return doc


def _apply_rules(t: pd.DataFrame, pb: Mapping[str, Any]) -> None:
    """Apply the playbook's override rules in order, in place; ``rule`` names the rule that hit."""
    for i, rule in enumerate(pb.get("rules") or [], start=1):
        try:
            hit = t.query(str(rule["when"]), engine="python").index
        except Exception as exc:
            raise DataError(
                f"playbook rule {i} cannot be evaluated: {exc}", file=pb.get("_path"), column="rules",
                value=rule["when"], expected="a condition on " + ", ".join(t.columns),
            ) from None
        for f in _FIELDS:
            if f in rule:
                t.loc[hit, f] = rule[f]
        t.loc[hit, "rule"] = rule.get("name", f"rule {i}")


class StrategyTable(TableResult):
    """The per-segment strategy: who gets which offer, through which channel, when."""

    title = "Segment strategy"


def _send_time(preferred: pd.DataFrame, seg_of: pd.Series, hours: bool = True) -> pd.Series:
    p = preferred.join(seg_of.rename("segment"), how="inner")
    if p.empty:
        return pd.Series(dtype="string")
    counts = p.groupby(["segment", "preferred_weekday", "preferred_hour"], observed=True).size().rename("n")
    top = counts.reset_index().sort_values(["segment", "n"], ascending=[True, False]).drop_duplicates("segment")
    return pd.Series(
        [f"{d} {int(h):02d}:00" if hours else str(d) for d, h in zip(top["preferred_weekday"], top["preferred_hour"])],
        index=top["segment"].astype(str),
    )


def segment_strategy(
    rfm_table: pd.DataFrame,
    *,
    playbook: Mapping[str, Any] | None = None,
    customer_values: pd.DataFrame | None = None,
    preferred_times: pd.DataFrame | None = None,
    offers: pd.DataFrame | pd.Series | None = None,
    campaign_response: pd.Series | None = None,
    send_hours: bool = True,
    churn_scores: pd.Series | None = None,
) -> StrategyTable:
    """One row per RFM segment with its numbers and its recommended play.

    Parameters
    ----------
    rfm_table : ``segments.rfm(...).table`` (customer_id index; ``segment``, ``monetary``).
    playbook : from :func:`load_playbook` (default: ``notebooks/playbook.yml``).
    customer_values : per customer (same index) ``clv`` and/or ``prob_alive``.
    preferred_times : ``customers.timing(...).preferred`` (preferred_weekday, preferred_hour).
    offers : best cross-sell offer per segment (index segment; a string Series, or a
        DataFrame whose first column is the offer text).
    campaign_response : measured campaign response per segment (index segment; text or number).
    send_hours : whether order times carry an hour of day; without it the send time is the weekday.
    churn_scores : per-customer churn risk from a measure proven on a holdout
        (``crmlab.ltv.churn_risk_model(...).table["churn_risk"]``); the segment's churn_risk is
        then its mean instead of the playbook's P(alive)/silence rule.

    Returns
    -------
    StrategyTable whose ``table`` has, per segment: customers, revenue_share, avg_clv,
    prob_alive (mean), churn_risk (share of customers with P(alive) below the playbook's
    ``churn_threshold``, or silent for more than its ``churn_days`` when set: on a short
    history the purchase model can see almost no dropout, while long silence is observed
    fact), best_offer, campaign_response, action, channel, send_time, priority.
    Override rules (``when:`` a pandas query on these columns) are applied in order after
    the segment defaults; the ``rule`` column names the rule that changed a row.
    """
    pb = dict(playbook) if playbook is not None else load_playbook()
    if "segment" not in rfm_table.columns:
        raise DataError("the RFM table has no 'segment' column", column="segment",
                        expected="segments.rfm(...).table")
    seg = rfm_table["segment"].astype(str)
    g = rfm_table.groupby(seg, observed=True)
    total = rfm_table["monetary"].sum()
    t = pd.DataFrame({"customers": g.size(), "revenue_share": g["monetary"].sum() / total if total else np.nan})
    t = t.reindex(list(SEGMENTS)).fillna({"customers": 0}).astype({"customers": int})
    if customer_values is not None:
        cv = customer_values.reindex(rfm_table.index)
        if "clv" in cv:
            t["avg_clv"] = cv["clv"].groupby(seg).mean()
        if "prob_alive" in cv:
            t["prob_alive"] = cv["prob_alive"].groupby(seg).mean()
            risky = cv["prob_alive"] < float(pb["churn_threshold"])
            if "recency_days" in rfm_table and pb.get("churn_days"):
                risky |= rfm_table["recency_days"] > int(pb["churn_days"])
            t["churn_risk"] = risky.groupby(seg).mean()
    if churn_scores is not None:  # a measure proven on a holdout (crmlab.ltv.churn_risk_model) wins
        t["churn_risk"] = churn_scores.reindex(rfm_table.index).astype(float).groupby(seg).mean()
    for col in ("avg_clv", "prob_alive", "churn_risk"):
        if col not in t:
            t[col] = np.nan
    if offers is not None:
        off = offers.iloc[:, 0] if isinstance(offers, pd.DataFrame) else offers
        t["best_offer"] = off.reindex(t.index)
    else:
        t["best_offer"] = pd.NA
    t["campaign_response"] = campaign_response.reindex(t.index) if campaign_response is not None else pd.NA
    defaults = pb.get("segments") or {}
    for f in _FIELDS:
        t[f] = [defaults.get(s, {}).get(f, pd.NA) for s in t.index]
    t["send_time"] = (
        _send_time(preferred_times, seg, send_hours).reindex(t.index) if preferred_times is not None else pd.NA
    )
    t["rule"] = pd.NA
    t = t.astype({"rule": "object", "action": "object", "channel": "object"})
    _apply_rules(t, pb)
    t.index.name = "segment"
    t = t[t["customers"] > 0]
    return StrategyTable(t)
