"""Fixtures shared by the crmlab.ltv tests: CDNOW summaries (from lifetimes, the reference),
the CDNOW master log (from data/) and a hand-made log."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlab import ltv


@pytest.fixture(scope="module")
def cdnow():
    """CDNOW sample summary: 2,357 customers, 39-week calibration, time in weeks."""
    datasets = pytest.importorskip("lifetimes.datasets")
    return datasets.load_cdnow_summary(index_col=[0])


@pytest.fixture(scope="module")
def cdnow_money():
    datasets = pytest.importorskip("lifetimes.datasets")
    return datasets.load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def master():
    return ltv.load_cdnow_master()


@pytest.fixture
def toy():
    """Hand-made log. Customer A: 2011-01-03 (Mon) 10, 2011-01-05 (Wed) 5, 2011-01-12 20,
    2011-02-14 30. Customer B: 2011-01-10 40 only. Customer C: 2011-02-01 8, 2011-02-20 12
    (after the calibration end 2011-02-01) and 2011-03-01 (after the observation end)."""
    rows = [
        ("A", "2011-01-03", 10.0), ("A", "2011-01-05", 5.0), ("A", "2011-01-12", 20.0),
        ("A", "2011-02-14", 30.0), ("B", "2011-01-10", 40.0), ("C", "2011-02-01", 8.0),
        ("C", "2011-02-20", 12.0), ("C", "2011-03-01", 99.0),
    ]
    return pd.DataFrame({"customer_id": pd.array([r[0] for r in rows], dtype="string"),
                         "order_ts": pd.to_datetime([r[1] for r in rows]),
                         "amount": [r[2] for r in rows]})
