"""Results that display themselves.

A result object carries a ``summary`` DataFrame, shows it as HTML in a notebook
(``_repr_html_``) and gives ``to_dict()`` for ``metrics.json``, so the notebook, the report
and the metrics file all show the same numbers.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd


def to_jsonable(value: Any) -> Any:
    """Turn numpy/pandas scalars and containers into plain JSON values (NaN becomes None).

    Dict keys become strings, tuples become lists, a DataFrame becomes a list of row dicts
    (index included as columns), a Series a dict, a Timestamp its ISO string; infinities
    also become None. Other values are returned unchanged.

    Parameters
    ----------
    value : any
        A scalar, dict, list, tuple, Series or DataFrame, nested in any way.

    Returns
    -------
    any
        The same data built from plain Python values.
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return to_jsonable(value.reset_index().to_dict(orient="records"))
    if isinstance(value, pd.Series):
        return to_jsonable(value.to_dict())
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def fmt_number(x: Any) -> Any:
    """A number as a report shows it: thousands separators for large values, up to four
    significant digits for small ones and never scientific notation; anything else unchanged.

    Parameters
    ----------
    x : any

    Returns
    -------
    str or the value unchanged
    """
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        return x
    if isinstance(x, (int, np.integer)):
        return f"{x:,}"
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if x == 0:
        return "0"
    if abs(x) < 0.0001:
        return "< 0.0001" if x > 0 else "> -0.0001"
    digits = max(0, 3 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{digits}f}".rstrip("0").rstrip(".")


def fmt_percent(x: Any, digits: int = 1) -> str:
    """A share (0.253) as a percentage ("25.3%"); missing values as "n/a".

    Parameters
    ----------
    x : float
    digits : int

    Returns
    -------
    str
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)) or pd.isna(x):
        return "n/a"
    return f"{float(x):.{digits}%}"


def fmt_money(x: Any) -> str:
    """An amount with thousands separators and no decimals ("12,345"); missing as "n/a".

    Parameters
    ----------
    x : float

    Returns
    -------
    str
    """
    if x is None or pd.isna(x) or not math.isfinite(float(x)):
        return "n/a"
    return f"{float(x):,.0f}"


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return "n/a"
    return str(fmt_number(value))


def _is_text(col: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col))


def html_table(df: pd.DataFrame, *, show_index: bool | None = None, right: set[str] | None = None) -> str:
    """HTML of a table as a report shows it: every cell escaped, numbers right-aligned and
    formatted by :func:`fmt_number`, text left-aligned, missing values "n/a", and a plain
    0..n index left out.

    Parameters
    ----------
    df : pandas.DataFrame
    show_index : bool, optional
        Default: show the index unless it is a plain 0..n range.
    right : set of str, optional
        Columns to right-align even if they hold (pre-formatted) text.

    Returns
    -------
    str
    """
    if show_index is None:
        show_index = not (isinstance(df.index, pd.RangeIndex) and df.index.name is None)
    right = set(right or ())
    esc = html.escape
    cols = list(df.columns)
    align = {c: "right" if (c in right or not _is_text(df[c])) else "left" for c in cols}
    head = "".join(f'<th style="text-align:{align[c]}">{esc(str(c))}</th>' for c in cols)
    if show_index:
        head = f'<th style="text-align:left">{esc(str(df.index.name or ""))}</th>' + head
    rows = []
    for label, values in zip(df.index, df.itertuples(index=False, name=None)):
        cells = "".join(f'<td style="text-align:{align[c]}">{esc(_cell(v))}</td>' for c, v in zip(cols, values))
        if show_index:
            cells = f'<th style="text-align:left">{esc(_cell(label))}</th>' + cells
        rows.append(f"<tr>{cells}</tr>")
    return f'<table class="dataframe crm-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def display_table(df: pd.DataFrame) -> str:
    """HTML of a result table (see :func:`html_table`).

    Parameters
    ----------
    df : pandas.DataFrame

    Returns
    -------
    str
    """
    return html_table(df)


class ReportTable:
    """A table formatted for a business report; displays itself in a notebook.

    Parameters
    ----------
    table : pandas.DataFrame
        The formatted table (every cell already text).
    right : set of str
        Columns right-aligned.
    """

    def __init__(self, table: pd.DataFrame, right: set[str]) -> None:
        self.table = table
        self.right = right

    def _repr_html_(self) -> str:
        return html_table(self.table, right=self.right)

    def __repr__(self) -> str:
        return self.table.to_string()


def report_table(df: pd.DataFrame, *, percent: Any = (), money: Any = (), integer: Any = (),
                 lang: str = "en", translate_index: bool = False, show_index: bool | None = None) -> ReportTable:
    """A table as a business report shows it.

    Percent columns as "25.3%", money with thousands separators and no decimals, integers
    with separators, other numbers by :func:`fmt_number` (never scientific notation), missing
    values "n/a", headers in ``lang``; a plain 0..n index is dropped.

    Parameters
    ----------
    df : pandas.DataFrame
    percent, money, integer : iterables of column names
    lang : str
        Report language of the headers (and of the index labels with ``translate_index``).
    translate_index : bool
    show_index : bool, optional

    Returns
    -------
    ReportTable
    """
    from crmlab import i18n

    shown = df.copy()
    if show_index is False or (show_index is None and isinstance(shown.index, pd.RangeIndex)
                               and shown.index.name is None):
        shown = shown.reset_index(drop=True)
        shown.index = pd.RangeIndex(len(shown))
    right = set()
    for col in shown.columns:
        if col in set(percent):
            shown[col] = shown[col].map(fmt_percent)
        elif col in set(money):
            shown[col] = shown[col].map(fmt_money)
        elif col in set(integer):
            shown[col] = shown[col].map(lambda v: "n/a" if pd.isna(v) else f"{int(v):,}")
        elif not _is_text(shown[col]):
            shown[col] = shown[col].map(_cell)
        else:
            shown[col] = shown[col].map(_cell)
            continue
        right.add(col)
    if translate_index:
        shown.index = pd.Index([i18n.t(str(v), lang) for v in shown.index], name=shown.index.name)
    names = {c: i18n.t(str(c), lang) for c in shown.columns}
    shown = shown.rename(columns=names)
    if shown.index.name is not None:
        shown.index.name = i18n.t(str(shown.index.name), lang)
    return ReportTable(shown, {names[c] for c in right})


class Result:
    """Base class for crmlab results.

    Subclasses set ``title`` and implement :attr:`summary` (a DataFrame) and
    :meth:`to_dict` (headline numbers as plain values).

    Attributes
    ----------
    title : str
        Heading shown above the summary.
    notes : tuple of str
        Paragraphs shown between the heading and the summary table.
    summary : pandas.DataFrame
        The table the result displays (defined by each subclass).
    """

    title: str = "Result"
    notes: tuple[str, ...] = ()

    @property
    def summary(self) -> pd.DataFrame:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self.summary)

    def _repr_html_(self) -> str:
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)
        table = display_table(self.summary)
        return f"<h4>{html.escape(self.title)}</h4>{notes}{table}"

    def __repr__(self) -> str:
        return f"{self.title}\n{self.summary.to_string()}"


class TableResult(Result):
    """A result that is one table: ``summary`` is ``table``; ``to_dict`` maps each row label
    to that row's values.

    Parameters
    ----------
    table : pandas.DataFrame
        The table to show.

    Attributes
    ----------
    table : pandas.DataFrame
        As given; also the :attr:`summary`.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({str(k): row.to_dict() for k, row in self.table.iterrows()})
