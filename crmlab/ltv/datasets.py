"""Reference data for the purchase models: the CDNOW master transaction log.

The file ships in the project's ``data/`` folder (source, licence and checksum in
``data/README.md``); it is the copy distributed with the lifetimes package, which crmlab no
longer needs at run time.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crmlab import config
from crmlab.errors import DataError

__all__ = ["cdnow_master_path", "load_cdnow_master"]

_CDNOW_MASTER = "cdnow_master.txt.gz"


def cdnow_master_path() -> Path:
    """Path of the CDNOW master file in ``data/``.

    Returns
    -------
    pathlib.Path
        ``data/cdnow_master.txt.gz`` (gzip of lifetimes' ``CDNOW_master.txt``).
    """
    return config.DATA_DIR / _CDNOW_MASTER


def load_cdnow_master() -> pd.DataFrame:
    """The CDNOW master transaction log (69,659 transactions of 23,570 customers, 1997-01-01
    to 1998-06-30) in crmlab's canonical columns.

    Returns
    -------
    pandas.DataFrame
        Columns customer_id (int), order_ts (datetime64[ns]), quantity and amount (float).

    Raises
    ------
    DataError
        The file is missing from ``data/``.
    """
    path = cdnow_master_path()
    if not path.exists():
        raise DataError("the CDNOW master file is missing", value=str(path),
                        fix="restore data/cdnow_master.txt.gz from the repository")
    raw = pd.read_csv(path, sep=r"\s+", skiprows=1, header=None,
                      names=["customer_id", "date", "quantity", "amount"],
                      dtype={"customer_id": "int64", "date": "str", "quantity": "float64", "amount": "float64"})
    return pd.DataFrame({
        "customer_id": raw["customer_id"].to_numpy(),
        "order_ts": pd.to_datetime(raw["date"], format="%Y%m%d").astype("datetime64[ns]"),
        "quantity": raw["quantity"],
        "amount": raw["amount"],
    })
