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

from ledger_gen import (  # noqa: E402
    AS_OF,
    PROGRESS_MAX_BYTES,
    PROGRESS_MIN_BYTES,
    SHAPES,
    write_bench_ledger,
)

from toolkit.count import count  # noqa: E402
from toolkit.model import DONE, IN_PROGRESS, NOT_DONE, Report  # noqa: E402
from toolkit.read import read_ledger  # noqa: E402
from toolkit.validate import validate  # noqa: E402

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
