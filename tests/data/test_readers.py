"""The two CSV readers underneath load_transactions give the same canonical table.

UTF-8 files with a one-character separator are read by polars (multi-threaded, contiguous
Arrow text); anything polars declines falls back to pandas' reader, which also names the bad
row. Parity is checked on the embedded Online Retail file and on small files with the cases
where the readers' defaults differ (pandas' missing-value words, mixed ISO layouts, a BOM,
quoted separators and line breaks, out-of-range dates).
"""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import data
from crmlab.data import read
from crmlab.errors import DataError

MAP = {"customer_id": "c", "order_id": "o", "order_ts": "d", "amount": "p", "product_id": "s",
       "product_name": "n"}


def _both(monkeypatch, path, columns):
    used = []
    polars_reader = read._read_csv_polars

    def spy(*args, **kwargs):
        frame = polars_reader(*args, **kwargs)
        used.append(frame is not None)
        return frame

    with monkeypatch.context() as m:
        m.setattr(read, "_read_csv_polars", spy)
        fast = data.load_transactions(path, columns=columns)
    assert used == [True], "the polars reader declined the file: nothing compared"
    with monkeypatch.context() as m:
        m.setattr(read, "_read_csv_polars", lambda *a, **k: None)
        slow = data.load_transactions(path, columns=columns)
    return fast, slow


def test_online_retail_same_table_from_both_readers(monkeypatch):
    fast, slow = _both(monkeypatch, "online_retail", "online_retail")
    pd.testing.assert_frame_equal(fast, slow)
    assert fast.attrs["source"] == slow.attrs["source"]
    assert len(fast) == 541_909  # UCI Online Retail line count (ANCHORS.md)


@pytest.mark.parametrize("body", [
    # pandas' missing-value words in text and in number columns
    "c,o,d,p,s,n\nNA,1,2011-01-01 10:00:00,1.5,A,x\n12,2,2011-01-02 11:00:00,N/A,B,null\n",
    # ISO layouts mixed in one column, with T, seconds fractions and bare dates
    "c,o,d,p,s,n\n1,1,2011-01-01 10:00:00,1,A,x\n1,2,2011-01-02,2,B,y\n2,3,2011-01-03T08:30:15.250,3,C,z\n",
    # a byte-order mark, quoted separators and a line break inside quotes, Korean text
    '\ufeffc,o,d,p,s,n\n1,1,2011-01-01,"1",A,"a, b"\n2,2,2011-01-02,2,B,"두 줄\n설명"\n',
    # IDs that went through a float, blanks, spaces
    "c,o,d,p,s,n\n17850.0,1,2011-01-01,1,A, x\n,2,2011-01-02,2,B,y\n13047.0,3,2011-01-03,2,C,\n",
    # non-ISO dates: left to the mapping's date parsing by both readers
    "c,o,d,p,s,n\n1,1,12/01/2010 08:26,1,A,x\n2,2,12/02/2010 09:00,2,B,y\n",
])
def test_small_files_same_table_from_both_readers(tmp_path, monkeypatch, body):
    path = tmp_path / "t.csv"
    path.write_text(body, encoding="utf-8")
    fast, slow = _both(monkeypatch, path, MAP)
    pd.testing.assert_frame_equal(fast, slow)


def test_missing_words_become_missing_values(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("c,o,d,p,s,n\nNA,1,2011-01-01,1.5,A,x\n12,2,2011-01-02,N/A,B,null\n", encoding="utf-8")
    tx = data.load_transactions(path, columns=MAP)
    assert tx["customer_id"].isna().tolist() == [True, False]
    assert tx["amount"].isna().tolist() == [False, True]
    assert tx["product_name"].isna().tolist() == [False, True]


def test_type_change_past_the_sample_falls_back_and_names_the_row(tmp_path):
    """A price column that is numeric for 20,000 lines, then text: polars declines, pandas names the row."""
    lines = [f"1,{i},2011-01-01,1.5,A,x" for i in range(20_000)] + ["1,20000,2011-01-01,free,A,x"]
    path = tmp_path / "t.csv"
    path.write_text("c,o,d,p,s,n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"column 'p', row 20002: value is not a number .*found 'free'"):
        data.load_transactions(path, columns=MAP)
