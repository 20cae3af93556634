"""The HTML report: an executed notebook as a self-contained page for business readers.

Reports travel by e-mail, so a page runs no script: no CDN, a content security policy
(:data:`CSP`) that forbids scripts and remote loads, and HTML/Markdown from outputs passed
through an allow-list sanitiser (:func:`sanitize_html`). The page is nbconvert's ``lab``
template extended by ``templates/report.html.j2``; a new report format is a new exporter
beside :func:`notebook_to_html` (and a template in ``templates/``).
"""

from __future__ import annotations

import base64
import copy
import html
from pathlib import Path
from typing import Any, Mapping

from crmlab.report.channel import METRICS_MIME

#: Offline reports run no script at all: no CDN (require.js, MathJax, mermaid), and a
#: content security policy that forbids scripts and remote loads, as a second guard.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "base-uri 'none'; form-action 'none'")
#: Templates shipped with the package (package data).
TEMPLATES_DIR = Path(__file__).with_name("templates")
REPORT_TEMPLATE = "report.html.j2"

_ALLOWED_TAGS = frozenset(
    "a abbr b blockquote br caption cite code col colgroup dd del details div dl dt em "
    "figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small "
    "span strong style sub summary sup table tbody td tfoot th thead tr u ul var".split()
)
_GLOBAL_ATTRS = frozenset({"class", "id", "title", "style", "align", "border", "colspan",
                           "rowspan", "start", "alt", "width", "height", "name", "valign"})
_EXTRA_CSS = {"text-align", "vertical-align", "font-family", "font-size", "padding", "margin",
              "border", "white-space", "max-width", "min-width", "display"}
_IMAGE_REMOVED = "[image removed: only embedded figures are shown]"
_CLEANER = None
_EXPORTERS: dict[bool, Any] = {}


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

    Parameters
    ----------
    fragment : str or bytes
        An HTML fragment.

    Returns
    -------
    str
    """
    global _CLEANER
    if _CLEANER is None:
        import bleach
        from bleach.css_sanitizer import ALLOWED_CSS_PROPERTIES, CSSSanitizer

        _CLEANER = bleach.Cleaner(
            tags=_ALLOWED_TAGS, attributes=_attr_ok,
            protocols={"http", "https", "mailto", "data"}, strip=False, strip_comments=True,
            filters=[_img_filter()],
            css_sanitizer=CSSSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES | _EXTRA_CSS),
        )
    text = fragment.decode() if isinstance(fragment, bytes) else str(fragment)
    return _CLEANER.clean(text)


def _exporter(show_input: bool):
    """An HTMLExporter (cached: building one costs a template load)."""
    if show_input not in _EXPORTERS:
        import jinja2
        from nbconvert import HTMLExporter

        _EXPORTERS[show_input] = HTMLExporter(
            template_name="lab",
            extra_loaders=[jinja2.FileSystemLoader(str(TEMPLATES_DIR))],
            template_file=REPORT_TEMPLATE,
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


def header_html(title: str, status: str, values: Mapping[str, Any], finished: str,
                error: str | None, show_pii: bool, as_of: str | None) -> str:
    """The report's header: title, status, date, parameters and warnings, escaped.

    Parameters
    ----------
    title : str
    status : str
        ``"ok"`` or ``"failed"``.
    values : mapping
        Every parameter value the run used.
    finished : str
        When the run ended.
    error : str or None
        One line saying what failed.
    show_pii : bool
        Whether the report holds raw customer identifiers (adds a warning).
    as_of : str or None
        The run date of a dated run.

    Returns
    -------
    str
        A ``<header>`` element.
    """
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


def failing_cell(nb: Any) -> int | None:
    """Index of the first code cell with an error output, or None.

    Parameters
    ----------
    nb : nbformat.NotebookNode

    Returns
    -------
    int or None
    """
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(
                o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return i
    return None


def _svg_as_image(out: Any) -> None:
    """An SVG figure as an embedded picture: inline SVG would be sanitised to text."""
    data = out.get("data", {})
    if "image/svg+xml" in data and "image/png" not in data:
        svg = data["image/svg+xml"]
        svg = "".join(svg) if isinstance(svg, list) else svg
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
        out["data"] = {"text/html": f'<img src="{uri}" alt="figure">'}


def _readable_copy(nb: Any, failing: int | None) -> Any:
    """A copy of the notebook ready for export: code hidden except the failing cell, no
    widget state, no metrics channel, SVG figures as embedded images."""
    nb = copy.deepcopy(nb)
    if failing is not None:
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
            _svg_as_image(out)
    return nb


def notebook_to_html(nb: Any, *, title: str, status: str = "ok", values: Mapping[str, Any] = (),
                     finished: str = "", error: str | None = None, show_pii: bool = False,
                     as_of: str | None = None) -> str:
    """An executed notebook as a self-contained HTML report for business readers.

    Code is hidden (for a failed run, the failing cell's code is shown with its traceback),
    figures are embedded as data URIs, HTML and Markdown from outputs are sanitised
    (:func:`sanitize_html`) and the page runs no script.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (not changed).
    title : str
        The report's title (the notebook's name).
    status, values, finished, error, show_pii, as_of
        For the header (see :func:`header_html`).

    Returns
    -------
    str
        The page.
    """
    failing = failing_cell(nb)
    resources = {
        "metadata": {"name": title},
        "crmlab_csp": CSP,
        "crmlab_header": header_html(title, status, dict(values), finished, error,
                                     show_pii, as_of),
    }
    body, _ = _exporter(failing is not None).from_notebook_node(
        _readable_copy(nb, failing), resources=resources)
    return body
