"""Where reports live: the output tree, report keys and the notebooks to render.

Layout under the output root (``crmlab.config.reports_dir()``)::

    <notebook>/<key>/              ad-hoc render; <key> is "default" or "name=value,name=value"
        report.html                code hidden, figures embedded, data text escaped
        notebook.ipynb             the executed notebook
        params.yaml                every parameter value the run used (defaults included)
        metrics.json               headline numbers from publish_metrics()
        report.json                status, times, error, failing cell, provenance
        tables/<name>.parquet      tables from publish_tables()
        kernel.log                 the kernel's stderr
    <notebook>/<key>.failed/       the latest failed run of that key (the good one stays)
    runs/<YYYY-MM-DD>/             a dated run (``--as-of``), same layout inside, plus
        manifest.json              parameters, input checksums, versions, git commit, times,
                                   status per notebook
    index.html                     every report with status and date; runs listed by date

A report directory is written in a hidden temporary directory beside its final place
(``.<key>.tmp-XXXXXXXX``, locked by the render while it runs) and published with one atomic
exchange (:func:`publish`) under the lock of the notebook's folder (:func:`locked`), so
``<key>/`` always holds a complete report, concurrent renders of one key publish one after
the other, and a failed run never replaces the last good report. Whatever a killed render
left behind is removed by the next render of that notebook (:func:`clean_leftovers`).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, Mapping

from crmlab import config
from crmlab.errors import RenderError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locks, renders of one key must not overlap
    fcntl = None  # type: ignore[assignment]

#: Notebooks that ``--all`` renders: ``NN-topic.ipynb`` directly in the notebooks directory.
NOTEBOOK_PATTERN = re.compile(r"^\d\d-[^/]*\.ipynb$")
#: Folder of the dated runs under the output root.
RUNS_DIR = "runs"
#: Added to a report key for the latest failed run of that key.
FAILED_SUFFIX = ".failed"
#: Report key of a run with every parameter at its default.
DEFAULT_KEY = "default"


def to_jsonable(value: Any) -> Any:
    """``crmlab.results.to_jsonable``, imported on first use.

    It pulls in pandas, which ``crmlab params`` and the refusal of bad input do not need.

    Parameters
    ----------
    value : Any
        A value from a notebook or a parameter set.

    Returns
    -------
    Any
        The value with numpy/pandas scalars and containers turned into plain JSON types.
    """
    from crmlab.results import to_jsonable as convert

    return convert(value)


def now() -> str:
    """The current time (UTC) as an ISO string to the second.

    Returns
    -------
    str
    """
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def output_root(output_root: str | Path | None) -> Path:
    """The reports directory: ``output_root`` or ``crmlab.config.reports_dir()``.

    Parameters
    ----------
    output_root : str, Path or None

    Returns
    -------
    Path
    """
    return Path(output_root) if output_root is not None else config.reports_dir()


def check_writable(root: Path) -> None:
    """Refuse an output root that cannot be written, before any kernel starts.

    Parameters
    ----------
    root : Path
        The output root (created if missing).

    Raises
    ------
    RenderError
        One line naming the folder and the system's reason.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=".probe-", dir=root))
    except OSError as exc:
        raise RenderError(f"cannot write the report ({exc.strerror or type(exc).__name__})",
                          file=root, fix="check the folder's permissions, or set "
                          "CRMLAB_REPORTS_DIR (or --output) to a writable folder") from None


def output_parent(root: Path, name: str, as_of: str | None) -> Path:
    """The folder holding the report keys of notebook ``name``, in a dated run or not.

    Parameters
    ----------
    root : Path
        The output root.
    name : str
        The notebook's stem.
    as_of : str or None
        The run date of a dated run.

    Returns
    -------
    Path
        ``root/runs/<as_of>/<name>`` or ``root/<name>``.
    """
    return (root / RUNS_DIR / as_of / name) if as_of else (root / name)


#: Hidden folders beside the reports: a report being written (``.<key>.tmp-XXXXXXXX``), an
#: old report on its way out (``.<key>.old-XXXXXXXX``, also left by crmlab before 0.15).
_HIDDEN_WORK = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-[0-9a-f]{8}$")


