"""The notebooks on a Spark source: every crmlab call they make on the order table, Spark against
pandas on the Online Retail sample; the rendered notebooks' published numbers against the pandas
render (slow: make test-all); the notebooks that cannot run on Spark refused up front."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
import yaml
from spark_session import SPARK, spark, spark_source

from crmlab import basket, customers, data, dates, ltv, retention, segments

from conftest import FIXTURES

pytestmark = [SPARK, pytest.mark.spark]
SAMPLE = FIXTURES / "online_retail_sample.yml"
AS_OF = "2011-10-01"


@lru_cache(maxsize=None)
def _both():
    tx = data.clean(data.load_source(SAMPLE, as_of=AS_OF)).data
    sdf = data.clean(spark_source(SAMPLE, AS_OF)).data.cache()
    return tx, sdf


@pytest.fixture(scope="module")
def both():
    """The cleaned sample before AS_OF, as pandas and as Spark (cached) DataFrames."""
    return _both()


def test_row_count_and_total_read_both_engines(both):
    tx, sdf = both
    assert data.n_rows(sdf) == data.n_rows(tx) > 1000
    assert data.total(sdf, "amount") == pytest.approx(data.total(tx, "amount"), rel=1e-12)


def test_concentration_equals_pandas(both):
    tx, sdf = both
    ref, got = customers.concentration(tx), customers.concentration(sdf)
    assert got.to_dict() == pytest.approx(ref.to_dict(), rel=1e-12)
    assert len(got.lorenz) == len(ref.lorenz) == tx["customer_id"].nunique() + 1


def test_timing_equals_pandas(both):
    tx, sdf = both
    ref, got = customers.timing(tx), customers.timing(sdf)
    pd.testing.assert_frame_equal(got.heatmap, ref.heatmap, check_dtype=False)
    assert got.to_dict() == ref.to_dict()
    want = ref.preferred
    have = got.preferred.set_axis(got.preferred.index.astype(str)).reindex(want.index.astype(str))
    assert len(have) == len(want)
    for col in ("preferred_weekday", "preferred_hour", "orders"):
        assert (have[col].astype(str).to_numpy() == want[col].astype(str).to_numpy()).all(), col
    np.testing.assert_allclose(have["weekday_share"].to_numpy(float), want["weekday_share"].to_numpy(float))
    assert customers.has_time_of_day(sdf) is customers.has_time_of_day(tx) is True


def test_favourites_and_country_mix_equal_pandas(both):
    tx, sdf = both
    keys = ["customer_id", "rank"]
    ref = customers.favourite_products(tx, k=2).astype({"customer_id": str}).set_index(keys)
    got = customers.favourite_products(sdf, k=2).astype({"customer_id": str}).set_index(keys).reindex(ref.index)
    assert (got["product_id"].astype(str) == ref["product_id"].astype(str)).all()
    np.testing.assert_array_equal(got["orders"].to_numpy(int), ref["orders"].to_numpy(int))
    np.testing.assert_allclose(got["quantity"].to_numpy(float), ref["quantity"].to_numpy(float))
    ref_c, got_c = customers.country_mix(tx, top=5), customers.country_mix(sdf, top=5)
    assert list(got_c.index) == list(ref_c.index)
    pd.testing.assert_frame_equal(got_c, ref_c, check_dtype=False, check_index_type=False)


@pytest.mark.parametrize("period,mode", [("M", "exact"), ("Q", "cumulative")])
def test_cohort_matrix_equals_pandas(both, period, mode):
    tx, sdf = both
    ref = retention.cohort_matrix(tx, period=period, mode=mode)
    got = retention.cohort_matrix(sdf, period=period, mode=mode)
    pd.testing.assert_frame_equal(got.counts, ref.counts)
    pd.testing.assert_frame_equal(got.last_cells, ref.last_cells)
    pd.testing.assert_series_equal(got.average_rates(), ref.average_rates())


def test_churn_table_and_best_customer_retention_equal_pandas(both):
    tx, sdf = both
    for kw in ({}, {"from_date": "2011-06-01"}):
        ref = retention.churn_table(tx, as_of=AS_OF, churn_days=90, **kw)
        got = retention.churn_table(sdf, as_of=AS_OF, churn_days=90, **kw)
        assert len(got) == len(ref) > 100 and got.attrs == ref.attrs
        got = got.set_axis(got.index.astype(str)).reindex(ref.index.astype(str))
        pd.testing.assert_frame_equal(got, ref.set_axis(ref.index.astype(str)), check_dtype=False,
                                      check_index_type=False, rtol=1e-12)
    ref = retention.best_customer_retention(tx, period="Q").table
    got = retention.best_customer_retention(sdf, period="Q").table
    pd.testing.assert_frame_equal(got, ref)


def test_report_date_calibration_cutoff_and_holdout_equal_pandas(both):
    tx, sdf = both
    for as_of in ("2011-09-01", None):
        ref_tx, ref_ts = dates.cutoff(tx, as_of)
        got_tx, got_ts = dates.cutoff(sdf, as_of)
        assert got_ts == ref_ts and got_tx.count() == len(ref_tx)
    for kw in ({"share": 0.7}, {"holdout_days": 60}, {"cutoff": "2011-06-15"}):
        assert ltv.calibration_cutoff(sdf, as_of="2011-09-01", **kw) == ltv.calibration_cutoff(tx, as_of="2011-09-01",
                                                                                                 **kw)
    cut = ltv.calibration_cutoff(tx)
    for unit in ("D", "W"):
        ref = ltv.calibration_holdout(tx, cut, unit=unit)
        got = ltv.calibration_holdout(sdf, cut, unit=unit)
        assert got.attrs == ref.attrs and len(got) == len(ref) > 100
        pd.testing.assert_frame_equal(got.reindex(ref.index), ref, check_index_type=False, rtol=1e-12)


def test_churn_features_and_labels_equal_pandas(both):
    tx, sdf = both
    for cut, days in (("2011-09-01", 90), ("2011-06-15", 30)):
        ref = ltv.churn_features(tx, cut, period_days=days)
        got = ltv.churn_features(sdf, cut, period_days=days)
        assert len(got) == len(ref) > 100 and got["products"].notna().all()
        pd.testing.assert_frame_equal(got.reindex(ref.index), ref, check_index_type=False, rtol=1e-12)
        ref_y = ltv.buy_again_labels(tx, ref.index, cut, days)
        got_y = ltv.buy_again_labels(sdf, ref.index, cut, days)
        pd.testing.assert_series_equal(got_y, ref_y)
        assert 0 < ref_y.sum() < len(ref_y)


def test_offers_and_segment_rules_equal_pandas(both):
    tx, sdf = both
    model = basket.BasketModel(min_support=0.02, min_confidence=0.5).fit(tx)
    ref, got = basket.recommend(model, tx, k=2), basket.recommend(model, sdf, k=2)
    assert got.n_customers == ref.n_customers and len(ref.table) > 50
    pd.testing.assert_frame_equal(got.table, ref.table, check_dtype=False)
    seg = segments.rfm(tx, as_of=AS_OF).table["segment"]
    kw = dict(min_support=0.05, min_confidence=0.5, max_len=3, min_baskets=100)
    ref_s, got_s = basket.rules_by_segment(tx, seg, **kw), basket.rules_by_segment(sdf, seg, **kw)
    pd.testing.assert_frame_equal(got_s.summary, ref_s.summary, check_dtype=False)
    assert len(ref_s.models) >= 1 and ref_s.skipped == got_s.skipped
    ref_o, got_o = (basket.recommend_by_segment(r, frame, seg, k=2) for r, frame in ((ref_s, tx), (got_s, sdf)))
    assert got_o.n_customers == ref_o.n_customers
    pd.testing.assert_frame_equal(got_o.table, ref_o.table, check_dtype=False)


@pytest.fixture(scope="module")
def spark_source_file(tmp_path_factory):
    """The sample as a Parquet file and a source file with ``engine: spark`` beside it."""
    folder = tmp_path_factory.mktemp("spark_source")
    doc = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    raw = data.read_table(SAMPLE.parent / doc["path"])
    raw.to_parquet(folder / "orders.parquet", index=False)
    doc.update(path="orders.parquet", engine="spark")
    (folder / "lake.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return folder / "lake.yml"


def _rendered_metrics(notebook: str, source, root, engine: str, **params) -> dict:
    from crmlab import report

    result = report.render(notebook, {"source": str(source), "as_of": AS_OF, **params}, output_root=root,
                           update_index=False)
    assert result.status == "ok", result.error
    assert result.data.get("engine", "pandas") == engine
    return result.metrics


def _assert_same_numbers(got: dict, want: dict) -> None:
    """Counts, dates, choices and texts equal; numbers to 1e-6 (the purchase models fit the same
    per-customer rows in another order, and their optimiser stops within its tolerance: the
    backtest errors and the CLV differ in the 8th digit; every other number to the last bit)."""
    assert set(got) == set(want)
    for key, value in want.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-12), key
        else:
            assert got[key] == value, key


@pytest.mark.slow  # two renders (about 80 s)
def test_customer_analysis_renders_on_a_spark_source(spark_source_file, tmp_path):
    spark()  # the kernel builds its own local session; this one is the test run's
    want = _rendered_metrics("01-customer-analysis", SAMPLE, tmp_path / "pandas", "pandas")
    got = _rendered_metrics("01-customer-analysis", spark_source_file, tmp_path / "spark", "spark")
    _assert_same_numbers(got, want)
    assert got["rows"] > 10_000 and got["customers"] > 200


@pytest.mark.slow  # two renders (about 2.5 minutes)
def test_strategy_report_renders_on_a_spark_source(spark_source_file, tmp_path):
    spark()
    want = _rendered_metrics("00-strategy-report", SAMPLE, tmp_path / "pandas", "pandas")
    got = _rendered_metrics("00-strategy-report", spark_source_file, tmp_path / "spark", "spark")
    _assert_same_numbers(got, want)
    assert got["customers"] > 200 and got["segments_planned"] > 0


@pytest.mark.slow  # two renders (about 2 minutes: FPGrowth runs once per segment)
def test_market_basket_renders_on_a_spark_source(spark_source_file, tmp_path):
    spark()
    want = _rendered_metrics("02-market-basket", SAMPLE, tmp_path / "pandas", "pandas")
    got = _rendered_metrics("02-market-basket", spark_source_file, tmp_path / "spark", "spark")
    assert got == want and got["rules"] > 100 and got["customers_with_segment_offer"] > 0


@pytest.mark.slow  # two renders (about 3 minutes: the backtest and the churn model run Spark jobs per cut-off)
def test_retention_ltv_renders_on_a_spark_source(spark_source_file, tmp_path):
    spark()
    want = _rendered_metrics("03-retention-ltv", SAMPLE, tmp_path / "pandas", "pandas")
    got = _rendered_metrics("03-retention-ltv", spark_source_file, tmp_path / "spark", "spark")
    _assert_same_numbers(got, want)
    assert got["customers"] > 200 and got["chosen_model"]


@pytest.mark.parametrize("notebook", ["04-campaign-measurement"])
def test_a_notebook_not_on_spark_is_refused_before_its_kernel_starts(spark_source_file, tmp_path, notebook):
    from crmlab import report
    from crmlab.errors import ParameterError

    with pytest.raises(ParameterError, match=f"notebook {notebook} does not run on a Spark source") as err:
        report.render(notebook, {"source": str(spark_source_file)}, output_root=tmp_path, update_index=False)
    assert "\n" not in str(err.value) and "engine: pandas" in str(err.value)
    assert not any(tmp_path.iterdir())  # no report, not even a failed one
