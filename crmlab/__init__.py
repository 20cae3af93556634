"""crmlab: a Jupyter research and strategy workbench for customer relationship management."""

from crmlab.errors import CrmlabError, DataError, ParameterError, RenderError

__version__ = "0.1.0"

__all__ = ["CrmlabError", "DataError", "ParameterError", "RenderError", "__version__"]
