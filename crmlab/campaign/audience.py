"""The act step: draw a campaign audience with a randomised holdout, export it, read it out.

:func:`design_audience` selects customers (by segment and/or the top share by a score),
sizes the no-contact holdout with the power calculation (:func:`~crmlab.campaign.holdout`)
unless a share is given, and draws it at random *within each segment* (seeded; every
segment's holdout is its share of the holdout rounded by largest remainders, so within one
customer of exact proportionality). Each customer gets a group, the offer and a send time at
their preferred hour of day. :meth:`AudienceDesign.write` saves the audience (CSV or Parquet)
and the design record (JSON) next to it.

:func:`readout` closes the loop: from the design and the transactions in a window after the
send date it builds one row per audience member (spend, orders, bought) and measures the
campaign overall (:func:`~crmlab.campaign.measure`, with the sample-ratio check against the
designed split) and by segment (:func:`~crmlab.campaign.segment_effects`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from crmlab.campaign.design import holdout as size_holdout
from crmlab.columns import require_columns
from crmlab.errors import DataError, ParameterError
from crmlab.results import Result, to_jsonable

__all__ = ["AudienceDesign", "ReadoutResult", "design_audience", "load_design",
           "preferred_hours", "readout"]

HOLDOUT, TREATMENT = "holdout", "treatment"


def preferred_hours(transactions: pd.DataFrame, *, customer_col: str = "customer_id",
                    date_col: str = "order_ts") -> pd.Series:
    """Each customer's preferred hour of day: the hour of most of their orders.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transactions.
    customer_col, date_col : str
        Column names.

    Returns
    -------
    pandas.Series
        Hour 0-23 per customer (ties: the earliest hour).
    """
    require_columns(transactions, {"customer": customer_col, "date": date_col})
    t = transactions[transactions[customer_col].notna()]
    counts = t.groupby([t[customer_col], t[date_col].dt.hour.rename("hour")]).size()
    counts = counts.reset_index(name="n").sort_values(["n", "hour"], ascending=[False, True],
                                                      kind="stable")
    return counts.drop_duplicates(customer_col).set_index(customer_col)["hour"].rename("hour")


def _allocate(sizes: pd.Series, total: int) -> pd.Series:
    """Integers per stratum summing to ``total``, proportional to ``sizes`` (largest remainder)."""
    exact = sizes * total / sizes.sum()
    base = np.floor(exact).astype(int)
    rest = int(total - base.sum())
    order = (exact - base).sort_values(ascending=False, kind="stable").index[:rest]
    base[order] += 1
    return base


class AudienceDesign(Result):
    """A drawn campaign audience and its design record (built by :func:`design_audience`).

    Parameters
    ----------
    audience : pandas.DataFrame
        One row per customer: ``customer_id``, ``group`` (treatment / holdout), ``segment``,
        ``offer``, ``send_time``.
    design : dict
        The record: campaign, offer, seed, sizes per segment, the power calculation, send
        date and readout window.
    """

    title = "Campaign audience with a randomised holdout"

    def __init__(self, audience: pd.DataFrame, design: dict):
        self.audience = audience
        self.design = design

    @property
    def summary(self) -> pd.DataFrame:
        return (self.audience.groupby(["segment", "group"]).size().unstack(fill_value=0)
                .assign(holdout_share=lambda t: t.get(HOLDOUT, 0) / t.sum(axis=1)))

    def to_dict(self) -> dict[str, Any]:
        """The design record.

        Returns
        -------
        dict
        """
        return to_jsonable(self.design)

    def write(self, path: str | Path) -> Path:
        """Write the audience (``.csv`` or ``.parquet``) and the design (same name, ``.json``).

        Parameters
        ----------
        path : str or pathlib.Path
            Audience file; its suffix chooses the format.

        Returns
        -------
        pathlib.Path
            The design file.
        """
        path = Path(path)
        if path.suffix == ".parquet":
            self.audience.to_parquet(path, index=False)
        elif path.suffix == ".csv":
            self.audience.to_csv(path, index=False)
        else:
            raise ParameterError("the audience file must end in .csv or .parquet", value=str(path))
        self.design["audience_file"] = path.name
        out = path.with_suffix(".json")
        out.write_text(json.dumps(to_jsonable(self.design), indent=2), encoding="utf-8")
        return out

    def to_sql(self, name: str, con, *, if_exists: str = "fail") -> None:
        """Write the audience to a database table and the design to ``<name>_design``.

        Parameters
        ----------
        name : str
            Audience table name.
        con : sqlalchemy connectable or sqlite3.Connection
            As in :meth:`pandas.DataFrame.to_sql`.
        if_exists : str
            ``"fail"``, ``"replace"`` or ``"append"`` (pandas).
        """
        self.audience.to_sql(name, con, if_exists=if_exists, index=False)
        pd.DataFrame([{"campaign": self.design.get("campaign"),
                       "design": json.dumps(to_jsonable(self.design))}]).to_sql(
            f"{name}_design", con, if_exists=if_exists, index=False)


def _draw(sizes: pd.Series, per: pd.Series, rng) -> np.ndarray:
    """Group labels for customers sorted by stratum: ``per[s]`` random holdouts in each."""
    group = np.full(int(sizes.sum()), TREATMENT, dtype=object)
    pos = 0
    for seg, n_s in sizes.items():
        group[pos + rng.permutation(n_s)[:per[seg]]] = HOLDOUT
        pos += n_s
    return group


def _select(customers, segment_col, segments, score, top):
    c = customers
    if segments is not None:
        c = c[c[segment_col].isin(list(segments))]
    if score is not None:
        require_columns(c, {"score": score}, what="customer table")
        if top is None or not 0 < top <= 1:
            raise ParameterError("with score= give top= as a share in (0, 1]", value=top)
        c = c.sort_values(score, ascending=False, kind="stable").head(int(round(top * len(c))))
    if len(c) < 4:
        raise DataError("the selection holds fewer than 4 customers",
                        value=len(c), fix="widen segments= or top=")
    return c


def _holdout_size(n, holdout_share, baseline, mde, power, alpha):
    if holdout_share is not None:
        if not 0 < holdout_share < 1:
            raise ParameterError("holdout_share must be in (0, 1)", value=holdout_share)
        return int(round(holdout_share * n)), None
    if baseline is None or mde is None:
        raise ParameterError("give holdout_share= or baseline= and mde= for the power calculation")
    plan = size_holdout(n, baseline, mde, power=power, alpha=alpha)
    return int(plan["holdout"]), plan.to_dict() | {"notes": list(plan.notes)}


def design_audience(
    customers: pd.DataFrame,
    *,
    campaign: str,
    offer: str,
    send_date: str | pd.Timestamp,
    segments: Sequence | None = None,
    score: str | None = None,
    top: float | None = None,
    holdout_share: float | None = None,
    baseline: float | None = None,
    mde: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
    hours: pd.Series | None = None,
    default_hour: int = 10,
    window_days: int = 14,
    random_state: int = 0,
    customer_col: str = "customer_id",
    segment_col: str = "segment",
) -> AudienceDesign:
    """Select an audience, draw a stratified randomised holdout and record the design.

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per customer with ``customer_col`` and ``segment_col`` (e.g. the RFM table).
    campaign, offer : str
        Names recorded with the audience.
    send_date : str or pandas.Timestamp
        Day of sending, where the readout window starts.
    segments : sequence, optional
        Only these segments.
    score : str, optional
        Score column (e.g. predicted uplift); with ``top``, the best ``top`` share.
    top : float, optional
        Share of the (segment-filtered) customers with the highest score.
    holdout_share : float, optional
        Fixed holdout share; default sized by :func:`~crmlab.campaign.holdout` from
        ``baseline``, ``mde``, ``power``, ``alpha``.
    baseline, mde, power, alpha : float
        Power calculation (conversion rate, absolute lift) when no share is given.
    hours : pandas.Series, optional
        Preferred hour per customer (:func:`preferred_hours`); others ``default_hour``.
    default_hour, window_days : int
        Send hour without a preferred one; days the readout counts by default.
    random_state : int
        Seed of the draw (same seed and customers: same audience, whatever the row order).
    customer_col, segment_col : str
        Column names.

    Returns
    -------
    AudienceDesign
    """
    require_columns(customers, {"customer": customer_col, "segment": segment_col},
                    what="customer table")
    if customers[customer_col].duplicated().any():
        raise DataError("customers appear more than once", column=customer_col)
    c = _select(customers, segment_col, segments, score, top)
    c = c.sort_values([segment_col, customer_col], kind="stable")
    n_hold, plan = _holdout_size(len(c), holdout_share, baseline, mde, power, alpha)
    sizes = c.groupby(segment_col, sort=True, observed=True).size()
    per = _allocate(sizes, n_hold)
    group = _draw(sizes, per, np.random.default_rng(random_state))
    day = pd.Timestamp(send_date).normalize()
    hour = (c[customer_col].map(hours) if hours is not None
            else pd.Series(np.nan, index=c.index)).fillna(default_hour).astype(int)
    audience = pd.DataFrame({"customer_id": c[customer_col].to_numpy(), "group": group,
                             "segment": c[segment_col].astype(str).to_numpy(), "offer": offer,
                             "send_time": day + pd.to_timedelta(hour.to_numpy(), unit="h")})
    design = {"campaign": campaign, "offer": offer, "send_date": day.date().isoformat(),
              "window_days": int(window_days), "random_state": random_state,
              "n_audience": len(c), "n_treatment": int(len(c) - n_hold), "n_holdout": n_hold,
              "holdout_share": n_hold / len(c),
              "selection": {"segments": None if segments is None else list(segments),
                            "score": score, "top": top},
              "strata": {str(s): {"n": int(sizes[s]), "holdout": int(per[s])} for s in sizes.index},
              "power_calculation": plan}
    return AudienceDesign(audience, design)


def load_design(path: str | Path) -> AudienceDesign:
    """Read a design record (JSON) and the audience file written beside it.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.json`` written by :meth:`AudienceDesign.write`.

    Returns
    -------
    AudienceDesign
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", file=path, fix="check the path")
    design = json.loads(path.read_text(encoding="utf-8"))
    aud = path.parent / design.get("audience_file", "")
    if not aud.is_file():
        raise DataError("the audience file of the design is missing", file=aud)
    audience = pd.read_parquet(aud) if aud.suffix == ".parquet" else pd.read_csv(
        aud, dtype={"customer_id": str}, parse_dates=["send_time"])
    return AudienceDesign(audience, design)


