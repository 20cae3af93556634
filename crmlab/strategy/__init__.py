"""From findings to a strategy: per-segment plays, targets over time, period comparison.

- :mod:`~crmlab.strategy.playbook`: :func:`segment_strategy` joins what the other analyses
  learned per RFM segment with the *playbook* (``notebooks/playbook.yml``), the recommended
  action and channel per segment plus override rules an analyst can read and change;
- :mod:`~crmlab.strategy.metrics`: every published metric name defined once
  (:data:`METRICS`), the metric history the scorecard tracks, the at-risk figures;
- :mod:`~crmlab.strategy.targets`: goals from ``targets.yml`` and the :func:`scorecard`;
- :mod:`~crmlab.strategy.findings`: :func:`key_findings` written from the numbers;
- :mod:`~crmlab.strategy.compare`: two runs side by side for a workshop;
- :mod:`~crmlab.strategy.build`: :func:`build_strategy`, all of the strategy report in one call.
"""

from crmlab.strategy.build import StrategyInputs, build_strategy, campaign_response, customer_scores
from crmlab.strategy.compare import compare_runs, kpi_deltas, plot_migration, rules_diff
from crmlab.strategy.findings import key_findings
from crmlab.strategy.metrics import (
    COMPARED, METRICS, at_risk_metrics, compared_kpis, customer_value, last_value, metric_history, migration_summary,
    segment_shares,
)
from crmlab.strategy.playbook import PLAYBOOK, StrategyTable, load_playbook, load_yaml, segment_strategy
from crmlab.strategy.targets import TARGETS, Scorecard, Target, load_targets, scorecard
from crmlab.segments import SEGMENTS  # noqa: E402  (the names a playbook may use)

__all__ = [
    "SEGMENTS",
    "PLAYBOOK", "TARGETS", "StrategyTable", "load_playbook", "load_yaml", "segment_strategy",
    "Target", "load_targets", "Scorecard", "scorecard", "METRICS", "COMPARED", "metric_history",
    "at_risk_metrics", "customer_value", "last_value", "segment_shares", "migration_summary", "compared_kpis",
    "key_findings", "kpi_deltas", "rules_diff", "plot_migration", "compare_runs",
    "StrategyInputs", "build_strategy", "campaign_response", "customer_scores",
]
