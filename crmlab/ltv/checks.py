"""Checks a careful analyst makes before trusting a purchase or spend model.

- :func:`check_spend_independence`: the Gamma-Gamma model assumes spend per order is
  independent of purchase frequency (Fader, Hardie & Lee 2005, "RFM and CLV", sec. 4); warn
  when their correlation among repeat buyers exceeds a threshold.
- :func:`check_calibration_length`: a calibration period of few time units (a few weeks of
  data in weeks, a few months in months) cannot separate purchase rate from drop-out.
- :func:`check_identified`: standard errors that are missing or larger than the estimate
  mean the data do not pin the parameter down.

:func:`model_checks` runs all three and returns a table; each check also warns with an
:class:`AssumptionWarning` that says what to do.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from crmlab.ltv.base import _summary_suffix

__all__ = ["AssumptionWarning", "check_spend_independence", "check_calibration_length", "check_identified",
           "model_checks", "SPEND_CORRELATION_MAX", "MIN_PERIODS"]

#: Largest |correlation| between frequency and mean spend the Gamma-Gamma model tolerates.
SPEND_CORRELATION_MAX = 0.3
#: Fewest time units a calibration period should span, per unit.
MIN_PERIODS = {"D": 90, "W": 26, "M": 12}


class AssumptionWarning(UserWarning):
    """A model assumption the data contradict, or a fit the data cannot support."""


def _warn(ok: bool, message: str, warn: bool) -> None:
    if not ok and warn:
        warnings.warn(message, AssumptionWarning, stacklevel=3)


def check_spend_independence(data: pd.DataFrame, *, threshold: float = SPEND_CORRELATION_MAX,
                             warn: bool = True) -> dict[str, Any]:
    """Correlation of purchase frequency and mean spend among repeat buyers (Gamma-Gamma assumption).

    Parameters
    ----------
    data : pandas.DataFrame
        Summary with frequency and monetary_value (or their ``_cal`` columns).
    threshold : float
        Largest tolerated absolute correlation.
    warn : bool
        Issue an :class:`AssumptionWarning` when the check fails.

    Returns
    -------
    dict
        check, value (the correlation), threshold, ok, message.
    """
    sfx = _summary_suffix(data)
    x = data["frequency" + sfx].to_numpy(dtype=float)
    m = data["monetary_value" + sfx].to_numpy(dtype=float)
    keep = (x > 0) & np.isfinite(m) & (m > 0)
    r = float(np.corrcoef(x[keep], m[keep])[0, 1]) if keep.sum() > 2 else float("nan")
    ok = not (np.isfinite(r) and abs(r) > threshold)
    msg = (f"spend per order and purchase frequency correlate at {r:.2f} among {int(keep.sum()):,} repeat buyers"
           + ("" if ok else f" (beyond {threshold:.2f}): the Gamma-Gamma model assumes they are independent, so its "
                            "spend for frequent buyers is biased; segment customers first or model spend "
                            "with frequency as a covariate"))
    _warn(ok, msg, warn)
    return {"check": "spend independent of frequency", "value": r, "threshold": threshold, "ok": ok, "message": msg}


def check_calibration_length(data: pd.DataFrame, unit: str | None = None, *, warn: bool = True) -> dict[str, Any]:
    """Whether the calibration period spans enough time units to separate rate from drop-out.

    Parameters
    ----------
    data : pandas.DataFrame
        Summary (``T`` or ``T_cal``); the longest T is the calibration length.
    unit : {"D", "W", "M"}, optional
        Default ``data.attrs["unit"]`` (else "D").
    warn : bool
        Issue an :class:`AssumptionWarning` when the check fails.

    Returns
    -------
    dict
        check, value (units spanned), threshold (:data:`MIN_PERIODS`), ok, message.
    """
    unit = unit or data.attrs.get("unit") or "D"
    span = float(data["T" + _summary_suffix(data)].max()) + 1
    need = MIN_PERIODS[unit]
    ok = span >= need
    name = {"D": "days", "W": "weeks", "M": "months"}[unit]
    msg = (f"the calibration period spans {span:,.0f} {name}"
           + ("" if ok else f", fewer than the {need} a purchase model needs in {name}: use a finer unit or a "
                            "longer calibration period"))
    _warn(ok, msg, warn)
    return {"check": "calibration length", "value": span, "threshold": float(need), "ok": ok, "message": msg}


def check_identified(model: Any, *, max_relative_se: float = 1.0, warn: bool = True) -> dict[str, Any]:
    """Whether every parameter has a finite standard error no larger than ``max_relative_se`` x its estimate.

    Parameters
    ----------
    model : fitted PurchaseModel or GammaGamma (or anything with ``params_`` and ``summary``)
    max_relative_se : float
        Largest tolerated SE / estimate.
    warn : bool
        Issue an :class:`AssumptionWarning` when the check fails.

    Returns
    -------
    dict
        check, value (worst SE / estimate), threshold, ok, message.
    """
    s = model.summary
    rel = (s["se"] / s["estimate"].abs()).replace([np.inf, -np.inf], np.nan)
    bad = [str(k) for k, v in rel.items() if not np.isfinite(v) or v > max_relative_se]
    worst = float(rel.max()) if rel.notna().all() else float("nan")
    ok = not bad
    msg = (f"{model._label}: every parameter is identified (largest SE / estimate {worst:.2f})" if ok else
           f"{model._label}: parameters not identified by the data ({', '.join(bad)}: standard error missing or "
           f"larger than {max_relative_se:g} x the estimate); read its predictions as a ranking, not a forecast")
    _warn(ok, msg, warn)
    return {"check": f"{model._label} identified", "value": worst, "threshold": max_relative_se, "ok": ok,
            "message": msg}


def model_checks(data: pd.DataFrame, purchase_model: Any = None, spend_model: Any = None, *,
                 warn: bool = False) -> pd.DataFrame:
    """All checks that apply, as a table.

    Parameters
    ----------
    data : pandas.DataFrame
        The summary the models were fitted on.
    purchase_model, spend_model : fitted models, optional
    warn : bool
        Also issue the warnings.

    Returns
    -------
    pandas.DataFrame
        One row per check: value, threshold, ok, message.
    """
    rows = [check_calibration_length(data, warn=warn)]
    if "monetary_value" + _summary_suffix(data) in data.columns:
        rows.append(check_spend_independence(data, warn=warn))
    for m in (purchase_model, spend_model):
        if m is not None:
            rows.append(check_identified(m, warn=warn))
    return pd.DataFrame(rows).set_index("check")
