"""Shared test helpers: run a notebook through papermill like the renderer does."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmlab import config

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
