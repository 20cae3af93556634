"""crmlab: a Jupyter research and strategy workbench for customer relationship management.

Modules are named after the CRM job they do; import the one you need::

    from crmlab import data, segments, customers, basket, retention, ltv, campaign, strategy

``crmlab.report`` renders notebooks into reports and ``crmlab.cli`` is the ``crmlab``
command. Submodules load on first use, so ``import crmlab`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from crmlab import _memory
from crmlab.errors import CrmlabError, DataError, ParameterError, RenderError

__version__ = "0.1.0"

_memory.apply()  # allocator defaults measured on large loads (see crmlab._memory)

_MODULES = (
    "config", "data", "segments", "customers", "basket", "retention", "ltv", "campaign",
    "strategy", "report", "privacy", "i18n", "plots", "results", "errors", "cli",
)

__all__ = ["CrmlabError", "DataError", "ParameterError", "RenderError", "__version__", *_MODULES]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"crmlab.{name}")
    raise AttributeError(f"module 'crmlab' has no attribute {name!r}")
