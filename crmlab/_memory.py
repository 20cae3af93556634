"""Allocator settings crmlab applies when it is imported.

crmlab's heavy data work runs in two native libraries with their own allocators: polars reads
large CSVs (its bundled jemalloc) and pandas' Arrow-backed columns live in pyarrow's memory
pool. Both defaults were measured on 5.4 M order lines (load + clean + RFM,
``bench/bench_data.py``) and changed where they cost time or memory:

- polars' jemalloc keeps freed pages resident for about a second. The polars frame a CSV is
  read into (0.93 GB) was still counted while its Arrow copy and the mapping's arrays were
  made: peak 1.96-2.19 GB. Returning freed pages at once (``dirty_decay_ms:0``): 1.64-1.74 GB,
  same wall time. polars reads ``_RJEM_MALLOC_CONF`` once, when it is first imported.
- pyarrow's default pool (mimalloc) made the mapping, cleaning and RFM slower than the C
  library's ``malloc``: in six alternating pairs of whole runs the system pool was faster in
  every pair, median 3.48 s against 3.90 s (CPU 5.25 s against 5.9 s: fewer page faults), with
  the same peak (+8 MB). Rows selected from text columns (Arrow ``take``) gain the most.

A setting the user made wins: ``_RJEM_MALLOC_CONF`` (an empty value keeps polars' default) and
``ARROW_DEFAULT_MEMORY_POOL`` (pyarrow's own variable) are left as they are. The variables are
also what the processes crmlab starts (report kernels) inherit. Import crmlab before polars for
the first setting to apply; the Arrow pool is switched even when pyarrow is already loaded.
"""

from __future__ import annotations

import os
import sys

#: jemalloc options for polars' allocator.
POLARS_MALLOC_CONF = "dirty_decay_ms:0"
#: pyarrow's default memory pool (a name ``ARROW_DEFAULT_MEMORY_POOL`` takes, with a
#: ``pyarrow.<name>_memory_pool`` function).
ARROW_MEMORY_POOL = "system"


def apply() -> None:
    """Set crmlab's allocator defaults where the user has not chosen (see the module docstring)."""
    os.environ.setdefault("_RJEM_MALLOC_CONF", POLARS_MALLOC_CONF)
    if "ARROW_DEFAULT_MEMORY_POOL" in os.environ:  # the user's choice; pyarrow reads it itself
        return
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = ARROW_MEMORY_POOL  # read by pyarrow when first imported
    pa = sys.modules.get("pyarrow")
    if pa is not None:  # already imported (pandas imports it): switch its default pool now
        pa.set_memory_pool(getattr(pa, f"{ARROW_MEMORY_POOL}_memory_pool")())
