"""Source files: the YAML that says where data is and what its columns mean."""

from pathlib import Path

import pandas as pd
import pytest

from crmlab import config, data
from crmlab.errors import DataError, ParameterError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def write(tmp_path, text, name="src.yml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_sources_replace_presets():
    assert {"online_retail", "groceries", "hillstrom"} <= set(data.shipped_sources())
    assert "online_retail" in data.PRESETS and "canonical" in data.PRESETS
    src = data.read_source("online_retail")
    assert src.kind == "transactions" and src.path == config.DATA_DIR / "online_retail.csv.gz"
    assert src.columns["order_id"] == "InvoiceNo" and "POST" in src.exclude_products


def test_korean_export_reads_like_the_data_it_was_made_from():
    """The CP949 fixture is the Online Retail sample in Korean form: same lines, customers,
    dates; prices x 1,500 rounded to whole won."""
    ko = data.load_source(FIXTURES / "korean_shop.yml")
    en = data.load_transactions(FIXTURES / "online_retail_sample.csv.gz", "online_retail")
    assert len(ko) == len(en) == 30651
    assert ko["customer_id"].nunique() == en["customer_id"].nunique() == 292
    assert (ko["order_ts"].to_numpy() == en["order_ts"].to_numpy()).all()
    assert (ko["unit_price"] - (en["unit_price"] * 1500).round()).abs().max() == 0
    assert ko["is_cancellation"].sum() == en["is_cancellation"].sum() > 0
    assert set(ko["지역"].unique()) >= {"영국", "독일"}
    assert ko.attrs["source"] == "한국 쇼핑몰 주문"


def test_korean_times_and_thousands_on_a_toy(tmp_path):
    (tmp_path / "t.csv").write_bytes(
        "고객,주문,일시,금액\nA,1,2010-12-01 오전 9:59:00,\"8,920\"\nA,2,2010-12-01 오후 12:05:00,\"1,234,567\"\n"
        "B,3,2010-12-02 오전 12:30:00,10\n".encode("cp949"))
    src = write(tmp_path, "path: t.csv\nthousands: ','\ncolumns: {customer_id: 고객, order_id: 주문, "
                          "order_ts: 일시, amount: 금액}\n")
    tx = data.load_source(src)
    assert tx["order_ts"].tolist() == [pd.Timestamp("2010-12-01 09:59"), pd.Timestamp("2010-12-01 12:05"),
                                       pd.Timestamp("2010-12-02 00:30")]
    assert tx["amount"].tolist() == [8920.0, 1234567.0, 10.0]


def test_as_of_cuts_strictly_before(tmp_path):
    (tmp_path / "t.csv").write_text("c,o,d,a\nA,1,2011-01-01 10:00,1\nA,2,2011-01-02 00:00,2\nB,3,2011-01-03,3\n")
    src = write(tmp_path, "path: t.csv\ncolumns: {customer_id: c, order_id: o, order_ts: d, amount: a}\n")
    assert data.load_source(src, as_of="2011-01-02")["order_id"].tolist() == ["1"]
    assert len(data.load_source(src)) == 3


@pytest.mark.parametrize("text, match", [
    ("path: x.csv\ncolumnz: {}\n", r"src\.yml, column 'columnz': unknown key 'columnz'"),
    ("path: x.csv\ncolumns: {customer: a}\n", r"column 'columns': unknown canonical column"),
    ("path: x.csv\ncolumns: {customer_id: a, order_id: b}\n", r"lacks order_ts, amount"),
    ("columns: {customer_id: a}\n", r"exactly one of path: or url:"),
    ("path: x.csv\nkind: shop\n", r"column 'kind': unknown value.*'shop'"),
    ("path: x.csv\ndayfirst: maybe\n", r"column 'dayfirst': expected true or false"),
    ("- just\n- a list\n", r"expected a mapping"),
    ("path: x.csv\n  bad: indent\n", r"not valid YAML"),
    ("url: sqlite:///x.db\n", r"needs table: or query:"),
])
def test_bad_source_files_are_refused_naming_file_and_key(tmp_path, text, match):
    with pytest.raises(ParameterError, match=match):
        data.read_source(write(tmp_path, text))


def test_unknown_name_and_missing_file():
    with pytest.raises(ParameterError, match="not a source file or a shipped source name.*online_retail"):
        data.read_source("shopify")
    with pytest.raises(ParameterError, match="source file not found"):
        data.read_source("nowhere/shop.yml")


def test_yaml_alias_bomb_gives_a_short_error(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    with pytest.raises(ParameterError) as err:
        data.read_source(write(tmp_path, bomb))
    assert len(str(err.value)) < 600


def test_missing_extra_column_names_it(tmp_path):
    (tmp_path / "t.csv").write_text("c,o,d,a\nA,1,2011-01-01,1\n")
    src = write(tmp_path, "path: t.csv\nextra_columns: [region]\n"
                          "columns: {customer_id: c, order_id: o, order_ts: d, amount: a}\n")
    with pytest.raises(DataError, match="column 'region': an extra column declared by the source is missing"):
        data.load_source(src)


def test_baskets_and_experiment_sources():
    g = data.load_source("groceries")
    assert g["order_id"].nunique() == 9835 and g["product_id"].nunique() == 169
    assert g["customer_id"].isna().all()
    h = data.load_source("hillstrom")
    assert len(h) == 64000 and data.Source.from_attrs(h.attrs["source_spec"]).control == "No E-Mail"


def test_a_loaded_frame_saves_as_parquet_and_keeps_its_source(tmp_path):
    """pandas writes ``attrs`` into Parquet metadata as JSON: a loaded frame saves, and reads
    back with the source it came from (a Source object there made to_parquet raise TypeError)."""
    h = data.load_source("hillstrom")
    h.head(100).to_parquet(tmp_path / "h.parquet")
    back = pd.read_parquet(tmp_path / "h.parquet")
    src = data.Source.from_attrs(back.attrs["source_spec"])
    assert (src.arm, src.control, src.kind) == ("segment", "No E-Mail", "experiment")
    assert src.path == data.read_source("hillstrom").path


def test_a_database_url_in_attrs_has_no_password():
    src = data.Source(name="db", url="postgresql://ana:s3cret@db.example/crm", table="orders")
    attrs = src.to_attrs()
    assert "s3cret" not in str(attrs) and attrs["table"] == "orders"
    assert data.Source.from_attrs(attrs).table == "orders"


def test_password_never_shown():
    src = data.read_source({"url": "postgresql://analyst:secret@db.example/crm", "table": "orders",
                            "columns": {"customer_id": "c", "order_id": "o", "order_ts": "d", "amount": "a"}})
    assert "secret" not in src.where and "***" in src.where
    assert "secret" not in str(data.describe(src))


def test_a_remote_path_needs_the_spark_engine(tmp_path):
    import yaml

    doc = {"name": "lake", "path": "s3://bucket/orders/", "columns": {"customer_id": "c"}}
    (tmp_path / "lake.yml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ParameterError, match="remote path needs the Spark engine") as err:
        data.read_source(tmp_path / "lake.yml")
    assert "engine: spark" in str(err.value) and "lake.yml" in str(err.value)
    doc["engine"] = "spark"
    doc["columns"] = {c: c for c in ("customer_id", "order_id", "order_ts", "product_id", "quantity", "unit_price")}
    (tmp_path / "lake.yml").write_text(yaml.safe_dump(doc))
    src = data.read_source(tmp_path / "lake.yml")
    assert str(src.path) == "s3://bucket/orders/" and src.where == "s3://bucket/orders/"
