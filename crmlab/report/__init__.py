"""Rendering notebooks into reports, and what a notebook hands to its report.

A notebook states its headline numbers with :func:`publish_metrics` and saves tables worth
comparing between runs with :func:`publish_tables`; the renderer executes it with papermill
and writes a report directory (HTML page, executed notebook, parameters, metrics, tables).

The entry points, flat like papermill's ``execute_notebook``:

- :func:`notebook_parameters` -- the parameters a notebook declares (name, type, default, help).
- :func:`check_parameters` -- validate and coerce values before any kernel starts (a
  ``source`` parameter's file is read and checked by :func:`check_source`).
- :func:`render` -- execute one notebook and write its report directory, in the checkout's
  own Jupyter kernel (:func:`kernel_name`).
- :func:`render_batch` -- render several notebooks (a batch file, ``--all``), optionally as
  a dated run with a manifest. A dated render (``as_of``) refuses a notebook that does not
  declare ``as_of``: it would show data after the report date.
- :func:`write_index` -- rebuild ``index.html`` over every report under the output root.
- :func:`list_runs`, :func:`load_run`, :func:`load_report` -- find dated runs and read
  their reports back (metrics, parameters, tables) for ``compare``.

Where things live:

- ``layout`` -- the output tree (``runs/``, ``<key>.failed/``), report keys, finding notebooks;
- ``parameters`` -- reading and checking a notebook's parameters cell, the report date;
- ``channel`` -- ``publish_metrics``, ``publish_tables``, ``escape_markdown`` (notebook side);
- ``html`` -- the HTML report (sanitiser, template ``templates/report.html.j2``); a new
  report format goes beside it;
- ``render`` -- executing one notebook into its report directory;
- ``batch`` -- batch files, ``--all``, dated runs;
- ``runs`` -- provenance, run manifests, reading reports back, the index page.

Importing this package is cheap (standard library only); papermill, nbconvert and pandas
load when a notebook is rendered or a table read.
"""

from __future__ import annotations

from crmlab.report.batch import BatchResult, load_batch_config, render_batch
from crmlab.report.channel import (
    METRICS_MIME, TABLES_ENV, PublishedMetrics, collect_metrics, escape_markdown,
    publish_metrics, publish_tables,
)
from crmlab.report.html import CSP, notebook_to_html, sanitize_html
from crmlab.report.layout import (
    DEFAULT_KEY, FAILED_SUFFIX, NOTEBOOK_PATTERN, RUNS_DIR, discover_notebooks, report_key,
    resolve_notebook,
)
from crmlab.report.parameters import (
    AS_OF, SHOW_PII, SOURCE, Parameter, check_as_of, check_parameters, check_report_date,
    check_source, notebook_is_dated, notebook_parameters,
)
from crmlab.report.render import KERNEL, RenderResult, kernel_name, render
from crmlab.report.runs import list_runs, load_report, load_run, write_index, write_manifest

__all__ = [
    "AS_OF", "BatchResult", "CSP", "DEFAULT_KEY", "FAILED_SUFFIX", "KERNEL", "METRICS_MIME",
    "NOTEBOOK_PATTERN", "Parameter", "PublishedMetrics", "RUNS_DIR", "RenderResult", "SHOW_PII",
    "SOURCE", "TABLES_ENV", "check_as_of", "check_parameters", "check_report_date",
    "check_source", "collect_metrics", "kernel_name",
    "discover_notebooks", "escape_markdown", "list_runs", "load_batch_config", "load_report",
    "load_run", "notebook_is_dated", "notebook_parameters", "notebook_to_html",
    "publish_metrics", "publish_tables", "render", "render_batch", "report_key",
    "resolve_notebook", "sanitize_html", "write_index", "write_manifest",
]
