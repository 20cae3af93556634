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
    """Turn numpy/pandas scalars and containers into plain JSON values (NaN becomes None)."""
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
    """A number as a report shows it: thousands separators for large values, 4 significant
    digits for small ones; anything else unchanged."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        return x
    if isinstance(x, (int, np.integer)):
        return f"{x:,}"
    if math.isnan(x):
        return ""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def display_table(df: pd.DataFrame) -> str:
    """HTML of a table with numbers formatted by :func:`fmt_number` and text escaped."""
    shown = df.copy()
    for col in shown.columns:
        if shown[col].dtype.kind in "fO":
            shown[col] = shown[col].map(fmt_number)
    return shown.to_html(escape=True, na_rep="")


class Result:
    """Base class for crmlab results.

    Subclasses set ``title`` and implement :attr:`summary` (a DataFrame) and
    :meth:`to_dict` (headline numbers as plain values).
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
    to that row's values."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({str(k): row.to_dict() for k, row in self.table.iterrows()})
