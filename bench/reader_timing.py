"""Reader only: ``read_ledger`` of this tree against another revision, side by side.

    python bench/reader_timing.py [--against REV] [--rows 10000] [--runs 5]

Both readers run in fresh processes on the same generated ledger, interleaved run by run so
that load on the machine hits both alike; the medians and their ratio are printed. Used to
show that splitting the reader (issue 10.1) did not make it slower.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_gen import write_bench_ledger  # noqa: E402

TIMER = ("import sys, time; from toolkit.read import read_ledger; read_ledger(sys.argv[1]); "
         "t = time.perf_counter(); read_ledger(sys.argv[1]); print(time.perf_counter() - t)")


def time_once(pythonpath: Path, ledger: Path) -> float:
    out = subprocess.run([sys.executable, "-c", TIMER, str(ledger)], cwd=pythonpath, check=True,
                         capture_output=True, text=True, env={"PYTHONPATH": str(pythonpath)})
    return float(out.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD~1", help="git revision to compare with")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="toolkit-reader-") as tmp:
        work = Path(tmp)
        old = work / "old"
        old.mkdir()
        archive = subprocess.run(["git", "archive", args.against, "toolkit"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        ledger = write_bench_ledger(work / "台账.xlsx", args.rows)
        now, before = [], []
        for _ in range(args.runs):
            before.append(time_once(old, ledger))
            now.append(time_once(ROOT, ledger))
    a, b = statistics.median(before), statistics.median(now)
    print(f"read_ledger, {args.rows:,} rows, median of {args.runs}: {args.against} {a:.3f} s, "
          f"this tree {b:.3f} s, ratio {b / a:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
