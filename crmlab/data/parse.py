"""Mapping a raw source frame onto the canonical table, refusing values that do not parse."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from crmlab.data.columnar import factorize, in_threads, remember_codes, remembered_codes
from crmlab.data.schema import CANONICAL, REQUIRED, ColumnMap
from crmlab.errors import DataError

def _bad_example(raw: pd.Series, parsed: pd.Series, offset: int) -> tuple[int, Any] | None:
    bad = parsed.isna().to_numpy() & raw.notna().to_numpy()
    if isinstance(raw.dtype, pd.StringDtype) or raw.dtype == object:
        bad &= (raw.astype("string").str.strip() != "").fillna(False).to_numpy()
    if not bad.any():
        return None
    pos = int(np.flatnonzero(bad)[0])
    return pos + offset, raw.iloc[pos]


def _refuse_unparsed(raw: pd.Series, parsed: pd.Series, offset: int, problem: str, file: str,
                     column: str, *, expected: str, fix: str) -> None:
    """Raise a DataError naming the first value that was given but could not be parsed."""
    bad = _bad_example(raw, parsed, offset)
    if bad is not None:
        raise DataError(problem, file=file, column=column, row=bad[0], value=bad[1], expected=expected, fix=fix)


def _refuse_infinite(values: pd.Series, raw: pd.Series, column: str, file: str, offset: int) -> pd.Series:
    bad = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError("value is infinite", file=file, column=column, row=pos + offset, value=str(raw.iloc[pos]),
                        expected="a finite number", fix="correct or remove that line in the export")
    return values


def _to_number(raw: pd.Series, column: str, file: str, offset: int, cmap: ColumnMap | None = None) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return _refuse_infinite(raw.astype("float64"), raw, column, file, offset)
    text = raw
    if cmap is not None and (cmap.thousands or cmap.decimal != "."):
        text = raw.astype("string").str.strip()
        if cmap.thousands:
            text = text.str.replace(cmap.thousands, "", regex=False)
        if cmap.decimal != ".":
            text = text.str.replace(cmap.decimal, ".", regex=False)
    parsed = pd.to_numeric(text, errors="coerce")
    seps = "" if cmap is None or not cmap.thousands else f" with {cmap.thousands!r} as thousands separator"
    _refuse_unparsed(
        raw, parsed, offset, "value is not a number", file, column,
        expected=f"plain numbers like 12 or 2.55{seps} (no currency signs)",
        fix="set thousands: and decimal: in the source file to match the export, or clean the column",
    )
    return _refuse_infinite(parsed.astype("float64"), raw, column, file, offset)


_MERIDIEM = r"^(.*?)\s*(오전|오후)\s*(.*)$"


def _korean_meridiem(raw: pd.Series) -> pd.Series:
    """'2010-12-01 오전 9:59:00' (Korean exports) -> '2010-12-01 9:59:00 AM'; other text unchanged."""
    if not (isinstance(raw.dtype, pd.StringDtype) or raw.dtype == object):
        return raw
    text = raw.astype("string")
    has = text.str.contains("오전|오후", regex=True, na=False)
    if not has.any():
        return raw
    moved = text[has].str.replace(
        _MERIDIEM, lambda m: f"{m.group(1)} {m.group(3)} {'AM' if m.group(2) == '오전' else 'PM'}", regex=True)
    return text.mask(has, moved)


_SLASH = r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})"


def _check_day_order(raw: pd.Series, column: str, file: str, offset: int, dayfirst: bool) -> None:
    """Refuse slash dates whose day order is ambiguous or contradicts ``dayfirst``."""
    text = raw.dropna().astype("string").head(100_000)
    parts = text.str.extract(_SLASH)
    parts = parts.dropna()
    if parts.empty:
        return
    first, second = parts[0].astype(int), parts[1].astype(int)
    swapped = (first > 12) & (first <= 31) & (second <= 12)
    if not dayfirst and swapped.any():
        pos = int(swapped.to_numpy().nonzero()[0][0])
        raise DataError("dates look day-first (a first number above 12) but are read month-first", file=file,
                        column=column, row=int(parts.index[pos]) + offset, value=str(text.loc[parts.index[pos]]),
                        expected="month/day/year dates", fix="set dayfirst: true in the source file")
    swapped = (second > 12) & (second <= 31) & (first <= 12)
    if dayfirst and swapped.any():
        pos = int(swapped.to_numpy().nonzero()[0][0])
        raise DataError("dates look month-first (a second number above 12) but dayfirst is set", file=file,
                        column=column, row=int(parts.index[pos]) + offset, value=str(text.loc[parts.index[pos]]),
                        expected="day/month/year dates", fix="set dayfirst: false in the source file")


def _parse_dates(raw: pd.Series, cmap: ColumnMap) -> pd.Series:
    kwargs: dict[str, Any] = {"errors": "coerce"}
    if cmap.date_format:
        kwargs["format"] = cmap.date_format
    else:
        kwargs["dayfirst"] = cmap.dayfirst
    with warnings.catch_warnings():  # unparsed values are refused by row below; no format warning in reports
        warnings.simplefilter("ignore", UserWarning)
        try:
            return pd.to_datetime(raw, **kwargs)
        except (ValueError, TypeError):  # mixed time-zone offsets: compare them on UTC
            return pd.to_datetime(raw, utc=True, **kwargs).dt.tz_convert(None)


def _to_datetime(raw: pd.Series, column: str, file: str, offset: int, cmap: ColumnMap) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    elif raw.isna().all():
        parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    else:
        if pd.api.types.is_numeric_dtype(raw):
            if not cmap.date_format:  # 20110131 or epoch seconds would silently become 1970-01-01
                raise DataError("dates are numbers", file=file, column=column, value=raw.dropna().iloc[0]
                                if raw.notna().any() else None, expected="dates as text (2011-01-31)",
                                fix="set date_format: in the source file (for example %Y%m%d)")
            raw = raw.astype("Int64").astype("string")
        raw = _korean_meridiem(raw)
        if not cmap.date_format:
            _check_day_order(raw, column, file, offset, cmap.dayfirst)
        parsed = _parse_dates(raw, cmap)
        _refuse_unparsed(
            raw, parsed, offset, "value is not a date", file, column,
            expected=f"dates in one format between 1677-09-22 and 2262-04-11 "
                     f"({cmap.date_format or 'e.g. 2011-01-31 08:26:00'})",
            fix="set date_format: in the source file (a strftime pattern such as %d/%m/%Y %H:%M) to match the "
                "export; replace placeholder dates such as 9999-12-31 by blanks",
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    lo, hi = pd.Timestamp.min.as_unit("s"), pd.Timestamp.max.as_unit("s")
    first, last = parsed.min(), parsed.max()  # two passes, no array per test (5 M lines: 0.15 s less)
    if pd.notna(first) and (first < lo or last > hi):
        out_of_range = (parsed.notna() & ((parsed < lo) | (parsed > hi))).to_numpy()
        if out_of_range.any():  # 9999-12-31 ("unknown" in many exports) parses, but not as a date crmlab can use
            pos = int(np.flatnonzero(out_of_range)[0])
            raise DataError("value is not a date crmlab can use (outside 1677-09-22 .. 2262-04-11)", file=file,
                            column=column, row=pos + offset, value=str(raw.iloc[pos]),
                            expected="order dates between 1677-09-22 and 2262-04-11",
                            fix="replace placeholder dates such as 9999-12-31 by real dates, or remove those lines")
    return parsed.astype("datetime64[ns]")


def _to_id(raw: pd.Series, column: str = "", file: str = "", offset: int = 1) -> pd.Series:
    """Identifiers as strings; '17850.0' (an ID that went through a float) becomes '17850'."""
    if pd.api.types.is_float_dtype(raw):
        vals = raw.to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(vals)
        bad = ok & ((vals != np.floor(vals)) | (np.abs(vals) >= 2.0 ** 63))
        bad |= np.isinf(vals)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError("identifier is not a whole number", file=file, column=column, row=pos + offset,
                            expected="identifiers as text or whole numbers",
                            fix="export the identifier column as text")
        ids = raw.astype("Int64").astype("string")
    else:
        # Text IDs: the work is done on the distinct values only (an ID repeats on every line of
        # its orders) and spread back, the same result as line by line at a fraction of the cost.
        # Other dtypes go line by line (factorize would merge 1 and 1.0, which print differently).
        text = isinstance(raw.dtype, pd.StringDtype)
        codes, uniques = factorize(raw) if text else (None, raw)
        ids = pd.Series(uniques).astype("string").str.strip()
        ids = ids.mask(ids == "")
        if ids.str.endswith(".0").fillna(True).all() and ids.notna().any():
            ids = ids.str.slice(stop=-2)
        if text and ids.dtype == raw.dtype and ids.equals(pd.Series(uniques, dtype=raw.dtype)):
            out = _contiguous(raw)  # already clean: no need to spread the distinct values back
            remember_codes(out, codes, uniques)  # cleaning and RFM need not hash the IDs again
            return out
        if text:
            out = pd.Series(ids.array.take(codes, allow_fill=True), index=raw.index)
            blank = ids.isna().to_numpy()
            if not ids[~blank].duplicated().any():  # distinct after cleaning: the codes still hold
                codes = np.where(blank[codes] & (codes >= 0), -1, codes) if blank.any() else codes
                remember_codes(out, codes, ids.array)
            return out
    return ids


def _starts_with(ids: pd.Series, prefix: str) -> np.ndarray:
    """Which IDs start with ``prefix`` (missing: no), tested on the distinct values when the
    mapping kept the column's codes (an order number repeats on each of its lines)."""
    found = remembered_codes(ids)
    if found is None:
        return ids.str.startswith(prefix).fillna(False).to_numpy(dtype=bool)
    codes, uniques = found
    hit = pd.Series(uniques, dtype="string").str.startswith(prefix).fillna(False).to_numpy(dtype=bool)
    return np.where(codes >= 0, hit[codes], False)


