"""Notebook parameters from a Databricks job: its widgets over the parameters cell.

``crmlab render`` (papermill) passes parameters by injecting a cell after the one tagged
``parameters``. A Databricks job's notebook task passes them as widgets instead, read with
``dbutils.widgets.get``; a plain parameters cell never sees them. Each notebook therefore calls
:func:`job_parameters` right after its parameters cell: on Databricks (``dbutils`` defined) every
parameter with a widget of the same name takes the widget's value, typed like the cell's
default; anywhere else nothing happens, so papermill's injected values stand.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from crmlab.errors import ParameterError

__all__ = ["job_parameters"]

_SIMPLE = (bool, int, float, str)


def _typed(name: str, text: str, default: Any) -> Any:
    """``text`` (a widget's value) as the type of the parameter's ``default``."""
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ParameterError("expected true or false", column=name, value=text,
                             fix=f"set the job parameter {name} to true or false")
    if isinstance(default, (int, float)):
        try:
            return type(default)(text.strip())
        except ValueError:
            raise ParameterError(f"expected a number ({type(default).__name__})", column=name, value=text,
                                 fix=f"set the job parameter {name} to a number") from None
    if default is None and text == "":
        return None
    return text


def job_parameters(namespace: MutableMapping[str, Any]) -> dict[str, Any]:
    """Override the notebook's parameters with a Databricks job's widgets of the same names.

    Parameters
    ----------
    namespace : mutable mapping
        The notebook's ``globals()`` right after its parameters cell.

    Returns
    -------
    dict
        The parameters that changed (empty outside Databricks or without widgets).

    Raises
    ------
    ParameterError
        A widget whose value does not fit the parameter's type (a number, true/false).
    """
    dbutils = namespace.get("dbutils")
    if dbutils is None or not hasattr(dbutils, "widgets"):
        return {}
    changed: dict[str, Any] = {}
    for name, default in list(namespace.items()):
        if name.startswith("_") or not (default is None or isinstance(default, _SIMPLE)):
            continue
        try:
            text = dbutils.widgets.get(name)
        except Exception:  # noqa: BLE001 - Databricks raises its own error for a widget not defined
            continue
        value = _typed(name, str(text), default)
        if value != default:
            changed[name] = value
    namespace.update(changed)
    return changed
