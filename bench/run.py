"""Benchmarks: how fast and how lean the toolkit is on big ledgers, against its goals.

    .venv/bin/python bench/run.py                    # every shape at 100 … 50,000 rows
    .venv/bin/python bench/run.py --sizes 100,1000   # only these sizes
    .venv/bin/python bench/run.py --shapes standard,overdue   # only these shapes
    .venv/bin/python bench/run.py --quick            # 100 and 1,000 rows, fewer runs, no watcher
    .venv/bin/python bench/run.py --write bench/RESULTS.md

For each shape (bench/ledger_gen.py: standard, overdue, longtext, categories) and size a
realistic ledger is generated in a temp folder, then:

* each stage in-process: read, validate, count, render (.docx bytes), statistics workbook;
* end to end: ``toolkit render LEDGER -o OUT`` as a subprocess (start-up, statistics workbook,
  history snapshot and fsync included), into a fresh output folder each run; and again into
  one folder that already holds a build's history, from the same ledger after a clerk's edits
  (a rebuild: the history comparison finds them);
* the floor: python-calamine parsing the same file + docxtpl rendering the same template with
  a context built beforehand, i.e. what the two libraries underneath cost at the least;
* the whole-process floor: the same as ``python -c`` in a fresh process (start-up, imports,
  calamine read, docxtpl render, save), the fair yardstick for small ledgers; at 100 rows
  also start-up plus importing the chosen libraries the rendering process uses, and nothing
  else (``_CHOSEN_IMPORTS``): a bound no ``toolkit render`` can beat;
* peak memory: tracemalloc peak of the in-process pipeline (Python allocations only) and the
  maximum RSS of the ``toolkit render`` child (everything, as the OS sees it).

The four timings of a size are interleaved run by run (in a rotating order), on the same file,
so that load on the machine hits the toolkit and the floors alike and their ratios are fair.
Every time is the median of several runs (wall clock; other work on the machine shows up in
it, so the load average is printed too). Then ``toolkit --version`` start-up, the watcher's
latency (bench/watch_latency.py, polling and native) and the cost of one change in a folder
of 200 ledgers. The toolkit's bytecode is written first (bench/bytecode_cache.py), as an install
writes it. Standard library plus the project; python-calamine comes with the ``bench``
extra.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import pickle
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from bytecode_cache import compile_package  # noqa: E402
from ledger_gen import SHAPES, write_bench_ledger  # noqa: E402

from toolkit.context import build_context  # noqa: E402
from toolkit.count import count  # noqa: E402
from toolkit.model import Report  # noqa: E402
from toolkit.read import read_ledger  # noqa: E402
from toolkit.render import render_notice, template_for  # noqa: E402
from toolkit.stats_book import stats_workbook  # noqa: E402
from toolkit.validate import validate  # noqa: E402

DEFAULT_SIZES = (100, 1_000, 10_000, 50_000)
QUICK_SIZES = (100, 1_000)
DEFAULT_SHAPES = tuple(SHAPES)  # standard, overdue, longtext, categories
PROCESS_FLOOR_MAX_ROWS = 10_000  # above this, start-up is noise: whole-process floor skipped
FOLDER_LEDGERS = 200
FOLDER_ROWS = 50

# The goals of issue 14; each is printed with its figure and whether it is met.
GOAL_RATIO = 1.3  # end to end / floor at 10,000 rows, every shape, first build and rebuild
GOAL_RATIO_ROWS = 10_000
GOAL_SMALL_FACTOR = 1.5  # 100 rows end to end / whole-process floor
GOAL_SMALL_ROWS = 100
GOAL_RSS_MB = 250  # peak memory of `toolkit render` on 50,000 rows, first build and rebuild
GOAL_RSS_ROWS = 50_000
GOAL_STARTUP_S = 0.15  # `toolkit --version`
GOAL_WATCH_MARGIN_S = 0.5  # watcher: save -> new notice p95 <= debounce + this
GOAL_FOLDER_FACTOR = 1.5  # one change among 200 ledgers vs the same change alone

MARK_START = "<!-- bench/run.py: figures start -->"
MARK_END = "<!-- bench/run.py: figures end -->"


# ---------------------------------------------------------------- helpers

def median_time(fn, runs: int) -> tuple[float, object]:
    """Median wall time of ``fn()`` over ``runs`` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def toolkit_command() -> list[str]:
    script = Path(sys.executable).with_name("toolkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "toolkit.cli"]


# A child spawned by this (big) process inherits its high-water RSS on Linux: the kernel
# carries the old address space's peak over exec. A small wrapper runs the command instead and
# reports that grandchild's own peak and wall time.
_WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.call(sys.argv[2:], stdin=subprocess.DEVNULL)
elapsed = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    out.write(f"{elapsed} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
sys.exit(code)
"""


def run_child(args: list[str], cwd: Path) -> tuple[float, int, float]:
    """Run a command: (its wall seconds, exit code, its own maximum RSS in MB)."""
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as out:
        figures = Path(tmp) / "figures"
        code = subprocess.call([sys.executable, "-c", _WRAPPER, str(figures), *args], cwd=cwd,
                               stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if code not in (0, 1) or not figures.exists():
            out.seek(0)
            raise RuntimeError(f"{' '.join(args)} failed:\n{out.read().decode(errors='replace')}")
        elapsed, kilobytes = figures.read_text().split()
    return float(elapsed), code, int(kilobytes) / 1024  # Linux reports kB


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_mb(mb: float | None) -> str:
    return "–" if mb is None else f"{mb:.0f} MB"


def met(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "**NOT met**")


# ---------------------------------------------------------------- one ledger size

def measure_size(rows: int, runs: int, work: Path, shape: str = "standard", *,
                 floor: bool = True, process_floor: bool = True) -> dict:
    ledger = write_bench_ledger(work / f"台账-{shape}-{rows}.xlsx", rows, shape=shape)
    result: dict = {"rows": rows, "shape": shape, "runs": runs,
                    "file_mb": ledger.stat().st_size / 2**20}

    state: dict = {}

    def stage_read():
        state["ledger"] = read_ledger(ledger)

    def stage_validate():
        state["findings"] = validate(state["ledger"])

    def stage_count():
        state["stats"] = count(state["ledger"])
        state["report"] = Report(state["ledger"], state["findings"], state["stats"])

    def stage_render():
        return render_notice(state["report"])

    def stage_stats_book():
        return stats_workbook(state["report"])

    stages = [("read", stage_read), ("validate", stage_validate), ("count", stage_count),
              ("render", stage_render), ("stats_book", stage_stats_book)]
    samples: dict[str, list[float]] = {name: [] for name, _ in stages}
    for _ in range(runs):
        for name, fn in stages:
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
        gc.collect()
    for name, values in samples.items():
        result[name] = statistics.median(values)
    if rows in XLS_ROWS:
        result["read_xls"] = measure_xls_read(ledger, runs, work)
    report = state["report"]
    problems = len(report.ledger.problems)
    if problems != rows or report.errors:
        raise RuntimeError(f"{rows}-row {shape} ledger read as {problems} problems, "
                           f"{len(report.errors)} errors")
    kind = report.ledger.meta.kind or "阶段性进展"
    context_file = work / f"context-{shape}-{rows}.pickle"
    context_file.write_bytes(pickle.dumps(build_context(report, kind), pickle.HIGHEST_PROTOCOL))
    state.clear()
    del report
    gc.collect()

    result.update(_side_by_side(ledger, kind, context_file, runs, work, floor=floor,
                                process_floor=process_floor and rows <= PROCESS_FLOOR_MAX_ROWS,
                                rows=rows, shape=shape))
    # The same build without the statistics workbook and history snapshot (build_notice's
    # records=False), to tell the notice's own memory from the records written beside it.
    script = ("import sys; from toolkit.build import build_notice; "
              "sys.exit(build_notice(sys.argv[1], sys.argv[2], records=False).exit_code)")
    bare = work / f"bare-{shape}-{rows}"
    _, _, result["rss_notice_mb"] = run_child(
        [sys.executable, "-c", script, str(ledger), str(bare / "通报.docx")], work)
    shutil.rmtree(bare, ignore_errors=True)
    context_file.unlink()
    gc.collect()

    # Python's own allocations of the whole in-process pipeline (tracemalloc slows it down,
    # so this run is not timed).
    tracemalloc.start()
    try:
        led = read_ledger(ledger)
        rep = Report(led, validate(led), count(led))
        render_notice(rep)
        stats_workbook(rep)
        result["traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return result


def rebuild_edits(rows: int) -> int:
    """Rows a clerk edited between two builds, for the rebuild: 1 in 200, at least 10."""
    return max(10, rows // 200)


def _side_by_side(ledger: Path, kind: str, context_file: Path, runs: int, work: Path, *,
                  floor: bool, process_floor: bool, rows: int, shape: str) -> dict:
    """The toolkit and the floors on one file, interleaved run by run in a rotating order.

    Four timings per run: ``toolkit render`` into a fresh folder (first build), the rebuild (the
    same ledger after a clerk's edits, ``rebuild_edits``, into a folder holding the history of
    the notice built before them: the history comparison finds the edits), the in-process floor
    and the whole-process floor. Load on the shared machine then falls on all four alike, and no one
    of them always runs first (after the generator, or after a child that warmed the cache).
    """
    samples: dict[str, list[float]] = {"e2e": [], "e2e_again": [], "floor_read": [],
                                       "floor_render": [], "floor_process": [], "imports_only": []}
    rss: dict[str, list[float]] = {"e2e": [], "e2e_again": []}
    calamine = _calamine()
    context = pickle.loads(context_file.read_bytes()) if floor else None
    again = work / f"again-{ledger.stem}"
    # The rebuild's ledger: the same path (a history belongs to a ledger's path) first holding
    # the ledger as generated, then as edited.
    edited = work / f"edited-{ledger.stem}" / ledger.name
    edited.parent.mkdir(exist_ok=True)
    shutil.copyfile(ledger, edited)

    def build(key: str, out: Path, source: Path = ledger) -> None:
        # --force: an unchanged ledger is otherwise not rebuilt at all (无变化).
        seconds, code, peak = run_child(
            toolkit_command() + ["render", str(source), "-o", str(out / "通报.docx"), "--force"], work)
        if code != 0:
            raise RuntimeError(f"toolkit render exited {code} on {ledger.name}")
        samples[key].append(seconds)
        rss[key].append(peak)

    def first_build(i: int) -> None:
        out = work / f"out-{ledger.stem}-{i}"
        build("e2e", out)
        shutil.rmtree(out, ignore_errors=True)

    def rebuild(i: int) -> None:
        build("e2e_again", again, edited)

    def in_process_floor(i: int) -> None:
        assert context is not None
        if calamine is not None:
            samples["floor_read"].append(median_time(lambda: _calamine_parse(calamine, ledger), 1)[0])
        samples["floor_render"].append(median_time(lambda: _docxtpl_render(kind, context), 1)[0])

    def whole_process_floor(i: int) -> None:
        out = work / f"floor-{ledger.stem}-{i}.docx"
        seconds, code, _ = run_child([sys.executable, "-c", _PROCESS_FLOOR, str(ledger),
                                      str(template_for(kind)), str(context_file), str(out)], work)
        if code != 0:
            raise RuntimeError(f"the whole-process floor exited {code} on {ledger.name}")
        samples["floor_process"].append(seconds)
        out.unlink(missing_ok=True)

    def chosen_imports(i: int) -> None:
        seconds, code, _ = run_child([sys.executable, "-c", _CHOSEN_IMPORTS], work)
        if code != 0:
            raise RuntimeError("importing the chosen libraries failed")
        samples["imports_only"].append(seconds)

    measurements = [first_build, rebuild]
    if floor:
        measurements.append(in_process_floor)
    if process_floor and calamine is not None:
        measurements.append(whole_process_floor)
        if rows == GOAL_SMALL_ROWS:
            measurements.append(chosen_imports)
    run_child(toolkit_command() + ["render", str(edited), "-o", str(again / "通报.docx")], work)
    write_bench_ledger(edited, rows, shape=shape, edits=rebuild_edits(rows))
    interleave(measurements, runs)
    shutil.rmtree(again, ignore_errors=True)
    shutil.rmtree(edited.parent, ignore_errors=True)

    result: dict = {key: statistics.median(values) if values else None
                    for key, values in samples.items()}
    result["rss_mb"], result["rss_again_mb"] = max(rss["e2e"]), max(rss["e2e_again"])
    result["floor"] = (result["floor_read"] + result["floor_render"]
                       if result["floor_read"] is not None and result["floor_render"] is not None
                       else None)
    result["ratio"] = _ratio(result["e2e"], result["floor"])
    result["ratio_again"] = _ratio(result["e2e_again"], result["floor"])
    result["ratio_process"] = _ratio(result["e2e"], result["floor_process"])
    return result


def interleave(measurements: list, runs: int) -> None:
    """Call each measurement once per run, run ``i`` starting with measurement ``i`` (mod n)."""
    for i in range(runs):
        shift = i % len(measurements)
        for measure in measurements[shift:] + measurements[:shift]:
            measure(i)
        gc.collect()


def _ratio(seconds: float | None, floor: float | None) -> float | None:
    return seconds / floor if seconds is not None and floor else None


# The whole-process floor: what a fresh Python process needs at the least to turn the ledger
# into the notice with the two libraries underneath (the context, built by the toolkit
# beforehand, is handed over as a pickle: building it is the toolkit's own work).
_PROCESS_FLOOR = """
import pickle, sys
from python_calamine import CalamineWorkbook
from docxtpl import DocxTemplate
ledger, template, context_file, out = sys.argv[1:5]
book = CalamineWorkbook.from_path(ledger)
for name in book.sheet_names:
    book.get_sheet_by_name(name).to_python()
with open(context_file, "rb") as handle:
    context = pickle.load(handle)
document = DocxTemplate(template)
document.render(context, autoescape=True)
document.save(out)
"""


# What ``toolkit render`` cannot do without, as a fresh process that does nothing else: start-up
# and importing the project's chosen libraries that the rendering process itself uses (Typer for
# the command line, openpyxl for the .xlsx structure, docxtpl for the notice; xlsxwriter is
# imported by the child that writes the statistics workbook, see toolkit/side_job.py).
_CHOSEN_IMPORTS = "import typer, openpyxl, docxtpl"


def _calamine():
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        return None
    return CalamineWorkbook


def _calamine_parse(workbook_class, path: Path) -> None:
    book = workbook_class.from_path(str(path))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()


def _docxtpl_render(kind: str, context: dict) -> bytes:
    from docxtpl import DocxTemplate

    template = DocxTemplate(template_for(kind))
    template.render(context, autoescape=True)
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- start-up, watcher, folder

def measure_startup(runs: int, work: Path) -> tuple[str, float]:
    """Median start-up of ``toolkit --version`` (``--help`` while there is no --version)."""
    option = "--version"
    probe = subprocess.run(toolkit_command() + [option], cwd=work, capture_output=True, check=False,
                           stdin=subprocess.DEVNULL)
    if probe.returncode != 0:
        option = "--help"
    times = [run_child(toolkit_command() + [option], work)[0] for _ in range(runs)]
    return option, statistics.median(times)


def measure_watch(rows: int, saves: int, *, polling: bool = False) -> dict | None:
    """bench/watch_latency.py's figures; None when it (or its polling mode) is not there."""
    try:
        from watch_latency import measure_watch_latency
    except ImportError:
        return None
    if polling:
        import inspect

        if "polling" not in inspect.signature(measure_watch_latency).parameters:
            return None
        return measure_watch_latency(rows, saves, polling=True)
    return measure_watch_latency(rows, saves)


def measure_folder_change(ledgers: int, rows: int, work: Path) -> dict | None:
    """One clerk's save in a folder of ``ledgers`` ledgers, and the same in a folder of one.

    The yardstick is the same change handled by the same watcher in a folder holding only
    that ledger: the watcher's CPU for the change (build, 校验报告, status.json, its threads)
    in the big folder should be about that, and exactly one build should run.
    """
    try:
        import toolkit.watch  # noqa: F401
    except ImportError:
        return None
    base = write_bench_ledger(work / "base.xlsx", rows).read_bytes()
    edited = write_bench_ledger(work / "edited.xlsx", rows, seed=1).read_bytes()
    alone = _one_change(1, base, edited, work / "alone")
    crowd = _one_change(ledgers, base, edited, work / "crowd")
    return {"ledgers": ledgers, "rows": rows, "alone": alone, **crowd}


def _one_change(ledgers: int, base: bytes, edited: bytes, work: Path) -> dict:
    from toolkit.build import build_notice, notice_path_for
    from toolkit.watch import Watcher

    folder, out = work / "ledgers", work / "out"
    folder.mkdir(parents=True)
    names = [f"单位{i:03d}台账.xlsx" for i in range(ledgers)]
    for name in names:
        (folder / name).write_bytes(base)
    calls: list[str] = []

    def counting_build(ledger, target, **options):
        calls.append(Path(ledger).name)
        return build_notice(ledger, target, **options)

    target = folder / names[len(names) // 2]
    notice = notice_path_for(target, out)
    with Watcher(folder, out, builder=counting_build, log_file=False) as watcher:
        started = time.perf_counter()
        if not (watcher.wait_until(lambda: len(calls) >= ledgers, 600) and watcher.wait_idle(600)):
            raise RuntimeError("the first builds of the folder did not finish")
        initial = time.perf_counter() - started
        time.sleep(2 * watcher.debounce)  # let stray events of the first builds settle
        calls.clear()
        before = os.stat(notice).st_ino
        cpu_start = time.process_time()
        temp = folder / "A1B2C3D4"  # Excel's save: a temp file renamed onto the ledger
        temp.write_bytes(edited)
        target.unlink()
        started = time.perf_counter()
        os.rename(temp, target)
        while os.stat(notice).st_ino == before:
            if time.perf_counter() - started > 120:
                raise RuntimeError("no new notice within 120 s")
            time.sleep(0.005)
        latency = time.perf_counter() - started
        watcher.wait_builds(target.name, 2, 60)
        time.sleep(3 * watcher.debounce)  # any build the change wrongly set off would start now
        watcher.wait_idle(120)
        cpu = time.process_time() - cpu_start
    return {"initial": initial, "builds": len(calls), "latency": latency, "cpu": cpu}


# ---------------------------------------------------------------- machine

def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        found = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        if found:
            ram = f"{int(found.group(1)) / 2**20:.1f} GiB"
    except OSError:
        pass
    versions = []
    for name in ("openpyxl", "lxml", "docxtpl", "python-docx", "Jinja2", "xlsxwriter", "typer",
                 "watchdog", "python-calamine"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return [
        f"CPU: {cpu}, {os.cpu_count()} logical cores; RAM {ram}",
        f"OS: {platform.system()} {platform.release()}; Python {platform.python_version()}",
        "Libraries: " + ", ".join(versions),
    ]


def load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


# ---------------------------------------------------------------- report

def report_lines(results: list[dict], startup: tuple[str, float], watch: dict | None,
                 folder: dict | None, watch_note: str, folder_note: str, started: str,
                 loads: tuple[str, str], watch_polling: dict | None = None) -> list[str]:
    lines = [f"Run {started}; load average (1/5/15 min) {loads[0]} at the start, {loads[1]} at the end.", ""]
    lines += [f"- {line}" for line in machine()]
    lines += ["", "### Per shape and ledger size (median of the runs; wall clock)", ""]
    lines += size_table(results)
    lines += xls_lines(results)
    lines += ["", "### Goals", "", "| goal | figure | met? |", "|---|---|---|"]
    lines += floor_goals(results)
    lines += rss_goals(results)
    option, seconds = startup
    name = "`toolkit --version`" if option == "--version" else "`toolkit --help` (no --version yet)"
    lines.append(f"| `toolkit --version` start-up ≤ {GOAL_STARTUP_S} s | {name}: {fmt_s(seconds)} | "
                 f"{met(seconds <= GOAL_STARTUP_S)} |")
    lines += watch_goals(watch_polling, watch, watch_note)
    if folder:
        alone = folder["alone"]
        ok = folder["builds"] == 1 and folder["cpu"] <= GOAL_FOLDER_FACTOR * alone["cpu"]
        lines.append(
            f"| one change among {folder['ledgers']} ledgers ({folder['rows']} rows each) costs about one "
            f"ledger: 1 build, watcher CPU ≤ {GOAL_FOLDER_FACTOR:g}× the same change in a folder of one | "
            f"{folder['builds']} build(s); {fmt_s(folder['cpu'])} CPU vs {fmt_s(alone['cpu'])} alone; "
            f"new notice {fmt_s(folder['latency'])} after the rename ({fmt_s(alone['latency'])} alone; "
            f"first build of all {folder['ledgers']}: {fmt_s(folder['initial'])}) | {met(ok)} |")
    else:
        lines.append(f"| one change among {FOLDER_LEDGERS} ledgers | {folder_note} | – |")
    return lines


def _ordered(results: list[dict]) -> list[dict]:
    """By shape (in SHAPES order), then by size."""
    order = {name: i for i, name in enumerate(SHAPES)}
    return sorted(results, key=lambda r: (order.get(r.get("shape", "standard"), len(order)), r["rows"]))


def _fmt_ratio(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}"


def size_table(results: list[dict]) -> list[str]:
    head = ["rows", "shape", "runs", "file", "read", "validate", "count", "render .docx",
            "statistics workbook", "`toolkit render` end to end", "rebuild after edits, with history",
            "floor: calamine + docxtpl", "end to end ÷ floor", "again ÷ floor",
            "whole-process floor", "end to end ÷ whole-process floor",
            "tracemalloc peak", "max RSS of `toolkit render`", "max RSS, rebuild",
            "max RSS, notice only"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in _ordered(results):
        if r["floor"]:
            floor = f"{fmt_s(r['floor'])} ({fmt_s(r['floor_read'])} + {fmt_s(r['floor_render'])})"
        elif r["floor_render"] is not None:
            floor = f"docxtpl only {fmt_s(r['floor_render'])}"
        else:
            floor = "–"
        cells = [f"{r['rows']:,}", r.get("shape", "standard"), str(r["runs"]), f"{r['file_mb']:.1f} MB",
                 fmt_s(r["read"]), fmt_s(r["validate"]), fmt_s(r["count"]), fmt_s(r["render"]),
                 fmt_s(r.get("stats_book")),
                 fmt_s(r["e2e"]), fmt_s(r["e2e_again"]), floor, _fmt_ratio(r["ratio"]),
                 _fmt_ratio(r["ratio_again"]), fmt_s(r["floor_process"]), _fmt_ratio(r["ratio_process"]),
                 fmt_mb(r["traced_mb"]), fmt_mb(r["rss_mb"]), fmt_mb(r["rss_again_mb"]),
                 fmt_mb(r["rss_notice_mb"])]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def floor_goals(results: list[dict]) -> list[str]:
    """End to end ÷ floor at 10,000 rows per shape; 100 rows ÷ the whole-process floor."""
    lines = []
    measured = {(r.get("shape", "standard"), r["rows"]): r for r in results}
    shapes = [name for name in SHAPES if any(r.get("shape", "standard") == name for r in results)]
    for shape in shapes:
        goal = (f"end to end ÷ floor ≤ {GOAL_RATIO} at {GOAL_RATIO_ROWS:,} rows, {shape} "
                "(statistics workbook and history included)")
        r = measured.get((shape, GOAL_RATIO_ROWS))
        if r and r["ratio"] is not None and r["ratio_again"] is not None:
            worst = max(r["ratio"], r["ratio_again"])
            lines.append(f"| {goal} | {r['ratio']:.2f} first build ({fmt_s(r['e2e'])} ÷ {fmt_s(r['floor'])}), "
                         f"{r['ratio_again']:.2f} rebuild after edits ({fmt_s(r['e2e_again'])}) | "
                         f"{met(worst <= GOAL_RATIO)} |")
        else:
            lines.append(f"| {goal} | not measured in this run | – |")
    for shape in shapes:
        goal = (f"{GOAL_SMALL_ROWS} rows end to end ≤ {GOAL_SMALL_FACTOR} × the whole-process floor, "
                f"{shape}")
        r = measured.get((shape, GOAL_SMALL_ROWS))
        if r and r["ratio_process"] is not None:
            imports = ""
            if r.get("imports_only"):
                imports = (f"; start-up and `{_CHOSEN_IMPORTS}` alone, doing nothing: "
                           f"{fmt_s(r['imports_only'])} = "
                           f"{r['imports_only'] / r['floor_process']:.2f} × the floor")
            lines.append(f"| {goal} | {r['ratio_process']:.2f} ({fmt_s(r['e2e'])} ÷ {fmt_s(r['floor_process'])})"
                         f"{imports} | {met(r['ratio_process'] <= GOAL_SMALL_FACTOR)} |")
        elif shape == "standard" or r:
            lines.append(f"| {goal} | not measured in this run | – |")
    return lines


def rss_goals(results: list[dict]) -> list[str]:
    lines = []
    for r in _ordered(results):
        if r["rows"] != GOAL_RSS_ROWS:
            continue
        lines.append(f"| {GOAL_RSS_ROWS:,} rows ≤ {GOAL_RSS_MB} MB peak memory, first build and rebuild "
                     f"with history, {r.get('shape', 'standard')} | "
                     f"max RSS {fmt_mb(r['rss_mb'])} first build, {fmt_mb(r['rss_again_mb'])} rebuilding after "
                     f"{rebuild_edits(r['rows'])} edits against the earlier builds' history; "
                     f"the notice alone, without statistics workbook and history: "
                     f"{fmt_mb(r['rss_notice_mb'])} | "
                     f"{met(max(r['rss_mb'], r['rss_again_mb']) <= GOAL_RSS_MB)} |")
    if not lines:
        lines.append(f"| {GOAL_RSS_ROWS:,} rows ≤ {GOAL_RSS_MB} MB peak memory | not measured in this run | – |")
    return lines


def watch_goals(polling: dict | None, native: dict | None, note: str) -> list[str]:
    lines = []
    for watch, observer in ((polling, "`--polling`"), (native, "native observer")):
        if not watch:
            lines.append(f"| watch, {observer}: save → new notice p95 ≤ debounce + {GOAL_WATCH_MARGIN_S} s | "
                         f"{note} | – |")
            continue
        goal = watch["debounce"] + GOAL_WATCH_MARGIN_S
        lines.append(f"| watch, {observer}: save → new notice p95 ≤ debounce + {GOAL_WATCH_MARGIN_S} s "
                     f"= {goal:.1f} s ({watch['rows']:,} rows, {watch['saves']} saves) | "
                     f"p50 {fmt_s(watch['p50'])}, p95 {fmt_s(watch['p95'])} (build p50 "
                     f"{fmt_s(watch['build_p50'])}) | {met(watch['p95'] <= goal)} |")
    return lines


def write_results(path: Path, lines: list[str]) -> None:
    """Replace the figures between the markers of ``path`` (or create it), keeping the rest."""
    block = "\n".join([MARK_START, *lines, MARK_END])
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if MARK_START in text and MARK_END in text:
            before, rest = text.split(MARK_START, 1)
            after = rest.split(MARK_END, 1)[1]
            path.write_text(before + block + after, encoding="utf-8")
            return
        path.write_text(text.rstrip("\n") + "\n\n" + block + "\n", encoding="utf-8")
        return
    path.write_text("# Benchmark results\n\n" + block + "\n", encoding="utf-8")


# ---------------------------------------------------------------- the same ledger as .xls

XLS_ROWS = (10_000,)  # .xls holds at most 65,536 rows


def measure_xls_read(ledger: Path, runs: int, work: Path) -> float | None:
    """Median ``read_ledger`` time of the same ledger saved as .xls (needs xlwt), or None."""
    try:
        import xlwt
        from python_calamine import CalamineWorkbook
    except ImportError:
        return None
    from datetime import date as day_type

    source = CalamineWorkbook.from_path(str(ledger))
    book = xlwt.Workbook(encoding="utf-8")
    day = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for name in source.sheet_names:
        sheet = source.get_sheet_by_name(name)
        out = book.add_sheet(name)
        merged = {(r1, c1): (r2, c2) for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []}
        covered = {(r, c) for (r1, c1), (r2, c2) in merged.items()
                   for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)} - set(merged)
        for r, values in enumerate(sheet.to_python(skip_empty_area=False)):
            for c, value in enumerate(values):
                if value == "" or (r, c) in covered:
                    continue
                if (r, c) in merged:
                    out.write_merge(r, merged[(r, c)][0], c, merged[(r, c)][1], value)
                elif isinstance(value, day_type):
                    out.write(r, c, value, day)
                else:
                    out.write(r, c, value)
    xls = ledger.with_suffix(".xls")
    book.save(str(xls))
    problems = len(read_ledger(xls).problems)
    if problems != len(read_ledger(ledger).problems):
        raise RuntimeError(f"{xls.name} read as {problems} problems, not as its .xlsx")
    return median_time(lambda: read_ledger(xls), runs)[0]


def xls_lines(results: list[dict]) -> list[str]:
    lines = []
    for r in results:
        if r.get("read_xls") is not None:
            lines.append(f"- read, {r['rows']:,} rows, {r.get('shape', 'standard')}: .xls {fmt_s(r['read_xls'])} "
                         f"(python-calamine), .xlsx {fmt_s(r['read'])} (same ledger, same problems)")
    return ["", *lines] if lines else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated row counts (default 100,1000,10000,50000)")
    parser.add_argument("--shapes", help=f"comma-separated ledger shapes (default {','.join(DEFAULT_SHAPES)})")
    parser.add_argument("--quick", action="store_true",
                        help="100 and 1,000 rows, 3 runs each, no watcher measurements")
    parser.add_argument("--runs", type=int, help="runs per figure (default 5, 3 from 10,000 rows)")
    parser.add_argument("--no-watch", action="store_true", help="skip the watcher measurements")
    parser.add_argument("--floor-max-rows", type=int, metavar="ROWS",
                        help="measure the in-process floor only up to this size (plain docxtpl "
                             "grows faster than linearly: minutes at 50,000 rows)")
    parser.add_argument("--write", type=Path, metavar="RESULTS.md",
                        help="also write the figures into this Markdown file (between markers)")
    args = parser.parse_args(argv)

    sizes: tuple[int, ...] = QUICK_SIZES if args.quick else DEFAULT_SIZES
    if args.sizes:
        sizes = tuple(int(s.replace("_", "").replace(",", "")) for s in args.sizes.split(",") if s.strip())
    shapes = DEFAULT_SHAPES
    if args.shapes:
        shapes = tuple(s.strip() for s in args.shapes.split(",") if s.strip())
        unknown = [s for s in shapes if s not in SHAPES]
        if unknown:
            parser.error(f"unknown shape(s) {', '.join(unknown)}; shapes: {', '.join(SHAPES)}")
    started = datetime.now().strftime("%Y-%m-%d %H:%M")
    load_start = load()
    compile_package(ROOT / "toolkit")
    print("\n".join(machine()), flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="toolkit-bench-") as tmp:
        work = Path(tmp)
        for rows in sizes:
            for shape in shapes:
                runs = args.runs or (3 if args.quick or rows >= 10_000 else 5)
                print(f"{rows:,} rows, {shape}: {runs} runs …", flush=True)
                floor = args.floor_max_rows is None or rows <= args.floor_max_rows
                results.append(measure_size(rows, runs, work, shape, floor=floor))
                r = results[-1]
                print(f"  read {fmt_s(r['read'])}, render {fmt_s(r['render'])}, end to end {fmt_s(r['e2e'])} "
                      f"(again {fmt_s(r['e2e_again'])}), floor {fmt_s(r['floor'])}, ratio "
                      f"{_fmt_ratio(r['ratio'])} / {_fmt_ratio(r['ratio_again'])} again, whole-process "
                      f"floor {fmt_s(r['floor_process'])}, ratio {_fmt_ratio(r['ratio_process'])}, "
                      f"RSS {fmt_mb(r['rss_mb'])} / {fmt_mb(r['rss_again_mb'])} again", flush=True)
        startup = measure_startup(10, work)
        watch = watch_polling = folder = None
        watch_note = folder_note = "skipped (--quick / --no-watch)"
        if not (args.quick or args.no_watch):
            print("watch latency, polling …", flush=True)
            watch_polling = measure_watch(1_000, 10, polling=True)
            print("watch latency, native …", flush=True)
            watch = measure_watch(1_000, 10)
            watch_note = "bench/watch_latency.py (or its polling mode) not present yet"
            print(f"one change in a folder of {FOLDER_LEDGERS} ledgers …", flush=True)
            folder = measure_folder_change(FOLDER_LEDGERS, FOLDER_ROWS, work)
            folder_note = "toolkit.watch not present yet"
    lines = report_lines(results, startup, watch, folder, watch_note, folder_note, started,
                         (load_start, load()), watch_polling)
    print()
    print("\n".join(lines))
    if args.write:
        write_results(args.write, lines)
        print(f"\nwritten to {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
