"""One SparkSession for crmlab: reuse the active one, else build a local or a cluster one.

The rule, in order:

1. a session already running in this process (Databricks notebooks, ``pyspark`` shells,
   an earlier call) is returned as it is;
2. with ``SPARK_REMOTE`` set (Spark Connect, e.g. ``sc://host:15002``) the builder connects
   there;
3. under ``spark-submit`` (the driver was launched by Spark, which sets ``spark.master``)
   the master it was given is kept;
4. otherwise the master is the ``master`` argument, else the ``SPARK_MASTER`` environment
   variable, else ``local[2]``.

A local master gets a small number of shuffle partitions (the default 200 would make every
aggregation of a laptop-sized table launch 200 tiny tasks). Every session gets the UTC
session time zone (order timestamps are naive, as in pandas) and Arrow transfers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_MASTER", "get_or_create", "is_spark_frame"]

#: The master when nothing else says where to run.
DEFAULT_MASTER = "local[2]"

#: Settings every crmlab session gets (a cluster's own spark-defaults win for anything else).
_BASE_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "true",
}

#: Extra settings for a local master.
_LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
}


def _local_partitions(master: str) -> str:
    """Shuffle partitions for a local master: twice the cores (at least 4)."""
    inside = master[master.find("[") + 1: master.find("]")] if "[" in master else "1"
    cores = os.cpu_count() or 2 if inside == "*" else int(inside.split(",")[0] or 1)
    return str(max(4, 2 * cores))


def get_or_create(master: str | None = None, *, app_name: str = "crmlab", driver_memory: str | None = None,
                  conf: Mapping[str, Any] | None = None, log_level: str = "ERROR"):
    """The SparkSession crmlab works in (see the module docstring for which one).

    Parameters
    ----------
    master : str, optional
        Spark master URL (``local[4]``, ``spark://host:7077``, ``yarn``); default the
        ``SPARK_MASTER`` environment variable, else ``local[2]``. Ignored when a session is
        already active, with ``SPARK_REMOTE`` and under ``spark-submit``.
    app_name : str
        Application name.
    driver_memory : str, optional
        ``spark.driver.memory`` for a new local session (e.g. ``"3g"``).
    conf : mapping, optional
        More Spark settings for a new session.
    log_level : str
        Log level of the Spark context (``"ERROR"`` keeps notebooks quiet).

    Returns
    -------
    pyspark.sql.SparkSession
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName(app_name)
    settings = dict(_BASE_CONF)
    remote = bool(os.environ.get("SPARK_REMOTE"))
    submitted = bool(os.environ.get("PYSPARK_GATEWAY_PORT"))  # launched by spark-submit
    if not remote and not submitted:
        master = master or os.environ.get("SPARK_MASTER") or DEFAULT_MASTER
        builder = builder.master(master)
        if master.startswith("local"):
            # Python workers run this interpreter (with crmlab and its dependencies), not the PATH's
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            settings.update(_LOCAL_CONF)
            settings["spark.sql.shuffle.partitions"] = _local_partitions(master)
            if driver_memory:
                settings["spark.driver.memory"] = driver_memory
    settings.update({k: str(v) for k, v in (conf or {}).items()})
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if not remote:
        spark.sparkContext.setLogLevel(log_level)
    return spark


def is_spark_frame(obj: Any) -> bool:
    """Whether ``obj`` is a Spark DataFrame (classic or Spark Connect), without importing pyspark.

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
    """
    mod = type(obj).__module__
    return mod.startswith("pyspark.sql") and type(obj).__name__ == "DataFrame"
