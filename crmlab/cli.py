"""The ``crmlab`` command-line tool.

    crmlab render NOTEBOOK [-p NAME VALUE ...]      one notebook, ad-hoc parameters
                                                    (-p source my-shop.yml: your own data)
    crmlab render --all                             every notebooks/NN-*.ipynb
    crmlab render --config batch.yml [--as-of DATE] a batch file; --as-of makes a dated run
    crmlab params NOTEBOOK                          the parameters a notebook accepts
    crmlab quality SOURCE                           data-quality summary of a source
                                                    (a source file .yml or a shipped name)
    crmlab compare RUN_A RUN_B                      workshop comparison of two dated runs
    crmlab index                                    rebuild reports/index.html

Exit status: 0 when everything rendered; 2 for bad input, printed on one line without a
traceback: refused before any kernel starts (unknown notebook or parameter, wrong type, a
number outside the range its notebook declares, a date that is not one, a bad source or
batch file, a notebook without ``as_of`` in a dated render) or found by a notebook (every
failed notebook stopped on crmlab's own error about its data, e.g. a DataError), or a folder
that cannot be written; 1 when a notebook failed for another reason (its report is marked
failed). A batch renders every notebook either way.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from crmlab.errors import CrmlabError


def _shown(path: Path) -> str:
    """A path as short as it can be: relative to the working directory when under it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except (ValueError, OSError):
        return str(path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmlab", description="crmlab: CRM research notebooks rendered into reports.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("render", help="execute notebooks and write HTML reports",
                       description="Execute notebooks with parameters and write reports "
                       "(HTML with code hidden, executed notebook, params.yaml, metrics.json).")
    r.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                   help="notebook path or name in notebooks/ (e.g. 01-customer-analysis)")
    r.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="set a parameter (repeatable); "
                   "-p source my-shop.yml renders your own data (checked before the run)")
    r.add_argument("--all", action="store_true", dest="all_notebooks",
                   help="render every notebooks/NN-*.ipynb (not notebooks/exploratory/)")
    r.add_argument("--config", metavar="FILE",
                   help="YAML list of notebooks and parameter sets (scheduled runs)")
    r.add_argument("--as-of", metavar="DATE",
                   help="render a dated run reports/runs/DATE/ with a manifest; passes as_of "
                   "to every notebook and refuses one that does not declare it (unless its "
                   "metadata says it reads no dated data)")
    r.add_argument("--show-pii", action="store_true",
                   help="show raw customer IDs (passes show_pii=True); default pseudonymised")
    r.add_argument("--output", metavar="DIR",
                   help="where reports go (default: reports/, or $CRMLAB_REPORTS_DIR)")
    r.add_argument("--notebooks-dir", metavar="DIR",
                   help="where --all and bare notebook names look (default: notebooks/)")
    r.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="time allowed per cell (default: no limit)")
    r.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                   help="notebooks rendered at once, each in its own process, the longest "
                   "(by its last report) first (default 0: one per CPU core, at most 4; "
                   "1: in order)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--fresh-kernels", action="store_true",
                   help="a new kernel for every notebook (default: the notebooks one worker "
                   "renders share its kernel, reset to a new kernel's state in between)")
    r.add_argument("--no-shared-results", action="store_true",
                   help="every notebook computes everything itself (default: the notebooks of a "
                   "batch read a file source once and share the results they compute alike)")

    p = sub.add_parser("params", help="list a notebook's parameters, types and defaults")
    p.add_argument("notebook", metavar="NOTEBOOK")

    q = sub.add_parser("quality", help="load and clean a data source, print its quality")
    q.add_argument("source", metavar="SOURCE",
                   help="a source file (my-shop.yml) or a shipped source name (online_retail)")
    q.add_argument("--columns", metavar="PRESET",
                   help="for a data file given directly (not a source file): the shipped "
                   "source whose column mapping reads it (e.g. online_retail)")

    c = sub.add_parser("compare", help="compare two rendered runs (e.g. two --as-of dates)",
                       description="Write a comparison report of two runs' strategy reports: "
                       "KPI deltas, segment migration, CLV by segment, rules that appeared or "
                       "disappeared, campaign results side by side.")
    c.add_argument("run_a", metavar="RUN_A", help="earlier run: its date (reports/runs/DATE) or folder")
    c.add_argument("run_b", metavar="RUN_B", help="later run: its date or folder")
    c.add_argument("--notebook", default="00-strategy-report",
                   help="which report of the runs to compare (default 00-strategy-report)")
    c.add_argument("--output", metavar="DIR",
                   help="reports directory holding the runs, and where the comparison goes")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")

    i = sub.add_parser("index", help="rebuild the reports index")
    i.add_argument("--output", metavar="DIR", help="reports directory")
    _add_export(sub)
    return parser


def _add_export(sub: Any) -> None:
    e = sub.add_parser("export", help="export a run's per-customer scores for a campaign tool",
                       description="Write the per-customer scores a run published (segment, CLV, "
                       "P(alive), churn risk, next-best offer, send time) to a database table or a "
                       "CSV/Parquet file, never to the source table.")
    e.add_argument("what", choices=["scores"], help="what to export")
    e.add_argument("--run", required=True, metavar="DATE", help="the run (reports/runs/DATE) or report folder")
    e.add_argument("--to", required=True, metavar="TARGET",
                   help="a database URL (postgresql://user@host/db) or a .csv/.csv.gz/.parquet path")
    e.add_argument("--table", default="customer_scores", help="target table (database targets)")
    e.add_argument("--source", metavar="SOURCE", help="the run's source, refused as a target")
    e.add_argument("--if-exists", choices=["append", "replace"], default="append")
    e.add_argument("--password-env", metavar="VAR", help="environment variable holding the target's password")


