"""Rendering notebooks into reports (papermill lives here and only here).

A notebook states its headline numbers with :func:`publish_metrics`; the renderer collects
them from the executed notebook into ``metrics.json``. Tables worth comparing between runs
go through :func:`publish_tables` into ``tables/<name>.parquet``.

The entry points, flat like papermill's ``execute_notebook``:

- :func:`notebook_parameters` -- the parameters a notebook declares (name, type, default, help).
- :func:`check_parameters` -- validate and coerce values before any kernel starts.
- :func:`render` -- execute one notebook and write its report directory.
- :func:`render_batch` -- render several notebooks (a batch file, ``--all``), optionally as
  a dated run with a manifest.
- :func:`write_index` -- rebuild ``index.html`` over every report under the output root.
- :func:`list_runs`, :func:`load_run`, :func:`load_report` -- find dated runs and read
  their reports back (metrics, parameters, tables) for ``compare``.

Layout under the output root (``crmlab.config.reports_dir()``)::

    <notebook>/<key>/              ad-hoc render; <key> is "default" or "name=value,name=value"
        report.html                code hidden, figures embedded, data text escaped
        notebook.ipynb             the executed notebook
        params.yaml                every parameter value the run used (defaults included)
        metrics.json               headline numbers from publish_metrics()
        report.json                status, times, error, failing cell, provenance
        tables/<name>.parquet      tables from publish_tables()
        kernel.log                 the kernel's stderr
    <notebook>/<key>.failed/       the latest failed run of that key (the good one stays)
    runs/<YYYY-MM-DD>/             a dated run (``--as-of``), same layout inside, plus
        manifest.json              parameters, input checksums, versions, git commit, times,
                                   status per notebook
    index.html                     every report with status and date; runs listed by date

A report directory is written in a hidden temporary directory beside its final place and
moved there only when the run succeeded, so a failed or half-written run never replaces
the last good report.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import datetime as _dt
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from crmlab import config
from crmlab.errors import ParameterError, RenderError


def to_jsonable(value: Any) -> Any:
    """``crmlab.results.to_jsonable``, imported on first use (it pulls in pandas, which
    ``crmlab params`` and the refusal of bad input do not need)."""
    from crmlab.results import to_jsonable as convert

    return convert(value)


METRICS_MIME = "application/vnd.crmlab.metrics+json"

#: Parameters the renderer itself may set (see ``render(show_pii=, as_of=)``).
SHOW_PII = "show_pii"
AS_OF = "as_of"
#: Notebooks that ``--all`` renders: ``NN-topic.ipynb`` directly in the notebooks directory.
NOTEBOOK_PATTERN = re.compile(r"^\d\d-[^/]*\.ipynb$")
RUNS_DIR = "runs"
FAILED_SUFFIX = ".failed"
DEFAULT_KEY = "default"
_PACKAGES = (
    "crmlab", "pandas", "numpy", "scipy", "statsmodels", "lifetimes", "mlxtend", "pyfim",
    "matplotlib", "networkx", "pyarrow", "papermill", "nbconvert", "nbclient", "ipykernel",
)


# --------------------------------------------------------------------------- metrics


class PublishedMetrics(dict):
    """The numbers :func:`publish_metrics` recorded: a plain dict that displays as nothing,
    so a ``publish_metrics(...)`` call ending a cell leaves no ``Out`` in the report."""

    def _ipython_display_(self) -> None:
        return None


def publish_metrics(**metrics: Any) -> dict[str, Any]:
    """Record headline numbers of a notebook run (they end up in ``metrics.json``).

    Call it from a notebook cell: ``publish_metrics(customers=4339, revenue=8.9e6)``. The
    values are shown nowhere in the report; later calls add to or overwrite earlier keys.
    """
    from IPython.display import display

    payload = to_jsonable(metrics)
    display({METRICS_MIME: payload, "text/plain": ""}, raw=True)
    return PublishedMetrics(payload)


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


#: Set by the renderer for the kernel: where :func:`publish_tables` saves tables.
TABLES_ENV = "CRMLAB_TABLES_DIR"
_TABLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def publish_tables(**tables: Any) -> None:
    """Save tables with the rendered report (``tables/<name>.parquet``) for run comparison.

    Call it from a notebook cell: ``publish_tables(customer_segments=df, rules=rules_df)``.
    When the notebook is rendered by crmlab the tables land in the report directory, where
    :func:`load_report` / :func:`load_run` read them back (e.g. for
    ``crmlab.strategy.compare_runs``); in an interactive session nothing is written. Pass
    customer IDs through ``crmlab.privacy.mask_ids`` first: pseudonyms are stable across
    runs, so customers can still be followed from one run to the next. Returns None, so
    a call ending a cell shows nothing in the report.
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


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def escape_markdown(value: Any) -> str:
    """Text from the data made literal inside Markdown.

    ``display(Markdown(f"Top product: {escape_markdown(name)}"))``: HTML characters become
    entities and Markdown punctuation is backslash-escaped, so a product called
    ``*NEW* <b>mug</b>`` shows exactly so. (Reports are sanitised anyway: this keeps the
    text as the data has it.)
    """
    text = html.escape(str(value), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Parameter:
    """One parameter declared in a notebook's ``parameters`` cell.

    ``type`` is one of ``"int"``, ``"float"``, ``"bool"``, ``"str"``, ``"list"``,
    ``"dict"`` or ``"any"`` (no annotation and a ``None`` default); ``optional`` says whether
    ``None`` is accepted.
    """

    name: str
    type: str
    default: Any
    help: str = ""
    optional: bool = False

    def describe(self) -> str:
        return f"{self.name}: {self.type} = {self.default!r}"


_TYPE_NAMES = {"int": "int", "float": "float", "bool": "bool", "str": "str", "list": "list",
               "dict": "dict", "tuple": "list"}


def _parse_type(inferred: str | None, default: Any) -> tuple[str, bool]:
    """Declared type name and whether None is allowed, from papermill's inferred type."""
    optional = default is None
    names = []
    text = (inferred or "").strip().strip("'\"")
    m = re.fullmatch(r"(?:typing\.)?Optional\[(.*)\]", text)
    if m:
        text, optional = m.group(1), True
    for part in text.split("|"):
        part = part.strip()
        base = re.split(r"\[", part)[0].strip()
        if base in ("None", "NoneType", ""):
            if part in ("None", "NoneType") and "|" in text:
                optional = True
            continue
        names.append(_TYPE_NAMES.get(base, "any"))
    if len(names) == 1:
        return names[0], optional
    if names:  # a union of several types: accept any of them as given
        return "any", optional
    for typ, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"),
                      (list, "list"), (tuple, "list"), (dict, "dict")):
        if isinstance(default, typ):
            return name, optional
    return "any", True


