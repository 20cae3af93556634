"""Rendering several notebooks: batch files, ``--all`` and dated runs with a manifest.

Every job of a batch is checked before the first kernel starts, so a typo in a batch file
renders nothing; a notebook that fails does not stop the others.
"""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from crmlab import config, memo
from crmlab.errors import CrmlabError, RenderError
from crmlab.privacy import redact_error
from crmlab.report import kernels
from crmlab.report.layout import (
    FAILED_SUFFIX, RUNS_DIR, check_writable, discover_notebooks, now, output_parent, output_root as _root, report_key,
)
from crmlab.report.parameters import SOURCE, check_as_of
from crmlab.report.render import Job, RenderResult, execute, prepare, source_value
from crmlab.report.runs import write_index, write_manifest


@dataclass
class BatchResult:
    """What :func:`render_batch` produced.

    Parameters
    ----------
    results : list of RenderResult
        One per job, in the order of the batch.
    index : Path
        The rebuilt ``index.html``.
    manifest : Path or None
        ``manifest.json`` of the dated run, if the batch was one.
    """

    results: list[RenderResult]
    index: Path
    manifest: Path | None = None

    @property
    def ok(self) -> bool:
        """Whether every notebook rendered without error."""
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[RenderResult]:
        """The results of the notebooks that failed."""
        return [r for r in self.results if not r.ok]