def work_dir(parent: Path, name: str, kind: str = "tmp") -> Path:
    """A new hidden folder beside ``parent/name`` (``.<name>.<kind>-XXXXXXXX``).

    Parameters
    ----------
    parent : Path
        The folder holding the reports of one notebook.
    name : str
        The report's folder name (``default``, ``default.failed``).
    kind : str
        ``tmp`` (being written) or ``old`` (on its way out).

    Returns
    -------
    Path
        Not yet created.
    """
    return parent / f".{name}.{kind}-{uuid.uuid4().hex[:8]}"


def hold(path: Path) -> int | None:
    """Open ``path`` (a folder) and lock it for as long as this process keeps it open.

    A render holds its temporary folder this way, so :func:`clean_leftovers` can tell the
    folder of a live render from one of a killed render (whose lock died with it).

    Parameters
    ----------
    path : Path

    Returns
    -------
    int or None
        The file descriptor to close when done (None where locks are unavailable).
    """
    if fcntl is None:
        return None
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _owner_alive(path: Path) -> bool:
    """Whether a live process holds ``path`` (see :func:`hold`)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True  # vanished or unreadable: leave it alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


@contextlib.contextmanager
def locked(parent: Path):
    """Hold the lock of a notebook's report folder: one process publishes there at a time.

    Parameters
    ----------
    parent : Path
        The folder holding the reports of one notebook (created if missing).

    Yields
    ------
    None
    """
    parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    fd = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def clean_leftovers(parent: Path) -> list[Path]:
    """Remove what killed renders left in ``parent``; call with :func:`locked` held.

    A hidden temporary folder whose render is gone is deleted. An old report on its way out
    is put back when its report is missing (a kill between the two renames of a system
    without an atomic exchange), else deleted.

    Parameters
    ----------
    parent : Path
        The folder holding the reports of one notebook.

    Returns
    -------
    list of Path
        The folders removed or put back.
    """
    done = []
    if not parent.is_dir():
        return done
    for path in sorted(parent.iterdir()):
        m = _HIDDEN_WORK.match(path.name)
        if m is None or not path.is_dir() or _owner_alive(path):
            continue
        final = parent / m["name"]
        if m["kind"] == "old" and not final.exists() and (path / "report.json").is_file():
            path.rename(final)
        else:
            shutil.rmtree(path, ignore_errors=True)
        done.append(path)
    return done


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step; False where the system cannot."""
    func = _EXCHANGE.get(sys.platform)
    if func is None:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if sys.platform.startswith("linux"):  # renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)
            rc = libc.renameat2(-100, os.fsencode(a), -100, os.fsencode(b), 2)
        else:  # macOS: renamex_np(a, b, RENAME_SWAP)
            rc = libc.renamex_np(os.fsencode(a), os.fsencode(b), 2)
    except (AttributeError, OSError):
        return False
    return rc == 0


_EXCHANGE = {"linux": "renameat2", "darwin": "renamex_np"}


def publish(tmp: Path, final: Path) -> None:
    """Put the complete report ``tmp`` at ``final``; call with :func:`locked` held.

    Where the system can swap two folders atomically (Linux, macOS) ``final`` holds the old
    or the new report at every instant; the old one is then deleted. Elsewhere the old report
    is renamed aside first and, should the process die between the two renames, put back by
    the next render's :func:`clean_leftovers`.

    Parameters
    ----------
    tmp : Path
        The complete, freshly written report folder (hidden, beside ``final``).
    final : Path
        Where it belongs; a report there is replaced.
    """
    if not final.exists():
        tmp.rename(final)
        return
    if _exchange(tmp, final):
        _discard(tmp)  # now the old report
        return
    old = work_dir(final.parent, final.name, "old")
    final.rename(old)
    tmp.rename(final)
    _discard(old)


