"""What the data is: size, coverage, missing values and the cleaning audit."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab.data.clean import CleanResult
from crmlab.results import Result, display_table, to_jsonable
from crmlab.spark.session import is_spark_frame

class DataQuality(Result):
    """What the data is: size, coverage, missing values and the cleaning audit.

    Parameters
    ----------
    overview : pandas.DataFrame
        One ``value`` column indexed by measure (source, rows, customers, ...).
    missing : pandas.DataFrame
        Per input column: ``missing`` count and ``share`` of rows.
    audit : pandas.DataFrame or None
        The cleaning audit (:attr:`CleanResult.audit`), or None when not cleaned.

    Attributes
    ----------
    overview : pandas.DataFrame
        As given; also the :attr:`summary`.
    missing : pandas.DataFrame
        As given.
    audit : pandas.DataFrame or None
        As given.
    """

    title = "Data quality"

    def __init__(self, overview: pd.DataFrame, missing: pd.DataFrame, audit: pd.DataFrame | None) -> None:
        self.overview = overview
        self.missing = missing
        self.audit = audit

    @property
    def summary(self) -> pd.DataFrame:
        return self.overview

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(dict(zip(self.overview.index, self.overview["value"])))

    def _repr_html_(self) -> str:
        parts = [
            "<h4>Data quality</h4>",
            display_table(self.overview),
            "<h5>Missing values per column</h5>",
            self.missing.to_html(escape=True, float_format=lambda x: f"{x:.2%}"),
        ]
        if self.audit is not None:
            parts += ["<h5>Cleaning audit</h5>", display_table(self.audit)]
        return "".join(parts)


def quality_summary(tx: pd.DataFrame, cleaned: CleanResult | None = None) -> DataQuality:
    """Rows, customers, orders, products, date range, revenue; missing values; cleaning audit.

    Parameters
    ----------
    tx : pandas.DataFrame
        Canonical transactions, raw or cleaned (needs order_ts, customer_id, order_id,
        product_id and amount).
    cleaned : CleanResult, optional
        The result of :func:`crmlab.data.clean` on ``tx``; adds rows and customers after
        cleaning and the cleaning audit.

    Returns
    -------
    DataQuality
    """
    if is_spark_frame(tx):
        from crmlab.spark.clean import quality_summary as spark_quality

        return spark_quality(tx, cleaned)
    ts = tx["order_ts"]
    overview = pd.DataFrame(
        {
            "value": [
                tx.attrs.get("source", ""),
                len(tx),
                int(tx["customer_id"].nunique()),
                int(tx["order_id"].nunique()),
                int(tx["product_id"].nunique()),
                int(tx["is_cancellation"].sum()) if "is_cancellation" in tx else 0,
                int(tx["customer_id"].isna().sum()),
                ts.min().date().isoformat() if len(ts) else None,
                ts.max().date().isoformat() if len(ts) else None,
                float(tx["amount"].sum()),
            ]
            + ([len(cleaned.data), int(cleaned.data["customer_id"].nunique())] if cleaned is not None else [])
        },
        index=[
            "source",
            "rows",
            "customers",
            "orders",
            "products",
            "cancellation_rows",
            "rows_without_customer",
            "first_date",
            "last_date",
            "revenue",
        ]
        + (["rows_after_cleaning", "customers_after_cleaning"] if cleaned is not None else []),
    )
    missing = pd.DataFrame({"missing": tx.isna().sum(), "share": tx.isna().mean()})
    return DataQuality(overview, missing, cleaned.audit if cleaned is not None else None)
