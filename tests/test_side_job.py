"""A side job gives exactly what calling its function inline gives, forked or not."""

from __future__ import annotations

import os
import threading
import time
from datetime import date

import pytest
from ledger_factory import default_rows, row, write_ledger

from toolkit import build as build_module
from toolkit import side_job
from toolkit.build import BUILT, build_notice
from toolkit.errors import OutputError
from toolkit.side_job import SideJob, can_fork

TODAY = date(2024, 10, 30)
PARENT = os.getpid()

forking = pytest.mark.skipif(not can_fork(), reason="no fork here (or threads running)")


def in_child() -> bool:
    return os.getpid() != PARENT


def where_and_what(n: int) -> tuple[int, list[int]]:
    return os.getpid(), list(range(n))


@forking
def test_the_value_comes_from_a_child():
    with SideJob(where_and_what, 5) as job:
        assert job.forked
        pid, value = job.result()
    assert pid != PARENT and value == [0, 1, 2, 3, 4]
    assert job.result() is job.result()  # computed once


def fails_in_the_child() -> str:
    if in_child():
        raise OSError("the child's disk")
    return "computed by the parent"


def dies_in_the_child() -> str:
    if in_child():
        os._exit(9)
    return "computed by the parent"


def unpicklable_in_the_child():
    return (lambda: None) if in_child() else "computed by the parent"


@forking
@pytest.mark.parametrize("fn", [fails_in_the_child, dies_in_the_child, unpicklable_in_the_child])
def test_a_child_that_cannot_give_its_value_leaves_it_to_the_parent(fn):
    with SideJob(fn) as job:
        assert job.forked
        assert job.result() == "computed by the parent"


def always_fails() -> None:
    raise OutputError(None, "统计表无法写入")


def test_the_failure_is_the_inline_one():
    with SideJob(always_fails) as job, pytest.raises(OutputError, match="统计表无法写入"):
        job.result()


def test_no_fork_while_other_threads_run():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
        with SideJob(where_and_what, 2) as job:
            assert not job.forked
            assert job.result() == (PARENT, [0, 1])
    finally:
        stop.set()
        thread.join()


@forking
def test_leaving_early_stops_the_child():
    started = time.monotonic()
    with SideJob(time.sleep, 60) as job:
        pid = job._pid
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):  # killed and reaped: no process, no zombie
        os.kill(pid, 0)


def _rebuild(tmp_path, monkeypatch, fork: bool):
    """A notice, then a rebuild after a regression, with the side job forked or inline."""
    monkeypatch.setattr(side_job, "can_fork", lambda: fork and can_fork())
    ledger = tmp_path / f"fork-{fork}" / "a.xlsx"
    ledger.parent.mkdir()
    rows = default_rows()
    rows[0] = row(1, "政治建设不到位", "问题甲", "正在整改")
    write_ledger(ledger, rows)
    target = ledger.parent / "out" / "a.docx"
    assert build_notice(ledger, target, today=TODAY).outcome == BUILT
    rows[0] = row(1, "政治建设不到位", "问题甲", "未完成")
    write_ledger(ledger, rows)
    return build_notice(ledger, target, today=TODAY)


def test_a_build_is_the_same_forked_or_not(tmp_path, monkeypatch):
    inline = _rebuild(tmp_path, monkeypatch, fork=False)
    forked = _rebuild(tmp_path, monkeypatch, fork=True)
    assert inline.outcome == forked.outcome == BUILT
    assert [f.code for f in inline.report.findings] == [f.code for f in forked.report.findings]
    assert "history_regressed" in [f.code for f in forked.report.findings]
    assert [f.message for f in inline.report.findings] == [f.message for f in forked.report.findings]
    assert inline.notes == forked.notes
    assert inline.stats_book.is_file() and forked.stats_book.is_file()


def test_a_statistics_workbook_that_fails_is_a_note_forked_or_not(tmp_path, monkeypatch):
    def unbuildable(report, **kw):
        raise OutputError(None, "统计表太大")

    monkeypatch.setattr(build_module, "stats_workbook", unbuildable)
    result = _rebuild(tmp_path, monkeypatch, fork=True)
    assert result.outcome == BUILT and result.stats_book is None
    assert any("统计表未能生成：统计表太大" in note for note in result.notes)


def test_a_big_ledger_is_not_copied_into_a_child(tmp_path, monkeypatch):
    # The child would soon hold a copy of the whole ledger: above the limit, the parent does it.
    def no_fork():
        raise AssertionError("forked for a ledger above the limit")

    monkeypatch.setattr(build_module, "SIDE_JOB_MAX_PROBLEMS", 1)
    monkeypatch.setattr(side_job.os, "fork", no_fork)
    result = _rebuild(tmp_path, monkeypatch, fork=True)
    assert result.outcome == BUILT
    assert "history_regressed" in [f.code for f in result.report.findings]
    assert result.stats_book.is_file()
