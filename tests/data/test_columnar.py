"""crmlab.data.columnar: the threaded row selection equals pandas' own, column for column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.data import columnar


def test_take_rows_equals_loc_on_a_large_mixed_frame():
    n = columnar.PARALLEL_ROWS + 1_000  # large enough for the threaded path
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "customer_id": pd.array([f"C{i % 977}" if i % 13 else None for i in range(n)], dtype="string"),
        "order_ts": pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        "amount": rng.normal(10, 3, n),
        "is_cancellation": rng.random(n) < 0.1,
        "country": pd.Categorical(rng.choice(["UK", "KR", "FR"], n)),
    }, index=np.arange(n) * 3)  # not 0..n-1: the result is renumbered
    frame.attrs["source"] = "toy.csv"
    keep = rng.random(n) < 0.7
    out = columnar.take_rows(frame, keep)
    pd.testing.assert_frame_equal(out, frame.loc[keep].reset_index(drop=True))
    assert out.attrs == {"source": "toy.csv"}
    assert len(out) == int(keep.sum())


def test_in_threads_keeps_order_and_raises():
    assert columnar.in_threads(lambda: 1, lambda: 2, lambda: 3) == [1, 2, 3]
    with pytest.raises(ZeroDivisionError):
        columnar.in_threads(lambda: 1, lambda: 1 / 0)


def _same_partition(codes: np.ndarray, values: pd.Series) -> bool:
    """Codes equal exactly where the values are equal, and -1 exactly where a value is missing."""
    fresh = pd.factorize(values)[0]
    if not np.array_equal(codes < 0, fresh < 0):
        return False
    pairs = pd.DataFrame({"a": codes, "b": fresh}).drop_duplicates()
    return pairs["a"].is_unique and pairs["b"].is_unique


def test_loaded_ids_keep_their_codes_through_row_selections(tmp_path):
    from crmlab import data

    # '.0' IDs (cleaned and spread back from the distinct values), blanks, a clean text column
    lines = ["order,customer,product,date,qty,price"]
    for i in range(40):
        cust = "" if i % 7 == 0 else f"{100 + i % 5}.0"
        lines.append(f"A{i // 3},{cust},P{i % 4},2011-01-{1 + i % 28:02d},1,2.5")
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n")
    cmap = {"order_id": "order", "customer_id": "customer", "product_id": "product", "order_ts": "date",
            "quantity": "qty", "unit_price": "price"}
    tx = data.load_transactions(path, columns=cmap)
    assert tx["customer_id"].dropna().str.fullmatch(r"10\d").all()
    for col in ("customer_id", "order_id", "product_id"):
        data_obj = columnar._arrow_data(tx[col])
        assert id(data_obj) in columnar._CODES, col  # remembered by the mapping
        assert _same_partition(columnar.id_codes(tx[col])[0], tx[col]), col
    kept = columnar.take_rows(tx, tx["customer_id"].notna().to_numpy() & (np.arange(len(tx)) % 3 > 0))
    for col in ("customer_id", "order_id", "product_id"):
        assert id(columnar._arrow_data(kept[col])) in columnar._CODES, col  # carried over
        assert _same_partition(columnar.id_codes(kept[col])[0], kept[col]), col


def test_ids_that_merge_when_cleaned_are_not_given_stale_codes(tmp_path):
    from crmlab import data

    # ' 7' and '7' are two values in the file and one ID once trimmed: the file's codes would
    # count two customers, so none are kept and the cleaned column is hashed afresh
    path = tmp_path / "orders.csv"
    path.write_text("order,customer,date,amount\nA1, 7,2011-01-01,3\nA2,7,2011-01-02,4\nA3,8,2011-01-03,5\n")
    tx = data.load_transactions(path, columns={"order_id": "order", "customer_id": "customer",
                                               "order_ts": "date", "amount": "amount"})
    codes, _ = columnar.id_codes(tx["customer_id"])
    assert list(tx["customer_id"]) == ["7", "7", "8"]
    assert codes[0] == codes[1] != codes[2]
    assert data.clean(tx).audit.set_index("step").loc["kept", "customers"] == 2


def test_changed_column_is_hashed_again():
    s = pd.Series(["a", "b", "a", None], dtype="string[pyarrow]")
    frame = pd.DataFrame({"id": s})
    columnar.remember_codes(frame["id"], np.array([0, 1, 0, -1]), pd.array(["a", "b"], dtype="string[pyarrow]"))
    assert list(columnar.id_codes(frame["id"])[0]) == [0, 1, 0, -1]
    frame.loc[1, "id"] = "a"  # a new Arrow array: the remembered codes no longer apply
    codes, _ = columnar.id_codes(frame["id"])
    assert codes[0] == codes[1] == codes[2] and codes[3] == -1


@pytest.mark.parametrize("values", [
    ["b", "a", None, "c", "a", "b"],
    [3, 1, 2, 3, 1, 2],
])
def test_sorted_groups_number_groups_as_a_sorted_groupby(values):
    s = pd.Series(values)
    groups, keys = columnar.sorted_groups(s)
    expected = s.groupby(s, sort=True).ngroup().fillna(-1).astype(int).to_numpy()
    assert np.array_equal(groups, expected)
    assert list(keys) == sorted(v for v in set(values) if v is not None)


def test_exact_duplicates_equal_pandas_duplicated():
    from crmlab.data.clean import _exact_duplicates

    rng = np.random.default_rng(11)
    n = 5_000
    frame = pd.DataFrame({
        "customer_id": pd.array([None if i % 17 == 0 else f"C{i % 40}" for i in rng.integers(0, 400, n)],
                                dtype="string"),
        "order_id": pd.array([f"O{i}" for i in rng.integers(0, 300, n)], dtype="string"),
        "order_ts": pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, 3, n), unit="D"),
        "product_id": pd.array([f"P{i}" for i in rng.integers(0, 30, n)], dtype="string"),
        # same order, product and numbers but another name: not a duplicate
        "product_name": pd.array(rng.choice(["mug", "MUG", None], n), dtype="string"),
        "quantity": rng.integers(1, 3, n).astype(float),
        "unit_price": np.where(rng.random(n) < 0.05, np.nan, 2.5),
        "country": pd.array(rng.choice(["UK", "FR"], n), dtype="string"),
    })
    codes = {c: columnar.id_codes(frame[c])[0] for c in ("customer_id", "order_id", "product_id")}
    expected = frame.duplicated(keep="first").to_numpy()
    assert 0 < expected.sum() < n
    assert np.array_equal(_exact_duplicates(frame, codes), expected)


@pytest.mark.parametrize("values", [
    ["b", "a", None, "b", "", " a"],
    [None, None],
    ["x"],
])
@pytest.mark.parametrize("dtype", ["string", "str"])
def test_factorize_equals_pandas_on_arrow_text(values, dtype):
    s = pd.Series(values, dtype=dtype)
    codes, uniques = columnar.factorize(s)
    expected_codes, expected_uniques = pd.factorize(s)
    assert codes.tolist() == expected_codes.tolist()
    assert list(uniques) == list(expected_uniques) and uniques.dtype == s.dtype


def test_factorize_of_a_chunked_column_and_of_numbers():
    import pyarrow as pa

    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([["a", "b"], ["b", None, "c"], []])))
    codes, uniques = columnar.factorize(chunked)
    assert codes.tolist() == [0, 1, 1, -1, 2] and list(uniques) == ["a", "b", "c"]
    codes, uniques = columnar.factorize(pd.Series([3.0, 1.0, 3.0, np.nan]))  # not Arrow text: pandas' own
    assert codes.tolist() == [0, 1, 0, -1] and list(uniques) == [3.0, 1.0]


def test_threaded_take_rows_carries_the_codes_of_the_kept_rows():
    n = columnar.PARALLEL_ROWS + 1_000
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "customer_id": pd.array([f"C{i}" if i % 11 else None for i in rng.integers(0, 5_000, n)], dtype="string"),
        "product_name": pd.array([f"a long product name {i}" for i in rng.integers(0, 50, n)], dtype="string"),
        "amount": rng.normal(size=n),
    })
    columnar.id_codes(frame["customer_id"])  # remembered with the column
    keep = rng.random(n) < 0.6
    out = columnar.take_rows(frame, keep)
    pd.testing.assert_frame_equal(out, frame.loc[keep].reset_index(drop=True))
    found = columnar.remembered_codes(out["customer_id"])
    assert found is not None and _same_partition(found[0], out["customer_id"])
    assert columnar.remembered_codes(out["product_name"]) is None


def test_repeated_marks_every_value_seen_twice():
    import importlib

    repeated = importlib.import_module("crmlab.data.clean")._repeated  # the module: crmlab.data.clean is the function
    assert repeated(np.array([5, -3, 5, 7, 2**40, -3, 2**40 + 2**22])).tolist() == [
        True, True, True, False, False, True, False]  # 2**40 and 2**40 + 2**22 share their low bits
    assert repeated(np.array([], dtype=np.int64)).tolist() == []
    rng = np.random.default_rng(5)
    for key in (rng.integers(0, 60, 1_000), rng.integers(-10**12, 10**12, 50_000), rng.integers(0, 1 << 23, 300_000)):
        assert np.array_equal(repeated(key), pd.Series(key).duplicated(keep=False).to_numpy())


@pytest.mark.parametrize("run", [1, 2, 9])
def test_factorize_of_long_columns_in_runs_equals_pandas(run):
    import pyarrow as pa

    # order lines come order by order: runs of equal numbers, some missing, a value coming back later
    rng = np.random.default_rng(run)
    n = columnar.RUN_ROWS + 7
    base = [None if v % 31 == 0 else f"O{v}" for v in rng.integers(0, 20_000, n // run + 1)]
    values = [v for v in base for _ in range(run)][:n]
    chunked = pa.chunked_array([values[i:i + 7_000] for i in range(0, n, 7_000)], type=pa.large_string())
    for s in (pd.Series(values, dtype="string"), pd.Series(pd.arrays.ArrowStringArray(chunked))):
        codes, uniques = columnar.factorize(s)
        expected_codes, expected_uniques = pd.factorize(s)
        assert codes.tolist() == expected_codes.tolist()
        assert list(uniques) == list(expected_uniques)
