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
