"""Run every bench/bench_*.py script and print one table of crmlab against its peers (``make bench``).

    python bench/run_all.py                      # run everything (5 fresh-process repeats a case)
    python bench/run_all.py --only bench_basket  # one script
    python bench/run_all.py --table              # print the table from bench/results/ only

Extra arguments (``--repeats 7``) go to every script. Each script writes
``bench/results/<script>.json`` (figures and the machine); the table is read from there, so a
script that fails leaves the others' figures in the table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import RESULTS_DIR, describe  # noqa: E402


def table(scripts: list[Path]) -> list[str]:
    """Rows of the crmlab vs peer table from the results of ``scripts``."""
    head = f"| {'case':38s} | {'median s':>9s} | {'cpu s':>8s} | {'peak MB':>8s} | {'peer':30s} | {'time x':>6s} | {'mem x':>6s} |"
    lines = []
    for script in scripts:
        path = RESULTS_DIR / f"{script.stem}.json"
        if not path.exists():
            lines.append(f"\n{script.name}: no results (not run, or failed)")
            continue
        report = json.loads(path.read_text())
        m = report["machine"]
        lines += ["", f"{script.name} on {describe(m) if isinstance(m, dict) else m}", head,
                  "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"]
        for name, s in report["cases"].items():
            ratio = (f"{s['ratio_time']:6.2f} | {s['ratio_peak']:6.2f}" if "ratio_time" in s
                     else f"{'-':>6s} | {'-':>6s}")
            cpu = s.get("median_cpu_s")
            lines.append(f"| {name:38s} | {s['median_s']:9.3f} | {'-' if cpu is None else f'{cpu:8.3f}':>8s} | "
                         f"{s['peak_mb']:8.0f} | {s.get('peer') or '-':30s} | {ratio} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only these scripts (name without .py)")
    parser.add_argument("--table", action="store_true", help="print the table from existing results only")
    args, rest = parser.parse_known_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem in args.only]
    failed = 0
    if not args.table:
        for script in scripts:
            code = subprocess.call([sys.executable, str(script), *rest])
            if code:
                print(f"{script.name} failed (exit {code})", file=sys.stderr)
            failed |= code
    print("\n".join(table(scripts)))
    return failed


if __name__ == "__main__":
    sys.exit(main())