def load_batch_config(path: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """Read a batch file: a YAML list of notebooks with parameter sets.

    Each entry is a notebook name/path, or a mapping ``{notebook: ..., parameters: {...}}``;
    the list may also sit under a top-level ``reports:`` key. Notebook paths are tried as
    given, then relative to the batch file, then in ``notebooks/``::

        - 01-customer-analysis
        - notebook: 02-market-basket
          parameters: {min_support: 0.02}

    Parameters
    ----------
    path : str or Path
        The batch file.

    Returns
    -------
    list of (str, dict)
        Notebook and parameters per entry, in order.

    Raises
    ------
    RenderError
        A missing file, invalid YAML or a malformed entry.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise RenderError("batch file not found", file=path,
                          expected="a YAML list of {notebook:, parameters:} entries")
    if path.stat().st_size > MAX_BATCH_BYTES:
        raise RenderError("the batch file is too large", file=path,
                          expected=f"a YAML file of at most {MAX_BATCH_BYTES // 1024} KiB")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise RenderError(f"the batch file is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                          f"offset {exc.start})", file=path, fix="save it as UTF-8") from None
    except OSError as exc:
        raise RenderError(f"cannot read the batch file ({exc.strerror or exc})", file=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RenderError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=path,
                          row=None if mark is None else mark.line + 1) from None
    _refuse_expansion(path, doc)
    if isinstance(doc, dict) and "reports" in doc:
        doc = doc["reports"]
    if not isinstance(doc, list) or not doc:
        raise RenderError("batch file must hold a non-empty list of notebooks", file=path,
                          expected="- notebook: 01-customer-analysis\\n  parameters: {...}")
    return [_batch_entry(path, i, entry) for i, entry in enumerate(doc, start=1)]


#: A batch file is a short list; anything larger is a mistake (or an attack).
MAX_BATCH_BYTES = 256 * 1024
#: Values a batch file may hold once YAML aliases are expanded (an alias bomb holds billions).
MAX_BATCH_VALUES = 100_000


def _refuse_expansion(path: Path, doc: Any) -> None:
    """Refuse a document whose aliases expand to more than :data:`MAX_BATCH_VALUES` values."""
    seen, stack = 0, [doc]
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_BATCH_VALUES:
            raise RenderError("the batch file expands to too many values (YAML aliases?)",
                              file=path, expected=f"at most {MAX_BATCH_VALUES:,} values",
                              fix="write the parameters out; do not nest aliases")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _batch_entry(path: Path, i: int, entry: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(entry, str):
        return entry, {}
    if not isinstance(entry, dict) or "notebook" not in entry:
        raise RenderError(f"entry {i} has no 'notebook'", file=path, value=entry,
                          expected="a name or {notebook: ..., parameters: {...}}")
    unknown = set(entry) - {"notebook", "parameters"}
    params = entry.get("parameters") or {}
    if unknown or not isinstance(params, dict):
        raise RenderError(f"entry {i} ({entry['notebook']}) is malformed", file=path,
                          value=sorted(unknown) or params,
                          expected="keys notebook and parameters (a mapping)")
    return str(entry["notebook"]), dict(params)


def _specs(notebooks: Iterable[Any] | None, config_file: str | Path | None, all_notebooks: bool,
           notebooks_dir: str | Path | None) -> list[tuple[Any, dict[str, Any], Path | None]]:
    """(notebook, parameters, folder to look in) for every job of the batch, in order."""
    specs: list[tuple[Any, dict[str, Any], Path | None]] = []
    for item in notebooks or []:
        if isinstance(item, (str, Path)):
            specs.append((item, {}, None))
        else:
            nb, params = item
            specs.append((nb, dict(params or {}), None))
    if config_file is not None:
        base = Path(config_file).parent
        specs.extend((nb, params, base) for nb, params in load_batch_config(config_file))
    if all_notebooks:
        found = discover_notebooks(notebooks_dir)
        if not found:
            where = Path(notebooks_dir) if notebooks_dir is not None else config.NOTEBOOKS_DIR
            raise RenderError("no notebooks to render", file=where,
                              expected="files named NN-topic.ipynb")
        specs.extend((p, {}, None) for p in found)
    if not specs:
        raise RenderError("nothing to render",
                          fix="name a notebook, or use --all or --config FILE")
    return specs


def _refuse_duplicates(prepared: list[Job], root: Path, as_of: str | None) -> None:
    seen: dict[Path, Path] = {}
    for job in prepared:
        where = output_parent(root, job.name, as_of) / report_key(job.given)
        if where in seen:
            raise RenderError(
                f"{job.name} with the same parameters is listed twice in the batch",
                file=job.notebook, value=report_key(job.given),
                fix="remove the duplicate (or rename one of two notebooks with the same name)")
        seen[where] = job.notebook


def _echo_line(result: RenderResult) -> str:
    line = f"{result.status:6s} {result.name:32s} {result.html}  ({result.seconds:.1f} s)"
    if result.error:
        line += f"\n       {result.error}"
    return line


def _crashed(job: Job, root: Path, as_of: str | None, exc: BaseException) -> RenderResult:
    """A failed result for a job whose render raised (the report could not be written)."""
    if isinstance(exc, CrmlabError):
        why = str(exc)
    elif isinstance(exc, OSError):
        why = f"{type(exc).__name__}: {exc.strerror or 'error'}" + (
            f" ({exc.filename})" if exc.filename else "")
    else:
        why = f"{type(exc).__name__}: {redact_error(type(exc).__name__, str(exc), job.show_pii)}"
    good = output_parent(root, job.name, as_of) / report_key(job.given)
    stamp = now()
    values = {n: p.default for n, p in job.declared.items()}
    values.update(job.run_params)
    return RenderResult(
        notebook=job.notebook, name=job.name, parameters=job.given, values=values,
        status="failed", path=good.with_name(good.name + FAILED_SUFFIX),
        error=" ".join(f"no report written: {why}".split())[:500],
        error_type=type(exc).__name__, started=stamp, finished=stamp, as_of=as_of,
        show_pii=job.show_pii, data=job.data)


def _last_seconds(job: Job, root: Path, as_of: str | None) -> float | None:
    """Wall time of the last render of the same notebook and parameters (its ``report.json``);
    for a dated run without one, that of the undated report."""
    good = output_parent(root, job.name, as_of) / report_key(job.given)
    for path in (good, good.with_name(good.name + FAILED_SUFFIX)):
        try:
            return float(json.loads((path / "report.json").read_text(encoding="utf-8"))["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return _last_seconds(job, root, None) if as_of else None


def start_order(prepared: list[Job], root: Path, as_of: str | None) -> list[int]:
    """The order in which a parallel batch starts its jobs: longest first.

    A worker takes the next job when it is free, so the longest notebook started last would
    run alone at the end; starting the longest first (by the time its last report took)
    lets the workers finish together. A job never rendered is placed by the time its
    notebook's metadata expects (``"crmlab": {"seconds": N}``, :func:`expected_seconds`);
    jobs with neither go first, in batch order (they may be long).

    Parameters
    ----------
    prepared : list of Job
        The batch.
    root : Path
        The output root (where the last reports are).
    as_of : str or None
        The run date of a dated run.

    Returns
    -------
    list of int
        Indexes into ``prepared``.
    """
    past = [_last_seconds(job, root, as_of) for job in prepared]
    past = [job.expected_seconds if seen is None else seen for job, seen in zip(prepared, past)]
    return sorted(range(len(prepared)), key=lambda i: (past[i] is not None, -(past[i] or 0.0), i))


def _read_alike(prepared: list[Job]) -> bool:
    """Whether two jobs of the batch read the same data source (``source`` parameter, given or
    default): only then can they share what they compute (:mod:`crmlab.memo`), and only then is
    storing the first one's results worth its cost."""
    seen: set[str] = set()
    for job in prepared:
        if SOURCE not in job.declared:
            continue
        value = str(source_value(job.declared, job.run_params))
        if value in seen:
            return True
        seen.add(value)
    return False


def _worker_context() -> Any:
    """How batch workers start: forked on Linux while this process runs no other thread
    (a worker then starts with papermill and crmlab already imported, about 2 s sooner
    per worker), else a fresh interpreter (``spawn``), as on macOS and Windows or inside a
    Jupyter kernel."""
    import multiprocessing
    import threading

    if sys.platform.startswith("linux") and threading.active_count() == 1:
        # imported once, before the fork, not once per worker
        import crmlab.report.render  # noqa: F401
        from crmlab.report.html import import_notebook_tools

        import_notebook_tools()
        import nbconvert  # noqa: F401
        import nbformat  # noqa: F401
        import papermill  # noqa: F401

        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _run_jobs(prepared: list[Job], root: Path, results: list[RenderResult | None], *,
              as_of: str | None, timeout: float | None, jobs: int, progress: bool,
              echo: Callable[[str], Any] | None, keep: bool = False) -> None:
    """Execute the jobs, ``jobs`` at a time, into ``results`` (in the order of ``prepared``).

    A job whose render raises (a report that cannot be written, a worker that died) gets a
    failed result; the other jobs go on. With ``keep`` the notebooks one worker renders share
    its kernel (:mod:`crmlab.report.kernels`).
    """
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    kwargs = {"as_of": as_of, "timeout": timeout}
    pool, futures = None, {}
    if jobs > 1 and len(prepared) > 1:
        # each worker is its own process: kernels and stderr redirection stay apart; they
        # start (fork) on the first submit, before the progress bar starts its thread
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(prepared)), mp_context=_worker_context(),
                                   initializer=kernels.keep_for_worker if keep else None)
    try:
        if pool is not None:
            futures = {pool.submit(execute, prepared[i], root, **kwargs): i
                       for i in start_order(prepared, root, as_of)}
        bar = tqdm(total=len(prepared), desc="rendering", unit="notebook", file=sys.stderr,
                   disable=not progress, leave=False)
        try:
            with kernels.kept_kernels() if keep and pool is None else contextlib.nullcontext():
                _collect(prepared, root, results, futures, bar, echo, kwargs)
        finally:
            bar.close()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _collect(prepared: list[Job], root: Path, results: list[RenderResult | None], futures: dict,
             bar: Any, echo: Callable[[str], Any] | None, kwargs: dict) -> None:
    """Fill ``results`` from the workers' futures (``{future: job index}``), or, without
    workers, by rendering the jobs in order here."""
    from concurrent.futures import as_completed

    as_of = kwargs["as_of"]

    def done(i: int, run: Callable[[], RenderResult]) -> None:
        try:
            result = run()
        except Exception as exc:  # noqa: BLE001 - one notebook must not stop the batch
            result = _crashed(prepared[i], root, as_of, exc)
        results[i] = result
        if echo is not None:
            echo(_echo_line(result))
        bar.update(1)

    if futures:
        for future in as_completed(futures):
            done(futures[future], future.result)
        return
    for i, job in enumerate(prepared):
        bar.set_postfix_str(job.name)
        done(i, lambda job=job: execute(job, root, **kwargs))


