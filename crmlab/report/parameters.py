"""What a notebook accepts: its ``parameters`` cell, read and checked before any kernel starts.

- :func:`notebook_parameters` -- the parameters a notebook declares (name, type, default, help).
- :func:`check_parameters` -- validate and coerce values (strings from the command line).
- :func:`check_as_of` -- a run date as ``YYYY-MM-DD`` (parsed by :func:`crmlab.dates.parse_as_of`).
- :func:`check_report_date` -- refuse a dated render of a notebook that cannot take the date.
- :func:`check_source` -- the ``source`` parameter's file, read and checked (no data loaded).

A notebook takes the report date by declaring ``as_of``. One that reads no dated data (the
campaign test, a comparison of two runs) says so in its notebook metadata,
``"crmlab": {"dated": false}``; any other notebook without ``as_of`` is refused by a dated
render, because it would show data after the report date.
"""

from __future__ import annotations

import ast
import datetime as _dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from crmlab.errors import ParameterError, RenderError
from crmlab.report.layout import resolve_notebook

#: Parameters the renderer itself may set (see ``render(show_pii=, as_of=)``).
SHOW_PII = "show_pii"
AS_OF = "as_of"
#: A parameter naming a data source (a shipped name or a source file), checked before a run.
SOURCE = "source"
#: Notebook metadata ``{"crmlab": {"dated": false}}``: the notebook reads no dated data.
METADATA_KEY = "crmlab"
DATED_KEY = "dated"


@dataclass(frozen=True)
class Parameter:
    """One parameter declared in a notebook's ``parameters`` cell.

    Parameters
    ----------
    name : str
    type : str
        One of ``"int"``, ``"float"``, ``"bool"``, ``"str"``, ``"list"``, ``"dict"`` or
        ``"any"`` (no annotation and a ``None`` default).
    default : Any
        The default value (its source text when it is an expression).
    help : str
        The comment ending the assignment.
    optional : bool
        Whether ``None`` is accepted.
    bounds : Bounds or None
        The range a number must lie in, declared at the start of the help comment
        (``# [1, inf) countries shown``); see :func:`parse_bounds`.
    """

    name: str
    type: str
    default: Any
    help: str = ""
    optional: bool = False
    bounds: Bounds | None = None

    @property
    def is_date(self) -> bool:
        """A date parameter: ``as_of``, or text whose help says ``YYYY-MM-DD``.

        Returns
        -------
        bool
        """
        return self.name == AS_OF or (self.type == "str" and "YYYY-MM-DD" in self.help)

    def describe(self) -> str:
        """``name: type = default``, as error messages list valid parameters.

        Returns
        -------
        str
        """
        return f"{self.name}: {self.type} = {self.default!r}"


@dataclass(frozen=True)
class Bounds:
    """The range a numeric parameter accepts, as written in its help comment.

    Parameters
    ----------
    low, high : float
        The ends (``-inf``/``inf`` when open-ended).
    low_closed, high_closed : bool
        Whether the end itself is allowed (``[``/``]``) or not (``(``/``)``).
    text : str
        The range as written (``[1, inf)``).
    """

    low: float
    high: float
    low_closed: bool
    high_closed: bool
    text: str

    def __contains__(self, value: Any) -> bool:
        try:
            x = float(value)
        except (TypeError, ValueError, OverflowError):
            return False
        if x != x:  # NaN is in no range
            return False
        above = x >= self.low if self.low_closed else x > self.low
        below = x <= self.high if self.high_closed else x < self.high
        return above and below


_NUMBER = r"[-+]?(?:inf|\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)"
_BOUNDS = re.compile(rf"^\s*([\[(])\s*({_NUMBER})?\s*,\s*({_NUMBER})?\s*([\])])")