def _contiguous(values: pd.Series) -> pd.Series:
    """Text as one contiguous Arrow array: a CSV read in blocks arrives in hundreds of chunks,
    and every later selection of rows (cleaning, cut-offs) is several times slower on them."""
    arr = values.array
    if isinstance(arr, pd.arrays.ArrowStringArray):
        chunked = pa.array(arr)  # the array's own Arrow data, no copy
        if isinstance(chunked, pa.ChunkedArray) and chunked.num_chunks > 1:
            return pd.Series(pd.arrays.ArrowStringArray(chunked.combine_chunks()), index=values.index,
                             name=values.name)
    return values


def _mapped_columns(raw: pd.DataFrame, cmap: ColumnMap, file: str) -> dict[str, str]:
    """The canonical -> source columns this file provides; refuses a map the file cannot satisfy."""
    cols = {k: v for k, v in cmap.columns.items() if v in raw.columns or k not in cmap.optional}
    has = ", ".join(map(repr, (raw.attrs.get("file_columns") or list(raw.columns))[:20])) or "no columns"
    missing = [f"{canon} (from {src!r})" for canon, src in cols.items() if src not in raw.columns]
    need = [c for c in REQUIRED if c not in cols and not (c == "order_id" and not cmap.optional)]
    if "amount" not in cols and not {"quantity", "unit_price"} <= set(cols):
        need += [c for c in ("quantity", "unit_price") if c not in cols]
    if need:
        src = [cmap.columns.get(c, c) for c in need]
        raise DataError(
            f"missing required column(s): {', '.join(src)}"
            + (" (or one 'amount' column)" if {"quantity", "unit_price"} & set(need) else ""),
            file=file,
            column=src[0],
            expected=f"columns for {', '.join(REQUIRED)} and amount or quantity+unit_price",
            fix=f"the file has {has}; map them under columns: in the source file",
        )
    if missing:
        raise DataError(
            f"missing required column(s): {', '.join(missing)}",
            file=file,
            column=cols[[c for c in cols if cols[c] not in raw.columns][0]],
            expected="columns " + ", ".join(repr(v) for v in cols.values()),
            fix=f"the file has {has}; map them under columns: in the source file",
        )
    return cols


