"""crmlab.data: loading, cleaning, quality summary, identity integration, bad input."""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import pytest

from crmlab import config, data
from crmlab.errors import DataError, ParameterError

from conftest import FIXTURES

SAMPLE = FIXTURES / "online_retail_sample.csv.gz"


@pytest.fixture(scope="module")
def retail():
    return data.load_transactions("online_retail")


def test_online_retail_published_counts(retail):
    """UCI Online Retail (Chen, Sain & Guo 2012), figures quoted in ANCHORS.md."""
    assert len(retail) == 541_909
    assert retail["order_id"].nunique() == 25_900
    assert int(retail["is_cancellation"].sum()) == 9_288
    assert int(retail["customer_id"].isna().sum()) == 135_080
    assert retail["customer_id"].nunique() == 4_372
    assert retail["order_ts"].min() == pd.Timestamp("2010-12-01 08:26:00")
    assert retail["order_ts"].max().date() == pd.Timestamp("2011-12-09").date()


def test_cleaning_reproduces_published_figures(retail):
    """Removing cancellations, unknown customers and non-positive quantities: 397,924 lines, 4,339 customers."""
    res = data.clean(retail, non_positive_price=False, duplicates=False)
    assert len(res.data) == 397_924
    assert res.data["customer_id"].nunique() == 4_339
    audit = res.audit.set_index("step")
    assert audit.loc["cancellations", "rows"] == 9_288
    assert audit.loc["kept", "rows"] == 397_924
    # Switched-off steps still report what they would have removed, and nothing is lost:
    assert not audit.loc["duplicates", "applied"]
    assert audit.loc["duplicates", "rows"] > 0
    applied = audit[audit["applied"] & (audit.index != "kept")]["rows"].sum()
    assert applied + 397_924 == len(retail)
    # Revenue is accounted for too: removed + kept = total.
    removed_rev = audit[audit["applied"] & (audit.index != "kept")]["revenue"].sum()
    assert removed_rev + audit.loc["kept", "revenue"] == pytest.approx(retail["amount"].sum())


def test_clean_leaves_input_and_raw_file_untouched(retail):
    before = retail.copy()
    data.clean(retail)
    pd.testing.assert_frame_equal(retail, before)
    readme = (config.DATA_DIR / "README.md").read_text()
    for path in (config.ONLINE_RETAIL, config.HILLSTROM, config.GROCERIES):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f"{digest}  {path.name}" in readme, f"{path.name} changed or README checksum wrong"


def test_duplicates_step_on_toy():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", None],
            "order_id": ["1", "1", "2", "3"],
            "order_ts": pd.to_datetime(["2024-01-01"] * 4),
            "product_id": ["x", "x", "y", "z"],
            "quantity": [1.0, 1.0, -1.0, 2.0],
            "unit_price": [2.0, 2.0, 3.0, 0.0],
        }
    )
    tx["amount"] = tx["quantity"] * tx["unit_price"]
    tx["is_cancellation"] = False
    tx["customer_id"] = tx["customer_id"].astype("string")
    res = data.clean(tx)
    audit = res.audit.set_index("step")["rows"]
    assert audit.to_dict() == {
        "cancellations": 0,
        "non_positive_quantity": 1,
        "non_positive_price": 1,
        "unknown_customers": 0,  # the unknown customer's line went with the zero price
        "duplicates": 1,
        "kept": 1,
    }


def test_quality_summary(retail):
    q = data.quality_summary(retail, data.clean(retail))
    d = q.to_dict()
    assert d["rows"] == 541_909 and d["orders"] == 25_900 and d["rows_without_customer"] == 135_080
    assert q.missing.loc["customer_id", "missing"] == 135_080
    assert "Cleaning audit" in q._repr_html_()