def _cmd_export(args: argparse.Namespace) -> int:
    from crmlab.data import export

    where = export.export_scores(export.run_scores(args.run), args.to, table=args.table, run=args.run,
                                 source=args.source, if_exists=args.if_exists, password_env=args.password_env)
    print(f"scores written to {where}")
    return 0


def _cores() -> int:
    """Notebooks rendered at once by default: one per CPU core this process may use, at
    most 4 (each kernel holds its data in memory). On 2 cores two workers render
    ``--all`` in 0.75-0.87 of the time of one (bench/bench_report.py)."""
    from crmlab.data.columnar import usable_cores

    return usable_cores(at_most=4)


def _cmd_render(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from crmlab import report

    params = {}
    for name, value in args.parameter:
        if name in params:
            raise CrmlabError(f"parameter {name!r} given twice")
        params[name] = value
    if params and (len(args.notebooks) != 1 or args.all_notebooks or args.config):
        raise CrmlabError("-p applies to a single notebook",
                          fix="give parameters per notebook in a --config batch file")
    jobs = [(nb, params) for nb in args.notebooks]
    workers = args.jobs if args.jobs > 0 else _cores()
    batch = report.render_batch(
        jobs, config_file=args.config, all_notebooks=args.all_notebooks,
        notebooks_dir=args.notebooks_dir, output_root=args.output, show_pii=args.show_pii,
        as_of=args.as_of, timeout=args.timeout, jobs=workers, progress=not args.no_progress,
        echo=lambda line: tqdm.write(line, file=sys.stdout), fresh_kernels=args.fresh_kernels,
        share_results=not args.no_shared_results,
    )
    failed = batch.failed
    print(f"{len(batch.results) - len(failed)} rendered, {len(failed)} failed")
    if batch.manifest is not None:
        print(f"Run manifest: {_shown(batch.manifest)}")
    print(f"HTML reports: {_shown(batch.index)}")
    return _failed_status(failed)


def _failed_status(failed: Sequence[Any]) -> int:
    """0 without failures; 2 when every failure is crmlab's own error (bad input), else 1."""
    from crmlab.privacy import CRMLAB_ERRORS

    if not failed:
        return 0
    return 2 if all(r.error_type in CRMLAB_ERRORS for r in failed) else 1


def _cmd_params(args: argparse.Namespace) -> int:
    from crmlab import report

    path = report.resolve_notebook(args.notebook)
    declared = report.notebook_parameters(path)
    print(f"{path.stem} ({_shown(path)})")
    if not declared:
        print("  no parameters cell")
        return 0
    rows = [(p.name, p.type + ("?" if p.optional and p.default is not None else ""),
             repr(p.default), p.help) for p in declared.values()]
    widths = [max(len(r[i]) for r in rows + [("name", "type", "default", "")]) for i in range(3)]
    print("  " + "  ".join(h.ljust(w) for h, w in zip(("name", "type", "default"), widths))
          + "  help")
    for row in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3])
    return 0


def _cmd_quality(args: argparse.Namespace) -> int:
    import pandas as pd

    from crmlab import data

    src = str(args.source)
    if args.columns is None and (src.endswith((".yml", ".yaml")) or src in data.shipped_sources()):
        tx = data.load_source(src)  # a source file (or a shipped source name) says what the columns mean
    else:
        tx = data.load_transactions(args.source, **({} if args.columns is None else {"columns": args.columns}))
    cleaned = data.clean(tx)
    result = data.quality_summary(tx, cleaned)
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(getattr(result, "title", "Data quality"))
        print(result.summary.to_string())
        for label, attr in (("Missing values per column", "missing"),
                            ("Cleaning audit", "audit")):
            table = getattr(result, attr, None)
            if isinstance(table, pd.DataFrame) and not table.empty:
                print(f"\n{label}")
                print(table.to_string())
    for note in getattr(result, "notes", ()) or ():
        print(note)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from crmlab import report

    root = args.output
    for run in (args.run_a, args.run_b):  # refuse a missing run before a kernel starts
        report.load_run(run, root, notebook=args.notebook)
    # The kernel finds the runs through the environment, so the report key stays the two runs.
    saved = os.environ.get("CRMLAB_REPORTS_DIR")
    if root:
        os.environ["CRMLAB_REPORTS_DIR"] = str(Path(root).resolve())
    try:
        batch = report.render_batch(
            [("compare-runs", {"run_a": args.run_a, "run_b": args.run_b, "notebook": args.notebook})],
            output_root=root, progress=not args.no_progress)
    finally:
        if saved is None:
            os.environ.pop("CRMLAB_REPORTS_DIR", None)
        else:
            os.environ["CRMLAB_REPORTS_DIR"] = saved
    result = batch.results[0]
    print(f"{'compared' if result.ok else 'comparison FAILED'}: {_shown(result.html)}")
    if not result.ok:
        print(f"  {result.error}")
    return _failed_status(batch.failed)


def _cmd_index(args: argparse.Namespace) -> int:
    from crmlab import report

    print(f"HTML reports: {_shown(report.write_index(args.output))}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (also the entry of the ``crmlab`` console script).

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``crmlab`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 done, 1 a notebook failed, 2 bad input (also when every failed
        notebook stopped on crmlab's own error about its data), 130 interrupted.
    """
    args = _parser().parse_args(argv)
    handler = {"render": _cmd_render, "params": _cmd_params, "quality": _cmd_quality,
               "compare": _cmd_compare, "index": _cmd_index, "export": _cmd_export}[args.command]
    try:
        return handler(args)
    except CrmlabError as exc:
        print(f"crmlab: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a folder or file the system refuses: one line, not a traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"crmlab: error: {exc.strerror or type(exc).__name__}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("crmlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
