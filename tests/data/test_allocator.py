"""crmlab's default for polars' allocator: set on import, never over a user's own setting.

The memory it saves is measured in bench/bench_data.py (peak memory is not a test's business);
these tests pin who decides: crmlab when nothing is set, the user otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys

import crmlab

_SHOW = "import crmlab, os; print(repr(os.environ.get('_RJEM_MALLOC_CONF')))"


def _child(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    if env_value is not None:
        env["_RJEM_MALLOC_CONF"] = env_value
    return subprocess.run([sys.executable, "-c", _SHOW], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_import_sets_the_default_when_unset():
    assert _child(None) == repr("dirty_decay_ms:0") == repr(crmlab.POLARS_MALLOC_CONF)


def test_a_users_setting_is_kept():
    assert _child("narenas:2") == repr("narenas:2")


def test_an_empty_setting_keeps_polars_own_default():
    assert _child("") == repr("")


def test_polars_reads_after_the_setting():
    """The setting takes effect only if polars' allocator starts after it: crmlab must not
    import polars on its own import (the reader imports it when a CSV is read)."""
    code = "import crmlab, crmlab.data, crmlab.segments, sys; print('polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
