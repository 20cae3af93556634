"""What a notebook hands to its report: headline numbers, tables and safe text.

A notebook states its headline numbers with :func:`publish_metrics`; the renderer collects
them from the executed notebook into ``metrics.json`` (:func:`collect_metrics`). Tables
worth comparing between runs go through :func:`publish_tables` into
``tables/<name>.parquet``. Text from the data shown as Markdown goes through
:func:`escape_markdown`.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any

from crmlab.errors import ParameterError
from crmlab.report.layout import to_jsonable

#: MIME type of the metrics a notebook publishes (an output nobody sees).
METRICS_MIME = "application/vnd.crmlab.metrics+json"
#: Set by the renderer for the kernel: where :func:`publish_tables` saves tables.
TABLES_ENV = "CRMLAB_TABLES_DIR"
_TABLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


class PublishedMetrics(dict):
    """The numbers :func:`publish_metrics` recorded: a plain dict that displays as nothing,
    so a ``publish_metrics(...)`` call ending a cell leaves no ``Out`` in the report."""

    def _ipython_display_(self) -> None:
        return None


def publish_metrics(**metrics: Any) -> dict[str, Any]:
    """Record headline numbers of a notebook run (they end up in ``metrics.json``).

    Call it from a notebook cell: ``publish_metrics(customers=4339, revenue=8.9e6)``. The
    values are shown nowhere in the report; later calls add to or overwrite earlier keys.

    Parameters
    ----------
    **metrics : Any
        Name and value of each number (numpy and pandas scalars are fine).

    Returns
    -------
    PublishedMetrics
        The recorded values as plain JSON types (a dict that displays as nothing).
    """
    from IPython.display import display

    payload = to_jsonable(metrics)
    display({METRICS_MIME: payload, "text/plain": ""}, raw=True)
    return PublishedMetrics(payload)


def collect_metrics(nb: Any) -> dict[str, Any]:
    """All metrics published in an executed notebook, merged in order.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook.

    Returns
    -------
    dict
        Later values of a name overwrite earlier ones.
    """
    metrics: dict[str, Any] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if METRICS_MIME in data:
                value = data[METRICS_MIME]
                if isinstance(value, str):
                    value = json.loads(value)
                metrics.update(value)
    return metrics


def publish_tables(**tables: Any) -> None:
    """Save tables with the rendered report (``tables/<name>.parquet``) for run comparison.

    Call it from a notebook cell: ``publish_tables(customer_segments=df, rules=rules_df)``.
    When the notebook is rendered by crmlab the tables land in the report directory, where
    :func:`crmlab.report.load_report` / :func:`crmlab.report.load_run` read them back (e.g.
    for ``crmlab.strategy.compare_runs``); in an interactive session nothing is written.
    Pass customer IDs through ``crmlab.privacy.mask_ids`` first: pseudonyms are stable
    across runs, so customers can still be followed from one run to the next.

    Parameters
    ----------
    **tables : pandas.DataFrame
        Name (letters, digits, ``_`` and ``-``) and table of each table.

    Returns
    -------
    None
        So a call ending a cell shows nothing in the report.

    Raises
    ------
    ParameterError
        A name that cannot be a file name, or a value that is not a DataFrame.
    """
    target = os.environ.get(TABLES_ENV)
    for name, table in tables.items():
        if not _TABLE_NAME.match(name):
            raise ParameterError(f"table name {name!r} is not usable as a file name",
                                 expected="letters, digits, _ and -")
        if not hasattr(table, "to_parquet"):
            raise ParameterError(f"table {name!r} is not a DataFrame",
                                 value=type(table).__name__, expected="a pandas DataFrame")
        if target:
            out = Path(target)
            out.mkdir(parents=True, exist_ok=True)
            frame = table.rename(columns=str)
            frame.to_parquet(out / f"{name}.parquet")


def escape_markdown(value: Any) -> str:
    """Text from the data made literal inside Markdown.

    ``display(Markdown(f"Top product: {escape_markdown(name)}"))``: HTML characters become
    entities and Markdown punctuation is backslash-escaped, so a product called
    ``*NEW* <b>mug</b>`` shows exactly so. (Reports are sanitised anyway: this keeps the
    text as the data has it.)

    Parameters
    ----------
    value : Any
        Text (or anything with a ``str``) from the data.

    Returns
    -------
    str
    """
    text = html.escape(str(value), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)
