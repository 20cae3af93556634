"""A batch worker's notebooks share one kernel, reset to a new kernel's state in between.

Checked by what the notebooks publish: the kernel's process ID (shared or not), and what a
previous notebook changed (a variable, matplotlib settings, warning filters, the working
folder, the environment, the cell counter) as seen by the next one.
"""

from __future__ import annotations

import os

import nbformat
import pytest

from crmlab import report

#: Changes everything a notebook could leave behind in its kernel.
LITTER = """
import os, warnings
import matplotlib
leftover = 41
matplotlib.rcParams["lines.linewidth"] = 7.5
warnings.simplefilter("error")
os.environ["CRMLAB_LEFTOVER"] = "yes"
os.chdir("/")
"""

#: Publishes what it sees of the kernel.
LOOK = """
import os, warnings
import matplotlib
from crmlab.report import publish_metrics
publish_metrics(pid=os.getpid(), linewidth=float(matplotlib.rcParams["lines.linewidth"]),
                filters=len(warnings.filters), env=os.environ.get("CRMLAB_LEFTOVER", "-"),
                cwd=os.path.basename(os.getcwd()), tables=os.environ.get("CRMLAB_TABLES_DIR", "-")[-40:],
                leftover="leftover" in globals(), count=get_ipython().execution_count)
"""


#: Draws a figure the way the reports do: pyplot, no explicit display (the inline backend shows it).
FIGURE = """
import matplotlib
import matplotlib.pyplot as plt
plt.subplots()[1].plot([1, 2, 3])
"""

INTERACTIVE = """
from crmlab.report import publish_metrics
publish_metrics(interactive=bool(matplotlib.is_interactive()), dpi=float(matplotlib.rcParams["figure.dpi"]))
"""


def _notebook(folder, name, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["crmlab"] = {"dated": False}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return str(path)


@pytest.fixture()
def books(tmp_path):
    folder = tmp_path / "books"
    folder.mkdir()
    return {
        "look1": _notebook(folder, "look1", LOOK),
        "litter": _notebook(folder, "litter", LITTER, LOOK),
        "look2": _notebook(folder, "look2", LOOK),
        "uses": _notebook(folder, "uses", "print(leftover)"),
        "fails": _notebook(folder, "fails", "raise ValueError('on purpose')"),
        "fig1": _notebook(folder, "fig1", FIGURE, INTERACTIVE),
        "fig2": _notebook(folder, "fig2", FIGURE, INTERACTIVE),
    }


def _metrics(batch):
    return {r.name: r.metrics for r in batch.results}


def test_notebooks_of_a_worker_share_a_kernel_reset_between_them(books, tmp_path):
    batch = report.render_batch([books["look1"], books["litter"], books["look2"], books["uses"]],
                                output_root=tmp_path / "out", jobs=1, progress=False)
    m = _metrics(batch)
    assert m["look1"]["pid"] == m["litter"]["pid"] == m["look2"]["pid"]  # one kernel
    fresh, littered, after = m["look1"], m["litter"], m["look2"]
    assert littered["linewidth"] == 7.5 and littered["env"] == "yes" and littered["cwd"] == ""
    assert littered["leftover"] is True
    # what the litter notebook changed is gone for the next one
    for key in ("linewidth", "filters", "env", "cwd", "leftover", "count"):
        assert after[key] == fresh[key], key
    assert fresh["cwd"] == "books"
    assert after["tables"] != fresh["tables"] and after["tables"].endswith("tables")  # the job's own
    # a name defined by an earlier notebook does not exist in the next: it fails as alone
    uses = next(r for r in batch.results if r.name == "uses")
    assert uses.status == "failed" and "NameError" in uses.error
    assert "cell 1" in uses.error  # the cell counter starts again


def _images(result):
    import nbformat

    nb = nbformat.read(str(result.path / "notebook.ipynb"), as_version=4)
    return sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


def test_every_notebook_of_a_kept_kernel_shows_its_figures(books, tmp_path):
    """The inline backend still shows figures after a reset: matplotlib's settings are restored to
    those of a new kernel *after* pyplot's import (interactive mode on), not before it."""
    kept = report.render_batch([books["fig1"], books["fig2"]], output_root=tmp_path / "kept", jobs=1,
                               progress=False)
    fresh = report.render_batch([books["fig2"]], output_root=tmp_path / "fresh", jobs=1, progress=False)
    assert kept.ok and fresh.ok
    assert [_images(r) for r in kept.results] == [1, 1] == [1, _images(fresh.results[0])]
    assert kept.results[1].metrics == kept.results[0].metrics == fresh.results[0].metrics


def test_fresh_kernels_and_failures_get_new_kernels(books, tmp_path):
    batch = report.render_batch([books["look1"], books["fails"], books["look2"]], output_root=tmp_path / "a",
                                jobs=1, progress=False)
    m = _metrics(batch)
    assert [r.status for r in batch.results] == ["ok", "failed", "ok"]
    assert m["look1"]["pid"] != m["look2"]["pid"]  # a failed notebook's kernel is not handed on
    fresh = report.render_batch([books["look1"], books["look2"]], output_root=tmp_path / "b", jobs=1,
                                progress=False, fresh_kernels=True)
    m = _metrics(fresh)
    assert m["look1"]["pid"] != m["look2"]["pid"]


def test_workers_shut_their_kernels_down(books, tmp_path):
    batch = report.render_batch([books["look1"], books["look2"], books["litter"]], output_root=tmp_path,
                                jobs=2, progress=False)
    pids = {r.metrics["pid"] for r in batch.results}
    assert batch.ok and 1 <= len(pids) <= 2
    for pid in pids:  # no kernel left running after the batch
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
