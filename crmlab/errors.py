"""The one exception family of crmlab.

Every error an analyst can cause (bad data, a wrong parameter, a notebook that fails) is a
:class:`CrmlabError`. Its message is one line that says where (file, column, row), what was
found, what was expected and what to do, so the command-line tool can print it as it is.
"""

from __future__ import annotations

from typing import Any


_MAX_VALUE = 120


class CrmlabError(Exception):
    """Base class: a problem the user can fix, described in one line.

    Parameters
    ----------
    problem : what is wrong, in the analyst's words.
    file, column, row : where it is, when known. ``row`` is the 1-based line number in the
        file for file input (the header is line 1), otherwise the row label.
    value : an example offending value.
    expected : what would have been accepted.
    fix : what to do about it.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: Any = None,
        column: str | None = None,
        row: Any = None,
        value: Any = None,
        expected: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = None if file is None else str(file)
        self.column = column
        self.row = row
        self.value = value
        self.expected = expected
        self.fix = fix
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        parts = [(", ".join(where) + ": ") if where else ""]
        parts.append(self.problem)
        if self.value is not None:
            shown = repr(self.value)
            if len(shown) > _MAX_VALUE:  # a 10 MB cell or a YAML alias bomb must not become the message
                shown = shown[:_MAX_VALUE] + f"... ({len(shown):,} characters)"
            parts.append(f" (found {shown})")
        if self.expected:
            parts.append(f"; expected {self.expected}")
        if self.fix:
            parts.append(f". Fix: {self.fix}")
        return "".join(parts).replace("\n", " ")


class DataError(CrmlabError):
    """Input data cannot be used: missing file or column, unparseable value, empty table."""


class ParameterError(CrmlabError, ValueError):
    """A parameter is unknown, of the wrong type or out of range."""


class RenderError(CrmlabError):
    """A notebook could not be rendered into a report."""


class ConvergenceWarning(UserWarning):
    """A model fit did not converge cleanly; the message says what to try."""
