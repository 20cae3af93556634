"""Customer summaries the purchase models read: frequency, recency, T and monetary value.

:func:`summary` turns a transaction log into one row per customer; :func:`calibration_holdout`
splits it into a calibration summary and holdout counts; :func:`aggregate` collapses
identical rows so the fitters work on distinct histories with weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab import dates
from crmlab.columns import require_columns
from crmlab.errors import DataError, ParameterError
from crmlab.spark.session import is_spark_frame

__all__ = ["UNITS", "summary", "calibration_holdout", "calibration_cutoff", "aggregate"]

#: Time units for frequency/recency/T: days, weeks (Monday to Sunday, as pandas' "W"), months.
UNITS = ("D", "W", "M")
#: Length of a calendar month in each unit (used to turn a horizon in months into model time).
_PER_MONTH = {"D": 365.25 / 12, "W": 365.25 / 12 / 7, "M": 1.0}
_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months"}


def _check_unit(unit: str) -> str:
    u = str(unit).upper()[:1] if isinstance(unit, str) else unit
    if u not in UNITS:
        raise ParameterError(
            "unknown time unit", value=unit, expected="'D' (days), 'W' (weeks) or 'M' (months)",
            fix="pass unit='W' for weekly purchase data",
        )
    return u


def _spark_twin(name: str):
    """The function of :mod:`crmlab.spark.holdout` that takes a Spark DataFrame for ``name``."""
    from crmlab.spark import holdout

    return getattr(holdout, name)


#: Nanoseconds in a day.
_DAY_NS = 86_400 * 10**9


def _periods(ts: Any, unit: str) -> np.ndarray:
    """Integer period number of each timestamp (days, Monday-weeks or months since 1970)."""
    values = np.asarray(ts, dtype="datetime64[ns]") if not isinstance(ts, np.ndarray) else ts
    if unit == "M":
        return values.astype("datetime64[M]").astype(np.int64)
    if values.dtype == np.dtype("datetime64[ns]") and len(values) and not np.isnat(values.min()):
        # one integer division of the nanoseconds (numpy's datetime cast is a slower loop);
        # 1970-01-01 is a Thursday, the Monday before it is day -3
        shifted = np.add(values.view(np.int64), 3 * _DAY_NS if unit == "W" else 0)
        return np.floor_divide(shifted, 7 * _DAY_NS if unit == "W" else _DAY_NS, out=shifted)
    days = values.astype("datetime64[D]").view(np.int64)
    if unit == "W":
        # 1970-01-01 is a Thursday; the Monday before it is day -3.
        days += 3
        return np.floor_divide(days, 7, out=days)
    return days


def _timestamps(transactions: pd.DataFrame, date_col: str) -> np.ndarray:
    col = transactions[date_col]
    if not pd.api.types.is_datetime64_any_dtype(col):
        try:
            col = pd.to_datetime(col)
        except (ValueError, TypeError) as exc:
            raise DataError("dates cannot be parsed", column=date_col, value=str(col.iloc[0]),
                            expected="dates like 2011-03-01", fix="convert the column with pd.to_datetime") from exc
    if getattr(col.dt, "tz", None) is not None:
        col = col.dt.tz_localize(None)
    values = col.to_numpy(dtype="datetime64[ns]")
    if len(values) and np.isnat(values.min()):  # NaT propagates through min: one pass, no mask
        row = int(np.flatnonzero(np.isnat(values))[0])
        raise DataError("missing purchase date", column=date_col, row=transactions.index[row],
                        fix="drop rows without a date before building the summary")
    return values


#: Order lines per block of the passes over the lines: their temporaries stay in the CPU cache.
_BLOCK = 1 << 16


def _blocks(n: int):
    return ((lo, min(lo + _BLOCK, n)) for lo in range(0, n, _BLOCK))


def _first_last(codes: np.ndarray, ts: np.ndarray, unit: str, pmin: int, first: np.ndarray,
                last: np.ndarray) -> None:
    """Each customer's first and last period (counted from ``pmin``), into ``first`` and ``last``
    (filled beforehand); the periods are worked out block by block, never for all lines at once."""
    for lo, hi in _blocks(len(codes)):
        c, period = codes[lo:hi], _periods(ts[lo:hi], unit)
        period -= pmin
        np.minimum.at(first, c, period)
        np.maximum.at(last, c, period)


def _spend_and_keys(codes: np.ndarray, ts: np.ndarray, unit: str, pmin: int, span: int,
                    amount: np.ndarray | None, first: np.ndarray, spend: np.ndarray | None) -> None:
    """Per customer, the spend of the lines outside the customer's first period (into
    ``spend``), and each line's (customer, period) key ``code * span + period`` written over
    its code, block by block.

    The spend is summed straight in line order (not as total minus first-period spend, which
    would cancel digits) into cache-sized buffers: no full-length temporary.
    """
    if spend is not None:
        spend[:] = 0.0
    for lo, hi in _blocks(len(codes)):
        c, period = codes[lo:hi], _periods(ts[lo:hi], unit)
        period -= pmin
        if spend is not None:
            w = amount[lo:hi].copy()
            w[period == first[c]] = 0.0
            np.add.at(spend, c, w)
        c *= span  # the block's codes become its keys
        c += period


def _distinct_periods(key: np.ndarray, span: int, count: np.ndarray) -> None:
    """Take from ``count`` (lines per customer) the lines whose sorted (customer, period) key
    repeats the one before: what is left is each customer's distinct periods."""
    for lo, hi in _blocks(len(key) - 1):
        later = key[lo + 1:hi + 1]
        repeats = later[later == key[lo:hi]]
        np.subtract.at(count, repeats // span, 1)


def _summarise(codes: np.ndarray, n_customers: int, ts: np.ndarray, unit: str, amount: np.ndarray | None,
               end_period: int) -> np.ndarray:
    """Vectorised core: per-customer frequency, recency, T (and monetary value).

    ``codes`` (customer codes 0 .. n_customers - 1, every one present) are consumed: they are
    overwritten in place. Counting passes (``np.minimum.at``, ``np.maximum.at``,
    ``np.add.at``) give each customer's lines, first and last period and repeat spend without
    ordering the lines. Only the distinct (customer, period) count needs the packed keys
    sorted: an in-place, values-only sort of integer keys (no permutation, no gathers;
    vectorised, about 0.01 s per million keys at 14 million) costs less than one hashing pass
    over them (about 0.2 s per million). On millions of lines fresh memory (page faults, each
    zeroing a page) costs more than the arithmetic, so the periods of the lines are worked out
    block by block whenever needed instead of held, the keys are packed into the codes'
    memory (32-bit when customers x periods allow: half the memory, a faster sort), and the
    only new arrays are the result, one Fortran-ordered block that becomes the frame without
    a copy.

    Returns
    -------
    numpy.ndarray
        ``(n_customers, 3 or 4)`` floats in customer-code order: frequency, recency, T and,
        with ``amount``, monetary value.
    """
    pmin = int(_periods(ts.min(keepdims=True), unit)[0])
    span = int(end_period - pmin + 1)
    if codes.dtype != np.int64 and n_customers * span >= 2**31:
        codes = codes.astype(np.int64)  # the packed keys need 64 bits
    out = np.empty((n_customers, 3 if amount is None else 4), order="F")
    # the counts and periods are whole numbers, worked out in the result's own memory viewed
    # as int64 (same width as its float64 columns) and turned into floats at the end
    count, last, first = (out[:, j].view(np.int64) for j in range(3))
    count.fill(0)
    np.add.at(count, codes, 1)
    first.fill(span)
    last.fill(0)
    _first_last(codes, ts, unit, pmin, first, last)
    _spend_and_keys(codes, ts, unit, pmin, span, amount, first, None if amount is None else out[:, 3])
    key = codes
    key.sort()
    _distinct_periods(key, span, count)
    count -= 1  # frequency: periods with a purchase after the first
    last -= first  # recency
    np.subtract(span - 1, first, out=first)  # T
    for lo, hi in _blocks(n_customers):  # into floats in place, through cache-sized temporaries
        for j, whole in enumerate((count, last, first)):
            out[lo:hi, j] = whole[lo:hi]
    if amount is not None:  # mean spend per repeat period; 0 (no spend) without repeats
        frequency = out[:, 0]
        np.divide(out[:, 3], frequency, out=out[:, 3], where=frequency > 0)
    return out


def _customer_codes(ids: pd.Series) -> tuple[np.ndarray, Any]:
    """Customer codes 0 .. k-1 in order of first appearance (32-bit integers below 2**31 lines)
    and the k distinct ids.

    Whole-number ids spanning a range of at most a few times the line count (the usual
    numbered customers) are addressed directly: each id's first line by one counting pass,
    the distinct ids are the lines that are their id's first, codes by one lookup. The same
    codes and ids as ``pd.factorize`` without its hash table (on 3.5 M lines about 0.3 s and
    a hundred megabytes of fresh memory, the dearest step of the summary). Other ids are
    factorised.
    """
    values = ids.to_numpy() if isinstance(ids.dtype, np.dtype) and ids.dtype.kind == "i" else None
    n = 0 if values is None else len(values)
    lo, hi = (int(values.min()), int(values.max())) if n else (0, 0)
    bound = max(4 * n, 1 << 16)
    if not n or hi - lo >= bound:
        codes, uniques = pd.factorize(ids, sort=False)
        return codes, uniques
    # the ids themselves index the range when they start near 0, else their offsets from the least
    direct = 0 <= lo and hi < bound
    key = values.astype(np.int64, copy=False) if direct else np.subtract(values, lo, dtype=np.int64)
    seen = np.zeros(hi + 1 if direct else hi - lo + 1, dtype=bool)
    seen[key] = True
    small = np.int32 if n < 2**31 else np.int64  # codes of 32 bits when they fit: half the memory
    starts = np.empty(n, dtype=bool)  # the lines where a run of one id starts
    starts[0] = True
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    if np.count_nonzero(starts) == np.count_nonzero(seen):  # one run of lines per id (sorted by id)
        codes = np.empty(n, dtype=small)
        codes[0] = 0
        codes[1:] = starts[1:]  # 0/1, then a running sum
        np.cumsum(codes, out=codes)
        return codes, pd.Index(values[np.flatnonzero(starts)], copy=False)  # a fresh array: no copy
    del starts
    line = np.arange(n, dtype=small)
    first = np.full(len(seen), n, dtype=small)  # each id's first line
    np.minimum.at(first, key, line)
    starts = np.flatnonzero(np.take(first, key) == line)  # the lines that are their id's first
    number = first  # reused: each id's code
    number[key[starts]] = np.arange(len(starts))
    codes = np.take(number, key, out=line)
    return codes, pd.Index(values[starts], copy=False)


def _end_timestamp(ts: np.ndarray, keep: np.ndarray, observation_end: Any, customer_col: str) -> np.datetime64:
    """The inclusive observation end: the one given, or the last purchase of a known customer."""
    if observation_end is not None:
        return np.datetime64(pd.Timestamp(observation_end).tz_localize(None), "ns")
    if not keep.any():
        raise DataError("no transactions with a customer id", column=customer_col,
                        fix="check the customer id column or drop anonymous rows with data.clean")
    return ts.max() if keep.all() else ts[keep].max()


def _amounts(transactions: pd.DataFrame, amount_col: str, keep: np.ndarray | None) -> np.ndarray:
    col = transactions[amount_col]
    if not (isinstance(col.dtype, np.dtype) and col.dtype.kind in "fiu"):  # numbers are read as they are
        col = pd.to_numeric(col, errors="coerce")
    amount = col.to_numpy(dtype=float)
    if keep is not None:
        amount = amount[keep]
    if not np.isfinite(amount.sum()) and np.isnan(amount).any():  # the sum is NaN when any is
        raise DataError("missing or non-numeric amount", column=amount_col,
                        fix="fill or drop rows without an amount")
    return amount


def _report_date(transactions: pd.DataFrame, as_of: Any, observation_end: Any,
                 date_col: str) -> tuple[pd.DataFrame, Any]:
    """Apply a report date through :mod:`crmlab.dates`: the lines strictly before ``as_of``
    and the inclusive observation end the summaries use (``as_of - 1 day``)."""
    if dates.parse_as_of(as_of) is None:
        return transactions, observation_end
    if observation_end is not None:
        raise ParameterError("pass either as_of or observation_end, not both", value=str(as_of),
                             fix="as_of=YYYY-MM-DD means observation_end = the day before it")
    col = transactions[date_col]
    if not pd.api.types.is_datetime64_any_dtype(col) or getattr(col.dt, "tz", None) is not None:
        transactions = transactions.assign(**{date_col: _timestamps(transactions, date_col)})
    before, as_of_ts = dates.cutoff(transactions, as_of, date_col)
    return before, dates.observation_end(as_of_ts)


def summary(
    transactions: pd.DataFrame,
    *,
    unit: str = "D",
    observation_end: Any = None,
    as_of: Any = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str | None = "amount",
) -> pd.DataFrame:
    """Frequency, recency, T and monetary value per customer, as the models expect them.

    Time is cut into periods of one ``unit`` (days, Monday-to-Sunday weeks, or calendar
    months); several purchases in one period count as one. For each customer:

    - ``frequency``: number of periods with a purchase after the first one (repeat purchases);
    - ``recency``: periods from the first to the last purchase;
    - ``T``: periods from the first purchase to ``observation_end`` (default: last date);
    - ``monetary_value``: mean spend per repeat period (0 without repeat purchases).

    This is ``lifetimes.utils.summary_data_from_transaction_data`` (periods after the one of
    ``observation_end`` dropped), computed on integer periods in counting passes (about 0.1 s
    per million order lines), correct on pandas 2 and 3. Rows follow the customers' first
    appearance in ``transactions``; ``attrs["unit"]`` records the unit.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per order line with customer, date and (optionally) amount columns.
    unit : {"D", "W", "M"}
        Time unit of frequency, recency and T.
    observation_end : date-like, optional
        Inclusive end of the observation period (default: the last purchase date).
    as_of : str or Timestamp, optional
        Report date (:mod:`crmlab.dates`): order lines strictly before it count and the
        observation end is ``dates.observation_end(as_of)``, the day before. Not together
        with ``observation_end``; None or "" means no report date.
    customer_col, date_col : str
        Customer id and purchase date columns.
    amount_col : str or None
        Spend column; None leaves out ``monetary_value``.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id with float columns frequency, recency, T (and
        monetary_value when ``amount_col`` is given).
    """
    if is_spark_frame(transactions):  # computed in Spark, left there (crmlab.spark.ltv.compress for fits)
        from crmlab.spark.ltv import summary as spark_summary

        return spark_summary(transactions, unit=unit, observation_end=observation_end, as_of=as_of,
                             customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    unit = _check_unit(unit)
    require_columns(transactions, {"customer": customer_col, "date": date_col, "amount": amount_col})
    transactions, observation_end = _report_date(transactions, as_of, observation_end, date_col)
    ts = _timestamps(transactions, date_col)
    ids = transactions[customer_col]
    keep = ids.notna().to_numpy()
    end_ts = _end_timestamp(ts, keep, observation_end, customer_col)
    end_period = int(_periods(np.array([end_ts]), unit)[0])
    # every line counts when all have a customer and the end is the last line (no comparison)
    every = observation_end is None and bool(keep.all())
    if not every:
        keep = keep & (_periods(ts, unit) <= end_period)
        if not keep.any():
            raise DataError("no transactions on or before the observation end", column=date_col,
                            value=str(pd.Timestamp(end_ts).date()), fix="choose a later observation_end")
        every = bool(keep.all())  # no copies of full-length columns when every line counts
    codes, uniques = _customer_codes(ids if every else ids[keep])
    amount = None if amount_col is None else _amounts(transactions, amount_col, None if every else keep)
    values = _summarise(codes, len(uniques), ts if every else ts[keep], unit, amount, end_period)
    columns = ["frequency", "recency", "T"] + ([] if amount is None else ["monetary_value"])
    # customers in order of first appearance; the block becomes the frame as it is
    df = pd.DataFrame(values, index=pd.Index(uniques, name=customer_col), columns=columns, copy=False)
    df.attrs["unit"] = unit
    df.attrs["observation_end"] = str(pd.Timestamp(end_ts))
    return df


def _holdout_counts(hold: pd.DataFrame, hold_ts: np.ndarray, cal_index: pd.Index, unit: str,
                    customer_col: str, amount_col: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Per calibration customer: purchase periods in the holdout and mean spend per period."""
    freq = np.zeros(len(cal_index))
    money = np.zeros(len(cal_index))
    if len(hold):
        codes = cal_index.get_indexer(hold[customer_col])
        per = _periods(hold_ts, unit)
        amount = (pd.to_numeric(hold[amount_col], errors="coerce").to_numpy(dtype=float)
                  if amount_col is not None else np.zeros(len(hold)))
        sums = pd.Series(amount).groupby([codes, per]).sum()
        c = sums.index.get_level_values(0).to_numpy()
        counts = np.bincount(c, minlength=len(cal_index))
        totals = np.bincount(c, weights=sums.to_numpy(), minlength=len(cal_index))
        freq[:] = counts.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            money[:] = np.where(counts > 0, totals / np.maximum(counts, 1), 0.0)
    return freq, money


def calibration_holdout(
    transactions: pd.DataFrame,
    calibration_end: Any,
    *,
    observation_end: Any = None,
    unit: str = "D",
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str | None = "amount",
) -> pd.DataFrame:
    """Split transactions into a calibration summary and holdout counts per customer.

    Customers are those with a purchase on or before ``calibration_end``; their summary is
    :func:`summary` with ``observation_end=calibration_end`` (columns ``frequency_cal``,
    ``recency_cal``, ``T_cal``, ``monetary_value_cal``). The holdout counts the periods with a
    purchase after ``calibration_end`` up to ``observation_end`` (``frequency_holdout``),
    their mean spend (``monetary_value_holdout``) and the holdout length in units
    (``duration_holdout``). Same definitions as
    ``lifetimes.utils.calibration_and_holdout_data``, which fails on pandas 3
    ("No objects to concatenate"); this one works on pandas 2 and 3. One deliberate
    difference: ``monetary_value_holdout`` is the mean spend per purchase *period*, like
    ``monetary_value_cal`` and like the Gamma-Gamma model's unit of spend (lifetimes
    averages raw transaction lines there).

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per order line.
    calibration_end : date-like
        Inclusive end of the calibration period.
    observation_end : date-like, optional
        Inclusive end of the holdout (default: the last purchase date).
    unit : {"D", "W", "M"}
        Time unit.
    customer_col, date_col : str
        Customer id and purchase date columns.
    amount_col : str or None
        Spend column; None leaves out the monetary columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id: the ``_cal`` summary columns, ``frequency_holdout``,
        ``monetary_value_holdout`` and ``duration_holdout``.
    """
    if is_spark_frame(transactions):  # one row per calibration customer aggregated by Spark
        return _spark_twin("calibration_holdout")(**locals())
    unit = _check_unit(unit)
    require_columns(transactions, {"customer": customer_col, "date": date_col, "amount": amount_col})
    ts = _timestamps(transactions, date_col)
    cal_end = pd.Timestamp(calibration_end)
    obs_end = pd.Timestamp(observation_end) if observation_end is not None else pd.Timestamp(ts.max())
    if obs_end <= cal_end:
        raise ParameterError(
            "calibration_end must be before the observation end", value=str(cal_end.date()),
            expected=f"a date before {obs_end.date()}", fix="choose an earlier calibration_end",
        )
    cal_mask = ts <= np.datetime64(cal_end, "ns")
    if not cal_mask.any():
        raise ParameterError("no transactions before calibration_end", value=str(cal_end.date()),
                             fix="choose a later calibration_end")
    cal = summary(transactions.loc[cal_mask], unit=unit, observation_end=cal_end,
                  customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    cal.columns = [f"{c}_cal" for c in cal.columns]
    hold_mask = (~cal_mask) & (ts <= np.datetime64(obs_end, "ns"))
    hold = transactions.loc[hold_mask]
    hold_ids = hold[customer_col]
    in_cal = hold_ids.isin(cal.index).to_numpy() & hold_ids.notna().to_numpy()
    freq, money = _holdout_counts(hold.loc[in_cal], ts[hold_mask][in_cal], cal.index, unit,
                                  customer_col, amount_col)
    cal["frequency_holdout"] = freq
    if amount_col is not None:
        cal["monetary_value_holdout"] = money
    end_p = int(_periods(np.array([np.datetime64(obs_end, "ns")]), unit)[0])
    cal_p = int(_periods(np.array([np.datetime64(cal_end, "ns")]), unit)[0])
    cal["duration_holdout"] = float(end_p - cal_p)
    cal.attrs["unit"] = unit
    cal.attrs["calibration_end"] = str(cal_end)
    cal.attrs["observation_end"] = str(obs_end)
    return cal


def calibration_cutoff(
    transactions: pd.DataFrame,
    cutoff: Any = "",
    *,
    share: float = 0.7,
    holdout_days: int = 0,
    as_of: Any = None,
    date_col: str = "order_ts",
) -> pd.Timestamp:
    """The calibration end of a holdout check, relative to the data unless given.

    Without ``cutoff`` the calibration period is the first ``share`` of the days between the
    first order and the observation end (the last day before ``as_of``,
    :func:`crmlab.dates.observation_end`), or, with ``holdout_days``, everything but the last
    ``holdout_days`` days. No date of any particular data set is assumed.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Order lines with a datetime ``date_col``.
    cutoff : str or date-like
        An explicit calibration end (``"YYYY-MM-DD"``); empty or None for the relative default.
    share : float
        Share of the observed days used for calibration, in (0, 1).
    holdout_days : int
        When positive, the holdout length in days (overrides ``share``).
    as_of : str or Timestamp, optional
        Report date (:func:`crmlab.dates.cutoff`).
    date_col : str
        Order date column.

    Returns
    -------
    pandas.Timestamp
        Midnight of the calibration end, strictly after the first order day and before the
        observation end.

    Raises
    ------
    ParameterError
        For a share outside (0, 1), or a cut-off (given or derived) outside the data.
    """
    if is_spark_frame(transactions):  # the first and last order from Spark, then this rule
        return _spark_twin("calibration_cutoff")(**locals())
    tx, as_of_ts = dates.cutoff(transactions, as_of, date_col)
    first = tx[date_col].min().normalize()
    end = dates.observation_end(as_of_ts)
    if dates.parse_as_of(cutoff) is not None:
        out = dates.parse_as_of(cutoff)
    elif holdout_days and holdout_days > 0:
        out = end - pd.Timedelta(days=int(holdout_days))
    else:
        if not 0 < share < 1:
            raise ParameterError("the calibration share must lie between 0 and 1", value=share, fix="e.g. 0.7")
        out = first + pd.Timedelta(days=round(share * (end - first).days))
    if not first < out < end:
        raise ParameterError("the calibration cut-off must lie inside the data", value=str(out.date()),
                             expected=f"a date after {first.date()} and before {end.date()}",
                             fix="pass cutoff= or a shorter holdout_days=")
    return out


def _column_codes(c: np.ndarray) -> tuple[np.ndarray, int] | None:
    """One-to-one integer codes of a column's values and their range: the values themselves
    when they are whole numbers from 0 to 2**31 (counts and periods, no hashing), else
    ``pd.factorize`` codes; None when every value is distinct (a sort, no hashing, tells)."""
    with np.errstate(invalid="ignore"):  # NaN and inf do not survive the round trip
        whole = c.astype(np.int64)
    if len(c) and whole.min() >= 0 and whole.max() < 2**31 and np.array_equal(whole, c):
        return whole, int(whole.max()) + 1
    ordered = np.sort(c)
    if len(c) > 1 and not np.isnan(ordered[-1]) and np.all(ordered[1:] != ordered[:-1]):
        return None
    codes, uniq = pd.factorize(c, sort=False, use_na_sentinel=False)  # NaN is a value too
    return codes.astype(np.int64), max(1, len(uniq))


def _first_appearance(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct keys (integers in [0, size)) numbered in order of first appearance: each key's
    number, the count of each distinct key and its first position. A key range up to a few
    times the length is addressed directly (counting, no hashing), a wider one is hashed."""
    n = len(keys)
    if size > max(4 * n, 1 << 16):
        inverse, _ = pd.factorize(keys, sort=False)
        inverse = inverse.astype(np.int64)
        counts = np.bincount(inverse)
        first = np.full(len(counts), n, dtype=np.int64)
        np.minimum.at(first, inverse, np.arange(n))
        return inverse, counts, first
    counts = np.bincount(keys, minlength=size)
    present = np.flatnonzero(counts)
    number = np.zeros(size, dtype=np.int64)
    number[present] = np.arange(len(present))
    inverse = number[keys]  # numbered in key order first
    first = np.full(len(present), n, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(n))
    order = np.argsort(first)
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    return renumber[inverse], counts[present[order]], first[order]


def _distinct_counts(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray] | None:
    """Distinct rows of whole-number columns (0 to 2**31) and the rows behind each, in the
    order of their packed key: one counting pass, no numbering of the input rows (what a fit
    without weights needs). None when a column is not such whole numbers or the packed key
    spans more than a few times the row count (then :func:`aggregate`)."""
    n = len(columns[0])
    combined, radices, size = None, [], 1
    for c in columns:
        with np.errstate(invalid="ignore"):
            whole = c.astype(np.int64)
        if not n or whole.min() < 0 or whole.max() >= 2**31 or not np.array_equal(whole, c):
            return None
        radix = int(whole.max()) + 1
        size *= radix
        if size > max(4 * n, 1 << 16):
            return None
        if combined is None:
            combined = whole
        else:
            combined *= radix
            combined += whole
        radices.append(radix)
    counts = np.bincount(combined)
    rest = np.flatnonzero(counts)
    weights = counts[rest].astype(float)
    rows = []
    for radix in reversed(radices):  # unpack the distinct keys, last column first
        rest, value = np.divmod(rest, radix)
        rows.append(value.astype(float))
    return rows[::-1], weights


def aggregate(*columns: Any) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of the given columns, their counts and each input row's distinct row.

    Each column becomes integer codes (whole numbers such as counts and periods as they
    are, other values through ``pd.factorize``) and the codes are packed into one integer
    key. Distinct keys are numbered in order of first appearance: by counting when the keys
    span a range of a few times the row count (frequency, recency and T do), by one
    ``pd.factorize`` otherwise. A column whose values are all distinct (spend) makes every
    row distinct, and is found by a sort. A million rows take tens of milliseconds.

    Parameters
    ----------
    *columns : array-like
        Columns of equal length (converted to float).

    Returns
    -------
    (list of numpy.ndarray, numpy.ndarray, numpy.ndarray)
        ``(unique_columns, weights, inverse)`` so that ``unique_columns[j][inverse]`` gives
        back column j and ``weights`` counts the rows behind each distinct row.
    """
    cols = [np.asarray(c, dtype=float) for c in columns]
    n = len(cols[0])
    combined, size = None, 1
    for c in cols:
        coded = _column_codes(c)
        if coded is None:  # every row is distinct
            return [c.copy() for c in cols], np.ones(n), np.arange(n)
        codes, radix = coded
        if combined is None:  # the first column's codes (a new array) start the key
            combined, size = codes, radix
            continue
        if size * radix >= 2**62:  # the packed key would overflow: renumber what is packed so far
            combined, uniq = pd.factorize(combined, sort=False)
            combined, size = combined.astype(np.int64), len(uniq)
        combined *= radix
        combined += codes
        size *= radix
    # distinct packed keys in order of first appearance: the same rows and numbering as
    # renumbering after every column (the packing is one-to-one)
    inverse, counts, first = _first_appearance(combined, size)
    return [c[first] for c in cols], counts.astype(float), inverse