def _discard(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def withdraw(path: Path) -> None:
    """Remove a report folder in one step (renamed aside, then deleted).

    Parameters
    ----------
    path : Path
        A report folder; nothing happens when it does not exist.
    """
    if not path.exists():
        return
    aside = work_dir(path.parent, path.name, "tmp")  # a leftover is deleted, never put back
    try:
        path.rename(aside)
    except FileNotFoundError:
        return
    _discard(aside)


def discover_notebooks(notebooks_dir: str | Path | None = None) -> list[Path]:
    """The notebooks ``render --all`` renders: ``NN-*.ipynb`` (not ``exploratory/``), sorted.

    Parameters
    ----------
    notebooks_dir : str, Path or None
        Where to look (default ``crmlab.config.NOTEBOOKS_DIR``).

    Returns
    -------
    list of Path
    """
    root = Path(notebooks_dir) if notebooks_dir is not None else config.NOTEBOOKS_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_file() and NOTEBOOK_PATTERN.match(p.name))


def resolve_notebook(notebook: str | Path, *, base: str | Path | None = None,
                     notebooks_dir: str | Path | None = None) -> Path:
    """The notebook file for a name or path.

    Tries ``notebook`` as given, then relative to ``base`` (e.g. a batch file's folder),
    then inside the notebooks directory, each with and without an added ``.ipynb``.

    Parameters
    ----------
    notebook : str or Path
        A path, or a name such as ``01-customer-analysis``.
    base : str, Path or None
        A folder tried after the working directory.
    notebooks_dir : str, Path or None
        The notebooks directory (default ``crmlab.config.NOTEBOOKS_DIR``).

    Returns
    -------
    Path
        The absolute path of the notebook.

    Raises
    ------
    RenderError
        No such notebook; the message lists the notebooks of the notebooks directory.
    """
    raw = Path(notebook)
    names = [raw] if raw.suffix == ".ipynb" else [raw.with_name(raw.name + ".ipynb"), raw]
    roots: list[Path | None] = [None]
    if base is not None:
        roots.append(Path(base))
    nb_dir = Path(notebooks_dir) if notebooks_dir is not None else config.NOTEBOOKS_DIR
    roots.append(nb_dir)
    for root in roots:
        for name in names:
            path = name if root is None or name.is_absolute() else root / name
            if path.is_file() and path.suffix == ".ipynb":
                return path.resolve()
    known = ", ".join(p.stem for p in discover_notebooks(nb_dir)) or "none"
    raise RenderError(
        "notebook not found", file=notebook,
        expected=f"a .ipynb path or a notebook of {nb_dir.name}/ ({known})",
    )


def report_key(parameters: Mapping[str, Any] | None) -> str:
    """Directory name for a parameter set: ``default`` or ``a=1,b=x`` (sorted, path-safe).

    Values are made safe for file names (a path keeps its file name only). When that loses
    anything (a path, a character other than a letter or digit of any script or ``. _ + -``)
    or the key is long (over 100 characters or 200 bytes), a
    hash of the full parameter set is added, so two parameter sets never share a key.

    Parameters
    ----------
    parameters : mapping or None
        The parameters that differ from the notebook's defaults.

    Returns
    -------
    str
        At most 100 characters.
    """
    if not parameters:
        return DEFAULT_KEY
    parts, lossy = [], False
    for name in sorted(parameters):
        value = parameters[name]
        if isinstance(value, str):
            raw = value
        elif value is None or isinstance(value, (bool, int, float)):
            raw = str(value)
        else:
            raw = json.dumps(to_jsonable(value), sort_keys=True)
        text = raw
        if isinstance(value, str) and ("/" in text or "\\" in text):
            text = re.split(r"[\\/]", text.rstrip("/\\"))[-1]
        text = re.sub(r"[^\w.+-]+", "-", text) or "_"  # letters of any script stay
        lossy = lossy or text != raw or value is None  # None and 'None' differ
        parts.append(f"{name}={text}")
    key = ",".join(parts)
    if len(key) > 100 or len(key.encode()) > _MAX_KEY_BYTES or lossy:
        exact = json.dumps(to_jsonable(dict(parameters)), sort_keys=True, default=str)
        digest = hashlib.sha256(exact.encode()).hexdigest()[:8]
        key = key[:90]
        while len(key.encode()) > _MAX_KEY_BYTES - 9:  # Hangul takes 3 bytes a letter
            key = key[:-1]
        key = f"{key},{digest}"
    return key


#: File systems allow 255 bytes a name; a key stays well below (with ``.failed`` and the
#: hidden temporary prefix and suffix around it).
_MAX_KEY_BYTES = 200
