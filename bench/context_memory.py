"""The notice's template context: its memory, its time, and the notice it makes.

Each measurement runs in a fresh child process: read -> validate -> count a ledger, then

- ``traced``: tracemalloc around ``build_context`` alone (what the context keeps, and the
  peak while building it), the context then dropped;
- ``rss``: ``render_notice`` without tracemalloc, its wall time, the process's peak RSS
  (VmHWM) before and after rendering, and a digest of every part of the .docx except
  ``docProps/core.xml`` (which holds the build time).

``--baseline context.py`` measures a second ``toolkit/context.py`` (e.g. one taken from git:
``git show REV:toolkit/context.py > /tmp/context_before.py``) side by side, interleaved run
by run, and checks that both make the same notice byte for byte:

    .venv/bin/python bench/context_memory.py --rows 50000 --shapes standard,overdue \\
        --baseline /tmp/context_before.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger_gen import SHAPES, write_bench_ledger

_CHILD = r"""
import gc, hashlib, io, json, sys, time, tracemalloc, zipfile
from pathlib import Path

mode, ledger_path, baseline, kind = sys.argv[1:5]
import toolkit.render as render
if baseline:
    import importlib.util
    spec = importlib.util.spec_from_file_location("context_baseline", baseline)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    render.build_context = module.build_context
from toolkit.count import count
from toolkit.model import Report
from toolkit.read import read_ledger
from toolkit.validate import validate


def hwm_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


ledger = read_ledger(ledger_path)
report = Report(ledger, validate(ledger), count(ledger))
kind = kind or report.ledger.meta.kind or "阶段性进展"
gc.collect()
out = {}
if mode == "traced":
    tracemalloc.start()
    started = time.perf_counter()
    context = render.build_context(report, kind)
    out["build_s"] = time.perf_counter() - started
    out["kept_mb"], out["peak_mb"] = (v / 2**20 for v in tracemalloc.get_traced_memory())
    tracemalloc.stop()
else:
    out["hwm_before_mb"] = hwm_mb()
    started = time.perf_counter()
    data = render.render_notice(report, kind)
    out["render_s"] = time.perf_counter() - started
    out["hwm_after_mb"] = hwm_mb()
    digest = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in sorted(package.namelist()):
            if name != "docProps/core.xml":
                digest.update(name.encode() + b"\0" + package.read(name))
    out["digest"] = digest.hexdigest()
print(json.dumps(out))
"""


def child(mode: str, ledger: Path, baseline: str, kind: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, mode, str(ledger), baseline, kind],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--shapes", default="standard,overdue")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", default="", help="another toolkit/context.py to compare with")
    parser.add_argument("--kind", default="", help="阶段性进展 or 集中整改进展 (default: the ledger's)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the generated ledgers")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="context-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    variants = {"now": ""} | ({"baseline": args.baseline} if args.baseline else {})
    print(f"load average at the start: {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
    same = True
    for shape in args.shapes.split(","):
        if shape not in SHAPES:
            parser.error(f"unknown shape {shape!r}")
        ledger = work / f"台账-{shape}-{args.rows}.xlsx"
        if not ledger.exists():
            write_bench_ledger(ledger, args.rows, shape=shape)
        samples: dict[str, list[dict]] = {name: [] for name in variants}
        for run in range(args.runs):
            order = list(variants.items())
            order = order[run % len(order):] + order[:run % len(order)]
            for name, baseline in order:
                samples[name].append(child("traced", ledger, baseline, args.kind)
                                    | child("rss", ledger, baseline, args.kind))
        print(f"\n{shape}, {args.rows:,} rows, {args.kind or 'the ledger’s kind'}, "
              f"median of {args.runs} runs")
        print(f"{'':10} {'context kept':>13} {'building peak':>14} {'build_context':>14} "
              f"{'render_notice':>14} {'peak RSS before':>16} {'peak RSS after':>15}")
        for name, runs in samples.items():
            def med(key: str, runs: list[dict] = runs) -> float:
                return statistics.median(r[key] for r in runs)
            print(f"{name:10} {med('kept_mb'):10.1f} MB {med('peak_mb'):11.1f} MB "
                  f"{med('build_s'):12.2f} s {med('render_s'):12.2f} s {med('hwm_before_mb'):13.1f} MB "
                  f"{med('hwm_after_mb'):12.1f} MB")
        digests = {r["digest"] for runs in samples.values() for r in runs}
        same &= len(digests) == 1
        print("same .docx (every part but docProps/core.xml) in every run and variant:",
              "yes" if len(digests) == 1 else f"NO ({len(digests)} different)")
    print(f"\nload average at the end: {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
