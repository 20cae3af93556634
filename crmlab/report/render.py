"""Rendering one notebook into its report directory (papermill lives here and only here).

:func:`render` checks the parameters before any kernel starts, executes the notebook with
papermill in the notebook's folder, and writes the report directory (see
:mod:`crmlab.report.layout`) in a hidden temporary folder that replaces the last report of
the same parameters only once it is complete. A failed run goes to ``<key>.failed/`` beside
the last good report.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from crmlab.errors import CrmlabError, ParameterError, RenderError
from crmlab.privacy import redact_error
from crmlab.report.channel import TABLES_ENV, collect_metrics
from crmlab.report import kernels
from crmlab.report.html import failing_cell, import_notebook_tools, notebook_to_html, stderr_text
from crmlab.report.layout import (
    FAILED_SUFFIX, RUNS_DIR, check_writable, clean_leftovers, hold, locked, now, output_parent,
    output_root as _root, publish, report_key, resolve_notebook, to_jsonable, withdraw, work_dir,
)
from crmlab.report.parameters import (
    AS_OF, SHOW_PII, SOURCE, Parameter, check_as_of, check_parameters, check_report_date,
    check_source, expected_seconds, notebook_parameters,
)
from crmlab.report.runs import provenance, write_index, write_manifest


@dataclass
class RenderResult:
    """What :func:`render` produced for one notebook.

    Parameters
    ----------
    notebook : Path
        The source notebook.
    name : str
        Its stem (``01-customer-analysis``).
    parameters : dict
        The parameters given (coerced), which name the report directory.
    values : dict
        Every parameter value the run used (defaults included), as in ``params.yaml``.
    status : str
        ``"ok"`` or ``"failed"``.
    path : Path
        The report directory (``<key>/`` or, for a failure, ``<key>.failed/``).
    metrics : dict
        Headline numbers (``metrics.json``).
    error : str or None
        One line saying what failed; without ``--show-pii`` it quotes no customer data
        (:func:`crmlab.privacy.redact_error`).
    error_type : str or None
        The exception's class name (``DataError``): crmlab's own errors mean bad input.
    failed_cell : int or None
        Index of the failing cell in the executed notebook.
    started, finished : str
        ISO times (UTC).
    seconds : float
        Wall time.
    as_of : str or None
        The run date when rendered as part of a dated run.
    show_pii : bool
        Whether the report shows raw customer identifiers.
    data : dict
        The data source read (``crmlab.data.describe``: name, kind, ``where`` without any
        password); empty for a notebook without a ``source`` parameter.
    """

    notebook: Path
    name: str
    parameters: dict[str, Any]
    values: dict[str, Any]
    status: str
    path: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    failed_cell: int | None = None
    started: str = ""
    finished: str = ""
    seconds: float = 0.0
    as_of: str | None = None
    show_pii: bool = False
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the notebook ran without error."""
        return self.status == "ok"

    @property
    def html(self) -> Path:
        """The report page, ``<path>/report.html``."""
        return self.path / "report.html"

    def to_dict(self) -> dict[str, Any]:
        """The result as ``report.json`` and run manifests record it.

        Returns
        -------
        dict
        """
        return {
            "notebook": self.name, "source": str(self.notebook), "status": self.status,
            "parameters": to_jsonable(self.parameters), "values": to_jsonable(self.values),
            "key": report_key(self.parameters), "error": self.error,
            "error_type": self.error_type,
            "failed_cell": self.failed_cell, "started": self.started,
            "finished": self.finished, "seconds": round(self.seconds, 3), "as_of": self.as_of,
            "show_pii": self.show_pii, "data": to_jsonable(self.data),
        }


