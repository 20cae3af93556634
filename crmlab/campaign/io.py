"""Experiment tables: loading, names for metric keys, and the checks every readout runs.

The arm column is turned into integer codes with the control first; outcome and covariate
columns into float arrays with no missing values. Everything downstream (moments, tests,
CUPED, segments) works on these arrays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from crmlab.columns import require_columns
from crmlab.errors import DataError, ParameterError

__all__ = ["load_experiment", "slug"]

#: what the column check calls the table in its messages
WHAT = "experiment data"


def slug(value: Any) -> str:
    """Key-safe name used in ``to_dict()`` keys.

    Letters and digits of any script are kept (lower case), so Korean arm names stay
    distinct; every run of other characters becomes ``_``.

    Parameters
    ----------
    value : object
        An arm, outcome or segment label.

    Returns
    -------
    str
        ``"Mens E-Mail"`` -> ``"mens_e_mail"``, ``"남성 메일"`` -> ``"남성_메일"``; ``"blank"``
        when nothing is left.
    """
    s = "".join(ch if ch.isalnum() else " " for ch in str(value).lower())
    return "_".join(s.split()) or "blank"


def plot_label(text: Any) -> str:
    """Plot text with dollar signs escaped (matplotlib would read "$100 - $200" as maths).

    Parameters
    ----------
    text : object
        A label; turned into a string.

    Returns
    -------
    str
    """
    return str(text).replace("$", r"\$")


def load_experiment(data: str | Path | pd.DataFrame = "hillstrom") -> pd.DataFrame:
    """An experiment table: one row per customer with arm, outcomes and covariates.

    Parameters
    ----------
    data : str, path or pandas.DataFrame
        An experiment source: a shipped name (``"hillstrom"``, the Hillstrom e-mail test in
        ``data/``) or the path of a source file (``.yml``, ``kind: experiment``); or the path
        of a CSV file (UTF-8 or CP949, detected as for order lines); or a DataFrame (returned
        as is).

    Returns
    -------
    pandas.DataFrame
        One row per customer. Loaded from a source, ``attrs["source_spec"]`` holds the
        source (``crmlab.data.Source.from_attrs`` gives its ``arm``, ``control`` and ``outcomes``).

    Raises
    ------
    DataError
        The file does not exist or cannot be read.
    ParameterError
        An invalid source file, or a source that is not an experiment.
    """
    if isinstance(data, pd.DataFrame):
        return data
    from crmlab import data as _data

    if is_source(data):
        src = _data.read_source(data)
        if src.kind != "experiment":
            raise ParameterError("the source is not an experiment", file=src.file, column="kind",
                                 value=src.kind, expected="kind: experiment",
                                 fix="pass an experiment source (e.g. hillstrom) or set kind: experiment")
        return _data.load_source(src)
    path = Path(data)
    if not path.exists():
        raise DataError(
            "experiment file not found", file=path,
            fix='pass "hillstrom", an experiment source file (.yml) or a CSV with one row per customer',
        )
    return _data.read_table(path)


def is_source(data: str | Path) -> bool:
    """Whether ``data`` names a source (a shipped name or a ``.yml`` file) rather than a CSV.

    Parameters
    ----------
    data : str or path

    Returns
    -------
    bool
    """
    from crmlab import config

    text = str(data).strip()
    if Path(text).suffix.lower() in (".yml", ".yaml"):
        return True
    return "/" not in text and "\\" not in text and (config.DATA_DIR / f"{text}.yml").is_file()


def require(df: pd.DataFrame, role: str, columns: Sequence[str], param: str) -> None:
    """The column check with the experiment's roles: "the outcome column is missing".

    Parameters
    ----------
    df : pandas.DataFrame
        The experiment table.
    role : str
        What the columns are for ("arm", "outcome", "covariate", "segment").
    columns : sequence of str
        Column names playing that role.
    param : str
        The argument that names them, for the fix ("outcomes", "by").
    """
    fix = f"pass {param}= with the name of the {{role}} column"
    for col in columns:
        require_columns(df, {role: col}, what=WHAT, fix=fix)


def _check_arms(labels: list, counts: np.ndarray, arm: str, control: Any,
                treatments: Sequence | None, intended: Mapping | Sequence | None) -> list:
    """The analysed arms, control first; raises for labels or arms that do not exist."""
    if control not in labels:
        raise DataError(
            "control label not found in the arm column", column=arm, value=control,
            expected=f"one of {labels}", fix="pass control= with an existing arm label",
        )
    if treatments is None:
        treatments = [lab for lab in labels if lab != control]
    else:
        treatments = list(treatments)
        for t in treatments:
            if t not in labels:
                raise DataError(
                    "arm label not found in the arm column", column=arm, value=t,
                    expected=f"one of {labels}", fix="pass arms that exist in the data",
                )
    if not treatments:
        raise DataError(
            "only the control arm is present", column=arm, value=labels,
            fix="measure needs at least one treatment arm besides the control",
        )
    if isinstance(intended, Mapping):
        for lab in intended:
            if lab not in labels:
                raise DataError(
                    "arm of the intended split has no rows", column=arm, value=lab,
                    expected=f"one of {labels}", fix="check the arm labels of the split",
                )
    order = [control] + [t for t in treatments if t != control]
    for lab in order:
        if counts[labels.index(lab)] == 0:
            raise DataError(
                "arm has no rows", column=arm, value=lab,
                fix="remove the empty arm (unused category?) or check the assignment",
            )
    return order


def arm_codes(df: pd.DataFrame, arm: str, control: Any, treatments: Sequence | None,
              intended: Mapping | Sequence | None = None) -> tuple[np.ndarray, list, np.ndarray | None]:
    """Integer codes for the arm column with the control first; checks labels and sizes.

    Parameters
    ----------
    df : pandas.DataFrame
        The experiment table.
    arm, control, treatments : as in :func:`crmlab.campaign.measure`.
    intended : mapping or sequence, optional
        The intended split; with a mapping, every arm it names must have rows.

    Returns
    -------
    codes : numpy.ndarray
        0 for the control, 1, 2, ... for the treatments, one per analysed row.
    labels : list
        The analysed arm labels in code order.
    keep : numpy.ndarray of bool or None
        The analysed rows when only some arms are analysed, else None.
    """
    require(df, "arm", [arm], "arm")
    col = df[arm]
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        labels = list(col.cat.categories)
    else:
        codes, uniques = pd.factorize(col, sort=False)
        labels = list(uniques)
    if (codes < 0).any():
        raise DataError(
            f"{int((codes < 0).sum())} rows have no arm label", column=arm,
            fix="drop or label the rows with a missing arm",
        )
    counts = np.bincount(codes, minlength=len(labels))
    order = _check_arms(labels, counts, arm, control, treatments, intended)
    # recode so that the control is 0 and treatments follow in order; others -> -1
    remap = np.full(len(labels), -1, dtype=np.int64)
    for i, lab in enumerate(order):
        remap[labels.index(lab)] = i
    new = remap[codes]
    keep = None
    if len(order) < len(labels):
        keep = new >= 0
        new = new[keep]
    return new, order, keep


def values(df: pd.DataFrame, col: str, keep: np.ndarray | None, role: str = "outcome") -> np.ndarray:
    """A numeric column as floats (only the ``keep`` rows); raises for text or missing values.

    Parameters
    ----------
    df : pandas.DataFrame
        The experiment table.
    col : str
        The column.
    keep : numpy.ndarray of bool or None
        Rows to keep (see :func:`arm_codes`).
    role : str
        What the column is, for the message.

    Returns
    -------
    numpy.ndarray
        float64 values, all finite.
    """
    s = df[col]
    if isinstance(s.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
    ):
        raise DataError(
            f"{role} is not numeric", column=col, value=str(s.dtype),
            expected="numbers (0/1 for yes/no outcomes, amounts for revenue)",
            fix="convert the column to numbers",
        )
    y = s.to_numpy(dtype=np.float64, na_value=np.nan)
    if keep is not None:
        y = y[keep]
    total = y.sum()
    if not np.isfinite(total):
        bad = int((~np.isfinite(y)).sum())
        raise DataError(
            f"{role} has {bad} missing or infinite values", column=col,
            fix="fill them (0 for no response) or drop those rows",
        )
    return y


def is_binary(y: np.ndarray) -> bool:
    """True when every value is 0 or 1 (and there is at least one).

    Parameters
    ----------
    y : numpy.ndarray of float
        Outcome values, without missing values.

    Returns
    -------
    bool
    """
    if y.size == 0:
        return False
    lo, hi = y.min(), y.max()
    if lo < 0 or hi > 1:
        return False
    return float(np.dot(y, 1.0 - y)) == 0.0