def render_batch(notebooks: Iterable[Any] | None = None, *, config_file: str | Path | None = None,
                 all_notebooks: bool = False, notebooks_dir: str | Path | None = None,
                 output_root: str | Path | None = None, show_pii: bool = False,
                 as_of: str | None = None, timeout: float | None = None,
                 jobs: int = 1, progress: bool = True,
                 echo: Callable[[str], Any] | None = None, fresh_kernels: bool = False,
                 share_results: bool = True) -> BatchResult:
    """Render several notebooks; a failing one does not stop the others.

    Every job is validated before the first kernel starts, so a typo in a batch file
    renders nothing.

    Parameters
    ----------
    notebooks : iterable, optional
        Notebooks (names or paths) or ``(notebook, parameters)`` pairs.
    config_file : str or Path, optional
        A batch YAML file (:func:`load_batch_config`), added after ``notebooks``.
    all_notebooks : bool
        Add every ``notebooks/NN-*.ipynb`` (not ``exploratory/``).
    notebooks_dir : str or Path, optional
        Where ``all_notebooks`` and bare names look (default ``notebooks/``).
    output_root, show_pii, as_of, timeout
        As for :func:`crmlab.report.render`. With ``as_of`` the batch is a dated run:
        reports go to ``runs/<as_of>/`` and ``manifest.json`` records parameters, input
        checksums, package versions, git commit, times and status; a notebook that does not
        declare ``as_of`` (and does not say it reads no dated data) refuses the whole batch.
    jobs : int
        Notebooks rendered at the same time (separate processes); 1 renders in order.
    progress : bool
        Show a tqdm bar over the batch on stderr.
    echo : callable, optional
        Given one line per finished notebook (status and report path).
    fresh_kernels : bool
        Start a new kernel for every notebook. By default the notebooks a worker renders
        one after the other share its kernel, reset to a new kernel's state in between
        (:mod:`crmlab.report.kernels`): the imports are paid once per worker.
    share_results : bool
        Let the notebooks of the batch share what they compute alike (:mod:`crmlab.memo`): a
        file source is read and cleaned once, the churn measures compared once. Results are
        keyed by content and kept in a private folder deleted when the batch ends. On only
        when two jobs read the same ``source``.

    Returns
    -------
    BatchResult
        ``ok`` is False if any notebook failed.

    Raises
    ------
    ParameterError, RenderError
        Bad input in any job, before anything runs.
    """
    as_of = check_as_of(as_of)
    specs = _specs(notebooks, config_file, all_notebooks, notebooks_dir)
    prepared = [prepare(nb, params, show_pii=show_pii, as_of=as_of, base=base,
                        notebooks_dir=notebooks_dir) for nb, params, base in specs]
    root = _root(output_root)
    started = now()
    _refuse_duplicates(prepared, root, as_of)
    check_writable(root)
    slots: list[RenderResult | None] = [None] * len(prepared)
    try:
        with memo.sharing(share_results and _read_alike(prepared)):
            _run_jobs(prepared, root, slots, as_of=as_of, timeout=timeout, jobs=jobs,
                      progress=progress, echo=echo, keep=not fresh_kernels)
    finally:  # the manifest and index say what was rendered, even after an interrupt
        results = [r for r in slots if r is not None]
        manifest = None
        if as_of:
            manifest = write_manifest(root / RUNS_DIR / as_of, results, started=started,
                                      finished=now(), config_file=config_file)
        index = write_index(root)
    return BatchResult(results, index, manifest)
