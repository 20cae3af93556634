"""Scale out on Spark: the same analyses on data that does not fit one machine.

Each module is the Spark twin of a pandas one, with the same signatures and result objects:

- :mod:`~crmlab.spark.session`: :func:`get_or_create` (local ``local[2]`` by default; a cluster
  through ``SPARK_REMOTE``, ``spark-submit`` or ``SPARK_MASTER``);
- :mod:`~crmlab.spark.data`: :func:`load_source` / :func:`load_transactions` (Parquet, Delta,
  CSV, catalogue tables, JDBC) into the canonical columns;
- :mod:`~crmlab.spark.clean`: :func:`clean` and :func:`quality_summary`, counted by Spark;
- :mod:`~crmlab.spark.segments`: :func:`kpis` and :func:`rfm` (exact quintiles, the eleven segments);
- :mod:`~crmlab.spark.ltv`: :func:`summary` (compressed to distinct rows with counts),
  :func:`fit` on the driver and :func:`clv` scored back in Spark;
- :mod:`~crmlab.spark.basket`: :func:`fit_rules` with Spark ML's FPGrowth and crmlab's measures;
- :mod:`~crmlab.spark.campaign`: :func:`measure` from sufficient statistics aggregated in Spark;
- :mod:`~crmlab.spark.customers`: concentration, timing, favourites and country mix;
- :mod:`~crmlab.spark.retention`: the tables cohorts, the churn table and best-customer
  retention are finished from;
- :mod:`~crmlab.spark.notebooks`: which shipped notebooks run on a Spark source.

Importing this package does not import pyspark (install the ``spark`` extra to use it).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["get_or_create", "is_spark_frame", "load_source", "load_transactions", "clean", "quality_summary",
           "kpis", "rfm"]

_WHERE = {"get_or_create": "session", "is_spark_frame": "session", "load_source": "data",
          "load_transactions": "data", "clean": "clean", "quality_summary": "clean", "kpis": "segments",
          "rfm": "segments"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"crmlab.spark.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'crmlab.spark' has no attribute {name!r}")
