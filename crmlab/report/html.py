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
_EXPORTERS: dict[tuple[bool, str], Any] = {}
#: Fonts that draw Hangul (and Latin), tried in order: reports on Korean data must not show
#: empty boxes in any of the browsers the readers use (Linux, Windows, macOS).
FONT_STACK = ('"Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "Nanum Gothic", '
              '"Malgun Gothic", "Apple SD Gothic Neo", "Helvetica Neue", Arial, sans-serif')
#: Report languages the page declares in ``<html lang>`` (the notebook's ``lang`` parameter).
LANGUAGES = ("en", "ko")


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


def import_notebook_tools() -> None:
    """Import jsonschema (under nbformat, papermill and nbconvert) without ``rfc3987_syntax``.

    jsonschema registers checkers for the ``iri`` formats when ``rfc3987_syntax`` is
    installed (JupyterLab's event schemas pull it in), and that package compiles 39 grammars
    at import: 1.4-2 s of every render process (jsonschema issue 1392; the package is
    unmaintained). Notebook schemas use no ``iri`` format, so the import is made without it;
    the package stays importable for anything else in this process.
    """
    import sys

    if "jsonschema" in sys.modules:
        return
    blocked = "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        if blocked and sys.modules.get("rfc3987_syntax", False) is None:
            del sys.modules["rfc3987_syntax"]