def test_formats_give_the_same_table(tmp_path):
    csv = data.load_transactions(SAMPLE, columns="online_retail")
    raw = pd.read_csv(SAMPLE, dtype=str)
    # Parquet
    raw.to_parquet(tmp_path / "s.parquet")
    pq = data.load_transactions(tmp_path / "s.parquet", columns="online_retail")
    pd.testing.assert_frame_equal(csv, pq, check_like=True)
    # Excel (a slice: writing xlsx is slow)
    raw.head(300).to_excel(tmp_path / "s.xlsx", index=False)
    xl = data.load_transactions(tmp_path / "s.xlsx", columns="online_retail")
    pd.testing.assert_frame_equal(csv.head(300), xl, check_like=True)


def test_sqlite_database(tmp_path):
    """A real SQLite file through a SQLAlchemy URL, by table and by query."""
    import sqlalchemy as sa

    raw = pd.read_csv(SAMPLE, dtype=str)
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = sa.create_engine(url)
    raw.to_sql("invoice_lines", engine, index=False)
    engine.dispose()
    by_table = data.load_transactions(url, columns="online_retail", table="invoice_lines")
    assert len(by_table) == len(raw)
    assert by_table["amount"].sum() == pytest.approx(data.load_transactions(SAMPLE, columns="online_retail")["amount"].sum())
    by_query = data.load_transactions(
        url, columns="online_retail", query="select * from invoice_lines where Country = 'France'"
    )
    assert len(by_query) == int((raw["Country"] == "France").sum()) > 0
    with pytest.raises(DataError, match="no_such_table"):
        data.load_transactions(url, columns="online_retail", table="no_such_table")
    with pytest.raises(ParameterError, match="exactly one of table= or query="):
        data.load_transactions(url, columns="online_retail")


KOREAN = "customer_id,order_id,order_ts,product_id,product_name,quantity,unit_price\n" \
         "K1,1001,2024-03-01 10:00,P1,유기농 우유,2,3500\n" \
         "K2,1002,2024-03-02 11:30,P2,김치 1kg,1,12000\n"


@pytest.mark.parametrize("encoding", ["cp949", "euc-kr", "utf-8"])
def test_korean_exports(tmp_path, encoding):
    path = tmp_path / f"kr_{encoding}.csv"
    path.write_bytes(KOREAN.encode(encoding))
    tx = data.load_transactions(path)
    assert tx["product_name"].tolist() == ["유기농 우유", "김치 1kg"]
    assert tx["amount"].tolist() == [7000.0, 12000.0]


def test_custom_mapping_and_amount_only(tmp_path):
    path = tmp_path / "pos.csv"
    path.write_text("member,receipt,date,total\nm1,r1,2024-01-02,10.5\nm1,r2,2024-01-09,4\n")
    tx = data.load_transactions(
        path, columns={"customer_id": "member", "order_id": "receipt", "order_ts": "date", "amount": "total"}
    )
    assert tx["amount"].tolist() == [10.5, 4.0]
    assert tx["quantity"].tolist() == [1.0, 1.0]
    assert tx["customer_id"].tolist() == ["m1", "m1"]


# ----------------------------------------------------------------------------- bad input

GOOD_HEADER = "customer_id,order_id,order_ts,product_id,quantity,unit_price\n"


