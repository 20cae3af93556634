"""Rendering notebooks into reports (papermill lives here and only here).

A notebook states its headline numbers with :func:`publish_metrics`; the renderer collects
them from the executed notebook into ``metrics.json``.
"""

from __future__ import annotations

import json
from typing import Any

from crmlab.results import to_jsonable

METRICS_MIME = "application/vnd.crmlab.metrics+json"


def publish_metrics(**metrics: Any) -> dict[str, Any]:
    """Record headline numbers of a notebook run (they end up in ``metrics.json``).

    Call it from a notebook cell: ``publish_metrics(customers=4339, revenue=8.9e6)``. The
    values are shown nowhere in the report; later calls add to or overwrite earlier keys.
    """
    from IPython.display import display

    payload = to_jsonable(metrics)
    display({METRICS_MIME: payload, "text/plain": ""}, raw=True)
    return payload


def collect_metrics(nb: Any) -> dict[str, Any]:
    """All metrics published in an executed notebook (a ``nbformat`` node), merged in order."""
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
