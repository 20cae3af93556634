"""A small benchmark harness: every repeat runs in a fresh process.

A benchmark script defines cases with :func:`case` and ends with ``main()``. Each case is a
function ``setup() -> state`` and ``run(state)``; only ``run`` is timed. Every repeat runs in
its own Python process, so the peak resident memory it reports (``ru_maxrss``) is that of one
run, setup included (the data a job needs is part of its memory cost).

    python bench/bench_data.py             # all cases, 5 repeats, median and peak memory
    python bench/bench_data.py --repeats 3 --case load_clean_rfm
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

RESULTS_DIR = Path(__file__).resolve().parent / "results"
_CASES: dict[str, tuple[Callable[[], Any], Callable[[Any], Any], str]] = {}


def case(name: str, setup: Callable[[], Any], run: Callable[[Any], Any], target: str = "") -> None:
    """Register a benchmark case; ``target`` is the goal in words, printed beside the figures."""
    _CASES[name] = (setup, run, target)


def _once(name: str) -> dict[str, float]:
    setup, run, _ = _CASES[name]
    state = setup()
    t0 = time.perf_counter()
    info = run(state)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"seconds": seconds, "peak_mb": peak_mb}
    if isinstance(info, dict):
        out.update(info)
    return out


def machine() -> str:
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gb = float("nan")
    return f"{platform.machine()}, {os.cpu_count()} cores, {mem_gb:.0f} GiB, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", action="append", help="run only these cases")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--once", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        print(json.dumps(_once(args.once)))
        return
    script = Path(sys.argv[0]).resolve()
    names = args.case or list(_CASES)
    report = {"machine": machine(), "script": script.name, "cases": {}}
    print(f"# {script.name} on {report['machine']}")
    for name in names:
        runs = []
        for _ in range(args.repeats):
            proc = subprocess.run(
                [sys.executable, str(script), "--once", name],
                capture_output=True, text=True,
            )
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                raise SystemExit(f"benchmark case {name} failed")
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        secs = [r["seconds"] for r in runs]
        summary = {
            "median_s": statistics.median(secs),
            "min_s": min(secs),
            "max_s": max(secs),
            "peak_mb": max(r["peak_mb"] for r in runs),
            "repeats": len(runs),
            "target": _CASES[name][2],
            "extra": {k: v for k, v in runs[-1].items() if k not in ("seconds", "peak_mb")},
        }
        report["cases"][name] = summary
        print(
            f"{name:40s} median {summary['median_s']:8.3f} s  (min {summary['min_s']:.3f}, "
            f"max {summary['max_s']:.3f}, n={len(runs)})  peak {summary['peak_mb']:8.0f} MB"
            + (f"  target: {summary['target']}" if summary["target"] else "")
            + (f"  {summary['extra']}" if summary["extra"] else "")
        )
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{script.stem}.json").write_text(json.dumps(report, indent=2))
