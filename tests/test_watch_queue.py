"""The watcher's debounce queue and worker pool, driven by a fake clock: no real sleeps."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import pytest

from toolkit.errors import ToolkitError
from toolkit.watch import Watcher, WatchSettingError
from toolkit.watch_debounce import DebounceQueue, check_delay
from toolkit.watch_workers import WorkerPool


class FakeClock:
    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


A, B, C = Path("/l/a.xlsx"), Path("/l/b.xlsx"), Path("/l/c.xlsx")


@pytest.fixture
def clock():
    return FakeClock()


def queue(clock, debounce=1.0, **kw):
    return DebounceQueue(debounce, clock=clock, **kw)


def test_a_finished_save_after_a_quiet_spell_is_due_at_once(clock):
    q = queue(clock)
    q.add(A, "moved", (1,), complete=True)
    assert q.next_wait() == 0.0
    assert q.pop_due()[0] == A


def test_a_change_that_is_not_a_finished_save_waits_for_the_debounce(clock):
    q = queue(clock)
    q.add(A, "modified", (1,))
    assert q.pop_due() is None and q.next_wait() == pytest.approx(1.0)
    clock.advance(0.6)
    q.add(A, "modified", (2,))  # trailing edge: the wait starts again
    clock.advance(0.6)
    assert q.pop_due() is None and q.next_wait() == pytest.approx(0.4)
    clock.advance(0.4)
    path, job = q.pop_due()
    assert path == A and job.fingerprint == (2,)  # the file as of the last event


def test_saves_within_the_debounce_wait_for_the_burst_to_end(clock):
    q = queue(clock)
    q.add(A, "moved", (1,), complete=True)  # leading edge
    assert q.pop_due()[0] == A
    q.done(A)
    clock.advance(0.3)
    q.add(A, "moved", (2,), complete=True)  # a second save right after: trailing edge
    assert q.pop_due() is None and q.next_wait() == pytest.approx(1.0)
    clock.advance(1.0)
    assert q.pop_due()[1].fingerprint == (2,)


def test_a_save_storm_is_built_at_most_max_delay_after_it_began(clock):
    q = queue(clock, debounce=1.0)
    assert q.max_delay == 5.0
    q.add(A, "modified", (0,))
    built_at = None
    for step in range(1, 200):  # a change every 0.5 s, forever
        clock.advance(0.5)
        if q.pop_due() is not None:
            built_at = step * 0.5
            break
        q.add(A, "modified", (step,))
    assert built_at == pytest.approx(5.0)


def test_ledgers_are_taken_in_due_order_and_one_ledger_never_twice_at_once(clock):
    q = queue(clock)
    q.add(B, "modified", (1,))
    clock.advance(0.1)
    q.add(A, "modified", (1,))
    q.add(C, "scan", (1,), delay=0.0)
    assert q.pop_due()[0] == C
    clock.advance(1.0)
    assert q.pop_due()[0] == B
    # A new event for B while B is being built waits until B is done, and does not hide A.
    q.add(B, "moved", (2,), complete=True)
    assert q.pop_due()[0] == A
    assert q.pop_due() is None and q.is_busy(B) and q.has_pending(B)
    q.done(B)
    assert q.pop_due()[0] == B
    assert not q.idle()
    q.done(A)
    q.done(B)
    q.done(C)
    assert q.idle()


def test_drain_drops_what_waits(clock):
    q = queue(clock)
    q.add(B, "modified", (1,))
    q.add(A, "modified", (1,))
    assert q.drain() == [A, B] and q.idle()


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, -1.0, 1e9, "1", None, True])
def test_a_debounce_that_cannot_be_a_delay_is_refused(value, tmp_path):
    with pytest.raises(WatchSettingError) as caught:
        Watcher(tmp_path, tmp_path / "out", debounce=value)
    assert isinstance(caught.value, ToolkitError) and isinstance(caught.value, ValueError)
    assert "防抖时间" in caught.value.message


@pytest.mark.parametrize("value", [math.inf, math.nan, 0.0, -0.5])
def test_an_interval_that_cannot_be_a_delay_is_refused(value, tmp_path):
    with pytest.raises(WatchSettingError, match="轮询间隔"):
        Watcher(tmp_path, tmp_path / "out", interval=value)


def test_delays_that_are_delays_are_accepted():
    assert check_delay("x", 0) == 0.0
    assert check_delay("x", 2.5) == 2.5
    assert check_delay("x", 3600) == 3600.0


def test_a_stuck_build_gets_a_replacement_worker_and_the_others_go_on(clock):
    """One worker, one ledger whose build hangs: after ``stuck_after`` a new worker builds B."""
    q = queue(clock)
    stopping = threading.Event()
    release = threading.Event()
    started = {A: threading.Event(), B: threading.Event()}

    def handle(path, job):
        started[path].set()
        if path == A:
            release.wait(30)

    pool = WorkerPool(q, handle, stopping=stopping, workers=1, stuck_after=60.0)
    pool.start()
    try:
        q.add(A, "scan", None, delay=0.0)
        assert started[A].wait(10)
        q.add(B, "scan", None, delay=0.0)
        pool.tick()  # not stuck yet: nobody takes B
        assert not started[B].wait(0.2)
        clock.advance(61.0)
        pool.tick()
        assert started[B].wait(10)
        assert A in pool.running()
    finally:
        release.set()
        deadline = time.monotonic() + 10
        while pool.running() and time.monotonic() < deadline:  # A's build ends once released
            time.sleep(0.01)
        stopping.set()
        q.wake()
        assert pool.join(10)


def test_join_is_bounded_in_real_time_even_under_a_fake_clock(clock):
    q = queue(clock)
    stopping, release, started = threading.Event(), threading.Event(), threading.Event()

    def handle(path, job):
        started.set()
        release.wait(30)

    pool = WorkerPool(q, handle, stopping=stopping, workers=1)
    pool.start()
    q.add(A, "scan", None, delay=0.0)
    assert started.wait(10)
    stopping.set()
    q.wake()
    polls = []
    assert pool.join(0.3, poll=lambda: polls.append(1)) is False  # the build is still running
    assert polls
    release.set()
    assert pool.join(10)


def test_join_does_not_wait_for_a_build_already_given_up_on(clock):
    q = queue(clock)
    stopping, release, started = threading.Event(), threading.Event(), threading.Event()

    def handle(path, job):
        started.set()
        release.wait(30)

    pool = WorkerPool(q, handle, stopping=stopping, workers=1, stuck_after=60.0)
    pool.start()
    try:
        q.add(A, "scan", None, delay=0.0)
        assert started.wait(10)
        clock.advance(61.0)  # stuck: a stop abandons it at once instead of waiting 30 s
        stopping.set()
        q.wake()
        began = time.monotonic()
        assert pool.join(30) is False
        assert time.monotonic() - began < 5
    finally:
        release.set()
