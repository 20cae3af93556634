"""Rendering overhead: what crmlab adds around a notebook's own work.

``make report`` must render every notebook in under 3 minutes, so the cost per notebook
(kernel start, papermill, HTML export, writing the report directory) has to stay small.
The notebook here is the tiny test fixture (pandas, a matplotlib figure, a table), so the
figures are almost all overhead.

    python bench/bench_report.py --repeats 3
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import case, main  # noqa: E402

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "nb_ok.ipynb"


def _notebooks(n: int) -> tuple[Path, Path]:
    work = Path(tempfile.mkdtemp(prefix="crmlab-bench-"))
    atexit.register(shutil.rmtree, work, True)
    nbs = work / "notebooks"
    nbs.mkdir()
    for i in range(n):
        shutil.copy(FIXTURE, nbs / f"{i + 1:02d}-toy.ipynb")
    return nbs, work / "reports"


def _render_one(state):
    from crmlab import report

    nbs, root = state
    result = report.render(nbs / "01-toy.ipynb", output_root=root)
    assert result.ok, result.error
    return {"notebook_s": round(result.seconds, 2)}


def _html_only_setup():
    import nbformat

    from crmlab import report

    nbs, root = _notebooks(1)
    result = report.render(nbs / "01-toy.ipynb", output_root=root)
    return nbformat.read(str(result.path / "notebook.ipynb"), as_version=4)


def _html_only(nb):
    from crmlab import report

    for _ in range(10):
        report.notebook_to_html(nb, title="toy")
    return {"exports": 10}


def _batch(jobs: int):
    def run(state):
        from crmlab import report

        nbs, root = state
        batch = report.render_batch(all_notebooks=True, notebooks_dir=nbs, output_root=root,
                                    jobs=jobs, progress=False)
        assert batch.ok
        return {"notebooks": len(batch.results)}

    return run


case("render_one_small_notebook", lambda: _notebooks(1), _render_one,
     target="a few seconds: kernel start + export, the notebook itself is trivial")
case("html_export_x10", _html_only_setup, _html_only, target="well under 1 s per report")
case("render_all_4_sequential", lambda: _notebooks(4), _batch(1),
     target="4 x single-notebook cost")
case("render_all_4_jobs2", lambda: _notebooks(4), _batch(2),
     target="faster than sequential on 2 idle cores")

if __name__ == "__main__":
    main()
