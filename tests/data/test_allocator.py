"""crmlab's allocator defaults (crmlab._memory): set on import, never over a user's own setting.

The time and memory they save are measured in bench/bench_data.py (no test times anything);
these tests pin what is set and who decides: crmlab when nothing is set, the user otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from crmlab import _memory

_VARS = ("_RJEM_MALLOC_CONF", "ARROW_DEFAULT_MEMORY_POOL")
_SHOW = ("import json, os, sys\n{first}import crmlab\nimport pyarrow as pa\n"
         "print(json.dumps([os.environ.get('_RJEM_MALLOC_CONF'), os.environ.get('ARROW_DEFAULT_MEMORY_POOL'),"
         " pa.default_memory_pool().backend_name, 'polars' in sys.modules]))")


def _child(first: str = "", **preset: str) -> list:
    env = {k: v for k, v in os.environ.items() if k not in _VARS}
    env.update(preset)
    out = subprocess.run([sys.executable, "-c", _SHOW.format(first=first)], env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_import_sets_both_defaults_when_unset():
    assert _memory.POLARS_MALLOC_CONF == "dirty_decay_ms:0" and _memory.ARROW_MEMORY_POOL == "system"
    assert _child() == ["dirty_decay_ms:0", "system", "system", False]


def test_arrow_pool_is_switched_when_pandas_came_first():
    """pandas imports pyarrow, which picks its pool on import: crmlab switches it afterwards."""
    assert _child(first="import pandas\n")[2] == "system"


def test_a_users_settings_are_kept():
    got = _child(_RJEM_MALLOC_CONF="narenas:2", ARROW_DEFAULT_MEMORY_POOL="mimalloc")
    assert got == ["narenas:2", "mimalloc", "mimalloc", False]


def test_an_empty_polars_setting_keeps_polars_own_default():
    assert _child(_RJEM_MALLOC_CONF="")[0] == ""


def test_crmlab_does_not_import_polars_itself():
    """polars' setting takes effect only if polars starts after it: the reader imports polars
    when a CSV is read, not ``import crmlab`` or its data and segment modules."""
    code = "import crmlab, crmlab.data, crmlab.segments, sys; print('polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
