"""Shared test helpers: run a notebook through papermill like the renderer does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from crmlab import config, ltv

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def run_notebook(tmp_path):
    """Execute ``notebooks/<name>`` with parameters; return (executed notebook, metrics)."""
    import papermill as pm

    from crmlab.report import collect_metrics

    def _run(name: str, **params):
        out = tmp_path / f"{Path(name).stem}.out.ipynb"
        nb = pm.execute_notebook(
            str(config.NOTEBOOKS_DIR / name),
            str(out),
            parameters=params,
            kernel_name="python3",
            cwd=str(config.NOTEBOOKS_DIR),
            progress_bar=False,
        )
        return nb, collect_metrics(nb)

    return _run


#: sentences that describe the demo data; none may appear in a report on other data
DEMO_PHRASES = ("UK gift retailer", "gift retailer", "same design in different colours", "wholesalers",
                "United Kingdom", "Online Retail")


def report_text(nb) -> str:
    """Everything an executed notebook shows: markdown cells, HTML, Markdown and text outputs, streams."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            for key in ("text/html", "text/markdown", "text/plain"):
                if key in out.get("data", {}):
                    parts.append(str(out["data"][key]))
            if out.get("output_type") == "error":
                parts.append("Traceback " + out.get("ename", ""))
    return "\n".join(parts)


def assert_clean_report(nb, *, demo: bool = False) -> None:
    """No traceback, missing glyph, NaN or scientific notation; no demo sentence on other data."""
    import re

    shown = [c.outputs for c in nb.cells if "job-parameters" in c.metadata.get("tags", []) and c.get("outputs")]
    assert not shown, f"the job-parameters cell shows output: {shown[0]}"  # a bare {} at the report's top
    text = report_text(nb)
    for bad in ("Traceback", "Glyph", "NaN"):
        assert bad not in text, bad
    sci = re.findall(r"(?<![\w.])\d\.\d+e[-+]\d\d(?!\w)", text)
    assert not sci, sci[:3]
    if not demo:
        found = [p for p in DEMO_PHRASES if p in text]
        assert not found, found


# ---- fixtures of the crmlab.ltv tests: CDNOW summaries (lifetimes, the reference), the CDNOW
# master log (data/) and a hand-made log. One conftest for the whole suite: a second file named
# conftest would shadow this one for `from conftest import ...`.


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