def resolve_notebook(notebook: str | Path, *, base: str | Path | None = None,
                     notebooks_dir: str | Path | None = None) -> Path:
    """The notebook file for a name or path.

    Tries ``notebook`` as given, then relative to ``base`` (e.g. a batch file's folder),
    then inside the notebooks directory, each with and without an added ``.ipynb``.
    """
    raw = Path(notebook)
    names = [raw] if raw.suffix == ".ipynb" else [raw.with_name(raw.name + ".ipynb"), raw]
    roots: list[Path | None] = [None]
    if base is not None:
        roots.append(Path(base))
    roots.append(Path(notebooks_dir) if notebooks_dir is not None else config.NOTEBOOKS_DIR)
    for root in roots:
        for name in names:
            path = name if root is None or name.is_absolute() else root / name
            if path.is_file() and path.suffix == ".ipynb":
                return path.resolve()
    nb_dir = Path(notebooks_dir) if notebooks_dir is not None else config.NOTEBOOKS_DIR
    known = ", ".join(p.stem for p in discover_notebooks(nb_dir)) or "none"
    raise RenderError(
        "notebook not found", file=notebook,
        expected=f"a .ipynb path or a notebook of {nb_dir.name}/ ({known})",
    )


def discover_notebooks(notebooks_dir: str | Path | None = None) -> list[Path]:
    """The notebooks ``render --all`` renders: ``NN-*.ipynb`` (not ``exploratory/``), sorted."""
    root = Path(notebooks_dir) if notebooks_dir is not None else config.NOTEBOOKS_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_file() and NOTEBOOK_PATTERN.match(p.name))


def _parameters_cell(path: Path) -> str | None:
    """Source of the cell tagged ``parameters`` (plain JSON reading: nbformat's import
    costs seconds, and refusing a bad parameter should be instant)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RenderError(f"cannot read the notebook ({type(exc).__name__}: {exc})",
                          file=path, expected="a Jupyter notebook (.ipynb, nbformat 4)") from None
    for cell in cells:
        if (isinstance(cell, dict) and cell.get("cell_type") == "code"
                and "parameters" in (cell.get("metadata") or {}).get("tags", [])):
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else str(source)
    return None


def _parse_parameters_cell(source: str) -> list[tuple[str, str | None, str, str]] | None:
    """(name, annotation, default source, help) per top-level assignment; None if unparsable.

    Unlike papermill's line parser this reads any line Python reads (a ``=`` inside the
    default or the comment included); the help text is the comment ending the statement.
    """
    import io
    import tokenize

    try:
        tree = ast.parse(source)
        comments = {tok.start[0]: tok.string.lstrip("#").strip()
                    for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                    if tok.type == tokenize.COMMENT}
    except (SyntaxError, tokenize.TokenError, IndentationError):
        return None
    out = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            name, annotation = node.target.id, ast.unparse(node.annotation)
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)):
            name, annotation = node.targets[0].id, None
        else:
            continue
        out.append((name, annotation, ast.get_source_segment(source, node.value) or "None",
                    comments.get(node.end_lineno, "")))
    return out


def notebook_parameters(notebook: str | Path) -> dict[str, Parameter]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Parameters
    ----------
    notebook : path or name of the notebook (see :func:`resolve_notebook`).

    Returns
    -------
    dict mapping name to :class:`Parameter` (type, default value, help text from the
    trailing comment), in the order of the cell. Empty when there is no parameters cell.
    The cell is read with Python's own parser; papermill's ``inspect_notebook`` is the
    fallback for cells Python cannot parse (IPython magics).
    """
    path = resolve_notebook(notebook)
    source = _parameters_cell(path)
    if source is None:
        return {}
    found = _parse_parameters_cell(source)
    if found is None:
        import papermill as pm

        found = [(n, i.get("inferred_type_name"), i.get("default") or "None", i.get("help", ""))
                 for n, i in pm.inspect_notebook(str(path)).items()]
    out: dict[str, Parameter] = {}
    for name, annotation, default_src, help_text in found:
        try:
            default = ast.literal_eval(default_src)
        except (ValueError, SyntaxError):
            default = default_src  # an expression: keep its source text
        if annotation in ("None", None):
            annotation = None
        typ, optional = _parse_type(annotation, default)
        out[name] = Parameter(name, typ, default, (help_text or "").strip(), optional)
    return out


def _valid_list(declared: Mapping[str, Parameter]) -> str:
    if not declared:
        return "this notebook declares no parameters"
    return "valid parameters: " + ", ".join(p.describe() for p in declared.values())


_TRUE = {"true", "yes", "1", "on", "y", "t"}
_FALSE = {"false", "no", "0", "off", "n", "f"}


def _coerce(p: Parameter, value: Any) -> Any:
    """``value`` as the declared type of ``p``; raises ValueError when it does not fit."""
    if isinstance(value, (_dt.date, _dt.datetime)) and p.type in ("str", "any"):
        return value.isoformat()  # YAML reads 2011-09-01 as a date
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null")
                         and p.optional and p.type != "str"):
        if p.optional:
            return None
        raise ValueError
    if p.type == "any":
        if isinstance(value, str):
            try:
                return ast.literal_eval(value)
            except (ValueError, SyntaxError):
                return value
        return value
    if p.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError
    if p.type == "int":
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d[\d_]*\s*", value):
            return int(value)
        raise ValueError
    if p.type == "float":
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            out = float(value)  # ValueError for text
            return out
        raise ValueError
    if p.type == "str":
        if isinstance(value, str):
            return value
        raise ValueError
    # list / dict: a literal on the command line, a YAML value in a batch file
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise ValueError from None
    if p.type == "list" and isinstance(value, (list, tuple)):
        return list(value)
    if p.type == "dict" and isinstance(value, dict):
        return value
    raise ValueError


