"""Targets: goals for tracked metrics, and a scorecard of where each metric stands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from crmlab import config
from crmlab.errors import DataError, ParameterError
from crmlab.results import TableResult
from crmlab.strategy.playbook import load_yaml

TARGETS = config.NOTEBOOKS_DIR / "targets.yml"


@dataclass(frozen=True)
class Target:
    """A goal for one tracked metric, to be reached by a date.

    Parameters
    ----------
    metric : str
        Name of the metric (a column of the metric history).
    goal : float
        The value to reach.
    by : pandas.Timestamp
        The date by which to reach it.
    label : str
        Name shown in the scorecard.
    higher_is_better : bool
        True: the goal is met at or above ``goal``; False: at or below it.

    Attributes
    ----------
    metric, goal, by, label, higher_is_better
        As given (the instance is frozen).
    """

    metric: str
    goal: float
    by: pd.Timestamp
    label: str
    higher_is_better: bool = True


def load_targets(path: str | Path = TARGETS) -> list[Target]:
    """Read ``targets.yml``: a list of ``metric``, ``goal``, ``by`` (date), optional ``label``
    and ``higher_is_better`` (default true).

    Parameters
    ----------
    path : str or Path
        The targets YAML file; default ``notebooks/targets.yml``.

    Returns
    -------
    list of Target
        In file order; ``label`` defaults to the metric name.

    Raises
    ------
    DataError
        When the file cannot be read as a YAML mapping, lists no targets, a target lacks
        ``metric``, ``goal`` or ``by``, or its goal is not a number or its date not a date.
    """
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

    The trend is the least-squares line of the metric against time over all periods with a
    value; ``projected`` is that line at the goal date. Status: ``met`` (current already at
    or beyond the goal), ``on track`` (projection reaches it by its date), ``off track``,
    ``missed`` (goal date passed, not met) or ``no trend`` (fewer than two periods).

    Parameters
    ----------
    history : pandas.DataFrame
        One row per period, indexed by the period's end date, one column per metric.
    targets : sequence of Target
        From :func:`load_targets`.

    Returns
    -------
    Scorecard
        Its ``table`` is indexed by metric: label, current, previous, change, goal, by, gap
        (0 once met), trend_per_30_days, projected and status.

    Raises
    ------
    ParameterError
        When a target's metric is not a column of ``history`` or has no values.
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
