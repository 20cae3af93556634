"""Records of rendered reports: provenance, run manifests, reading reports back, the index.

- :func:`write_manifest` -- ``manifest.json`` of a dated run (what reproducing it needs).
- :func:`list_runs`, :func:`load_run`, :func:`load_report` -- find dated runs and read their
  reports back (metrics, parameters, tables) for ``compare``.
- :func:`write_index` -- rebuild ``index.html`` over every report under the output root.

Nothing here starts a kernel; :mod:`crmlab.report.render` writes what this module reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from crmlab import config
from crmlab.errors import RenderError
from crmlab.privacy import HIDDEN, redact_error
from crmlab.report.html import CSP, FONT_STACK
from crmlab.report.layout import FAILED_SUFFIX, RUNS_DIR, now, output_root as _root, report_key
from crmlab.report.parameters import AS_OF

if TYPE_CHECKING:
    from crmlab.report.render import RenderResult

#: Packages whose versions a report and a run manifest record.
PACKAGES = (
    "crmlab", "pandas", "numpy", "scipy", "statsmodels", "lifetimes", "mlxtend", "pyfim",
    "matplotlib", "networkx", "pyarrow", "papermill", "nbconvert", "nbclient", "ipykernel",
)

# --------------------------------------------------------------------------- provenance

_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]


def input_files(results: Iterable[RenderResult]) -> dict[str, str]:
    """sha256 of every file under ``data/`` and of every file a parameter value points at.

    Parameters
    ----------
    results : iterable of RenderResult

    Returns
    -------
    dict of str to str
        File (relative to the project when inside it) to its sha256.
    """
    files: dict[Path, None] = {}
    if config.DATA_DIR.is_dir():
        for p in sorted(config.DATA_DIR.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                files[p] = None
    for r in results:
        for value in r.values.values():
            if isinstance(value, str) and value and len(value) < 4096:
                for cand in (Path(value), r.notebook.parent / value):
                    try:
                        if cand.is_file():
                            files[cand.resolve()] = None
                            break
                    except OSError:
                        break
    out = {}
    for p in files:
        try:
            name = str(p.relative_to(config.ROOT))
        except ValueError:
            name = str(p)
        out[name] = _sha256(p)
    return out


def versions() -> dict[str, str | None]:
    """Python's version and those of :data:`PACKAGES` (None when not installed).

    Returns
    -------
    dict of str to str or None
    """
    from importlib import metadata

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def git_state() -> dict[str, Any]:
    """The project's git commit and whether tracked files have uncommitted changes.

    Returns
    -------
    dict
        ``commit`` (None outside a git checkout) and ``dirty`` (None when unknown).
    """
    def run(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", "-C", str(config.ROOT), *args], capture_output=True,
                                  text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def provenance(results: Iterable[RenderResult]) -> dict[str, Any]:
    """Git state, package versions and input checksums, as ``report.json`` records them.

    Parameters
    ----------
    results : iterable of RenderResult

    Returns
    -------
    dict with ``git``, ``packages`` and ``inputs``
    """
    return {"git": git_state(), "packages": versions(), "inputs": input_files(results)}


# --------------------------------------------------------------------------- manifest


def _manifest_entry(r: RenderResult, run_dir: Path) -> dict[str, Any]:
    good = r.path.with_name(report_key(r.parameters))
    entry = r.to_dict()
    entry.update({
        "path": str(r.path.relative_to(run_dir)),
        "last_good": str(good.relative_to(run_dir)) if good.is_dir() else None,
        "metrics": str((r.path / "metrics.json").relative_to(run_dir)),
        "params": str((r.path / "params.yaml").relative_to(run_dir)),
        "html": str(r.html.relative_to(run_dir)),
        "tables": sorted(p.stem for p in (r.path / "tables").glob("*.parquet")),
        "as_of_applied": AS_OF in r.values,
    })
    return entry


def write_manifest(run_dir: Path, results: list[RenderResult], *, started: str, finished: str,
                   config_file: str | Path | None = None) -> Path:
    """Write (or update) ``manifest.json`` of a dated run.

    Entries of earlier invocations of the same run date are kept unless this invocation
    re-rendered the same notebook and parameters.

    Parameters
    ----------
    run_dir : Path
        ``<output root>/runs/<date>``.
    results : list of RenderResult
        The reports this invocation rendered into the run.
    started, finished : str
        ISO times (UTC) of the invocation.
    config_file : str, Path or None
        The batch file, if any.

    Returns
    -------
    Path
        The manifest.
    """
    path = run_dir / "manifest.json"
    old: dict[str, Any] = {}
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            old = {}
    entries = {(e["notebook"], e["key"]): e for e in old.get("reports", [])}
    for r in results:
        entries[(r.name, report_key(r.parameters))] = _manifest_entry(r, run_dir)
    manifest = {
        "run": run_dir.name,
        "as_of": run_dir.name,
        "status": "ok" if all(e["status"] == "ok" for e in entries.values()) else "failed",
        "started": started,
        "finished": finished,
        "config_file": None if config_file is None else str(config_file),
        "command": " ".join(["crmlab", *sys.argv[1:]]) if Path(sys.argv[0]).stem == "crmlab"
        else None,
        **provenance(results),
        "reports": sorted(entries.values(), key=lambda e: (e["notebook"], e["key"])),
    }
    return _write_atomic(path, json.dumps(manifest, indent=2, ensure_ascii=False),
                         what="the run manifest")


# --------------------------------------------------------------------------- reading back


def list_runs(output_root: str | Path | None = None) -> list[str]:
    """Dates of the dated runs under the output root, oldest first.

    Parameters
    ----------
    output_root : str, Path or None
        Reports directory (default ``crmlab.config.reports_dir()``).

    Returns
    -------
    list of str
    """
    runs = _root(output_root) / RUNS_DIR
    if not runs.is_dir():
        return []
    return sorted(p.name for p in runs.iterdir() if (p / "manifest.json").is_file())


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def load_report(path: str | Path) -> dict[str, Any]:
    """One rendered report directory as data: what comparing two reports needs.

    Parameters
    ----------
    path : str or Path
        A report directory (ad-hoc or in a dated run).

    Returns
    -------
    dict
        ``dir``, ``notebook``, ``status``, ``metrics`` (``metrics.json``), ``params``
        (``params.yaml``), ``tables`` (name -> DataFrame from ``publish_tables``) and
        ``meta`` (``report.json``).

    Raises
    ------
    RenderError
        Not a report directory.
    """
    import yaml

    path = Path(path)
    if not (path / "report.json").is_file():
        raise RenderError("not a rendered report directory", file=path,
                          expected="a folder with report.json, metrics.json, params.yaml")
    meta = json.loads((path / "report.json").read_text(encoding="utf-8"))
    try:
        params = yaml.safe_load((path / "params.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        params = {}
    tables = {}
    if (path / "tables").is_dir():
        import pandas as pd

        tables = {p.stem: pd.read_parquet(p) for p in sorted((path / "tables").glob("*.parquet"))}
    return {"dir": path, "notebook": meta.get("notebook"), "status": meta.get("status"),
            "metrics": _read_json(path / "metrics.json"), "params": params, "tables": tables,
            "meta": meta}


def _load_manifest(run: str | Path, root: Path) -> dict[str, Any]:
    """The manifest of a run, with absolute paths and loaded metrics per report."""
    run_dir = Path(run) if Path(run).is_dir() else root / RUNS_DIR / str(run)
    path = run_dir / "manifest.json"
    if not path.is_file():
        known = ", ".join(list_runs(root)) or "none"
        raise RenderError("no rendered run of that name", file=run_dir, value=str(run),
                          expected=f"one of the runs under {root / RUNS_DIR} ({known})")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for entry in manifest["reports"]:
        entry["dir"] = run_dir / entry["path"]
        entry["metrics_path"] = run_dir / entry["metrics"]
        entry["params_path"] = run_dir / entry["params"]
        entry["metrics"] = _read_json(entry["metrics_path"])
    manifest["dir"] = run_dir
    return manifest


def load_run(run: str | Path, output_root: str | Path | None = None, *,
             notebook: str | None = None, key: str | None = None) -> dict[str, Any]:
    """A dated run: its manifest, or with ``notebook`` one of its reports as data.

    Parameters
    ----------
    run : str or Path
        A run date (``2011-09-01``, looked up under ``runs/``) or a run directory.
    output_root : str, Path or None
        Reports directory (default ``crmlab.config.reports_dir()``).
    notebook : str, optional
        Name of a notebook of the run (``00-strategy-report``): return that report as
        :func:`load_report` does (``metrics``, ``params``, ``tables``, ...), the good one if
        the run has both a good and a failed report of it.
    key : str, optional
        Parameter key of the report when the run rendered the notebook more than once.

    Returns
    -------
    dict
        Without ``notebook``: the manifest, each entry of ``manifest["reports"]`` with
        ``dir``, ``metrics_path``, ``params_path`` (absolute paths) and ``metrics`` (loaded)
        added.

    Raises
    ------
    RenderError
        No such run, or not exactly one report of ``notebook`` (and ``key``) in it.
    """
    manifest = _load_manifest(run, _root(output_root))
    if notebook is None:
        return manifest
    run_dir = manifest["dir"]
    name = Path(notebook).stem
    entries = [e for e in manifest["reports"] if e["notebook"] == name
               and (key is None or e["key"] == key)]
    keys = sorted({e["key"] for e in entries})
    if len(keys) != 1:
        have = ", ".join(f"{e['notebook']} [{e['key']}]" for e in manifest["reports"])
        raise RenderError(
            f"run {run_dir.name} has {'no' if not keys else 'several'} report(s) of {name}"
            + (f" ({', '.join(keys)}: pass key=)" if keys else ""),
            expected=f"one of: {have or 'none'}")
    entry = entries[0]
    good = run_dir / entry["last_good"] if entry.get("last_good") else entry["dir"]
    return load_report(good)


# --------------------------------------------------------------------------- index

_INDEX_HEAD = ("<tr><th>notebook</th><th>parameters</th><th>status</th><th>rendered (UTC)</th>"
               "<th></th><th>error</th></tr>")
_INDEX_STYLE = ("body{font-family:" + FONT_STACK + ";margin:2em}table{border-collapse:collapse;"
                "margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
                ".s-failed{color:#b00020;font-weight:bold}.s-ok{color:#1b5e20}")


def _report_dirs(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for meta in root.rglob("report.json"):
        rel = meta.relative_to(root).parts
        if any(part.startswith(".") for part in rel):
            continue  # temporary and old directories
        try:
            found.append((meta.parent, json.loads(meta.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue
    return found


def _index_rows(root: Path, items: list[tuple[Path, dict[str, Any]]]) -> str:
    e = html.escape
    out = []
    for path, meta in sorted(items, key=lambda x: (x[1].get("notebook", ""), x[1].get("key", ""),
                                                   x[0].name.endswith(FAILED_SUFFIX))):
        link = path.relative_to(root).as_posix() + "/report.html"
        status = str(meta.get("status", "?"))
        params = ", ".join(f"{k}={v}" for k, v in (meta.get("parameters") or {}).items())
        out.append(
            f"<tr><td>{e(str(meta.get('notebook', '')))}</td><td>{e(params or 'defaults')}"
            f"</td><td class=\"s-{e(status)}\">{e(status)}</td>"
            f"<td>{e(str(meta.get('finished', '')))}</td>"
            f"<td><a href=\"{e(link)}\">report</a></td>"
            f"<td>{e(_index_error(meta))}</td></tr>")
    return "".join(out)


_ERROR_LINE = re.compile(r"^(?P<cell>cell \S+: )?(?P<ename>[A-Za-z_][\w.]*): (?P<evalue>.*)$")


def _index_error(meta: dict[str, Any]) -> str:
    """A report's error as the index shows it: never customer data, even when the report was
    rendered with ``--show-pii`` or by a crmlab that did not yet redact error text."""
    error = str(meta.get("error") or "")
    if not error or (not meta.get("show_pii") and "error_type" in meta):
        return error  # redacted when the report was written
    m = _ERROR_LINE.match(error)
    if m is None:
        return HIDDEN
    return f"{m['cell'] or ''}{m['ename']}: {redact_error(m['ename'], m['evalue'])}"


def write_index(output_root: str | Path | None = None) -> Path:
    """Rebuild ``index.html``: dated runs newest first, then ad-hoc reports by notebook.

    Parameters
    ----------
    output_root : str, Path or None
        Reports directory (default ``crmlab.config.reports_dir()``).

    Returns
    -------
    Path
        The index page.
    """
    root = _root(output_root)
    e = html.escape
    runs: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    adhoc: list[tuple[Path, dict[str, Any]]] = []
    for path, meta in _report_dirs(root):
        rel = path.relative_to(root).parts
        if rel[0] == RUNS_DIR and len(rel) >= 4:
            runs.setdefault(rel[1], []).append((path, meta))
        elif rel[0] != RUNS_DIR:
            adhoc.append((path, meta))
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">",
        f"<title>crmlab reports</title><style>{_INDEX_STYLE}</style></head><body>"
        "<h1>crmlab reports</h1>",
        f"<p>Index rebuilt {e(now())}.</p>",
    ]
    if runs:
        parts.append("<h2>Scheduled runs (newest first)</h2>")
        for date in sorted(runs, reverse=True):
            items = runs[date]
            status = "ok" if all(m.get("status") == "ok" for _, m in items) else "failed"
            manifest = f"{RUNS_DIR}/{date}/manifest.json"
            parts.append(f"<h3>Run {e(date)} <span class=\"s-{status}\">{status}</span> "
                         f"<small><a href=\"{e(manifest)}\">manifest</a></small></h3>")
            parts.append(f"<table>{_INDEX_HEAD}{_index_rows(root, items)}</table>")
    parts.append("<h2>Reports</h2>")
    parts.append(f"<table>{_INDEX_HEAD}{_index_rows(root, adhoc)}</table>" if adhoc
                 else "<p>None yet.</p>")
    parts.append("</body></html>")
    return _write_atomic(root / "index.html", "".join(parts), what="the index")


def _write_atomic(path: Path, text: str, *, what: str) -> Path:
    """Write ``text`` to ``path`` through a hidden temporary file; one line if it cannot."""
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise RenderError(f"cannot write {what} ({exc.strerror or type(exc).__name__})",
                          file=path.parent, fix="check the folder's permissions, or give a "
                          "writable one with --output (or CRMLAB_REPORTS_DIR)") from None
    return path
