"""From findings to a strategy: per-segment plays, targets over time, period comparison.

* :func:`segment_strategy` joins what the other analyses learned per RFM segment (size,
  value, lifetime value, probability alive, best cross-sell offer, measured campaign
  response, preferred send time) with the *playbook*, a YAML file of recommended action and
  channel per segment plus override rules an analyst can read and change.
* :func:`scorecard` compares tracked metrics with goals from ``targets.yml``: current value,
  previous period, goal, gap, and whether the linear trend reaches the goal by its date.
* :func:`compare_runs` sets two rendered runs side by side for a strategy workshop: KPI
  deltas, segment migration, lifetime value by segment, rules that appeared or disappeared,
  and campaign results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from crmlab import config
from crmlab.errors import DataError, ParameterError
from crmlab.results import TableResult
from crmlab.segments import SEGMENTS, migration

PLAYBOOK = config.NOTEBOOKS_DIR / "playbook.yml"
TARGETS = config.NOTEBOOKS_DIR / "targets.yml"

_FIELDS = ("action", "channel", "offer_type", "priority")


# ------------------------------------------------------------------------------- playbook


def load_yaml(path: str | Path, what: str) -> dict[str, Any]:
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
    """Read and check a playbook: ``segments`` (segment -> action, channel, ...) and ``rules``."""
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


class StrategyTable(TableResult):
    """The per-segment strategy: who gets which offer, through which channel, when."""

    title = "Segment strategy"


def _send_time(preferred: pd.DataFrame, seg_of: pd.Series) -> pd.Series:
    p = preferred.join(seg_of.rename("segment"), how="inner")
    if p.empty:
        return pd.Series(dtype="string")
    counts = p.groupby(["segment", "preferred_weekday", "preferred_hour"], observed=True).size().rename("n")
    top = counts.reset_index().sort_values(["segment", "n"], ascending=[True, False]).drop_duplicates("segment")
    return pd.Series(
        [f"{d} {int(h):02d}:00" for d, h in zip(top["preferred_weekday"], top["preferred_hour"])],
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
        _send_time(preferred_times, seg).reindex(t.index) if preferred_times is not None else pd.NA
    )
    t["rule"] = pd.NA
    t = t.astype({"rule": "object", "action": "object", "channel": "object"})
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
    t.index.name = "segment"
    t = t[t["customers"] > 0]
    return StrategyTable(t)


# ------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    metric: str
    goal: float
    by: pd.Timestamp
    label: str
    higher_is_better: bool = True


def load_targets(path: str | Path = TARGETS) -> list[Target]:
    """Read ``targets.yml``: a list of ``metric``, ``goal``, ``by`` (date), optional ``label``
    and ``higher_is_better`` (default true)."""
    doc = load_yaml(path, "targets")
    items = doc.get("targets")
    if not isinstance(items, list) or not items:
        raise DataError("no targets listed", file=path, column="targets",
                        expected="targets: [- metric: repeat_rate, goal: 0.7, by: 2012-06-30]")
    out = []
    for i, item in enumerate(items, start=1):
        missing = [k for k in ("metric", "goal", "by") if k not in (item or {})]
        if missing:
            raise DataError(f"target {i} lacks {missing}", file=path, column="targets", row=i,
                            expected="metric, goal and by (a date)")
        try:
            goal = float(item["goal"])
            by = pd.Timestamp(item["by"])
        except (TypeError, ValueError):
            raise DataError(f"target {i} has a goal that is not a number or a date that is not a date",
                            file=path, column="targets", row=i, value=f"{item['goal']}, {item['by']}") from None
        out.append(Target(str(item["metric"]), goal, by, str(item.get("label", item["metric"])),
                          bool(item.get("higher_is_better", True))))
    return out


class Scorecard(TableResult):
    """Tracked metrics against their goals."""

    title = "Targets scorecard"


def scorecard(history: pd.DataFrame, targets: Sequence[Target]) -> Scorecard:
    """Current value, previous period, goal, gap and trend verdict for each target.

    Parameters
    ----------
    history : one row per period, indexed by the period's end date, one column per metric.
    targets : from :func:`load_targets`.

    The trend is the least-squares line of the metric against time over all periods with a
    value; ``projected`` is that line at the goal date. Status: ``met`` (current already at
    or beyond the goal), ``on track`` (projection reaches it by its date), ``off track``,
    ``missed`` (goal date passed, not met) or ``no trend`` (fewer than two periods).
    """
    hist = history.sort_index()
    hist.index = pd.DatetimeIndex(hist.index)
    rows = {}
    for tg in targets:
        if tg.metric not in hist.columns:
            raise ParameterError(
                f"no history for target metric {tg.metric!r}", column=tg.metric,
                expected="one of " + ", ".join(map(str, hist.columns)),
            )
        s = hist[tg.metric].dropna().astype(float)
        if s.empty:
            raise ParameterError(f"metric {tg.metric!r} has no values", column=tg.metric)
        current, now = float(s.iloc[-1]), s.index[-1]
        previous = float(s.iloc[-2]) if len(s) > 1 else np.nan
        sign = 1.0 if tg.higher_is_better else -1.0
        gap = sign * (tg.goal - current)
        slope = projected = np.nan
        if len(s) > 1:
            days = (s.index - s.index[0]).days.to_numpy(float)
            slope, intercept = np.polyfit(days, s.to_numpy(), 1)
            projected = float(intercept + slope * (tg.by - s.index[0]).days)
        if gap <= 0:
            status = "met"
        elif now >= tg.by:
            status = "missed"
        elif np.isnan(projected):
            status = "no trend"
        else:
            status = "on track" if sign * (projected - tg.goal) >= -1e-12 else "off track"
        rows[tg.metric] = {
            "label": tg.label, "current": current, "previous": previous,
            "change": current - previous, "goal": tg.goal, "by": tg.by.date().isoformat(),
            "gap": max(gap, 0.0), "trend_per_30_days": slope * 30 if not np.isnan(slope) else np.nan,
            "projected": projected, "status": status,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "metric"
    return Scorecard(table)


def metric_history(
    tx: pd.DataFrame,
    *,
    period: str = "Q",
    periods: int = 4,
    clv_points: int = 2,
    horizon_months: int = 12,
    margin: float = 1.0,
) -> pd.DataFrame:
    """The tracked metrics at the start of each of the last ``periods`` calendar periods and now.

    Columns: ``repeat_rate`` and ``active_customers`` (ordered in the 90 days before the
    date) at every date; ``best_customer_retention`` at the end of each full period
    (:func:`crmlab.retention.best_customer_retention`, the share of the period's top-segment
    customers who bought again within it); ``avg_clv`` (BG/NBD + Gamma-Gamma, margin-weighted,
    over ``horizon_months``) at the last ``clv_points`` dates, as it is the costly one.
    The data seen at each date is only what came before it, so the history is what a run on
    that date would have reported.
    """
    import warnings

    from crmlab import customers, ltv, retention
    from crmlab.errors import ConvergenceWarning

    if period not in ("M", "Q"):
        raise ParameterError("unknown period", value=period, expected="'M' or 'Q'")
    now = tx["order_ts"].max().normalize() + pd.Timedelta(days=1)
    first = tx["order_ts"].min()
    starts = pd.period_range(first, now, freq=period).start_time
    dates = [d for d in starts if first + pd.Timedelta(days=90) <= d < now][-periods:] + [now]
    rows = {}
    for d in dates:
        sub = tx[tx["order_ts"] < d]
        recent = sub[sub["order_ts"] >= d - pd.Timedelta(days=90)]
        rows[d] = {
            "repeat_rate": customers.kpis(sub).to_dict()["repeat_rate"],
            "active_customers": int(recent["customer_id"].nunique()),
        }
    hist = pd.DataFrame.from_dict(rows, orient="index")
    bcr = retention.best_customer_retention(tx, period=period).table
    if len(bcr):
        ends = (pd.PeriodIndex(pd.to_datetime(bcr.index), freq=period) + 1).start_time
        hist["best_customer_retention"] = pd.Series(bcr["retention"].to_numpy(), index=ends).reindex(hist.index)
    else:
        hist["best_customer_retention"] = np.nan
    hist["avg_clv"] = np.nan
    for d in hist.index[-clv_points:]:
        summ = ltv.summary(tx[tx["order_ts"] < d], observation_end=d - pd.Timedelta(days=1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            value = ltv.clv(ltv.BGNBD().fit(summ), ltv.GammaGamma().fit(summ), summ,
                            horizon_months=horizon_months, margin=margin, intervals=False)
        hist.loc[d, "avg_clv"] = float(value.table["clv"].mean())
    hist.index.name = "date"
    return hist


# ------------------------------------------------------------------------------- findings


def key_findings(m: Mapping[str, Any], n: int = 5) -> list[str]:
    """The findings that matter most, each with its number, from a flat metrics dict.

    Each candidate finding is written only when its numbers are present; they are ranked by
    how directly they move revenue (concentration and retention of the best first).
    """
    out: list[tuple[int, str]] = []

    def has(*keys: str) -> bool:
        return all(m.get(k) is not None for k in keys)

    if has("best_customer_share", "best_revenue_share"):
        out.append((1, f"{m['best_customer_share']:.0%} of customers (Champions, Loyal, Can't Lose Them) "
                       f"bring {m['best_revenue_share']:.0%} of revenue."))
    if has("top_10pct_revenue_share"):
        out.append((2, f"The top 10% of customers bring {m['top_10pct_revenue_share']:.0%} of revenue."))
    if has("at_risk_value_customers", "at_risk_value_clv"):
        out.append((3, f"{m['at_risk_value_customers']:,} high-value customers are likely lapsing; "
                       f"their expected future value is {m['at_risk_value_clv']:,.0f}."))
    if has("best_customer_retention"):
        out.append((4, f"{m['best_customer_retention']:.0%} of last period's best customers bought again "
                       "this period."))
    if has("repeat_rate"):
        out.append((5, f"{m['repeat_rate']:.0%} of customers have ordered more than once."))
    if has("campaign_best_arm", "campaign_best_lift"):
        out.append((6, f"The {m['campaign_best_arm']} campaign raised the response by "
                       f"{m['campaign_best_lift']:+.1%} against its control group."))
    if has("top_rule", "top_rule_lift"):
        out.append((7, f"Strongest cross-sell: {m['top_rule']} (lift {m['top_rule_lift']:.1f})."))
    if has("avg_clv"):
        out.append((8, f"An average customer is worth {m['avg_clv']:,.0f} over the forecast horizon."))
    return [text for _, text in sorted(out)[:n]]


# ------------------------------------------------------------------------------- comparison


def kpi_deltas(a: Mapping[str, Any], b: Mapping[str, Any], keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Numeric metrics of two runs side by side: A, B, change and relative change."""
    keys = keys or [k for k in a if k in b]
    rows = {}
    for k in keys:
        va, vb = a.get(k), b.get(k)
        if isinstance(va, bool) or isinstance(vb, bool):
            continue
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)):
            rows[k] = {"A": va, "B": vb, "change": vb - va, "relative_change": (vb - va) / va if va else np.nan}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["A", "B", "change", "relative_change"])
    out.index.name = "metric"
    return out


