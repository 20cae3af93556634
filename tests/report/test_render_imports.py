"""Rendering imports jsonschema without rfc3987_syntax (2 s of grammar building per process)."""

from __future__ import annotations

import subprocess
import sys


def test_render_tools_import_without_rfc3987_syntax_and_leave_it_importable():
    code = (
        "import sys\n"
        "from crmlab.report.html import import_notebook_tools\n"
        "import_notebook_tools()\n"
        "import nbformat, papermill, nbconvert\n"
        "assert 'jsonschema' in sys.modules\n"
        "print('rfc3987_syntax' in sys.modules)\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1 + 1')])\n"
        "nbformat.validate(nb)\n"  # notebook validation still works
        "import importlib.util\n"
        "installed = importlib.util.find_spec('rfc3987_syntax') is not None\n"
        "try:\n"
        "    import rfc3987_syntax\n"
        "    print('importable' if installed else 'odd')\n"
        "except ImportError:\n"
        "    print('blocked' if installed else 'not-installed')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "False"  # not loaded by the notebook tools
    assert out[1] in ("importable", "not-installed")  # not left blocked for the rest of the process