@dataclass
class Job:
    """One notebook to render, checked: what :func:`prepare` returns.

    Parameters
    ----------
    notebook : Path
        The notebook file.
    name : str
        Its stem.
    declared : dict of str to Parameter
        What its parameters cell declares.
    given : dict
        The coerced parameters that differ from the defaults: they name the report directory.
    run_params : dict
        What papermill injects (``given``, defaults given explicitly, ``as_of``).
    data : dict
        The data source (``crmlab.data.describe``) when the notebook takes ``source``.
    show_pii : bool
        Rendered with ``--show-pii``: error messages may quote customer data.
    expected_seconds : float or None
        The notebook's own estimate of its time (metadata ``crmlab.seconds``), for ordering a
        batch that has no past report of it.
    """

    notebook: Path
    name: str
    declared: dict[str, Parameter]
    given: dict[str, Any]
    run_params: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    show_pii: bool = False
    expected_seconds: float | None = None


def _absolute_paths(given: dict[str, Any]) -> dict[str, Any]:
    """The kernel runs in the notebook's folder: a file named relative to where the user
    stands is passed (and recorded) as an absolute path."""
    out = dict(given)
    for key, value in given.items():
        if isinstance(value, str) and value and len(value) < 4096 and "\n" not in value:
            candidate = Path(value).expanduser()
            if not candidate.is_absolute() and candidate.exists():
                out[key] = str(candidate.resolve())
    return out


def prepare(notebook: str | Path, parameters: Mapping[str, Any] | None, *, show_pii: bool,
            as_of: str | None, base: str | Path | None = None,
            notebooks_dir: str | Path | None = None) -> Job:
    """Resolve and validate one notebook to render; raises before any kernel starts.

    Parameters
    ----------
    notebook : str or Path
        Path or name of the notebook.
    parameters : mapping or None
        Values for its parameters cell (strings are coerced).
    show_pii : bool
        Pass ``show_pii=True`` to a notebook that declares it.
    as_of : str or None
        The checked run date (:func:`crmlab.report.check_as_of`) of a dated render.
    base, notebooks_dir : str, Path or None
        Where a bare notebook name is looked up (see :func:`crmlab.report.resolve_notebook`).

    Returns
    -------
    Job

    Raises
    ------
    ParameterError
        A bad parameter, ``show_pii`` given as a parameter, ``as_of`` given twice, or a
        dated render of a notebook that does not declare ``as_of``.
    RenderError
        No such notebook, or an unreadable one.
    """
    path = resolve_notebook(notebook, base=base, notebooks_dir=notebooks_dir)
    declared = notebook_parameters(path)
    parameters = dict(parameters or {})
    if SHOW_PII in parameters:
        raise ParameterError(
            f"{SHOW_PII} cannot be set as a parameter ({path.stem})",
            fix="reports pseudonymise customer IDs unless rendered with --show-pii "
                "(render(..., show_pii=True))",
        )
    if as_of is not None and AS_OF in parameters:
        raise ParameterError(f"{AS_OF} given twice ({path.stem}): as a parameter and as --as-of",
                             fix="use --as-of DATE alone for a dated run")
    check_report_date(path, declared, as_of)
    given = check_parameters(path, parameters, declared=declared)
    if show_pii:  # its own report key, even where the notebook does not declare show_pii
        given[SHOW_PII] = True
    given = _absolute_paths(given)
    run_params = dict(given)
    if SHOW_PII not in declared:
        run_params.pop(SHOW_PII, None)
    if as_of is not None and AS_OF in declared:
        run_params[AS_OF] = as_of
    # a parameter equal to its default names the same report as the default
    given = {k: v for k, v in given.items() if not (k in declared and v == declared[k].default
                                                    and type(v) is type(declared[k].default))}
    return Job(path, path.stem, declared, given, run_params, _describe_source(declared, run_params),
               show_pii, expected_seconds(path))


def source_value(declared: Mapping[str, Parameter], run_params: Mapping[str, Any]) -> Any:
    """The ``source`` a run reads (given, else the notebook's default), or None when the
    notebook declares no ``source``."""
    return run_params.get(SOURCE, declared[SOURCE].default) if SOURCE in declared else None


