"""Which shipped notebooks run on a Spark source (``engine: spark``), checked before a kernel starts.

A notebook runs on a Spark source when every crmlab call it makes on the order table takes a
Spark DataFrame (Spark aggregates, the driver gets the aggregated tables). The others are
refused up front, in one line naming the notebook and the calls that need pandas, instead of
failing half-way through a render with a traceback.
"""

from __future__ import annotations

from typing import Any

from crmlab.errors import ParameterError

__all__ = ["ON_SPARK", "NOT_ON_SPARK", "check_notebook_engine"]

#: Notebooks that run on a Spark source (each tested against its pandas render).
ON_SPARK = ("00-strategy-report", "01-customer-analysis", "02-market-basket", "03-retention-ltv")

#: Notebooks that do not yet, and the calls that take only a pandas DataFrame.
NOT_ON_SPARK = {
    "04-campaign-measurement": "campaign.segment_effects, the head-to-head and next-test plans and the uplift "
                               "targeting",
}


def check_notebook_engine(notebook: str, src: Any) -> None:
    """Refuse a Spark source for a notebook that cannot run on one.

    Parameters
    ----------
    notebook : str
        The notebook's name (``03-retention-ltv``).
    src : crmlab.data.Source
        The source the notebook would read.

    Raises
    ------
    ParameterError
        ``src`` has ``engine: spark`` and the notebook is in :data:`NOT_ON_SPARK`.
    """
    if getattr(src, "engine", "pandas") != "spark" or notebook not in NOT_ON_SPARK:
        return
    raise ParameterError(
        f"notebook {notebook} does not run on a Spark source yet: {NOT_ON_SPARK[notebook]} take pandas data",
        file=getattr(src, "file", None), column="engine", value="spark",
        fix=f"render it from a pandas source (engine: pandas) of the same data; {', '.join(ON_SPARK)} "
            "run on Spark, and crmlab.spark offers the other jobs from Python")