def _attempt(step: Any) -> Any:
    """A step for :func:`in_threads` that hands back its refusal instead of raising it."""
    def run() -> Any:
        try:
            return step()
        except DataError as exc:
            return exc
    return run


def _outcome(result: Any) -> Any:
    """The result of an :func:`_attempt`, its refusal raised."""
    if isinstance(result, DataError):
        raise result
    return result


def _map_columns(raw: pd.DataFrame, cmap: ColumnMap, file: str, offset: int) -> pd.DataFrame:
    cols = _mapped_columns(raw, cmap, file)
    if len(raw) == 0:
        raise DataError("the table has a header but no rows", file=file, expected="at least one row")

    raw = raw.reset_index(drop=True)
    out = pd.DataFrame(index=raw.index)

    def na_str() -> pd.Series:  # built only for a column the source lacks (5 M lines: 0.2 s)
        return pd.Series(pd.NA, index=raw.index, dtype="string")

    # IDs, dates and numbers are parsed side by side; a refusal is raised in this order, as if
    # one after the other (IDs, dates, a blank date, numbers)
    tasks = {c: (lambda c=c: _to_id(raw[cols[c]], cols[c], file, offset))
             for c in ("customer_id", "order_id", "product_id") if c in cols}
    tasks["order_ts"] = lambda: _to_datetime(raw[cols["order_ts"]], cols["order_ts"], file, offset, cmap)
    tasks |= {c: (lambda c=c: _to_number(raw[cols[c]], cols[c], file, offset, cmap))
              for c in ("quantity", "unit_price", "amount") if c in cols}
    parsed = dict(zip(tasks, in_threads(*map(_attempt, tasks.values()))))
    for canon in ("customer_id", "order_id", "product_id", "order_ts"):
        out[canon] = _outcome(parsed[canon]) if canon in parsed else na_str()
    if "order_id" not in cols:  # a source without order numbers: every line is one order
        out["order_id"] = pd.Series(np.arange(1, len(raw) + 1), index=raw.index).astype("string")
    blank = out["order_ts"].isna().to_numpy()
    if blank.any():
        pos = int(np.flatnonzero(blank)[0])
        raise DataError("every order date is blank" if blank.all() else "order date is blank", file=file,
                        column=cols["order_ts"], row=pos + offset, expected="a date on every order line",
                        fix="fill the dates in the export, or remove the lines without one")
    out["product_name"] = _contiguous(raw[cols["product_name"]].astype("string")) if "product_name" in cols else na_str()
    out["quantity"] = _outcome(parsed["quantity"]) if "quantity" in cols else 1.0
    if "unit_price" in cols:
        out["unit_price"] = _outcome(parsed["unit_price"])
    if "amount" in cols:
        out["amount"] = _outcome(parsed["amount"])
        if "unit_price" not in cols:
            with np.errstate(divide="ignore", invalid="ignore"):
                out["unit_price"] = out["amount"] / out["quantity"]
    else:
        out["amount"] = out["quantity"] * out["unit_price"]
    out = out[[c for c in CANONICAL if c in out.columns]]
    if cmap.cancel_prefix:
        out["is_cancellation"] = _starts_with(out["order_id"], cmap.cancel_prefix)
    else:
        out["is_cancellation"] = False
    for opt in ("country", "channel", "category"):
        if opt in cols:
            out[opt] = _contiguous(raw[cols[opt]].astype("string"))
    for extra in cmap.extra:
        if extra not in raw.columns:
            raise DataError("an extra column declared by the source is missing", file=file, column=extra,
                            expected=f"one of the columns {list(map(str, raw.columns))[:20]}",
                            fix="correct extra_columns: in the source file")
        col = raw[extra]
        out[extra] = col.astype("string") if col.dtype == object else col
    bad_id = out["order_id"].isna().to_numpy()
    if bad_id.any():
        pos = int(np.flatnonzero(bad_id)[0])
        raise DataError(
            "order number is missing",
            file=file,
            column=cols["order_id"],
            row=pos + offset,
            expected="every line to belong to an order",
        )
    return out
