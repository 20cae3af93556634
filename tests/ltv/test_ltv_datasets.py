"""crmlab.ltv.datasets: the CDNOW master log ships in data/ and needs no lifetimes at run time."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from crmlab import config, ltv


def test_cdnow_master_from_data_dir(master):
    """69,659 transactions of 23,570 customers, 1997-01-01 .. 1998-06-30, read from data/;
    the checksum is the one data/README.md records."""
    assert ltv.cdnow_master_path().parent == config.DATA_DIR
    assert master.shape == (69659, 4)
    assert master["customer_id"].nunique() == 23570
    assert str(master["order_ts"].min().date()) == "1997-01-01"
    assert str(master["order_ts"].max().date()) == "1998-06-30"
    digest = hashlib.sha256(ltv.cdnow_master_path().read_bytes()).hexdigest()
    assert f"{digest}  cdnow_master.txt.gz" in (config.DATA_DIR / "README.md").read_text()


def test_cdnow_master_is_the_lifetimes_file():
    """The shipped copy is byte for byte the file lifetimes distributes."""
    import gzip

    lifetimes = pytest.importorskip("lifetimes")
    from pathlib import Path

    original = Path(lifetimes.__file__).resolve().parent / "datasets" / "CDNOW_master.txt"
    assert gzip.decompress(ltv.cdnow_master_path().read_bytes()) == original.read_bytes()


def test_ltv_runs_without_lifetimes():
    """Importing crmlab.ltv and loading CDNOW does not import lifetimes."""
    code = ("import sys; from crmlab import ltv; tx = ltv.load_cdnow_master(); "
            "s = ltv.summary(tx, unit='W'); ltv.BGNBD().fit(s); assert 'lifetimes' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(config.ROOT))