class ReadoutResult(Result):
    """The measured result of a designed campaign, overall and by segment.

    Built by :func:`readout`.

    Parameters
    ----------
    overall : MeasureResult
        Treatment vs holdout on ``bought``, ``orders`` and ``spend``.
    by_segment : SegmentEffectsResult
        The same per segment.
    customers : pandas.DataFrame
        One row per audience member with the outcomes in the window.
    design : dict
    window : tuple of pandas.Timestamp
        ``[start, end)``.
    """

    title = "Campaign readout (designed test with a randomised holdout)"

    def __init__(self, overall, by_segment, customers, design, window):
        self.overall = overall
        self.by_segment = by_segment
        self.customers = customers
        self.design = design
        self.window = window
        self.notes = (f"Campaign {design.get('campaign')}: orders from {window[0].date()} to "
                      f"{(window[1] - pd.Timedelta(days=1)).date()} of "
                      f"{len(customers):,} audience members.",) + tuple(overall.notes)

    @property
    def summary(self) -> pd.DataFrame:
        return self.overall.summary

    def to_dict(self) -> dict[str, Any]:
        """The overall read-out's flat numbers plus ``campaign`` and the window.

        Returns
        -------
        dict
        """
        out = self.overall.to_dict()
        out.update(campaign=self.design.get("campaign"), window_start=self.window[0],
                   window_end=self.window[1])
        return to_jsonable(out)