def parse_bounds(help_text: str) -> Bounds | None:
    """The range at the start of a parameter's help comment, if any.

    Interval notation: ``[`` and ``]`` include the end, ``(`` and ``)`` exclude it, ``inf``
    or an empty end leaves that side open. ``# [1, inf) countries shown`` is a number of at
    least 1, ``# (0, 1] share of ...`` a share above 0 up to 1. (Papermill's parser drops a
    parameter line whose comment holds a second ``=``, so ``>= 1`` cannot be used.)

    Parameters
    ----------
    help_text : str
        The comment ending the parameter's line.

    Returns
    -------
    Bounds or None
    """
    m = _BOUNDS.match(help_text or "")
    if m is None:
        return None
    low = float(m[2].replace("_", "")) if m[2] else float("-inf")
    high = float(m[3].replace("_", "")) if m[3] else float("inf")
    if low > high:
        return None
    return Bounds(low, high, m[1] == "[", m[4] == "]", m[0].strip())


_TYPE_NAMES = {"int": "int", "float": "float", "bool": "bool", "str": "str", "list": "list",
               "dict": "dict", "tuple": "list"}


def _parse_type(inferred: str | None, default: Any) -> tuple[str, bool]:
    """Declared type name and whether None is allowed, from the annotation's text."""
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


def _read_notebook(path: Path) -> dict[str, Any]:
    """The notebook as plain JSON (nbformat's import costs seconds; refusing bad input
    should be instant)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(nb, dict) or not isinstance(nb["cells"], list):
            raise TypeError("no list of cells")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RenderError(f"cannot read the notebook ({type(exc).__name__}: {exc})",
                          file=path, expected="a Jupyter notebook (.ipynb, nbformat 4)") from None
    return nb


def _parameters_cell(path: Path) -> str | None:
    """Source of the cell tagged ``parameters``, or None."""
    for cell in _read_notebook(path)["cells"]:
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

    The cell is read with Python's own parser; papermill's ``inspect_notebook`` is the
    fallback for cells Python cannot parse (IPython magics).

    Parameters
    ----------
    notebook : str or Path
        Path or name of the notebook (see :func:`crmlab.report.resolve_notebook`).

    Returns
    -------
    dict of str to Parameter
        Type, default value and help text (the trailing comment) per name, in the order of
        the cell. Empty when there is no parameters cell.
    """
    path = resolve_notebook(notebook)
    source = _parameters_cell(path)
    if source is None:
        return {}
    found = _parse_parameters_cell(source)
    if found is None:
        from crmlab.report.html import import_notebook_tools

        import_notebook_tools()
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
        help_text = (help_text or "").strip()
        out[name] = Parameter(name, typ, default, help_text, optional,
                              parse_bounds(help_text) if typ in ("int", "float", "any") else None)
    return out


def _valid_list(declared: Mapping[str, Parameter]) -> str:
    if not declared:
        return "this notebook declares no parameters"
    return "valid parameters: " + ", ".join(p.describe() for p in declared.values())


_TRUE = {"true", "yes", "1", "on", "y", "t"}
_FALSE = {"false", "no", "0", "off", "n", "f"}


