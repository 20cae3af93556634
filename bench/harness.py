"""A small benchmark harness: every repeat runs in a fresh process, peers in the same run.

A benchmark script defines cases with :func:`case` and ends with ``main()``. Each case is a
function ``setup() -> state`` and ``run(state)``; only ``run`` is timed. A case may name its
``peer`` (the library crmlab is measured against, e.g. ``"or_pyfim_alone"``): the table then
shows crmlab's time and peak memory as a ratio of the peer's.

Every repeat runs in its own Python process, so the peak resident memory it reports
(``ru_maxrss``) is that of one run, setup included (the data a job needs is part of its memory
cost). Repeats alternate between the cases (A B C, A B C, ...), so a ratio compares runs made
side by side under the same machine load. Each run records its wall time and its CPU time
(user + system, every thread): on a loaded machine CPU time is the steadier figure.

    python bench/bench_data.py             # all cases, 5 repeats, medians and peak memory
    python bench/bench_data.py --repeats 7 --case load_clean_rfm

Figures go to ``bench/results/<script>.json`` with the machine (CPU count and model, memory,
load, Python and package versions); ``bench/run_all.py`` prints them as one table.
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
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIN_REPEATS = 5
#: Packages whose versions are noted with the figures (those installed).
PACKAGES = ("crmlab", "numpy", "pandas", "scipy", "pyarrow", "mlxtend", "pyfim", "rusket", "polars", "duckdb",
            "lifetimes", "papermill", "nbconvert", "statsmodels", "psycopg", "adbc-driver-postgresql", "pyspark")
_CASES: dict[str, dict[str, Any]] = {}


def case(name: str, setup: Callable[[], Any], run: Callable[[Any], Any], target: str = "",
         peer: str | None = None) -> None:
    """Register a benchmark case.

    Parameters
    ----------
    name : str
        Case name (unique in the script).
    setup : callable
        ``setup() -> state``, not timed (imports and data loading).
    run : callable
        ``run(state)``, timed; may return a dict of figures to note (rule counts, say).
    target : str
        The goal in words, printed beside the figures.
    peer : str or None
        The case this one is compared with (ratio = this case / peer).
    """
    _CASES[name] = {"setup": setup, "run": run, "target": target, "peer": peer}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _once(name: str) -> dict[str, float]:
    spec = _CASES[name]
    state = spec["setup"]()
    c0, t0 = _cpu(), time.perf_counter()
    info = spec["run"](state)
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"seconds": seconds, "cpu_s": cpu, "peak_mb": peak_mb}
    if isinstance(info, dict):
        out.update(info)
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """The machine and software the figures were measured on."""
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        mem_gb = None
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpu_count": os.cpu_count(), "cpu_model": _cpu_model(), "arch": platform.machine(), "memory_gb": mem_gb,
        "os": platform.platform(), "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "packages": versions,
    }


def describe(m: dict[str, Any]) -> str:
    """One line for a machine noted by :func:`machine`."""
    load = m.get("load_average")
    return (f"{m['cpu_count']} x {m['cpu_model']}, {m['memory_gb']} GiB, Python {m['python']}"
            + (f", load {load[0]}" if load else ""))


def _run_child(script: Path, name: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, str(script), "--once", name], capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(f"benchmark case {name} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summarise(runs: list[dict[str, float]], spec: dict[str, Any]) -> dict[str, Any]:
    """Median, spread and peak memory of a case's runs."""
    secs = [r["seconds"] for r in runs]
    return {
        "median_s": statistics.median(secs), "min_s": min(secs), "max_s": max(secs),
        "median_cpu_s": statistics.median(r.get("cpu_s", float("nan")) for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "repeats": len(runs), "target": spec["target"], "peer": spec["peer"],
        "seconds": secs,
        "extra": {k: v for k, v in runs[-1].items() if k not in ("seconds", "cpu_s", "peak_mb")},
    }


def add_ratios(cases: dict[str, dict[str, Any]]) -> None:
    """Each case with a measured peer gets its time, CPU and memory ratios to the peer."""
    for summary in cases.values():
        peer = cases.get(summary.get("peer") or "")
        if peer:
            summary["ratio_time"] = summary["median_s"] / peer["median_s"]
            summary["ratio_cpu"] = summary["median_cpu_s"] / peer["median_cpu_s"]
            summary["ratio_peak"] = summary["peak_mb"] / peer["peak_mb"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", action="append", help="run only these cases (their peers too)")
    parser.add_argument("--repeats", type=int, default=MIN_REPEATS)
    parser.add_argument("--once", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        print(json.dumps(_once(args.once)))
        return
    script = Path(sys.argv[0]).resolve()
    names = args.case or list(_CASES)
    # every case's peer too, once a round even when two cases share it
    names = list(dict.fromkeys(names + [p for n in names if (p := _CASES[n]["peer"])]))
    report = {"machine": machine(), "script": script.name, "cases": {}}
    print(f"# {script.name} on {describe(report['machine'])}"
          + ("" if args.repeats >= MIN_REPEATS else f"  (only {args.repeats} repeats: not for the record)"))
    runs: dict[str, list] = {n: [] for n in names}
    RESULTS_DIR.mkdir(exist_ok=True)
    out_path = RESULTS_DIR / f"{script.stem}.json"
    # a run of some cases keeps the other cases' figures (each case notes the load it ran under)
    kept = json.loads(out_path.read_text()).get("cases", {}) if args.case and out_path.exists() else {}
    kept = {k: v for k, v in kept.items() if k not in names}
    for done in range(1, args.repeats + 1):
        for name in names:  # alternating: every ratio compares runs made side by side
            runs[name].append(_run_child(script, name))
        # figures so far, so a long run that is stopped still leaves its rounds
        load = machine()["load_average"]
        report["cases"] = {**kept, **{name: {**summarise(runs[name], _CASES[name]), "load_average": load}
                                      for name in names}}
        add_ratios(report["cases"])
        report["machine_after"] = {"load_average": load, "rounds": done}
        out_path.write_text(json.dumps(report, indent=2))
    for name, s in report["cases"].items():
        ratio = f"  {s['ratio_time']:.2f}x time, {s['ratio_peak']:.2f}x memory of {s['peer']}" if "ratio_time" in s else ""
        print(f"{name:40s} median {s['median_s']:8.3f} s (cpu {s['median_cpu_s']:.3f}, min {s['min_s']:.3f}, "
              f"max {s['max_s']:.3f}, n={s['repeats']})  peak {s['peak_mb']:7.0f} MB{ratio}"
              + (f"  target: {s['target']}" if s["target"] else "")
              + (f"  {s['extra']}" if s["extra"] else ""))