def _window(design, window):
    start = pd.Timestamp(design["send_date"])
    if window is None:
        window = int(design.get("window_days", 14))
    if isinstance(window, (int, np.integer)):
        return start, start + pd.Timedelta(days=int(window))
    lo, hi = (pd.Timestamp(w) for w in window)
    if not hi > lo:
        raise ParameterError("the window must end after it starts", value=(lo, hi))
    return lo, hi


def readout(design, transactions: pd.DataFrame, window=None, *, customer_col: str = "customer_id",
            date_col: str = "order_ts", amount_col: str = "amount", alpha: float = 0.05,
            correction: str | None = "holm") -> ReadoutResult:
    """Measure a designed campaign from the transactions: overall and by segment.

    Parameters
    ----------
    design : AudienceDesign, str or pathlib.Path
        The design (or its ``.json`` file, see :func:`load_design`).
    transactions : pandas.DataFrame
        Canonical transactions.
    window : int, tuple or None
        Days from the send date, ``(start, end)`` (end excluded), or None for the design's
        ``window_days``.
    customer_col, date_col, amount_col : str
        Transaction columns.
    alpha : float
        Significance level.
    correction : str or None
        Multiple-testing correction (see :func:`~crmlab.campaign.measure`).

    Returns
    -------
    ReadoutResult
    """
    from crmlab.campaign.readout import measure
    from crmlab.campaign.segments import segment_effects

    d = load_design(design) if isinstance(design, (str, Path)) else design
    require_columns(transactions, {"customer": customer_col, "date": date_col,
                                   "amount": amount_col})
    lo, hi = _window(d.design, window)
    tx = transactions[(transactions[date_col] >= lo) & (transactions[date_col] < hi)]
    g = tx.groupby(tx[customer_col].astype(str))
    orders = g["order_id"].nunique() if "order_id" in tx.columns else g.size()
    aud = d.audience.copy()
    key = aud["customer_id"].astype(str)
    aud["spend"] = key.map(g[amount_col].sum()).fillna(0.0).to_numpy(float)
    aud["orders"] = key.map(orders).fillna(0).to_numpy(float)
    aud["bought"] = (aud["orders"] > 0).astype(np.int8)
    share = d.design["holdout_share"]
    outcomes = ["bought", "orders", "spend"]
    overall = measure(aud, arm="group", outcomes=outcomes, control=HOLDOUT,
                      intended_split={HOLDOUT: share, TREATMENT: 1 - share},
                      correction=correction, alpha=alpha)
    by_seg = segment_effects(aud, "segment", arm="group", outcome=outcomes, control=HOLDOUT,
                             alpha=alpha, correction=correction)
    return ReadoutResult(overall, by_seg, aud, d.design, (lo, hi))
