"""Customer data in, one canonical transaction table out.

Every analysis in crmlab starts from the same table, one row per order line:

==============  ==============================================================
customer_id     string, ``<NA>`` when the customer is unknown
order_id        string (invoice / basket / receipt number)
order_ts        datetime64[ns]
product_id      string (SKU, stock code)
product_name    string
quantity        float64
unit_price      float64
amount          float64, ``quantity * unit_price`` (line revenue)
is_cancellation bool, the line belongs to a cancellation invoice
country         string (optional in the source)
channel         string (optional: online, store, call centre ...)
category        string (optional: product category)
==============  ==============================================================

Where things live (a new reader goes into :mod:`crmlab.data.read`):

- :mod:`~crmlab.data.schema`: the canonical columns and :class:`ColumnMap`;
- :mod:`~crmlab.data.read`: CSV / Parquet / Excel / SQL readers;
- :mod:`~crmlab.data.parse`: mapping source columns onto the canonical ones;
- :mod:`~crmlab.data.source`: source files (YAML) and :func:`load_source`, the front door;
- :mod:`~crmlab.data.load`: :func:`load_transactions` for code that maps columns itself;
- :mod:`~crmlab.data.clean`: audited cleaning and the report-date cut-off;
- :mod:`~crmlab.data.quality`: the data-quality summary;
- :mod:`~crmlab.data.frames`: row counts and totals of a pandas or a Spark DataFrame;
- :mod:`~crmlab.data.identity`: channels and one identity per customer;
- :mod:`~crmlab.data.samples`: the embedded e-mail test and basket lists.
"""

from crmlab.columns import require_columns
from crmlab.data.clean import CLEANING_STEPS, CleanResult, before, clean
from crmlab.data.frames import distinct_count, first_last, n_rows, to_pandas, total
from crmlab.data.identity import combine_channels, unify_identities
from crmlab.data.load import load_transactions
from crmlab.data.quality import DataQuality, quality_summary
from crmlab.data.samples import HILLSTROM_COLUMNS, load_groceries, load_hillstrom
from crmlab.data.read import read_table
from crmlab.data.schema import CANONICAL, PRESETS, REQUIRED, ColumnMap
from crmlab.data.source import SOURCE_KEYS, Source, describe, load_source, read_source, shipped_sources

__all__ = [
    "CANONICAL", "REQUIRED", "PRESETS", "ColumnMap", "load_transactions", "require_columns",
    "CLEANING_STEPS", "CleanResult", "clean", "before", "n_rows", "total", "distinct_count",
    "first_last", "to_pandas", "DataQuality", "quality_summary",
    "Source", "SOURCE_KEYS", "read_source", "load_source", "shipped_sources", "describe", "read_table",
    "HILLSTROM_COLUMNS", "load_hillstrom", "load_groceries", "combine_channels", "unify_identities",
]
