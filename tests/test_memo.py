"""Results shared between the notebooks of a render batch (crmlab.memo).

The keys must tell apart any two different inputs (a wrong hit would publish another
data set's numbers) and should match equal inputs however they are laid out in memory (a
miss only costs time). Sharing must be invisible in what a call returns and warns.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlab import memo
from crmlab.data.source import _file_key, load_source
from crmlab.errors import DataError


def _frame():
    return pd.DataFrame({
        "customer_id": pd.array(["a", "bb", None, "ccc", "a"], dtype="string[pyarrow]"),
        "order_ts": pd.to_datetime(["2011-01-01", "2011-01-02", "2011-01-02", "2011-02-01", "2011-03-01"]),
        "amount": [1.0, 2.5, np.nan, 4.0, 5.0],
        "n": pd.array([1, 2, None, 4, 5], dtype="Int64"),
        "flag": [True, False, True, False, True],
    })


def test_equal_content_gets_the_same_key_whatever_the_layout():
    df = _frame()
    key = memo.fingerprint(df)
    assert memo.fingerprint(df.copy()) == key
    assert memo.fingerprint(pickle.loads(pickle.dumps(df))) == key
    # the same text column from two chunks, and as a slice of a longer array
    text = ["a", "bb", None, "ccc", "a"]
    chunked = pd.arrays.ArrowExtensionArray(pa.chunked_array([pa.array(text[:2]), pa.array(text[2:])]))
    sliced = pd.arrays.ArrowExtensionArray(pa.chunked_array([pa.array(["zzzz", *text, "yy"]).slice(1, 5)]))
    for other in (chunked, sliced):
        again = df.copy()
        again["customer_id"] = pd.Series(other).astype("string[pyarrow]").array
        assert memo.fingerprint(again) == key


@pytest.mark.parametrize("change", [
    lambda d: d.assign(amount=d["amount"].where(d.index != 3, 4.0000001)),
    lambda d: d.assign(customer_id=d["customer_id"].where(d.index != 0, "A")),
    lambda d: d.assign(customer_id=d["customer_id"].where(d.index != 1, None)),  # a value turned missing
    lambda d: d.assign(customer_id=pd.array(["ab", "b", None, "ccc", "a"], dtype="string[pyarrow]")),  # same bytes
    lambda d: d.assign(n=d["n"].astype("float64")),
    lambda d: d.rename(columns={"amount": "spend"}),
    lambda d: d.set_axis([0, 1, 2, 3, 9]),
    lambda d: d.iloc[:4],
    lambda d: d[["amount", "customer_id", "order_ts", "n", "flag"]],
    lambda d: d.assign(order_ts=d["order_ts"] + pd.Timedelta(1, "ns")),
    lambda d: d.assign(flag=pd.Categorical(d["flag"], ordered=True)),  # vs the unordered one below
])
def test_any_change_of_content_changes_the_key(change):
    df = _frame().assign(flag=lambda d: pd.Categorical(d["flag"]))
    assert memo.fingerprint(change(df)) != memo.fingerprint(df)


def test_attrs_and_arguments_are_part_of_the_key():
    df = _frame()
    tagged = df.copy()
    tagged.attrs["source"] = "shop"
    assert memo.fingerprint(tagged) != memo.fingerprint(df)
    assert memo.fingerprint(df, as_of="2011-01-01") != memo.fingerprint(df, as_of="2011-01-02")
    assert memo.fingerprint(df, 90) != memo.fingerprint(df, 90.5)
    assert memo.fingerprint(pd.Timestamp("2011-01-01")) != memo.fingerprint("2011-01-01")


def test_what_cannot_be_keyed_by_content_is_refused():
    with pytest.raises(memo.Unkeyable):
        memo.fingerprint(pd.DataFrame({"x": [object(), 1]}))
    with pytest.raises(memo.Unkeyable):
        memo.fingerprint(object())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=5)), min_size=1, max_size=30), st.data())
def test_a_single_changed_text_value_always_changes_the_key(values, data):
    base = pd.DataFrame({"t": pd.array(values, dtype="string[pyarrow]")})
    i = data.draw(st.integers(0, len(values) - 1))
    new = data.draw(st.one_of(st.none(), st.text(max_size=5)).filter(lambda v: v != values[i]))
    changed = list(values)
    changed[i] = new
    other = pd.DataFrame({"t": pd.array(changed, dtype="string[pyarrow]")})
    assert memo.fingerprint(other) != memo.fingerprint(base)
    assert memo.fingerprint(base.copy()) == memo.fingerprint(base)


CALLS: list[int] = []


@memo.shared("toy")
def _toy(frame: pd.DataFrame, scale: float = 1.0) -> pd.DataFrame:
    CALLS.append(1)
    warnings.warn("a toy warning", UserWarning)
    if scale < 0:
        raise ValueError("negative scale")
    return frame[["amount"]] * scale


def test_shared_calls_compute_once_and_return_independent_copies():
    CALLS.clear()
    df = _frame()
    with pytest.warns(UserWarning, match="toy"):
        _toy(df)  # sharing off: computed every time
    with pytest.warns(UserWarning, match="toy"):
        _toy(df)
    assert len(CALLS) == 2
    with memo.sharing() as where:
        with pytest.warns(UserWarning, match="toy"):
            first = _toy(df, scale=2.0)
        with pytest.warns(UserWarning, match="toy"):  # the warning is raised again on a read
            second = _toy(df.copy(), scale=2.0)
        assert len(CALLS) == 3
        pd.testing.assert_frame_equal(first, second)
        second.iloc[0, 0] = -1.0  # a reader changing its copy changes nothing for the next
        with pytest.warns(UserWarning):
            third = _toy(df, scale=2.0)
        assert third.iloc[0, 0] == 2.0 and len(CALLS) == 3
        with pytest.warns(UserWarning):
            _toy(df, scale=3.0)  # other arguments: computed
        assert len(CALLS) == 4
        # a failing call stores nothing: the next computes (and fails) again
        for _ in range(2):
            with pytest.raises(ValueError), pytest.warns(UserWarning):
                _toy(df, scale=-1.0)
        assert len(CALLS) == 6
        log = (where / "calls.log").read_text().split("\n")
        assert sum(line.startswith("computed toy") for line in log) == 2
        assert sum(line.startswith("read toy") for line in log) == 2
    assert not where.exists() and memo.ENV not in os.environ


def _slow_shared(path: str) -> None:
    import time

    @memo.shared("slow")
    def slow(x: int) -> int:
        with open(path, "a") as handle:
            handle.write("computed\n")
        time.sleep(1.0)
        return x * 2

    assert slow(21) == 42


def test_two_processes_asking_at_once_compute_once(tmp_path):
    done = tmp_path / "computed.txt"
    with memo.sharing() as where:
        ctx = multiprocessing.get_context("spawn")
        procs = [ctx.Process(target=_slow_shared, args=(str(done),)) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0, 0]
        assert done.read_text() == "computed\n"  # the second waited for the first's result
        log = (where / "calls.log").read_text()
        assert log.count("computed slow") == 1 and log.count("read slow") == 1


def test_a_file_source_is_keyed_by_its_file_a_database_is_not_shared(tmp_path):
    csv = tmp_path / "baskets.csv"
    csv.write_text("milk,bread\nbread\n")
    spec = {"name": "toy", "kind": "baskets", "path": str(csv)}
    key = _file_key(spec)
    assert key == _file_key(spec) and key[2] == csv.stat().st_size
    csv.write_text("milk,bread\nbread,eggs\n")  # the file changed: another key
    assert _file_key(spec) != key
    assert _file_key(spec, as_of="2011-01-01") != _file_key(spec)
    db = {"name": "db", "url": "postgresql://crm@localhost/shop", "table": "orders",
          "columns": {"customer_id": "c", "order_id": "o", "order_ts": "t", "product_id": "p",
                      "quantity": "q", "unit_price": "u"}}
    assert _file_key(db) is None
    csv.unlink()  # a missing file is not keyed: load_source reports it as without sharing
    assert _file_key(spec) is None
    with memo.sharing():
        with pytest.raises(DataError, match="file not found"):
            load_source(spec)


def test_stored_frames_come_back_equal_and_writable(tmp_path):
    """Large buffers are stored out of band and mapped copy-on-write when read: the frame is
    equal, its arrays can be written to, and a write never reaches the file."""
    df = _frame()
    big = pd.DataFrame({"text": pd.array([f"line {i}" for i in range(50_000)], dtype="string[pyarrow]"),
                        "x": np.arange(50_000, dtype=float)})
    path = tmp_path / "r.pkl"
    memo._store(path, ("v", [], {"small": df, "big": big}))
    first = memo._load(path)[2]
    pd.testing.assert_frame_equal(first["small"], df)
    pd.testing.assert_frame_equal(first["big"], big)
    first["big"].loc[0, "x"] = -5.0  # in place, as a notebook would
    first["big"].loc[1, "text"] = "changed"
    assert first["big"]["x"].iloc[0] == -5.0 and first["big"]["text"].iloc[1] == "changed"
    again = memo._load(path)[2]["big"]
    assert again["x"].iloc[0] == 0.0 and again["text"].iloc[1] == "line 1"
    path.write_bytes(b"not a stored result")
    assert memo._load(path) is None  # unreadable: computed again