def check_parameters(notebook: str | Path, parameters: Mapping[str, Any] | None = None, *,
                     declared: Mapping[str, Parameter] | None = None) -> dict[str, Any]:
    """Validate parameter values against what the notebook declares, before any kernel starts.

    Values may be strings (from the command line): they are coerced to the declared type
    (``int``, ``float``, ``bool`` accepts true/false/yes/no/1/0, ``str``; lists and dicts as
    Python literals).

    Returns
    -------
    dict of the given parameters with coerced values.

    Raises
    ------
    ParameterError
        for an unknown name or a value that does not fit the declared type; the message
        names the parameter, the value, the expected type and lists the valid parameters
        with their defaults.
    """
    if declared is None:
        declared = notebook_parameters(notebook)
    name = Path(notebook).stem
    out: dict[str, Any] = {}
    for key, value in (parameters or {}).items():
        if key not in declared:
            raise ParameterError(
                f"unknown parameter {key!r} for notebook {name}",
                fix=_valid_list(declared) + f" (see: crmlab params {name})",
            )
        p = declared[key]
        try:
            out[key] = _coerce(p, value)
        except (ValueError, TypeError, OverflowError):
            raise ParameterError(
                f"parameter {key!r} of notebook {name} does not accept this value",
                value=value,
                expected=f"{p.type}{' or None' if p.optional else ''} (default {p.default!r})",
                fix=_valid_list(declared),
            ) from None
    return out


def check_as_of(as_of: Any) -> str | None:
    """``as_of`` as a ``YYYY-MM-DD`` string (None stays None); refuses anything else."""
    if as_of is None:
        return None
    if isinstance(as_of, (_dt.date, _dt.datetime)):
        return as_of.strftime("%Y-%m-%d")
    text = str(as_of).strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        _dt.date.fromisoformat(text)
    except ValueError:
        raise ParameterError("--as-of is not a date", value=as_of,
                             expected="a date YYYY-MM-DD, e.g. 2011-09-01") from None
    return text


def report_key(parameters: Mapping[str, Any] | None) -> str:
    """Directory name for a parameter set: ``default`` or ``a=1,b=x`` (sorted, path-safe).

    Values are made safe for file names (a path keeps its file name only). When that loses
    anything (a path, a character outside ``A-Z a-z 0-9 . _ + -``) or the key is long, a
    hash of the full parameter set is added, so two parameter sets never share a key.
    """
    if not parameters:
        return DEFAULT_KEY
    parts, lossy = [], False
    for name in sorted(parameters):
        value = parameters[name]
        if isinstance(value, str):
            raw = value
        elif value is None or isinstance(value, (bool, int, float)):
            raw = str(value)
        else:
            raw = json.dumps(to_jsonable(value), sort_keys=True)
        text = raw
        if isinstance(value, str) and ("/" in text or "\\" in text):
            text = re.split(r"[\\/]", text.rstrip("/\\"))[-1]
        text = re.sub(r"[^A-Za-z0-9._+-]+", "-", text) or "_"
        lossy = lossy or text != raw or value is None  # None and 'None' differ
        parts.append(f"{name}={text}")
    key = ",".join(parts)
    if len(key) > 100 or lossy:
        exact = json.dumps(to_jsonable(dict(parameters)), sort_keys=True, default=str)
        digest = hashlib.sha256(exact.encode()).hexdigest()[:8]
        key = f"{key[:90]},{digest}"
    return key


# --------------------------------------------------------------------------- HTML


_ALLOWED_TAGS = frozenset(
    "a abbr b blockquote br caption cite code col colgroup dd del details div dl dt em "
    "figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small "
    "span strong style sub summary sup table tbody td tfoot th thead tr u ul var".split()
)
_GLOBAL_ATTRS = frozenset({"class", "id", "title", "style", "align", "border", "colspan",
                           "rowspan", "start", "alt", "width", "height", "name", "valign"})
_CLEANER = None
_IMAGE_REMOVED = "[image removed: only embedded figures are shown]"


def _img_filter():
    from bleach.html5lib_shim import Filter

    class DropUnembeddedImages(Filter):
        """An <img> whose source was not embedded becomes a visible note, not a broken box."""

        def __iter__(self):
            for token in Filter.__iter__(self):
                if (token.get("type") in ("StartTag", "EmptyTag") and token.get("name") == "img"
                        and not any(k[1] == "src" for k in token.get("data", {}))):
                    yield {"type": "Characters", "data": _IMAGE_REMOVED}
                else:
                    yield token

    return DropUnembeddedImages


def _attr_ok(tag: str, name: str, value: str) -> bool:
    if name in _GLOBAL_ATTRS:
        return True
    if tag == "a" and name == "href":
        return value.startswith(("#", "http://", "https://", "mailto:"))
    if tag == "img" and name == "src":
        return value.startswith("data:image/")  # embedded figures only
    return False


def sanitize_html(fragment: Any) -> str:
    """HTML from notebook outputs and Markdown, made safe to open.

    Tables, headings, lists, inline styles and embedded (``data:image``) pictures are kept;
    anything else, ``<script>`` above all, is escaped so it shows as text; event-handler
    attributes and links to ``javascript:`` are dropped. Used in place of nbconvert's
    ``clean_html``, whose allow-list breaks pandas tables and Markdown headings.
    """
    global _CLEANER
    if _CLEANER is None:
        import bleach
        from bleach.css_sanitizer import ALLOWED_CSS_PROPERTIES, CSSSanitizer

        _CLEANER = bleach.Cleaner(
            tags=_ALLOWED_TAGS, attributes=_attr_ok,
            protocols={"http", "https", "mailto", "data"}, strip=False, strip_comments=True,
            filters=[_img_filter()],
            css_sanitizer=CSSSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES | {
                "text-align", "vertical-align", "font-family", "font-size", "padding",
                "margin", "border", "white-space", "max-width", "min-width", "display"}),
        )
    text = fragment.decode() if isinstance(fragment, bytes) else str(fragment)
    return _CLEANER.clean(text)


#: Offline reports run no script at all: no CDN (require.js, MathJax, mermaid), and a
#: content security policy that forbids scripts and remote loads, as a second guard.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "base-uri 'none'; form-action 'none'")

