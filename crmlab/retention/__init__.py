"""Retention: cohorts, time to churn, churn drivers and how well the best customers are kept.

Keeping good customers is usually cheaper than winning new ones (Reichheld & Sasser 1990,
"Zero defections"), so retention is measured three ways here:

- :func:`cohort_matrix`: of the customers acquired in a month, how many buy again k months
  later (counted "in exactly period k" or "in period k or later"), as counts and rates;
- :func:`churn_table`, :func:`survival` and :func:`churn_drivers`: time from first purchase to
  churn as a survival problem (Kaplan-Meier with statsmodels ``SurvfuncRight``; Cox
  proportional hazards with statsmodels ``PHReg``), so customers still active are censored
  rather than counted as churned or dropped;
- :func:`best_customer_retention`: of the customers in the top segments at the start of a
  period, the share still buying in that period, period after period.

Workflow::

    from crmlab import retention
    cohorts = retention.cohort_matrix(tx)            # cohorts.plot()
    ct = retention.churn_table(tx, churn_days=90)
    km = retention.survival(ct, by="segment")        # km.plot(), km.summary
    use, dropped = retention.churn_covariates(ct, [*retention.BASELINE_COVARIATES, "domestic"])
    cox = retention.churn_drivers(ct, use)

Layout: ``cohorts`` (cohort_matrix), ``churn`` (churn_table, churn_covariates, churn_drivers), ``survival``
(Kaplan-Meier), ``best`` (best_customer_retention); the report date goes through
:func:`crmlab.dates.cutoff`, the best segments come from :data:`crmlab.segments.BEST_SEGMENTS`.
"""

from crmlab.retention.best import BestCustomerResult, best_customer_retention
from crmlab.retention.churn import BASELINE_COVARIATES, CoxResult, churn_covariates, churn_drivers, churn_table
from crmlab.retention.cohorts import CohortResult, cohort_matrix
from crmlab.retention.survival import SurvivalResult, survival

__all__ = [
    "cohort_matrix",
    "churn_table",
    "survival",
    "churn_drivers",
    "churn_covariates",
    "BASELINE_COVARIATES",
    "best_customer_retention",
    "CohortResult",
    "SurvivalResult",
    "CoxResult",
    "BestCustomerResult",
]
