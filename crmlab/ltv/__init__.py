"""Customer lifetime value: buy-till-you-die models, spend model, CLV and holdout checks.

The job: from a transaction log, say how many purchases each customer will make over a
horizon, whether they are still "alive", what they will spend and what they are worth, and
check those predictions on a holdout period before anyone acts on them.

Workflow::

    from crmlab import ltv
    cal = ltv.calibration_holdout(tx, calibration_end="2011-09-01", unit="W")
    model = ltv.BGNBD().fit(cal)              # also ltv.ParetoNBD, ltv.MBGNBD, ltv.BGBB
    model.prob_active(13, cal)                # P(a purchase in the next 13 weeks); prob_purchases(t, n)
    check = ltv.holdout_check(model, cal)     # predicted vs actual repeat purchases
    s = ltv.summary(tx, unit="W")
    spend = ltv.GammaGamma().fit(s)
    value = ltv.clv(model.fit(s), spend, s, horizon_months=12, margin=0.3)

Models (the papers' likelihoods, implemented here in vectorised numpy/scipy):

- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative
  to the Pareto/NBD model", Marketing Science 24(2).
- Pareto/NBD: Schmittlein, Morrison & Colombo (1987), Management Science 33(1); likelihood
  and expectations as derived in Fader & Hardie (2005), "A note on deriving the Pareto/NBD
  model and related expressions".
- MBG/NBD: Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of
  models for customer base analysis", IJRM 24(3).
- BG/BB (discrete opportunities): Fader, Hardie & Shang (2010), Marketing Science 29(6).
- Shifted-beta-geometric (contract retention): Fader & Hardie (2007), "How to project
  customer retention", J. Interactive Marketing 21(1); DERL from Fader & Hardie (2010).
- Gamma-Gamma spend: Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for
  customer base analysis", JMR 42(4), and Hardie's note 025.

Why not lifetimes' own fitters: they rescale time (so the reported log-likelihood is not the
papers'), fit one row per customer (a million customers cost a million rows), and fail
quietly (Pareto/NBD without standard errors). Here every model fits on the distinct
(frequency, recency, T) rows with weights, reports the papers' log-likelihood, standard
errors from the observed information, AIC/BIC, and warns when a fit does not converge.
lifetimes stays the reference the tests compare against (:meth:`PurchaseModel.to_lifetimes`);
it is a test-only dependency.

Layout: ``summaries`` (summary, calibration_holdout, calibration_cutoff, aggregate), ``base`` (fitter machinery,
:class:`FitResult`, the abstract :class:`PurchaseModel` a new model subclasses), ``predict``
(P(X(t)=n), P(active), next-order date on every model), one module per model (``bgnbd``,
``mbgnbd``, ``pareto_nbd``, ``bgbb``, ``sbg``, ``gamma_gamma``), ``clv`` (CLV and the at-risk
rule), ``validation`` (holdout checks, model choice), ``backtest`` (rolling-origin
leaderboard), ``churn_risk`` (churn measures compared on a holdout), ``checks``
(assumption checks), ``plots`` (P(alive) and frequency/recency matrices, period
transactions), ``datasets`` (CDNOW). A name loads its module on first use: ``from crmlab
import ltv`` costs nothing, a summary-and-fit job loads pandas and scipy, and scikit-learn comes
in only with ``backtest``, the churn-risk functions or ``compare_models``/``holdout_check``.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

#: Where each public name lives. The submodules load on first use of one of their names, so
#: a summary-and-fit job does not pay for scikit-learn (backtest, churn risk, model
#: comparison), plotting or the narrative.
_EXPORTS = {
    "backtest": ("BacktestResult", "backtest", "default_cutoffs"),
    "base": ("FitResult", "PurchaseModel"),
    "bgbb": ("BGBB", "summary_from_histories"),
    "bgnbd": ("BGNBD",),
    "churn_risk": ("ChurnRiskResult", "buy_again_labels", "churn_features", "churn_risk_model"),
    "checks": ("AssumptionWarning", "model_checks"),
    "clv": ("CLVResult", "at_risk_summary", "clv", "high_value_at_risk"),
    "datasets": ("cdnow_master_path", "load_cdnow_master"),
    "gamma_gamma": ("GammaGamma",),
    "mbgnbd": ("MBGNBD",),
    "pareto_nbd": ("ParetoNBD",),
    "plots": ("period_transactions", "plot_frequency_recency_matrix", "plot_period_transactions",
              "plot_probability_alive_matrix"),
    "sbg": ("ShiftedBetaGeometric", "contract_durations"),
    "summaries": ("UNITS", "aggregate", "calibration_cutoff", "calibration_holdout", "summary"),
    "validation": ("ComparisonResult", "HoldoutResult", "compare_models", "holdout_check"),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

if TYPE_CHECKING:  # the names for type checkers and editors
    from crmlab.ltv.backtest import BacktestResult, backtest, default_cutoffs
    from crmlab.ltv.base import FitResult, PurchaseModel
    from crmlab.ltv.bgbb import BGBB, summary_from_histories
    from crmlab.ltv.bgnbd import BGNBD
    from crmlab.ltv.checks import AssumptionWarning, model_checks
    from crmlab.ltv.churn_risk import ChurnRiskResult, buy_again_labels, churn_features, churn_risk_model
    from crmlab.ltv.clv import CLVResult, at_risk_summary, clv, high_value_at_risk
    from crmlab.ltv.datasets import cdnow_master_path, load_cdnow_master
    from crmlab.ltv.gamma_gamma import GammaGamma
    from crmlab.ltv.mbgnbd import MBGNBD
    from crmlab.ltv.pareto_nbd import ParetoNBD
    from crmlab.ltv.plots import (
        period_transactions,
        plot_frequency_recency_matrix,
        plot_period_transactions,
        plot_probability_alive_matrix,
    )
    from crmlab.ltv.sbg import ShiftedBetaGeometric, contract_durations
    from crmlab.ltv.summaries import UNITS, aggregate, calibration_cutoff, calibration_holdout, summary
    from crmlab.ltv.validation import ComparisonResult, HoldoutResult, compare_models, holdout_check


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'crmlab.ltv' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"crmlab.ltv.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


class _Package(types.ModuleType):
    """``ltv.backtest`` and ``ltv.clv`` are functions, named like their modules. Importing a
    submodule binds it on its package, so whenever those two modules load (on first use, or
    imported directly elsewhere), the function is bound instead, as the eager imports did."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _HOME and _HOME[name] == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "UNITS",
    "summary",
    "calibration_holdout",
    "calibration_cutoff",
    "aggregate",
    "PurchaseModel",
    "BGNBD",
    "ParetoNBD",
    "MBGNBD",
    "BGBB",
    "summary_from_histories",
    "ShiftedBetaGeometric",
    "contract_durations",
    "GammaGamma",
    "clv",
    "churn_risk_model",
    "churn_features",
    "buy_again_labels",
    "ChurnRiskResult",
    "holdout_check",
    "compare_models",
    "backtest",
    "default_cutoffs",
    "BacktestResult",
    "high_value_at_risk",
    "model_checks",
    "AssumptionWarning",
    "plot_probability_alive_matrix",
    "plot_frequency_recency_matrix",
    "plot_period_transactions",
    "period_transactions",
    "at_risk_summary",
    "load_cdnow_master",
    "cdnow_master_path",
    "FitResult",
    "CLVResult",
    "HoldoutResult",
    "ComparisonResult",
]
