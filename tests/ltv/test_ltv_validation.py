"""crmlab.ltv.validation: holdout check and model choice on CDNOW master."""

from __future__ import annotations

import numpy as np
import pytest

from crmlab import ltv


def test_holdout_check_and_model_choice(master):
    """Holdout on CDNOW master (weeks, calibration to 1997-09-30): per-frequency table adds
    up to all customers; predicted totals within 25% of actual; the comparison picks the
    model with the lowest per-customer MAE."""
    ch = ltv.calibration_holdout(master, "1997-09-30", unit="W")
    cmp = ltv.compare_models(ch)
    assert set(cmp.table.index) == {"BG/NBD", "Pareto/NBD", "MBG/NBD"}
    assert cmp.best_name == cmp.table["mae"].idxmin()
    chk = cmp.checks["BG/NBD"]
    assert chk.by_frequency["customers"].sum() == len(ch)
    assert abs(chk.total_predicted / chk.total_actual - 1) < 0.25
    assert chk.correlation > 0.5
    manual = np.mean(np.abs(ch["frequency_holdout"] - cmp.models["BG/NBD"].expected_purchases(39, ch)))
    assert chk.mae == pytest.approx(manual, rel=1e-10)
    import matplotlib

    matplotlib.use("Agg")
    ax = chk.plot()
    assert len(ax.lines) == 2
    assert "<table" in cmp._repr_html_()