def rules_diff(a: pd.DataFrame, b: pd.DataFrame, key: str = "rule") -> dict[str, pd.DataFrame]:
    """Rules that appeared (in B only), disappeared (A only) and stayed (with lift in both)."""
    ka, kb = set(a[key]), set(b[key])
    stayed = a[a[key].isin(kb)].merge(b[[key, "lift"]], on=key, suffixes=("_A", "_B")) if "lift" in a else a[a[key].isin(kb)]
    return {
        "appeared": b[~b[key].isin(ka)].reset_index(drop=True),
        "disappeared": a[~a[key].isin(kb)].reset_index(drop=True),
        "stayed": stayed.reset_index(drop=True),
    }


def plot_migration(matrix: pd.DataFrame, ax: Any = None, *, shares: bool = True):
    """Heatmap of a segment migration matrix (rows: before, columns: after); returns the Axes.

    With ``shares`` each row is shown as the share of that segment's customers, so small and
    large segments read alike; the counts are written in the cells.
    """
    from crmlab.plots import get_ax

    ax = get_ax(ax, (9, 7))
    m = matrix.loc[matrix.sum(axis=1) > 0, matrix.sum(axis=0) > 0]
    values = m.div(m.sum(axis=1), axis=0) if shares else m
    im = ax.imshow(values.to_numpy(float), cmap="Blues", aspect="auto", vmin=0)
    ax.set_xticks(range(m.shape[1]), m.columns, rotation=45, ha="right")
    ax.set_yticks(range(m.shape[0]), m.index)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m.iat[i, j]:
                ax.text(j, i, f"{m.iat[i, j]:,}", ha="center", va="center", fontsize=7,
                        color="white" if values.iat[i, j] > 0.5 * values.to_numpy().max() else "black")
    ax.set_xlabel("segment in run B")
    ax.set_ylabel("segment in run A")
    ax.set_title("Where each segment's customers went")
    ax.figure.colorbar(im, ax=ax, label="share of the row" if shares else "customers")
    return ax


