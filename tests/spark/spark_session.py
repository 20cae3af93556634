"""The one SparkSession the Spark tests share, and the data sets they read (loaded once).

Not a conftest: each test module imports what it needs from here. Run the Spark tests in
one process (``pytest -n 2 --dist loadgroup``: they are marked ``xdist_group("spark")``) so
they start one JVM.
"""

from __future__ import annotations

from functools import lru_cache

import pytest

pyspark = pytest.importorskip("pyspark")

SPARK = pytest.mark.xdist_group("spark")


@lru_cache(maxsize=None)
def spark():
    """A local[2] session for the whole test run."""
    from crmlab.spark.session import get_or_create

    return get_or_create("local[2]", app_name="crmlab-tests")


@lru_cache(maxsize=None)
def spark_source(name, as_of: str | None = None):
    """A source (shipped name or source file) read by Spark, cached in memory, once a test run
    (module fixtures are set up again when xdist interleaves two modules of the group)."""
    from crmlab.spark.data import attrs_of, load_source, set_attrs

    spark()
    sdf = load_source(name, as_of=as_of)
    cached = sdf.cache()
    cached.count()
    return set_attrs(cached, **attrs_of(sdf))


@lru_cache(maxsize=None)
def pandas_source(name: str):
    """The same source read by pandas."""
    from crmlab import data

    return data.load_source(name)
