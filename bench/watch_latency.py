"""How long after a clerk's save does the new notice stand in place? (`toolkit watch`)

    .venv/bin/python bench/watch_latency.py [--rows 1000] [--saves 20] [--debounce 1.0] [--polling]

A real Watcher (native observer, or polling) watches a temp folder holding one realistic
ledger. Each save is Excel's: write a temp file with a random name and no extension, delete the
ledger, rename the temp onto it; saves are at least a debounce apart (a clerk's pace: closer
saves are a burst, built once it ends). The clock starts at that final rename and stops when the
notice's inode changes (the atomic replace). Prints p50 and p95 over the saves, and how much
of it is the watcher (rename -> build_notice called) and how much the build itself.
The goal is p95 under debounce + 0.5 s. With ``--polling`` a save waits up to one polling
interval to be seen (then it is built at once, like a rename seen by the native observer).

``measure_watch_latency(rows, saves)`` returns the same figures as a dict (bench/run.py).
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from ledger_gen import write_bench_ledger  # noqa: E402

from toolkit.build import build_notice, notice_path_for  # noqa: E402
from toolkit.watch import Watcher  # noqa: E402

NOTICE_TIMEOUT = 60.0  # a save whose notice takes longer than this is a failure, not a sample


def _versions(base: Path, saves: int) -> list[bytes]:
    """``saves`` versions of the ledger, each with one 备注 cell edited (as a clerk would)."""
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = load_workbook(base)
    sheet = book["整改台账"]
    remarks = next(c.column for c in sheet[3] if c.value == "备注")
    versions = []
    for i in range(saves):
        sheet.cell(4 + i % 10, remarks).value = f"第{i + 1}次保存"
        buffer = io.BytesIO()
        book.save(buffer)
        versions.append(buffer.getvalue())
    return versions


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def measure_watch_latency(rows: int, saves: int, *, debounce: float = 1.0, polling: bool = False,
                          interval: float = 1.0) -> dict:
    """Latency from the final rename of each save to the new notice in place, in seconds."""
    build_starts: list[float] = []
    build_seconds: list[float] = []

    def timed_build(ledger, target, **options):
        started = time.perf_counter()
        build_starts.append(started)
        try:
            return build_notice(ledger, target, **options)
        finally:
            build_seconds.append(time.perf_counter() - started)

    with tempfile.TemporaryDirectory(prefix="watch-bench-") as tmp:
        ledgers, out = Path(tmp) / "ledgers", Path(tmp) / "out"
        ledgers.mkdir()
        ledger = write_bench_ledger(ledgers / "台账.xlsx", rows)
        versions = _versions(ledger, saves)
        notice = notice_path_for(ledger, out)
        latencies: list[float] = []
        reactions: list[float] = []  # rename -> build_notice called: debounce + the watcher's own
        with Watcher(ledgers, out, polling=polling, interval=interval, debounce=debounce,
                     builder=timed_build) as watcher:
            if not watcher.wait_builds(ledger.name, 1, NOTICE_TIMEOUT):
                raise RuntimeError("the first build did not finish")
            build_seconds.clear()
            build_starts.clear()
            last_rename = float("-inf")
            for i, data in enumerate(versions):
                # One save at a time, as a clerk saves: a save within the debounce of the
                # previous one would be part of a burst, which waits for the burst to end.
                time.sleep(max(0.0, last_rename + debounce + 0.1 - time.perf_counter()))
                before = _inode(notice)
                temp = ledgers / secrets.token_hex(4).upper()
                temp.write_bytes(data)
                ledger.unlink()
                started = time.perf_counter()
                os.rename(temp, ledger)
                last_rename = started
                deadline = started + NOTICE_TIMEOUT
                while _inode(notice) == before:
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"save {i + 1}: no new notice within {NOTICE_TIMEOUT:g} s")
                    time.sleep(0.002)
                latencies.append(time.perf_counter() - started)
                reactions.append(build_starts[-1] - started)
                # Let the build finish its report and status.json before the next save.
                if not watcher.wait_builds(ledger.name, i + 2, NOTICE_TIMEOUT):
                    raise RuntimeError(f"save {i + 1}: the build did not finish")
    return {
        "rows": rows,
        "saves": saves,
        "debounce": debounce,
        "observer": "polling" if polling else "native",
        "p50": statistics.median(latencies),
        "p95": _percentile(latencies, 0.95),
        "min": min(latencies),
        "max": max(latencies),
        "reaction_p50": statistics.median(reactions),
        "reaction_p95": _percentile(reactions, 0.95),
        "build_p50": statistics.median(build_seconds),
        "goal": debounce + 0.5,
        "interval": interval if polling else None,
        "latencies": latencies,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--debounce", type=float, default=1.0)
    parser.add_argument("--polling", action="store_true")
    parser.add_argument("--interval", type=float, default=1.0, help="polling interval")
    args = parser.parse_args(argv)
    r = measure_watch_latency(args.rows, args.saves, debounce=args.debounce, polling=args.polling,
                              interval=args.interval)
    print(f"watch latency: {r['rows']}-row ledger, {r['saves']} Excel-style saves, "
          f"debounce {r['debounce']:g} s, {r['observer']} observer")
    print(f"  p50 {r['p50']:.3f} s   p95 {r['p95']:.3f} s   (min {r['min']:.3f}, max {r['max']:.3f})")
    print(f"  rename -> build starts: p50 {r['reaction_p50']:.3f} s   p95 {r['reaction_p95']:.3f} s"
          f"   (the watcher's share)")
    print(f"  build_notice p50 {r['build_p50']:.3f} s (whole call; the notice is in place before"
          f" its statistics workbook and history snapshot are written)")
    if r["interval"] is not None:
        # A poll sees a save up to one interval after it; the debounce is not paid on top of
        # that any more (a polled delete + create is a finished save, like a rename).
        print(f"  polling every {r['interval']:g} s: the watcher's share is at most one interval"
              f" (p95 {r['reaction_p95']:.3f} s vs interval {r['interval']:g} s;"
              f" before the fix it was debounce + interval)")
    met = "met" if r["p95"] < r["goal"] else "NOT met"
    print(f"  goal p95 < debounce + 0.5 s = {r['goal']:.1f} s: {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