def compare_runs(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Compare two runs' strategy outputs for a workshop.

    ``a`` and ``b`` are dicts with ``metrics`` (flat dict) and ``tables`` (name -> DataFrame:
    ``customer_segments`` with customer_id and segment, ``clv_by_segment``, ``rules``,
    ``campaign``), as :func:`crmlab.report.load_run` gives for a strategy report.
    """
    ta, tb = a.get("tables", {}), b.get("tables", {})
    out: dict[str, Any] = {"kpis": kpi_deltas(a.get("metrics", {}), b.get("metrics", {}))}
    if "customer_segments" in ta and "customer_segments" in tb:
        sa = ta["customer_segments"].set_index("customer_id")["segment"]
        sb = tb["customer_segments"].set_index("customer_id")["segment"]
        out["migration"] = migration(sa, sb)
    if "clv_by_segment" in ta and "clv_by_segment" in tb:
        ca = ta["clv_by_segment"].set_index("segment")
        cb = tb["clv_by_segment"].set_index("segment")
        col = "avg_clv"
        both = pd.DataFrame({"A": ca[col], "B": cb[col]}).reindex(list(SEGMENTS)).dropna(how="all")
        both["change"] = both["B"] - both["A"]
        out["clv_by_segment"] = both
    if "rules" in ta and "rules" in tb:
        out["rules"] = rules_diff(ta["rules"], tb["rules"])
    if "campaign" in ta and "campaign" in tb:
        out["campaign"] = pd.concat({"A": ta["campaign"], "B": tb["campaign"]}, axis=1)
    return out