def _err(tmp_path, text: bytes | str, name="bad.csv", **kw) -> DataError:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(DataError) as info:
        data.load_transactions(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    assert name in msg
    return info.value


def test_missing_file():
    with pytest.raises(DataError, match=r"nope\.csv: file not found.*Fix: check the path"):
        data.load_transactions("nope.csv")


def test_empty_file(tmp_path):
    err = _err(tmp_path, "")
    assert "empty" in str(err)


def test_header_only(tmp_path):
    err = _err(tmp_path, GOOD_HEADER)
    assert "no rows" in str(err)


def test_missing_column(tmp_path):
    err = _err(tmp_path, "customer_id,order_id,order_ts,quantity\nc,1,2024-01-01,1\n")
    assert err.column == "unit_price"
    assert "missing required column" in str(err) and "Fix:" in str(err)


def test_unparseable_date_names_row(tmp_path):
    rows = "".join(f"c{i},{i},2024-01-0{i},p,1,2.5\n" for i in range(1, 6))
    err = _err(tmp_path, GOOD_HEADER + rows + "c9,9,31/31/2024,p,1,2.5\n")
    assert err.column == "order_ts" and err.row == 7 and err.value == "31/31/2024"
    assert re.search(r"bad\.csv, column 'order_ts', row 7: value is not a date \(found '31/31/2024'\)", str(err))


def test_unparseable_number_names_row(tmp_path):
    err = _err(tmp_path, GOOD_HEADER + "c1,1,2024-01-01,p,1,2.5\nc2,2,2024-01-02,p,1,£3.10\n")
    assert (err.column, err.row, err.value) == ("unit_price", 3, "£3.10")
    assert "expected plain numbers" in str(err)


def test_unreadable_encoding(tmp_path):
    err = _err(tmp_path, GOOD_HEADER.encode() + b"c1,1,2024-01-01,\xff\xff,1,2\n")
    assert "UTF-8 or CP949" in str(err) and err.row == 2


def test_unknown_preset():
    with pytest.raises(ParameterError, match="unknown column preset 'shopify'"):
        data.load_transactions(SAMPLE, columns="shopify")


# ----------------------------------------------------------------------------- integration


def test_combine_channels_and_unify_identities():
    def tx(cust, orders):
        return pd.DataFrame(
            {
                "customer_id": pd.array(cust, dtype="string"),
                "order_id": pd.array(orders, dtype="string"),
                "order_ts": pd.to_datetime(["2024-01-01"] * len(cust)),
                "amount": [10.0] * len(cust),
            }
        )

    both = data.combine_channels({"online": tx(["w1", "w2"], ["1", "2"]), "store": tx(["card9", "card7"], ["1", "5"])})
    assert both["channel"].tolist() == ["online", "online", "store", "store"]
    assert both["order_id"].tolist() == ["1", "2", "store:1", "store:5"]  # clash on "1" resolved
    id_map = pd.DataFrame({"source_id": ["card9"], "customer_id": ["w1"]})
    unified = data.unify_identities(both, id_map)
    assert unified["customer_id"].tolist() == ["w1", "w2", "w1", "card7"]
    assert unified["source_customer_id"].tolist() == ["w1", "w2", "card9", "card7"]
    assert unified.groupby("customer_id")["amount"].sum()["w1"] == 20.0
    bad_map = pd.DataFrame({"source_id": ["card9", "card9"], "customer_id": ["w1", "w2"]})
    with pytest.raises(DataError, match="linked to more than one customer"):
        data.unify_identities(both, bad_map)


def test_other_embedded_sets():
    hill = data.load_hillstrom()
    assert len(hill) == 64_000
    assert hill["segment"].value_counts().to_dict() == {
        "Womens E-Mail": 21_387, "Mens E-Mail": 21_307, "No E-Mail": 21_306,
    }
    baskets = data.load_groceries()
    assert len(baskets) == 9_835
    assert len({i for b in baskets for i in b}) == 169
    assert sum("whole milk" in b for b in baskets) == 2_513


def test_loaded_and_cleaned_tables_can_be_edited_in_place(tmp_path):
    # numbers handed over from Arrow without a copy would be read-only: an analyst's
    # tx.loc[...] = ... must still work on what crmlab returns
    path = tmp_path / "orders.csv"
    path.write_text("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
                    "1,A,mug,2,2011-01-01 10:00:00,2.5,17850,UK\n"
                    "2,B,cup,1,2011-01-02 11:00:00,1.0,17851,UK\n")
    tx = data.load_transactions(path, columns="online_retail")
    tx.loc[0, "unit_price"] = 5.0
    tx.loc[1, "quantity"] = 4.0
    tx.loc[0, "order_ts"] = pd.Timestamp("2011-01-03")
    assert tx["unit_price"].tolist() == [5.0, 1.0] and tx["quantity"].tolist() == [2.0, 4.0]
    cleaned = data.clean(tx).data
    cleaned.loc[0, "amount"] = 1.0
    assert cleaned["amount"].tolist() == [1.0, 1.0]