def _exporter(show_input: bool, lang: str = "en"):
    """An HTMLExporter (cached: building one costs a template load)."""
    if (show_input, lang) not in _EXPORTERS:
        import_notebook_tools()
        import jinja2
        from nbconvert import HTMLExporter

        _EXPORTERS[show_input, lang] = HTMLExporter(
            language_code=lang,
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
    return _EXPORTERS[show_input, lang]


def _say(text: str, lang: str) -> str:
    """``text`` in the report language: key ``report.<text>`` of ``crmlab/i18n/ko/report.yml``
    (namespaced, so a header word never changes another area's translation)."""
    if lang == "en":
        return text
    from crmlab import i18n

    return i18n.translations(lang).get(f"report.{text}", text)


def report_title(name: str, lang: str = "en") -> str:
    """The report's title: the notebook's name, translated when a translation exists.

    Parameters
    ----------
    name : str
        The notebook's stem (``01-customer-analysis``).
    lang : str

    Returns
    -------
    str
    """
    return _say(name, lang)


def _shown_value(value: Any) -> Any:
    """A parameter as the header shows it: a file given on the command line (passed to the
    kernel as an absolute path) by its name only, so the report does not show the folders of
    the machine it was rendered on; ``params.yaml`` keeps the full value."""
    if isinstance(value, str) and 0 < len(value) < 4096 and "\n" not in value:
        path = Path(value)
        if path.is_absolute() and path.exists():
            return path.name
    return value


def header_html(title: str, status: str, values: Mapping[str, Any], finished: str,
                error: str | None, show_pii: bool, as_of: str | None,
                data: Mapping[str, Any] | None = None) -> str:
    """The report's header: title, status, date, data, parameters and warnings, escaped.

    Written in the report language (:func:`report_language` of ``values``).

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
    data : mapping, optional
        The data source the run read (``crmlab.data.describe``): its ``name`` and ``where``
        (a path, or a database URL without its password).

    Returns
    -------
    str
        A ``<header>`` element.
    """
    e, lang = html.escape, report_language(values)
    params = ", ".join(f"{e(str(k))} = {e(repr(_shown_value(v)))}" for k, v in values.items()) or "none"
    lines = [f'<header class="crmlab-header"><h1>{e(report_title(title, lang))}</h1>',
             f'<div class="meta">{_say("Status", lang)}: <span class="crmlab-status-{e(status)}">'
             f'{e(_say(status, lang))}</span> &middot; {_say("rendered", lang)} {e(finished)}']
    if as_of:
        lines.append(f" &middot; {_say('as of', lang)} {e(as_of)}")
    lines.append("</div>")
    if data:
        shown = str(data.get("name", ""))
        if data.get("where") and data.get("where") != shown:
            shown += f" ({data['where']})"
        lines.append(f'<div class="meta">{_say("Data", lang)}: {e(shown)}</div>')
    lines.append(f'<div class="meta">{_say("Parameters", lang)}: {params}</div>')
    if show_pii:
        lines.append(f'<div class="crmlab-pii">{_say(PII_WARNING, lang)}</div>')
    if error:
        lines.append(f'<div class="crmlab-status-failed">{_say("This report failed", lang)}: '
                     f"{e(error)} ({_say(FAILED_NOTE, lang)})</div>")
    lines.append("</header>")
    return "".join(lines)


PII_WARNING = "Contains raw customer identifiers: do not share outside the team."
FAILED_NOTE = "the failing cell is shown below with its code and traceback"


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


def _is_stderr(out: Any) -> bool:
    return out.get("output_type") == "stream" and out.get("name") == "stderr"


def stderr_text(nb: Any) -> str:
    """What the notebook's cells wrote to stderr (warnings), per cell, for ``kernel.log``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook.

    Returns
    -------
    str
        ``--- cell N (stderr) ---`` blocks; empty when no cell wrote to stderr.
    """
    parts = []
    for i, cell in enumerate(nb.cells):
        text = "".join("".join(o["text"]) if isinstance(o.get("text"), list) else str(o.get("text", ""))
                       for o in cell.get("outputs", []) if _is_stderr(o))
        if text:
            parts.append(f"--- cell {i} (stderr) ---\n{text.rstrip()}\n")
    return "".join(parts)


def report_language(values: Mapping[str, Any]) -> str:
    """The language of the report page: the notebook's ``lang`` parameter, else English.

    Parameters
    ----------
    values : mapping
        Every parameter value the run used.

    Returns
    -------
    str
        One of :data:`LANGUAGES`.
    """
    lang = str(values.get("lang") or "en").strip().lower()
    return lang if lang in LANGUAGES else "en"


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
        # the metrics channel has an empty text/plain: nothing to show; warnings (stderr)
        # are for the analyst and go to kernel.log (see stderr_text), not to business readers
        cell.outputs = [o for o in cell.get("outputs", []) if METRICS_MIME not in o.get("data", {})
                        and not _is_stderr(o)]
        for out in cell.outputs:
            _svg_as_image(out)
    return nb


def notebook_to_html(nb: Any, *, title: str, status: str = "ok", values: Mapping[str, Any] = (),
                     finished: str = "", error: str | None = None, show_pii: bool = False,
                     as_of: str | None = None, data: Mapping[str, Any] | None = None) -> str:
    """An executed notebook as a self-contained HTML report for business readers.

    Code is hidden (for a failed run, the failing cell's code is shown with its traceback),
    warnings (stderr) are left out (the renderer writes them to ``kernel.log``), the page
    names a Hangul-capable font stack (:data:`FONT_STACK`) and declares ``<html lang>`` from
    the ``lang`` parameter, figures are embedded as data URIs, HTML and Markdown from outputs are sanitised
    (:func:`sanitize_html`) and the page runs no script.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (not changed).
    title : str
        The report's title (the notebook's name).
    status, values, finished, error, show_pii, as_of, data
        For the header (see :func:`header_html`).

    Returns
    -------
    str
        The page.
    """
    failing = failing_cell(nb)
    values = dict(values)
    resources = {
        "metadata": {"name": report_title(title, report_language(values))},
        "crmlab_csp": CSP,
        "crmlab_fonts": FONT_STACK,
        "crmlab_header": header_html(title, status, values, finished, error,
                                     show_pii, as_of, data),
    }
    body, _ = _exporter(failing is not None, report_language(values)).from_notebook_node(
        _readable_copy(nb, failing), resources=resources)
    return body
