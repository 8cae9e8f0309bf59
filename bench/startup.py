"""Start-up of the command line: ``toolkit --version`` and ``--help``, timed like hyperfine.

Each command runs ``--runs`` times as a fresh process, the commands interleaved run by run
(so load on the shared machine falls on all alike); printed are the median and the fastest
wall time and the median CPU time (user + system) of each. ``--before DIR`` times the same
commands from another source tree as well (``git archive REV | tar -x -C DIR``), through
``python -m toolkit.cli`` with ``PYTHONPATH=DIR``, side by side with this one. Each tree's
bytecode is written first (bench/bytecode_cache.py), as an install writes it.

    .venv/bin/python bench/startup.py --runs 30
    .venv/bin/python bench/startup.py --runs 30 --before /tmp/toolkit-before
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bytecode_cache import compile_package  # noqa: E402

# Not the checkout: ``python -m`` puts the working folder first on sys.path, ahead of PYTHONPATH.
_NEUTRAL = tempfile.gettempdir()


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, check=True, cwd=_NEUTRAL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--before", type=Path, default=None, help="another source tree to compare with")
    args = parser.parse_args(argv)
    python = sys.executable
    trees = {"now": ROOT} | ({"before": args.before.resolve()} if args.before else {})
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([python, "-c", "pass"], dict(os.environ)),
        "python -c 'import typer'": ([python, "-c", "import typer"], dict(os.environ)),
    }
    for name, tree in trees.items():
        compile_package(tree / "toolkit")
        env = dict(os.environ, PYTHONPATH=str(tree))
        for option in ("--version", "--help"):
            commands[f"{name}: toolkit {option}"] = ([python, "-m", "toolkit.cli", option], env)
    samples: dict[str, list[tuple[float, float]]] = {key: [] for key in commands}
    print(f"load average at the start: {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for run in range(args.runs):
        keys = list(commands)
        keys = keys[run % len(keys):] + keys[:run % len(keys)]
        for key in keys:
            samples[key].append(_timed(*commands[key]))
    print(f"{'':34} {'median':>8} {'fastest':>8} {'CPU median':>11}   ({args.runs} runs)")
    for key, values in samples.items():
        walls = [wall for wall, _cpu in values]
        cpus = [cpu for _wall, cpu in values]
        print(f"{key:34} {statistics.median(walls) * 1000:6.0f} ms {min(walls) * 1000:5.0f} ms "
              f"{statistics.median(cpus) * 1000:8.0f} ms")
    print(f"load average at the end: {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