def _describe_source(declared: Mapping[str, Parameter], run_params: Mapping[str, Any]) -> dict:
    """The data source a run reads, safe to show (``crmlab.data.describe``: no password).

    A given ``source`` was checked by :func:`check_parameters`; a default one that cannot be
    read is left to the notebook to report."""
    value = source_value(declared, run_params)
    if not isinstance(value, str) or not value:
        return {}
    try:
        from crmlab.data import describe

        return describe(check_source(value))
    except CrmlabError:
        return {}


def _write_yaml(path: Path, data: Mapping[str, Any]) -> None:
    import yaml

    path.write_text(yaml.safe_dump(to_jsonable(dict(data)), sort_keys=False,
                                   allow_unicode=True), encoding="utf-8")


@contextlib.contextmanager
def _environ(name: str, value: str):
    """Set an environment variable for the kernel about to start (it inherits ours)."""
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


@contextlib.contextmanager
def _kernel_stderr_to(path: Path):
    """Send what the kernel process writes to stderr (start-up chatter) into ``path``.

    The kernel inherits file descriptor 2; pointing it at a log file while the kernel runs
    keeps ``make report`` output to one line per notebook and keeps crash messages with the
    report (``kernel.log``).
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all
        yield
        return
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


#: The project's kernel, installed inside the virtual environment by ``make setup``
#: (``ipykernel install --sys-prefix --name crmlab``).
KERNEL = "crmlab"
#: Used only when no ``crmlab`` kernel is installed (e.g. crmlab installed without ``make``).
FALLBACK_KERNEL = "python3"


def _own_kernel_dir() -> Path:
    """Where ``--sys-prefix`` installs kernels: this environment's own ``share/jupyter``."""
    return Path(sys.prefix) / "share" / "jupyter"


@contextlib.contextmanager
def _own_kernels_first():
    """Look kernels up in this environment before the user's folder.

    Jupyter searches ``JUPYTER_PATH`` first, then the user's data folder, then the
    environment: a per-user ``crmlab`` kernel (another checkout's) would otherwise run
    instead of this environment's own one.
    """
    own = _own_kernel_dir()
    if not (own / "kernels" / KERNEL).is_dir():
        yield
        return
    rest = os.environ.get("JUPYTER_PATH")
    with _environ("JUPYTER_PATH", str(own) + (os.pathsep + rest if rest else "")):
        yield