_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}
<meta http-equiv="Content-Security-Policy" content="{{ resources.crmlab_csp }}">
{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style type="text/css">
.crmlab-header { font-family: var(--jp-ui-font-family, sans-serif); padding: 12px 20px;
  border-bottom: 1px solid #ccc; margin-bottom: 12px; }
.crmlab-header h1 { font-size: 1.4em; margin: 0 0 4px 0; }
.crmlab-header .meta { color: #555; font-size: 0.9em; }
.crmlab-status-failed { color: #b00020; font-weight: bold; }
.crmlab-status-ok { color: #1b5e20; }
.crmlab-pii { color: #b00020; font-weight: bold; }
</style>
{%- endblock html_head_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.crmlab_header }}
{%- endblock body_header -%}
{%- block data_widget_view scoped %}{%- endblock data_widget_view -%}
"""

_EXPORTERS: dict[bool, Any] = {}


def _exporter(show_input: bool):
    """An HTMLExporter (cached: building one costs a template load)."""
    if show_input not in _EXPORTERS:
        import jinja2
        from nbconvert import HTMLExporter

        _EXPORTERS[show_input] = HTMLExporter(
            template_name="lab",
            extra_loaders=[jinja2.DictLoader({"crmlab_report.html.j2": _TEMPLATE})],
            template_file="crmlab_report.html.j2",
            exclude_input=not show_input,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            sanitize_html=True,
            # embed_images=True would mangle inline HTML in Markdown (<b>x</b> -> <b></b>x);
            # figures are outputs, embedded anyway
            embed_images=False,
            filters={"clean_html": sanitize_html},
        )
    return _EXPORTERS[show_input]


def _header_html(title: str, status: str, values: Mapping[str, Any], finished: str,
                 error: str | None, show_pii: bool, as_of: str | None) -> str:
    e = html.escape
    params = ", ".join(f"{e(str(k))} = {e(repr(v))}" for k, v in values.items()) or "none"
    lines = [f'<header class="crmlab-header"><h1>{e(title)}</h1>',
             f'<div class="meta">Status: <span class="crmlab-status-{e(status)}">{e(status)}'
             f"</span> &middot; rendered {e(finished)}"]
    if as_of:
        lines.append(f" &middot; as of {e(as_of)}")
    lines.append(f"</div><div class=\"meta\">Parameters: {params}</div>")
    if show_pii:
        lines.append('<div class="crmlab-pii">Contains raw customer identifiers: '
                     "do not share outside the team.</div>")
    if error:
        lines.append(f'<div class="crmlab-status-failed">This report failed: {e(error)} '
                     '(the failing cell is shown below with its code and traceback).</div>')
    lines.append("</header>")
    return "".join(lines)


def notebook_to_html(nb: Any, *, title: str, status: str = "ok", values: Mapping[str, Any] = (),
                     finished: str = "", error: str | None = None, show_pii: bool = False,
                     as_of: str | None = None) -> str:
    """An executed notebook as a self-contained HTML report for business readers.

    Code is hidden (for a failed run, the failing cell's code is shown with its traceback),
    figures are embedded as data URIs, HTML and Markdown from outputs are sanitised
    (:func:`sanitize_html`) and the page runs no script.
    """
    import copy

    nb = copy.deepcopy(nb)
    failing = _failing_cell(nb)
    show_input = failing is not None
    if show_input:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and i != failing:
                cell.metadata.setdefault("transient", {})["remove_source"] = True
    nb.metadata.pop("widgets", None)  # widget state is script data; reports run none
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        # the metrics channel has an empty text/plain: nothing to show
        cell.outputs = [o for o in cell.get("outputs", []) if METRICS_MIME not in o.get("data", {})]
        for out in cell.outputs:
            data = out.get("data", {})
            if "image/svg+xml" in data and "image/png" not in data:
                # an SVG figure as an embedded picture: inline SVG would be sanitised to text
                svg = data["image/svg+xml"]
                svg = "".join(svg) if isinstance(svg, list) else svg
                uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
                out["data"] = {"text/html": f'<img src="{uri}" alt="figure">'}
    resources = {
        "metadata": {"name": title},
        "crmlab_csp": CSP,
        "crmlab_header": _header_html(title, status, dict(values), finished, error,
                                      show_pii, as_of),
    }
    body, _ = _exporter(show_input).from_notebook_node(nb, resources=resources)
    return body


def _failing_cell(nb: Any) -> int | None:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(
                o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return i
    return None


# --------------------------------------------------------------------------- rendering


@dataclass
class RenderResult:
    """What :func:`render` produced for one notebook.

    Attributes
    ----------
    notebook : the source notebook.
    name : its stem (``01-customer-analysis``).
    parameters : the parameters given (coerced), which name the report directory.
    values : every parameter value the run used (defaults included), as in ``params.yaml``.
    status : ``"ok"`` or ``"failed"``.
    path : the report directory (``<key>/`` or, for a failure, ``<key>.failed/``).
    metrics : headline numbers (``metrics.json``).
    error : one line saying what failed, or None.
    failed_cell : index of the failing cell in the executed notebook, or None.
    started, finished : ISO times (UTC); seconds : wall time.
    as_of : the run date when rendered as part of a dated run.
    """

    notebook: Path
    name: str
    parameters: dict[str, Any]
    values: dict[str, Any]
    status: str
    path: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    failed_cell: int | None = None
    started: str = ""
    finished: str = ""
    seconds: float = 0.0
    as_of: str | None = None
    show_pii: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def html(self) -> Path:
        return self.path / "report.html"

    def to_dict(self) -> dict[str, Any]:
        return {
            "notebook": self.name, "source": str(self.notebook), "status": self.status,
            "parameters": to_jsonable(self.parameters), "values": to_jsonable(self.values),
            "key": report_key(self.parameters), "error": self.error,
            "failed_cell": self.failed_cell, "started": self.started,
            "finished": self.finished, "seconds": round(self.seconds, 3), "as_of": self.as_of,
            "show_pii": self.show_pii,
        }


@dataclass
class _Job:
    notebook: Path
    name: str
    declared: dict[str, Parameter]
    given: dict[str, Any]  # coerced, names the directory
    run_params: dict[str, Any]  # what papermill injects


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _prepare(notebook: str | Path, parameters: Mapping[str, Any] | None, *, show_pii: bool,
             as_of: str | None, base: str | Path | None = None,
             notebooks_dir: str | Path | None = None) -> _Job:
    """Resolve and validate one job; raises before any kernel starts."""
    path = resolve_notebook(notebook, base=base, notebooks_dir=notebooks_dir)
    declared = notebook_parameters(path)
    parameters = dict(parameters or {})
    if SHOW_PII in parameters:
        raise ParameterError(
            f"{SHOW_PII} cannot be set as a parameter ({path.stem})",
            fix="reports pseudonymise customer IDs unless rendered with --show-pii "
                "(render(..., show_pii=True))",
        )
    if as_of is not None and AS_OF in parameters:
        raise ParameterError(f"{AS_OF} given twice ({path.stem}): as a parameter and as --as-of",
                             fix="use --as-of DATE alone for a dated run")
    given = check_parameters(path, parameters, declared=declared)
    if show_pii and SHOW_PII in declared:
        given[SHOW_PII] = True
    for key, value in list(given.items()):
        # the kernel runs in the notebook's folder: a file named relative to where the user
        # stands is passed (and recorded) as an absolute path
        if isinstance(value, str) and value and len(value) < 4096 and "\n" not in value:
            candidate = Path(value).expanduser()
            if not candidate.is_absolute() and candidate.exists():
                given[key] = str(candidate.resolve())
    run_params = dict(given)
    if as_of is not None and AS_OF in declared:
        run_params[AS_OF] = as_of
    # a parameter equal to its default names the same report as the default
    given = {k: v for k, v in given.items() if not (k in declared and v == declared[k].default
                                                    and type(v) is type(declared[k].default))}
    return _Job(path, path.stem, declared, given, run_params)


def _output_parent(root: Path, name: str, as_of: str | None) -> Path:
    return (root / RUNS_DIR / as_of / name) if as_of else (root / name)


def _swap_into_place(tmp: Path, final: Path) -> None:
    """Replace ``final`` by ``tmp`` with renames only (never a half-written ``final``)."""
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(final)


def _write_yaml(path: Path, data: Mapping[str, Any]) -> None:
    import yaml

    path.write_text(yaml.safe_dump(to_jsonable(dict(data)), sort_keys=False,
                                   allow_unicode=True))


@contextlib.contextmanager
def _environ(name: str, value: str):
    """Set an environment variable for the kernel about to start (it inherits ours)."""
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


@contextlib.contextmanager
def _kernel_stderr_to(path: Path):
    """Send what the kernel process writes to stderr (start-up chatter) into ``path``.

    The kernel inherits file descriptor 2; pointing it at a log file while the kernel runs
    keeps ``make report`` output to one line per notebook and keeps crash messages with the
    report (``kernel.log``).
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all
        yield
        return
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _execute(job: _Job, root: Path, *, as_of: str | None, show_pii: bool,
             timeout: float | None) -> RenderResult:
    parent = _output_parent(root, job.name, as_of)
    key = report_key(job.given)
    tmp = parent / f".{key}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir(parents=True)
    except OSError as exc:
        raise RenderError(f"cannot write the report ({exc.strerror or exc})", file=parent,
                          fix="check the folder's permissions, or set CRMLAB_REPORTS_DIR "
                              "(or --output) to a writable folder") from None
    values = {n: p.default for n, p in job.declared.items()}
    values.update(job.run_params)
    started, t0 = _now(), time.perf_counter()
    try:
        return _execute_into(job, tmp, parent, key, values, started, t0, as_of, timeout)
    finally:  # a failed write or an interrupt leaves no half-written directory behind
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _execute_into(job: _Job, tmp: Path, parent: Path, key: str, values: dict[str, Any],
                  started: str, t0: float, as_of: str | None,
                  timeout: float | None) -> RenderResult:
    import nbformat
    import papermill as pm

    out_nb = tmp / "notebook.ipynb"
    error, nb = None, None
    try:
        with _kernel_stderr_to(tmp / "kernel.log"), _environ(TABLES_ENV, str(tmp / "tables")):
            nb = pm.execute_notebook(
                str(job.notebook), str(out_nb), parameters=job.run_params,
                kernel_name="python3", cwd=str(job.notebook.parent), progress_bar=False,
                log_output=False, execution_timeout=timeout,
            )
    except pm.PapermillExecutionError as exc:
        error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    except Exception as exc:  # kernel died, timeout, unreadable notebook
        error = f"{type(exc).__name__}: {exc}"
    if nb is None:
        nb = nbformat.read(str(out_nb if out_nb.exists() else job.notebook), as_version=4)
    if error is None and _failing_cell(nb) is not None:  # e.g. allow_errors cells
        error = "a cell raised an error"
    error = None if error is None else " ".join(error.split())[:500]
    status = "ok" if error is None else "failed"
    finished, seconds = _now(), time.perf_counter() - t0
    metrics = collect_metrics(nb)
    result = RenderResult(
        notebook=job.notebook, name=job.name, parameters=job.given, values=values,
        status=status, path=parent / key, metrics=metrics, error=error,
        failed_cell=_failing_cell(nb), started=started, finished=finished, seconds=seconds,
        as_of=as_of, show_pii=bool(values.get(SHOW_PII, False)),
    )
    if not out_nb.exists():
        nbformat.write(nb, str(out_nb))
    page = notebook_to_html(nb, title=job.name, status=status, values=values,
                            finished=finished, error=error, show_pii=result.show_pii,
                            as_of=as_of)
    (tmp / "report.html").write_text(page, encoding="utf-8")
    _write_yaml(tmp / "params.yaml", values)
    (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
    meta = result.to_dict()
    meta["provenance"] = {"git": _git(), "packages": _versions(),
                          "inputs": _input_files([result])}
    meta["seconds"] = round(time.perf_counter() - t0, 3)
    (tmp / "report.json").write_text(json.dumps(meta, indent=2))
    final = parent / key if status == "ok" else parent / (key + FAILED_SUFFIX)
    _swap_into_place(tmp, final)
    if status == "ok":
        shutil.rmtree(parent / (key + FAILED_SUFFIX), ignore_errors=True)
    result.path = final
    return result


def render(notebook: str | Path, parameters: Mapping[str, Any] | None = None, *,
           output_root: str | Path | None = None, show_pii: bool = False,
           as_of: str | None = None, timeout: float | None = None,
           update_index: bool = True) -> RenderResult:
    """Execute a notebook with parameters and write its report directory.

    Parameters
    ----------
    notebook : path, or name of a notebook in ``notebooks/`` (``01-customer-analysis``).
    parameters : values for the notebook's ``parameters`` cell; strings are coerced to the
        declared types. Checked before the kernel starts (:func:`check_parameters`).
    output_root : where reports go; default ``crmlab.config.reports_dir()``.
    show_pii : pass ``show_pii=True`` to a notebook that declares it (raw customer IDs);
        otherwise identifiers stay pseudonymised. ``show_pii`` cannot be given in
        ``parameters``.
    as_of : a date ``YYYY-MM-DD``: render into the dated run ``runs/<as_of>/`` and pass
        ``as_of`` to the notebook if it declares that parameter.
    timeout : seconds allowed per cell (None: no limit).
    update_index : rebuild ``index.html`` (and the run manifest) afterwards.

    Returns
    -------
    RenderResult ; ``status`` is ``"failed"`` when a cell raised (the report then shows the
    failing cell and lives in ``<key>.failed/``; a previous good report is kept).

    Raises
    ------
    ParameterError, RenderError : bad input, before anything runs.
    """
    as_of = check_as_of(as_of)
    job = _prepare(notebook, parameters, show_pii=show_pii, as_of=as_of)
    root = Path(output_root) if output_root is not None else config.reports_dir()
    started = _now()
    result = _execute(job, root, as_of=as_of, show_pii=show_pii, timeout=timeout)
    if update_index:
        if as_of:
            write_manifest(root / RUNS_DIR / as_of, [result], started=started, finished=_now())
        write_index(root)
    return result


@dataclass
class BatchResult:
    """What :func:`render_batch` produced: one :class:`RenderResult` per job, in order."""

    results: list[RenderResult]
    index: Path
    manifest: Path | None = None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[RenderResult]:
        return [r for r in self.results if not r.ok]


def load_batch_config(path: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """Read a batch file: a YAML list of notebooks with parameter sets.

    Each entry is a notebook name/path, or a mapping ``{notebook: ..., parameters: {...}}``;
    the list may also sit under a top-level ``reports:`` key. Notebook paths are tried as
    given, then relative to the batch file, then in ``notebooks/``::

        - 01-customer-analysis
        - notebook: 02-market-basket
          parameters: {min_support: 0.02}
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise RenderError("batch file not found", file=path,
                          expected="a YAML list of {notebook:, parameters:} entries")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RenderError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=path,
                          row=None if mark is None else mark.line + 1) from None
    if isinstance(doc, dict) and "reports" in doc:
        doc = doc["reports"]
    if not isinstance(doc, list) or not doc:
        raise RenderError("batch file must hold a non-empty list of notebooks", file=path,
                          expected="- notebook: 01-customer-analysis\\n  parameters: {...}")
    jobs = []
    for i, entry in enumerate(doc, start=1):
        if isinstance(entry, str):
            jobs.append((entry, {}))
            continue
        if not isinstance(entry, dict) or "notebook" not in entry:
            raise RenderError(f"entry {i} has no 'notebook'", file=path, value=entry,
                              expected="a name or {notebook: ..., parameters: {...}}")
        unknown = set(entry) - {"notebook", "parameters"}
        params = entry.get("parameters") or {}
        if unknown or not isinstance(params, dict):
            raise RenderError(f"entry {i} ({entry['notebook']}) is malformed", file=path,
                              value=sorted(unknown) or params,
                              expected="keys notebook and parameters (a mapping)")
        jobs.append((str(entry["notebook"]), dict(params)))
    return jobs


def render_batch(notebooks: Iterable[Any] | None = None, *, config_file: str | Path | None = None,
                 all_notebooks: bool = False, notebooks_dir: str | Path | None = None,
                 output_root: str | Path | None = None, show_pii: bool = False,
                 as_of: str | None = None, timeout: float | None = None,
                 jobs: int = 1, progress: bool = True, echo: Any = None) -> BatchResult:
    """Render several notebooks; a failing one does not stop the others.

    Parameters
    ----------
    notebooks : notebooks (names or paths) or ``(notebook, parameters)`` pairs.
    config_file : a batch YAML file (:func:`load_batch_config`), added after ``notebooks``.
    all_notebooks : add every ``notebooks/NN-*.ipynb`` (not ``exploratory/``).
    notebooks_dir : where ``all_notebooks`` and bare names look (default ``notebooks/``).
    output_root, show_pii, as_of, timeout : as for :func:`render`. With ``as_of`` the batch
        is a dated run: reports go to ``runs/<as_of>/`` and ``manifest.json`` records
        parameters, input checksums, package versions, git commit, times and status.
    jobs : notebooks rendered at the same time (separate processes); 1 renders in order.
    progress : show a tqdm bar over the batch on stderr.
    echo : a callable given one line per finished notebook (status and report path).

    Every job is validated before the first kernel starts, so a typo in a batch file
    renders nothing. Returns a :class:`BatchResult`; ``ok`` is False if any notebook failed.
    """
    from tqdm.auto import tqdm

    as_of = check_as_of(as_of)
    specs: list[tuple[Any, dict[str, Any], Path | None]] = []
    for item in notebooks or []:
        if isinstance(item, (str, Path)):
            specs.append((item, {}, None))
        else:
            nb, params = item
            specs.append((nb, dict(params or {}), None))
    if config_file is not None:
        base = Path(config_file).parent
        specs.extend((nb, params, base) for nb, params in load_batch_config(config_file))
    if all_notebooks:
        found = discover_notebooks(notebooks_dir)
        if not found:
            where = Path(notebooks_dir) if notebooks_dir is not None else config.NOTEBOOKS_DIR
            raise RenderError("no notebooks to render", file=where,
                              expected="files named NN-topic.ipynb")
        specs.extend((p, {}, None) for p in found)
    if not specs:
        raise RenderError("nothing to render",
                          fix="name a notebook, or use --all or --config FILE")
    prepared = [_prepare(nb, params, show_pii=show_pii, as_of=as_of, base=base,
                         notebooks_dir=notebooks_dir) for nb, params, base in specs]
    root = Path(output_root) if output_root is not None else config.reports_dir()
    started = _now()
    seen: dict[Path, Path] = {}
    for job in prepared:
        where = _output_parent(root, job.name, as_of) / report_key(job.given)
        if where in seen:
            raise RenderError(
                f"{job.name} with the same parameters is listed twice in the batch",
                file=job.notebook, value=report_key(job.given),
                fix="remove the duplicate (or rename one of two notebooks with the same name)")
        seen[where] = job.notebook
    results: list[RenderResult | None] = [None] * len(prepared)
    bar = tqdm(total=len(prepared), desc="rendering", unit="notebook", file=sys.stderr,
               disable=not progress, leave=False)

    def done(i: int, result: RenderResult) -> None:
        results[i] = result
        if echo is not None:
            line = f"{result.status:6s} {result.name:32s} {result.html}  ({result.seconds:.1f} s)"
            if result.error:
                line += f"\n       {result.error}"
            echo(line)
        bar.update(1)

    kwargs = {"as_of": as_of, "show_pii": show_pii, "timeout": timeout}
    try:
        if jobs > 1 and len(prepared) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            # each worker is a fresh process: kernels and stderr redirection stay apart
            with ProcessPoolExecutor(max_workers=min(jobs, len(prepared)),
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = {pool.submit(_execute, job, root, **kwargs): i
                           for i, job in enumerate(prepared)}
                for future in as_completed(futures):
                    done(futures[future], future.result())
        else:
            for i, job in enumerate(prepared):
                bar.set_postfix_str(job.name)
                done(i, _execute(job, root, **kwargs))
    finally:
        bar.close()
    results = [r for r in results if r is not None]
    manifest = None
    if as_of:
        manifest = write_manifest(root / RUNS_DIR / as_of, results, started=started,
                                  finished=_now(), config_file=config_file)
    return BatchResult(results, write_index(root), manifest)


# --------------------------------------------------------------------------- provenance


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = _sha256_uncached(path)
    return _SHA_CACHE[key]


def _sha256_uncached(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _input_files(results: Iterable[RenderResult]) -> dict[str, str]:
    """sha256 of every file under data/ and of every file a parameter value points at."""
    files: dict[Path, None] = {}
    if config.DATA_DIR.is_dir():
        for p in sorted(config.DATA_DIR.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                files[p] = None
    for r in results:
        for value in r.values.values():
            if isinstance(value, str) and value and len(value) < 4096:
                for cand in (Path(value), r.notebook.parent / value):
                    try:
                        if cand.is_file():
                            files[cand.resolve()] = None
                            break
                    except OSError:
                        break
    out = {}
    for p in files:
        try:
            name = str(p.relative_to(config.ROOT))
        except ValueError:
            name = str(p)
        out[name] = _sha256(p)
    return out


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for pkg in _PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _git() -> dict[str, Any]:
    def run(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", "-C", str(config.ROOT), *args], capture_output=True,
                                  text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def write_manifest(run_dir: Path, results: list[RenderResult], *, started: str, finished: str,
                   config_file: str | Path | None = None) -> Path:
    """Write (or update) ``manifest.json`` of a dated run.

    Entries of earlier invocations of the same run date are kept unless this invocation
    re-rendered the same notebook and parameters.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "manifest.json"
    old: dict[str, Any] = {}
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except ValueError:
            old = {}
    entries = {(e["notebook"], e["key"]): e for e in old.get("reports", [])}
    for r in results:
        key = report_key(r.parameters)
        good = r.path.with_name(key)
        entry = r.to_dict()
        entry.update({
            "path": str(r.path.relative_to(run_dir)),
            "last_good": str(good.relative_to(run_dir)) if good.is_dir() else None,
            "metrics": str((r.path / "metrics.json").relative_to(run_dir)),
            "params": str((r.path / "params.yaml").relative_to(run_dir)),
            "html": str(r.html.relative_to(run_dir)),
            "tables": sorted(p.stem for p in (r.path / "tables").glob("*.parquet")),
            "as_of_applied": AS_OF in r.values,
        })
        entries[(r.name, key)] = entry
    manifest = {
        "run": run_dir.name,
        "as_of": run_dir.name,
        "status": "ok" if all(e["status"] == "ok" for e in entries.values()) else "failed",
        "started": started,
        "finished": finished,
        "config_file": None if config_file is None else str(config_file),
        "command": " ".join(["crmlab", *sys.argv[1:]]) if Path(sys.argv[0]).stem == "crmlab"
        else None,
        "git": _git(),
        "packages": _versions(),
        "inputs": _input_files(results),
        "reports": sorted(entries.values(), key=lambda e: (e["notebook"], e["key"])),
    }
    tmp = path.with_name(f".manifest.json.tmp-{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps(manifest, indent=2))
    tmp.replace(path)
    return path


def list_runs(output_root: str | Path | None = None) -> list[str]:
    """Dates of the dated runs under the output root, oldest first."""
    root = Path(output_root) if output_root is not None else config.reports_dir()
    runs = root / RUNS_DIR
    if not runs.is_dir():
        return []
    return sorted(p.name for p in runs.iterdir() if (p / "manifest.json").is_file())


def load_report(path: str | Path) -> dict[str, Any]:
    """One rendered report directory as data: what comparing two reports needs.

    Returns a dict with ``dir``, ``notebook``, ``status``, ``metrics`` (``metrics.json``),
    ``params`` (``params.yaml``), ``tables`` (name -> DataFrame from
    :func:`publish_tables`) and ``meta`` (``report.json``).
    """
    import yaml

    path = Path(path)
    if not (path / "report.json").is_file():
        raise RenderError("not a rendered report directory", file=path,
                          expected="a folder with report.json, metrics.json, params.yaml")
    meta = json.loads((path / "report.json").read_text())

    def read_json(name: str) -> Any:
        try:
            return json.loads((path / name).read_text())
        except (OSError, ValueError):
            return {}

    try:
        params = yaml.safe_load((path / "params.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        params = {}
    tables = {}
    if (path / "tables").is_dir():
        import pandas as pd

        tables = {p.stem: pd.read_parquet(p) for p in sorted((path / "tables").glob("*.parquet"))}
    return {"dir": path, "notebook": meta.get("notebook"), "status": meta.get("status"),
            "metrics": read_json("metrics.json"), "params": params, "tables": tables,
            "meta": meta}


def load_run(run: str | Path, output_root: str | Path | None = None, *,
             notebook: str | None = None, key: str | None = None) -> dict[str, Any]:
    """A dated run: its manifest, or with ``notebook`` one of its reports as data.

    Parameters
    ----------
    run : a run date (``2011-09-01``, looked up under ``runs/``) or a run directory.
    output_root : reports directory (default ``crmlab.config.reports_dir()``).
    notebook : name of a notebook of the run (``00-strategy-report``): return that report
        as :func:`load_report` does (``metrics``, ``params``, ``tables``, ...), the good
        one if the run has both a good and a failed report of it.
    key : parameter key of the report when the run rendered the notebook more than once.

    Returns
    -------
    Without ``notebook``: the manifest, each entry of ``manifest["reports"]`` with ``dir``,
    ``metrics_path``, ``params_path`` (absolute paths) and ``metrics`` (loaded) added.
    """
    root = Path(output_root) if output_root is not None else config.reports_dir()
    run_dir = Path(run) if Path(run).is_dir() else root / RUNS_DIR / str(run)
    path = run_dir / "manifest.json"
    if not path.is_file():
        known = ", ".join(list_runs(root)) or "none"
        raise RenderError("no rendered run of that name", file=run_dir, value=str(run),
                          expected=f"one of the runs under {root / RUNS_DIR} ({known})")
    manifest = json.loads(path.read_text())
    for entry in manifest["reports"]:
        entry["dir"] = run_dir / entry["path"]
        entry["metrics_path"] = run_dir / entry["metrics"]
        entry["params_path"] = run_dir / entry["params"]
        try:
            entry["metrics"] = json.loads(entry["metrics_path"].read_text())
        except (OSError, ValueError):
            entry["metrics"] = {}
    manifest["dir"] = run_dir
    if notebook is None:
        return manifest
    name = Path(notebook).stem
    entries = [e for e in manifest["reports"] if e["notebook"] == name
               and (key is None or e["key"] == key)]
    keys = sorted({e["key"] for e in entries})
    if len(keys) != 1:
        have = ", ".join(f"{e['notebook']} [{e['key']}]" for e in manifest["reports"])
        raise RenderError(
            f"run {run_dir.name} has {'no' if not keys else 'several'} report(s) of {name}"
            + (f" ({', '.join(keys)}: pass key=)" if keys else ""),
            expected=f"one of: {have or 'none'}")
    entry = entries[0]
    good = run_dir / entry["last_good"] if entry.get("last_good") else entry["dir"]
    return load_report(good)


# --------------------------------------------------------------------------- index


def _report_dirs(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for meta in root.rglob("report.json"):
        rel = meta.relative_to(root).parts
        if any(part.startswith(".") for part in rel):
            continue  # temporary and old directories
        try:
            found.append((meta.parent, json.loads(meta.read_text())))
        except (OSError, ValueError):
            continue
    return found


def write_index(output_root: str | Path | None = None) -> Path:
    """Rebuild ``index.html``: dated runs newest first, then ad-hoc reports by notebook."""
    root = Path(output_root) if output_root is not None else config.reports_dir()
    root.mkdir(parents=True, exist_ok=True)
    e = html.escape
    runs: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    adhoc: list[tuple[Path, dict[str, Any]]] = []
    for path, meta in _report_dirs(root):
        rel = path.relative_to(root).parts
        if rel[0] == RUNS_DIR and len(rel) >= 4:
            runs.setdefault(rel[1], []).append((path, meta))
        elif rel[0] != RUNS_DIR:
            adhoc.append((path, meta))

    def rows(items: list[tuple[Path, dict[str, Any]]]) -> str:
        out = []
        for path, meta in sorted(items, key=lambda x: (x[1].get("notebook", ""),
                                                       x[1].get("key", ""),
                                                       x[0].name.endswith(FAILED_SUFFIX))):
            link = path.relative_to(root).as_posix() + "/report.html"
            status = str(meta.get("status", "?"))
            params = ", ".join(f"{k}={v}" for k, v in (meta.get("parameters") or {}).items())
            out.append(
                f"<tr><td>{e(str(meta.get('notebook', '')))}</td><td>{e(params or 'defaults')}"
                f"</td><td class=\"s-{e(status)}\">{e(status)}</td>"
                f"<td>{e(str(meta.get('finished', '')))}</td>"
                f"<td><a href=\"{e(link)}\">report</a></td>"
                f"<td>{e(str(meta.get('error') or ''))}</td></tr>")
        return "".join(out)

    head = ("<tr><th>notebook</th><th>parameters</th><th>status</th><th>rendered (UTC)</th>"
            "<th></th><th>error</th></tr>")
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">",
        "<title>crmlab reports</title><style>body{font-family:sans-serif;margin:2em}"
        "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;"
        "padding:4px 8px;text-align:left}.s-failed{color:#b00020;font-weight:bold}"
        ".s-ok{color:#1b5e20}</style></head><body><h1>crmlab reports</h1>",
        f"<p>Index rebuilt {e(_now())}.</p>",
    ]
    if runs:
        parts.append("<h2>Scheduled runs (newest first)</h2>")
        for date in sorted(runs, reverse=True):
            items = runs[date]
            status = "ok" if all(m.get("status") == "ok" for _, m in items) else "failed"
            manifest = f"{RUNS_DIR}/{date}/manifest.json"
            parts.append(f"<h3>Run {e(date)} <span class=\"s-{status}\">{status}</span> "
                         f"<small><a href=\"{e(manifest)}\">manifest</a></small></h3>")
            parts.append(f"<table>{head}{rows(items)}</table>")
    parts.append("<h2>Reports</h2>")
    parts.append(f"<table>{head}{rows(adhoc)}</table>" if adhoc else "<p>None yet.</p>")
    parts.append("</body></html>")
    path = root / "index.html"
    tmp = root / f".index.html.tmp-{uuid.uuid4().hex[:8]}"
    tmp.write_text("".join(parts), encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = [
    "BatchResult", "Parameter", "RenderResult", "check_as_of", "check_parameters",
    "collect_metrics", "discover_notebooks", "escape_markdown", "list_runs",
    "load_batch_config", "load_report", "load_run", "publish_tables",
    "notebook_parameters", "notebook_to_html", "publish_metrics", "render", "render_batch",
    "report_key", "resolve_notebook", "sanitize_html", "write_index", "write_manifest",
]