def _to_any(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d[\d_]*\s*", value):
        return int(value)
    raise ValueError


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(value)  # ValueError for text
    raise ValueError


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise ValueError


def _literal(value: Any) -> Any:
    """A list or dict: a literal on the command line, a YAML value in a batch file."""
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise ValueError from None
    return value


def _to_list(value: Any) -> list:
    value = _literal(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError


def _to_dict(value: Any) -> dict:
    value = _literal(value)
    if isinstance(value, dict):
        return value
    raise ValueError


_COERCE: dict[str, Callable[[Any], Any]] = {
    "any": _to_any, "bool": _to_bool, "int": _to_int, "float": _to_float, "str": _to_str,
    "list": _to_list, "dict": _to_dict,
}


def _coerce(p: Parameter, value: Any) -> Any:
    """``value`` as the declared type of ``p``; raises ValueError when it does not fit."""
    if isinstance(value, (_dt.date, _dt.datetime)) and p.type in ("str", "any"):
        return value.isoformat()  # YAML reads 2011-09-01 as a date
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null")
                         and p.optional and p.type != "str"):
        if p.optional:
            return None
        raise ValueError
    coerce = _COERCE.get(p.type)
    if coerce is None:
        raise ValueError
    return coerce(value)


def check_parameters(notebook: str | Path, parameters: Mapping[str, Any] | None = None, *,
                     declared: Mapping[str, Parameter] | None = None) -> dict[str, Any]:
    """Validate parameter values against what the notebook declares, before any kernel starts.

    Values may be strings (from the command line): they are coerced to the declared type
    (``int``, ``float``, ``bool`` accepts true/false/yes/no/1/0, ``str``; lists and dicts as
    Python literals).

    Parameters
    ----------
    notebook : str or Path
        Path or name of the notebook.
    parameters : mapping or None
        The values to check.
    declared : mapping of str to Parameter, optional
        What the notebook declares, when already read (:func:`notebook_parameters`).

    Returns
    -------
    dict
        The given parameters with coerced values.

    Raises
    ------
    ParameterError
        For an unknown name or a value that does not fit the declared type; the message
        names the parameter, the value, the expected type and lists the valid parameters
        with their defaults. A ``source`` value that is not a valid source file (see
        :func:`check_source`) is refused naming the file and the key.
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
        _check_value(name, p, out[key], value)
    if isinstance(out.get(SOURCE), str):
        from crmlab.spark.notebooks import check_notebook_engine  # no pyspark import

        check_notebook_engine(name, check_source(out[SOURCE]))
    return out


def _check_value(notebook: str, p: Parameter, value: Any, given: Any) -> None:
    """Refuse a number outside the parameter's declared range and a date that is not one."""
    if value is None:
        return
    if p.bounds is not None and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and value not in p.bounds:
        raise ParameterError(
            f"parameter {p.name!r} of notebook {notebook} is out of range", value=given,
            expected=f"a number in {p.bounds.text} (default {p.default!r})",
            fix=f"the range is declared in the notebook's parameters cell ({p.help})")
    if p.is_date and isinstance(value, str) and value.strip():
        try:
            check_date(value, what=f"parameter {p.name!r} of notebook {notebook}")
        except ParameterError as exc:
            raise ParameterError(exc.problem, value=given, expected=exc.expected,
                                 fix="leave it empty for the default") from None


def check_source(value: str) -> Any:
    """Read and check a source (a shipped name or a source file) without loading its data.

    The source file is checked by :func:`crmlab.data.read_source` (unknown key, missing column
    mapping, bad value) and the data file it names must exist, so a bad source is refused
    before a kernel starts.

    Parameters
    ----------
    value : str
        The ``source`` parameter as given.

    Returns
    -------
    crmlab.data.Source
        Show it with ``.name`` and ``.where`` (a database URL without its password).

    Raises
    ------
    ParameterError
        One line naming the source file and the key at fault.
    """
    from crmlab.data import read_source  # pandas: only when a source is given

    src = read_source(value)
    if src.path is not None and not (src.path.is_file() or (src.engine == "spark" and src.path.is_dir())):
        raise ParameterError("path: the data file it names is missing", file=src.file or value,
                             value=str(src.path),
                             fix="correct path: (relative to the source file's folder)")
    return src


def check_as_of(as_of: Any) -> str | None:
    """A run date as a ``YYYY-MM-DD`` string; refuses anything else.

    The date itself is read by :func:`crmlab.dates.parse_as_of`, the one reader of report
    dates; the run date must also be written exactly ``YYYY-MM-DD`` because it names the
    run's folder.

    Parameters
    ----------
    as_of : str, date, datetime or None

    Returns
    -------
    str or None
        None stays None.

    Raises
    ------
    ParameterError
        Not a calendar date written ``YYYY-MM-DD``.
    """
    if as_of is None:
        return None
    return check_date(as_of, what="--as-of")


def check_date(value: Any, *, what: str = "the value") -> str:
    """A calendar date written ``YYYY-MM-DD`` (or a date object), as that text.

    Parameters
    ----------
    value : str, date or datetime
    what : str
        Names the value in the error message (``--as-of``, ``parameter 'as_of' of ...``).

    Returns
    -------
    str
        ``YYYY-MM-DD``.

    Raises
    ------
    ParameterError
        Not a calendar date written ``YYYY-MM-DD`` (``notadate``, ``2011-13-01``).
    """
    text = value if isinstance(value, (_dt.date, _dt.datetime)) else str(value).strip()
    if isinstance(text, str):
        try:
            _dt.date.fromisoformat(text if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else "")
        except ValueError:
            raise ParameterError(f"{what} is not a date", value=value,
                                 expected="a calendar date YYYY-MM-DD, e.g. 2011-09-01") from None
    from crmlab.dates import parse_as_of  # pandas: only once the text is a date

    try:  # the one reader of report dates (pandas' range: 1677-09-22 to 2262-04-11)
        return parse_as_of(text).strftime("%Y-%m-%d")
    except (ParameterError, OverflowError, ValueError):
        raise ParameterError(f"{what} is outside the dates crmlab can use", value=value,
                             expected="a date between 1677-09-22 and 2262-04-11") from None


def _own_metadata(notebook: str | Path) -> dict[str, Any]:
    """The notebook's ``"crmlab"`` metadata (empty when it has none or it is not a mapping)."""
    meta = _read_notebook(resolve_notebook(notebook)).get("metadata") or {}
    own = meta.get(METADATA_KEY) if isinstance(meta, dict) else None
    return own if isinstance(own, dict) else {}


def notebook_is_dated(notebook: str | Path) -> bool:
    """Whether the notebook reads dated data (so a report date changes what it shows).

    Parameters
    ----------
    notebook : str or Path
        Path or name of the notebook.

    Returns
    -------
    bool
        False only when the notebook metadata says ``"crmlab": {"dated": false}``.
    """
    return _own_metadata(notebook).get(DATED_KEY) is not False


#: Notebook metadata ``{"crmlab": {"seconds": 16}}``: about how long the notebook takes on its
#: default data, for ordering a parallel batch before it has ever run (:func:`expected_seconds`).
SECONDS_KEY = "seconds"


def expected_seconds(notebook: str | Path) -> float | None:
    """How long the notebook says it takes on its default data, or None.

    A parallel batch starts the longest notebook first, by the time its last report took; a
    notebook never rendered (a fresh checkout's first ``make report``) is placed by this hint,
    the metadata ``"crmlab": {"seconds": N}``.

    Parameters
    ----------
    notebook : str or Path
        Path or name of the notebook.

    Returns
    -------
    float or None
        The hint when the metadata holds a positive number.
    """
    value = _own_metadata(notebook).get(SECONDS_KEY)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def check_report_date(notebook: str | Path, declared: Mapping[str, Parameter],
                      as_of: str | None) -> None:
    """Refuse a dated render of a notebook that would show data after the report date.

    Parameters
    ----------
    notebook : str or Path
        Path of the notebook.
    declared : mapping of str to Parameter
        What the notebook declares (:func:`notebook_parameters`).
    as_of : str or None
        The run date; None (no dated render) accepts every notebook.

    Raises
    ------
    ParameterError
        ``as_of`` is given, the notebook declares no ``as_of`` parameter and its metadata
        does not say it reads no dated data.
    """
    if as_of is None or AS_OF in declared or not notebook_is_dated(notebook):
        return
    name = Path(notebook).stem
    raise ParameterError(
        f"notebook {name} does not declare an {AS_OF} parameter, so a render dated {as_of} "
        "would show data after that date",
        fix=f'declare {AS_OF} in its parameters cell ({AS_OF}: str = ""  # report date '
            "YYYY-MM-DD) and cut its data with crmlab.dates.cutoff; a notebook that reads no "
            f'dated data says so in its metadata: "{METADATA_KEY}": {{"{DATED_KEY}": false}}',
    )
