"""One place for paths.

Every path crmlab reads or writes is built here from the project root, so notebooks, the
command-line tool and tests agree on where data and reports live. ``CRMLAB_REPORTS_DIR``
moves rendered output elsewhere (tests use it to keep the working tree clean).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
NOTEBOOKS_DIR = ROOT / "notebooks"


def reports_dir() -> Path:
    """Where rendered reports go (``reports/`` unless ``CRMLAB_REPORTS_DIR`` is set).

    Read from the environment on every call, so setting the variable later takes effect.

    Returns
    -------
    pathlib.Path
    """
    return Path(os.environ.get("CRMLAB_REPORTS_DIR", ROOT / "reports"))


ONLINE_RETAIL = DATA_DIR / "online_retail.csv.gz"
HILLSTROM = DATA_DIR / "hillstrom.csv.gz"
GROCERIES = DATA_DIR / "groceries.csv"
