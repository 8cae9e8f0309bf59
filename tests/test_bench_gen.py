"""The benchmark ledgers (bench/ledger_gen.py): each shape is what the benchmark says it is.

Read back by the toolkit itself, at a few hundred rows, so the figures of bench/run.py are
about the ledgers they claim to measure.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from ledger_gen import (
    AS_OF,
    PROGRESS_MAX_BYTES,
    PROGRESS_MIN_BYTES,
    SHAPES,
    write_bench_ledger,
)

from toolkit.count import count
from toolkit.model import DONE, IN_PROGRESS, NOT_DONE, Report
from toolkit.read import read_ledger
from toolkit.validate import validate

ROWS = 300


def _report(path: Path) -> Report:
    ledger = read_ledger(path)
    return Report(ledger, validate(ledger), count(ledger))


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Report]:
    folder = tmp_path_factory.mktemp("bench-ledgers")
    return {name: _report(write_bench_ledger(folder / f"{name}.xlsx", ROWS, shape=name))
            for name in SHAPES}


def test_the_four_shapes_exist():
    assert set(SHAPES) == {"standard", "overdue", "longtext", "categories"}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_reads_clean_to_the_last_row(reports, shape):
    report = reports[shape]
    assert len(report.ledger.problems) == ROWS
    assert [p.number for p in report.ledger.problems] == [str(n) for n in range(1, ROWS + 1)]
    assert not report.errors, report.errors[:3]
    assert report.ledger.meta.as_of == AS_OF
    overall = report.stats.overall
    assert overall.total == ROWS
    assert overall.done + overall.in_progress + overall.not_done == ROWS


def test_overdue_shape_has_a_third_overdue_by_the_toolkits_own_count(reports):
    report = reports["overdue"]
    overall = report.stats.overall
    assert overall.overdue == ROWS // 3
    assert overall.not_done == ROWS // 3  # the overdue rows are the 未完成 ones
    assert overall.long_term == round(ROWS * 0.06)
    overdue = [f for f in report.findings if f.code == "overdue"]
    assert len(overdue) == ROWS // 3
    for p in report.ledger.problems:
        if p.status == NOT_DONE:
            assert p.deadline is not None and p.deadline < AS_OF and not p.long_term
        elif p.long_term:
            assert p.status == IN_PROGRESS
    # Long texts: several times the standard ledger's 整改进展 and 具体问题.
    def mean(report, field):
        return sum(len(getattr(p, field)) for p in report.ledger.problems) / ROWS
    assert mean(report, "progress") > 2 * mean(reports["standard"], "progress")
    assert mean(report, "problem") > 1.5 * mean(reports["standard"], "problem")


def test_standard_shape_is_not_overdue_heavy(reports):
    overall = reports["standard"].stats.overall
    assert overall.overdue < ROWS // 5
    assert overall.done > overall.in_progress > overall.not_done


def test_longtext_shape_progress_cells_are_one_to_three_kilobytes(reports):
    sizes = [len(p.progress.encode("utf-8")) for p in reports["longtext"].ledger.problems]
    assert all(PROGRESS_MIN_BYTES <= size <= PROGRESS_MAX_BYTES for size in sizes), (min(sizes), max(sizes))
    assert min(sizes) < 1_500 and max(sizes) > 2_500  # spread over the range, not one size
    assert all("\n" in p.progress and p.progress.startswith("一是")
               for p in reports["longtext"].ledger.problems)
    assert max(len(p.progress.encode("utf-8")) for p in reports["standard"].ledger.problems) < 1_000


def test_categories_shape_has_500_categories(tmp_path, reports):
    # Below 500 rows every row is a category of its own ...
    assert len(reports["categories"].stats.by_category) == ROWS
    # ... and from 500 rows on there are exactly 500, of different sizes.
    report = _report(write_bench_ledger(tmp_path / "categories.xlsx", 1_200, shape="categories"))
    assert not report.errors
    assert len(report.stats.by_category) == 500
    sizes = {counts.total for _, counts in report.stats.by_category}
    assert sum(counts.total for _, counts in report.stats.by_category) == 1_200
    assert len(sizes) > 3
    assert len(reports["standard"].stats.by_category) < 100


def test_the_same_seed_gives_the_same_file_and_another_seed_another(tmp_path):
    def digest(name: str, seed: int) -> str:
        path = write_bench_ledger(tmp_path / f"{name}.xlsx", 50, seed=seed, shape="overdue")
        return hashlib.sha256(path.read_bytes()).hexdigest()

    assert digest("a", 0) == digest("b", 0)
    assert digest("c", 1) != digest("a", 0)


def test_an_unknown_shape_is_refused(tmp_path):
    with pytest.raises(ValueError, match="shapes: standard"):
        write_bench_ledger(tmp_path / "x.xlsx", 10, shape="nosuch")


def test_status_values_are_the_three_statuses(reports):
    for report in reports.values():
        assert {p.status for p in report.ledger.problems} <= {DONE, IN_PROGRESS, NOT_DONE}


# bench/run.py: the side-by-side order and the goals it prints.

def test_measurements_are_interleaved_each_run_in_a_rotating_order():
    import run

    calls: list[tuple[str, int]] = []
    measurements = [lambda i, name=name: calls.append((name, i)) for name in "abcd"]
    run.interleave(measurements, 5)
    assert len(calls) == 20
    for i in range(5):
        per_run = [name for name, run_no in calls if run_no == i]
        assert sorted(per_run) == list("abcd")  # each once per run, side by side
    assert [calls[4 * i][0] for i in range(5)] == list("abcda")  # no one always first


def _result(shape: str, rows: int, e2e: float, again: float, floor: float, process: float | None,
            rss: float, rss_again: float) -> dict:
    return {"rows": rows, "shape": shape, "runs": 3, "file_mb": 1.0, "read": 1.0, "validate": 0.1,
            "count": 0.1, "render": 1.0, "stats_book": 0.2, "e2e": e2e, "e2e_again": again,
            "floor_read": floor / 10, "floor_render": floor * 9 / 10, "floor": floor,
            "floor_process": process, "ratio": e2e / floor, "ratio_again": again / floor,
            "ratio_process": e2e / process if process else None, "traced_mb": 10.0,
            "rss_mb": rss, "rss_again_mb": rss_again, "rss_notice_mb": 50.0}


def test_every_goal_is_printed_with_its_figure_and_whether_it_is_met():
    import run

    results = [
        _result("standard", 100, 0.9, 0.9, 0.1, 0.7, 60, 60),  # 1.29 x whole-process: met
        _result("overdue", 100, 1.2, 1.2, 0.1, 0.7, 60, 60),  # 1.71 x: NOT met
        _result("standard", 10_000, 4.0, 4.2, 3.5, None, 120, 130),  # 1.14 / 1.20: met
        _result("overdue", 10_000, 4.0, 5.0, 3.5, None, 120, 130),  # rebuild 1.43: NOT met
        _result("standard", 50_000, 20.0, 20.0, 30.0, None, 240, 260),  # rebuild 260 MB: NOT met
    ]
    watch = {"debounce": 1.0, "rows": 1000, "saves": 10, "p50": 1.2, "p95": 1.4, "build_p50": 0.5}
    lines = run.report_lines(results, ("--version", 0.12), None, None, "skipped", "skipped",
                             "2026-11-22 00:00", ("1.00", "1.00"), watch)
    text = "\n".join(lines)

    def goal(*words: str) -> str:
        rows = [line for line in lines if line.startswith("| ") and all(w in line for w in words)]
        assert len(rows) == 1, (words, rows)
        return rows[0]

    assert goal("≤ 1.3 at 10,000 rows, standard").endswith("| met |")
    assert "1.14 first build" in goal("≤ 1.3 at 10,000 rows, standard")
    assert goal("≤ 1.3 at 10,000 rows, overdue").endswith("**NOT met** |")
    assert goal("100 rows end to end", "standard").endswith("| met |")
    assert "1.71" in goal("100 rows end to end", "overdue")
    assert goal("100 rows end to end", "overdue").endswith("**NOT met** |")
    assert "260 MB" in goal("50,000 rows ≤ 250 MB", "standard")
    assert goal("50,000 rows ≤ 250 MB", "standard").endswith("**NOT met** |")
    assert goal("`toolkit --version` start-up").endswith("| met |")
    assert "p95 1.40 s" in goal("`--polling`") and goal("`--polling`").endswith("| met |")
    assert goal("native observer").endswith("| – |")
    # The table: one row per shape and size, grouped by shape.
    table = [line for line in lines if line.startswith("| ") and " | 3 | 1.0 MB |" in line]
    assert [row.split(" | ")[1] for row in table] == ["standard"] * 3 + ["overdue"] * 2
    assert "whole-process floor" in text and "again ÷ floor" in text


@pytest.mark.parametrize("shape", ["standard", "overdue"])
def test_an_edited_ledger_differs_only_in_its_edited_rows_and_history_finds_them(tmp_path, reports, shape):
    from toolkit.history import NEWLY_DONE, REGRESSED, TEXT_EDITED, diff_rows, snapshot_rows

    base = reports[shape].ledger
    edited_report = _report(write_bench_ledger(tmp_path / "edited.xlsx", ROWS, shape=shape, edits=20))
    assert not edited_report.errors
    edited = edited_report.ledger
    assert len(edited.problems) == len(base.problems)
    differing = [(a.number, b.status) for a, b in zip(base.problems, edited.problems)
                 if (a.status, a.problem) != (b.status, b.problem)]
    assert 0 < len(differing) <= 20
    same = [(a, b) for a, b in zip(base.problems, edited.problems) if a.number not in dict(differing)]
    assert all((a.progress, a.deadline, a.measures) == (b.progress, b.deadline, b.measures) for a, b in same)
    changes = diff_rows(snapshot_rows(base), snapshot_rows(edited))
    kinds = {c.kind for c in changes}
    assert {NEWLY_DONE, REGRESSED, TEXT_EDITED} <= kinds and len({c.number for c in changes}) == len(differing)
