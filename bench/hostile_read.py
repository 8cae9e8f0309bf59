"""Time and peak memory of reading each file of the hostile corpus, each in a fresh process.

    python bench/hostile_read.py

Issue 9.6's goal: every small file that would cost minutes is refused with a clear message or
read in under 5 s and 400 MB. Prints one line per corpus file: seconds, max RSS, outcome.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile_corpus import CASES, build_corpus  # noqa: E402

READER = ("import sys\nfrom toolkit.errors import ToolkitError\nfrom toolkit.read import read_ledger\n"
          "try:\n    print('read', len(read_ledger(sys.argv[1]).problems), 'problems')\n"
          "except ToolkitError as exc:\n    print('refused:', exc.message)\n")
GOAL_S, GOAL_MB = 5.0, 400


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="toolkit-hostile-") as tmp:
        corpus = build_corpus(Path(tmp))
        worst_s = worst_mb = 0.0
        for case in CASES:
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            started = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", READER, str(corpus[case.name])], cwd=ROOT,
                                 capture_output=True, text=True)
            seconds = time.perf_counter() - started
            # ru_maxrss of children is the largest child so far (KiB on Linux).
            peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
            worst_s, worst_mb = max(worst_s, seconds), max(worst_mb, peak)
            size = corpus[case.name].stat().st_size
            outcome = (out.stdout.strip() or out.stderr.strip().splitlines()[-1])[:90]
            print(f"{case.name:<20} {size / 1024:>9,.0f} KB {seconds:6.2f} s  ≤{peak:5.0f} MB  {outcome}")
    ok = worst_s < GOAL_S and worst_mb < GOAL_MB
    print(f"worst: {worst_s:.2f} s, {worst_mb:.0f} MB (goal < {GOAL_S:g} s and < {GOAL_MB} MB): "
          f"{'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
