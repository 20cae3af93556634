"""Rendering: what crmlab adds around a notebook, and ``make report`` as a whole.

Goals (issue 16): crmlab's per-notebook overhead over plain papermill at most 10 %, and
``crmlab render --all`` (what ``make report`` runs) under 25 s on the embedded data.

Peer pairs, each on the same notebook and the same Jupyter kernel:

- ``render_*``: :func:`crmlab.report.render` (parameter checks, papermill, the HTML report,
  metrics, tables, provenance, atomic publish);
- ``papermill_*``: :func:`papermill.execute_notebook` plus nbconvert's own HTML export of
  the executed notebook (``HTMLExporter``, ``lab`` template), written to a file: the least a
  report needs without crmlab.

The notebooks: the tiny test fixture (almost all overhead) and ``01-customer-analysis`` on
the embedded data (a real report). The batch cases render every ``notebooks/NN-*.ipynb``
in order (``jobs=1``, into an empty folder), through the command line as ``make report``
does (one worker per core: two here; into an empty folder, and again into a folder kept
from the previous repeat, where the last report times order the workers' jobs; once more
without sharing results between the notebooks), and, as their peer, plain papermill plus
nbconvert notebook after notebook.

Wall time and peak memory come from the harness (the peak is the parent process's);
``kernel_cpu_s`` and ``kernel_peak_mb`` add the kernels' CPU time and the largest kernel's
(or worker's) peak resident memory, since the work happens in the kernels.

    python bench/bench_report.py --repeats 5
    python bench/bench_report.py --case render_all_jobs1 --repeats 3
"""

from __future__ import annotations

import atexit
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import case, main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "nb_ok.ipynb"
NOTEBOOKS = ROOT / "notebooks"
REAL = NOTEBOOKS / "01-customer-analysis.ipynb"


def _work() -> Path:
    work = Path(tempfile.mkdtemp(prefix="crmlab-bench-"))
    atexit.register(shutil.rmtree, work, True)
    return work


def _children() -> tuple[float, float]:
    """CPU seconds of the waited-for child processes (kernels, workers) and the largest
    child's peak resident memory in MB."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime, r.ru_maxrss / 1024


def _with_children(figures: dict, cpu0: float) -> dict:
    cpu, peak = _children()
    return {**figures, "kernel_cpu_s": round(cpu - cpu0, 2), "kernel_peak_mb": round(peak)}


def _toy() -> tuple[Path, Path]:
    work = _work()
    (work / "notebooks").mkdir()
    shutil.copy(FIXTURE, work / "notebooks" / "01-toy.ipynb")
    return work / "notebooks" / "01-toy.ipynb", work / "reports"


def _real() -> tuple[Path, Path]:
    return REAL, _work() / "reports"


def _render(state):
    from crmlab import report

    notebook, root = state
    cpu0 = _children()[0]
    result = report.render(notebook, output_root=root)
    assert result.ok, result.error
    return _with_children({"notebook_s": round(result.seconds, 2)}, cpu0)


def _papermill_html(notebook: Path, out_dir: Path) -> None:
    """Plain papermill and nbconvert: execute, then export the HTML page."""
    import papermill as pm
    from nbconvert import HTMLExporter

    from crmlab.report.render import kernel_name

    out_dir.mkdir(parents=True, exist_ok=True)
    nb = pm.execute_notebook(str(notebook), str(out_dir / "notebook.ipynb"), parameters={},
                             kernel_name=kernel_name(), cwd=str(notebook.parent),
                             progress_bar=False, log_output=False)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    (out_dir / "report.html").write_text(body, encoding="utf-8")


def _papermill(state):
    notebook, root = state
    cpu0 = _children()[0]
    _papermill_html(notebook, root / notebook.stem)
    return _with_children({}, cpu0)


def _batch(jobs: int):
    def run(state):
        from crmlab import report

        cpu0 = _children()[0]
        batch = report.render_batch(all_notebooks=True, notebooks_dir=NOTEBOOKS, output_root=state,
                                    jobs=jobs, progress=False)
        assert batch.ok, [r.error for r in batch.failed]
        return _with_children({"notebooks": len(batch.results),
                               **{r.name[:2] + "_s": round(r.seconds, 1) for r in batch.results}}, cpu0)

    return run


def _cli(state, *flags: str):
    """``crmlab render --all`` as ``make report`` runs it (the command line's default jobs)."""
    cpu0 = _children()[0]
    proc = subprocess.run([sys.executable, "-m", "crmlab.cli", "render", "--all", "--no-progress",
                           "--output", str(state), *flags], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return _with_children({"notebooks": proc.stdout.count("ok ")}, cpu0)


def _cli_unshared(state):
    """The same with every notebook computing everything itself (``--no-shared-results``)."""
    return _cli(state, "--no-shared-results")


def _kept_reports() -> Path:
    """One reports folder kept across the repeats of a bench run, as ``reports/`` is kept
    between two ``make report``: from the second repeat on, the last report.json times
    order the parallel batch (longest first)."""
    import os

    return Path(tempfile.gettempdir()) / f"crmlab-bench-kept-reports-{os.getppid()}"


def _papermill_all(state):
    cpu0 = _children()[0]
    notebooks = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    for notebook in notebooks:
        _papermill_html(notebook, state / notebook.stem)
    return _with_children({"notebooks": len(notebooks)}, cpu0)


case("render_toy", _toy, _render, peer="papermill_toy",
     target="overhead over papermill + nbconvert at most 10 % (the toy is almost all overhead)")
case("papermill_toy", _toy, _papermill, target="peer: papermill.execute_notebook + nbconvert HTML")
case("render_01", _real, _render, peer="papermill_01",
     target="overhead over papermill + nbconvert at most 10 %")
case("papermill_01", _real, _papermill, target="peer: papermill.execute_notebook + nbconvert HTML")
case("render_all_jobs1", lambda: _work() / "reports", _batch(1), peer="papermill_all",
     target="every notebook in order; overhead over plain papermill at most 10 %")
case("render_all_cli", lambda: _work() / "reports", _cli, peer="render_all_jobs1",
     target="crmlab render --all into an empty folder (first make report) under 25 s")
case("render_all_cli_rerun", _kept_reports, _cli, peer="render_all_jobs1",
     target="crmlab render --all again (make report with reports/ kept) under 25 s")
case("render_all_cli_rerun_unshared", _kept_reports, _cli_unshared, peer="render_all_cli_rerun",
     target="what sharing results between the notebooks saves (crmlab render --all --no-shared-results)")
case("papermill_all", lambda: _work() / "reports", _papermill_all,
     target="peer: papermill + nbconvert, notebook after notebook")

if __name__ == "__main__":
    main()