def kernel_name() -> str:
    """The Jupyter kernel that runs notebooks: ``crmlab``, else ``python3``.

    ``make setup`` installs the ``crmlab`` kernel inside the checkout's virtual environment,
    so each checkout runs its own code; the one in this environment is preferred over a
    per-user one (see :func:`_own_kernels_first`).

    Returns
    -------
    str
        :data:`KERNEL` when such a kernelspec exists, else :data:`FALLBACK_KERNEL`.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    with _own_kernels_first():
        specs = KernelSpecManager().find_kernel_specs()
    return KERNEL if KERNEL in specs else FALLBACK_KERNEL


def execute(job: Job, root: Path, *, as_of: str | None, timeout: float | None) -> RenderResult:
    """Run one prepared notebook and move its report directory into place.

    Parameters
    ----------
    job : Job
        From :func:`prepare`.
    root : Path
        The output root.
    as_of : str or None
        The run date of a dated run (the report goes under ``runs/<as_of>/``).
    timeout : float or None
        Seconds allowed per cell.

    Returns
    -------
    RenderResult

    Raises
    ------
    RenderError
        The report folder cannot be written.
    """
    parent = output_parent(root, job.name, as_of)
    key = report_key(job.given)
    tmp = work_dir(parent, key)
    try:
        with locked(parent):  # created and held at once: no other render takes it for a leftover
            clean_leftovers(parent)
            tmp.mkdir()
            lock = hold(tmp)
    except OSError as exc:
        raise RenderError(f"cannot write the report ({exc.strerror or exc})", file=parent,
                          fix="check the folder's permissions, or set CRMLAB_REPORTS_DIR "
                              "(or --output) to a writable folder") from None
    try:
        return _execute_in(job, tmp, parent / key, as_of, timeout)
    finally:  # a failed write or an interrupt leaves no half-written directory behind
        if lock is not None:
            os.close(lock)
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _execute_in(job: Job, tmp: Path, good: Path, as_of: str | None,
                timeout: float | None) -> RenderResult:
    """Run the kernel into ``tmp``, write the report there and publish it."""
    values = {n: p.default for n, p in job.declared.items()}
    values.update(job.run_params)
    started, t0 = now(), time.perf_counter()
    nb, error, ename = _run_kernel(job, tmp, timeout)
    result = RenderResult(
        notebook=job.notebook, name=job.name, parameters=job.given, values=values,
        status="ok" if error is None else "failed", path=good,
        metrics=collect_metrics(nb), error=error, error_type=ename if error else None,
        failed_cell=failing_cell(nb), started=started, finished=now(),
        seconds=time.perf_counter() - t0, as_of=as_of, show_pii=job.show_pii, data=job.data,
    )
    _write_report(result, nb, tmp, t0)
    return result


def _run_kernel(job: Job, tmp: Path, timeout: float | None) -> tuple[Any, str | None, str | None]:
    """Execute the notebook into ``tmp/notebook.ipynb``: (executed notebook, error line, error
    type); without ``--show-pii`` error messages and tracebacks lose customer data."""
    import_notebook_tools()
    import nbformat
    import papermill as pm

    out_nb = tmp / "notebook.ipynb"
    error, ename, nb = None, None, None
    cwd, tables = str(job.notebook.parent), str(tmp / "tables")
    try:
        with _kernel_stderr_to(tmp / "kernel.log"), _environ(TABLES_ENV, tables), _own_kernels_first():
            name = kernel_name()
            # a batch worker's kernel, reset, when kernels are kept (crmlab.report.kernels)
            km = kernels.kernel_for(name, cwd, {TABLES_ENV: tables}, lambda km: _start(km, cwd))
            try:
                nb = pm.execute_notebook(
                    str(job.notebook), str(out_nb), parameters=job.run_params,
                    kernel_name=name, cwd=cwd, progress_bar=False,
                    log_output=False, execution_timeout=timeout, **({"km": km} if km is not None else {}),
                )
            finally:
                if km is not None:
                    kernels.done(km)
    except pm.PapermillExecutionError as exc:
        ename = str(exc.ename)
        error = f"cell {exc.exec_count}: {ename}: {redact_error(ename, str(exc.evalue), job.show_pii)}"
    except Exception as exc:  # kernel died, timeout, unreadable notebook: the machinery's words
        ename = type(exc).__name__
        error = f"{ename}: {exc}"
    if error is not None:
        kernels.release()  # a failed notebook's kernel is not handed on
    if nb is None:
        nb = nbformat.read(str(out_nb if out_nb.exists() else job.notebook), as_version=4)
    if error is None and failing_cell(nb) is not None:  # e.g. allow_errors cells
        error = "a cell raised an error"
    if not job.show_pii:
        _redact_outputs(nb)
    nbformat.write(nb, str(out_nb))
    return nb, None if error is None else " ".join(error.split())[:500], ename


def _start(km: Any, cwd: str) -> None:
    """Start a kernel in ``km`` (the caller holds the job's stderr and environment)."""
    from jupyter_core.utils import run_sync

    run_sync(km.start_kernel)(cwd=cwd)


#: What replaces a traceback in a report rendered without ``--show-pii``.
TRACEBACK_HIDDEN = ("(traceback hidden: it may quote customer data; render with --show-pii, or "
                    "run the notebook in Jupyter, to see it)")


def _redact_outputs(nb: Any) -> None:
    """Error outputs of ``nb`` without customer data: the message redacted
    (:func:`crmlab.privacy.redact_error`), the traceback (which may quote chained errors and
    values) replaced by one line."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") != "error":
                continue
            ename = str(out.get("ename", ""))
            out["evalue"] = redact_error(ename, str(out.get("evalue", "")))
            out["traceback"] = [f"\x1b[0;31m{ename}\x1b[0m: {out['evalue']}", TRACEBACK_HIDDEN]


def _write_report(result: RenderResult, nb: Any, tmp: Path, t0: float) -> None:
    """Write the report files into ``tmp`` and move it to its final place."""
    page = notebook_to_html(nb, title=result.name, status=result.status, values=result.values,
                            finished=result.finished, error=result.error,
                            show_pii=result.show_pii, as_of=result.as_of, data=result.data)
    (tmp / "report.html").write_text(page, encoding="utf-8")
    warnings = stderr_text(nb)  # warnings are for the analyst, not in the business report
    if warnings:
        with open(tmp / "kernel.log", "a", encoding="utf-8") as log:
            log.write(warnings)
    _write_yaml(tmp / "params.yaml", result.values)
    (tmp / "metrics.json").write_text(json.dumps(result.metrics, indent=2, sort_keys=True,
                                                 ensure_ascii=False), encoding="utf-8")
    meta = result.to_dict()
    meta["provenance"] = provenance([result])
    meta["seconds"] = round(time.perf_counter() - t0, 3)
    (tmp / "report.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False),
                                     encoding="utf-8")
    good = result.path
    final = good if result.ok else good.with_name(good.name + FAILED_SUFFIX)
    with locked(final.parent):
        publish(tmp, final)
        if result.ok:
            withdraw(good.with_name(good.name + FAILED_SUFFIX))
    result.path = final


def render(notebook: str | Path, parameters: Mapping[str, Any] | None = None, *,
           output_root: str | Path | None = None, show_pii: bool = False,
           as_of: str | None = None, timeout: float | None = None,
           update_index: bool = True) -> RenderResult:
    """Execute a notebook with parameters and write its report directory.

    Parameters
    ----------
    notebook : str or Path
        Path, or name of a notebook in ``notebooks/`` (``01-customer-analysis``).
    parameters : mapping, optional
        Values for the notebook's ``parameters`` cell; strings are coerced to the declared
        types. Checked before the kernel starts (:func:`crmlab.report.check_parameters`).
    output_root : str or Path, optional
        Where reports go; default ``crmlab.config.reports_dir()``.
    show_pii : bool
        Pass ``show_pii=True`` to a notebook that declares it (raw customer IDs); otherwise
        identifiers stay pseudonymised. ``show_pii`` cannot be given in ``parameters``.
    as_of : str, optional
        A date ``YYYY-MM-DD``: render into the dated run ``runs/<as_of>/`` and pass ``as_of``
        to the notebook. A notebook that does not declare ``as_of`` is refused (it would
        show data after that date) unless its metadata says it reads no dated data
        (``"crmlab": {"dated": false}``).
    timeout : float, optional
        Seconds allowed per cell (None: no limit).
    update_index : bool
        Rebuild ``index.html`` (and the run manifest) afterwards.

    Returns
    -------
    RenderResult
        ``status`` is ``"failed"`` when a cell raised (the report then shows the failing
        cell and lives in ``<key>.failed/``; a previous good report is kept).

    Raises
    ------
    ParameterError, RenderError
        Bad input, before anything runs.
    """
    as_of = check_as_of(as_of)
    job = prepare(notebook, parameters, show_pii=show_pii, as_of=as_of)
    root = _root(output_root)
    check_writable(root)
    started = now()
    result = execute(job, root, as_of=as_of, timeout=timeout)
    if update_index:
        if as_of:
            write_manifest(root / RUNS_DIR / as_of, [result], started=started, finished=now())
        write_index(root)
    return result
