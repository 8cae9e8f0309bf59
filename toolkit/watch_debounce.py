"""The watcher's per-ledger debounce queue, driven by an injected clock.

Events put a ledger in the queue with a due time; workers take the ledger whose due time
came first. A ledger being built is "busy": it is never handed to a second worker, but new
events for it still queue and wait until its build is done (per-ledger serialisation).

The clock is any ``() -> float`` of monotonic seconds (``time.monotonic`` by default), so the
debounce rules are testable without sleeping: ``pop_due`` and ``next_wait`` only read it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import WatchError
from .errors import os_reason as os_reason  # re-exported: the watcher's parts use it here

Clock = Callable[[], float]

# A wait longer than this is no debounce any more (and threading refuses waits past
# threading.TIMEOUT_MAX): such a value is a typing slip, refused at once.
MAX_DELAY_SECONDS = 3600.0


class WatchSettingError(WatchError, ValueError):
    """A watcher setting (debounce, interval …) that cannot be a delay: inf, nan, negative."""


def check_delay(name: str, value: object, *, positive: bool = False,
                upper: float = MAX_DELAY_SECONDS) -> float:
    """``value`` as seconds, or WatchSettingError naming the setting (Chinese, for the CLI)."""
    bound = "大于 0" if positive else "不小于 0"
    message = f"{name}必须是{bound}、不超过 {upper:g} 的秒数（收到 {value!r}）"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WatchSettingError(None, message)
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0 or (positive and seconds == 0) or seconds > upper:
        raise WatchSettingError(None, message)
    return seconds


@dataclass
class Pending:
    due: float  # clock time at which to build
    first: float  # clock time of the first event of this burst
    fingerprint: tuple | None  # the file as it was at the last event
    last_event: str = ""


class DebounceQueue:
    """Ledgers waiting to be built, each with its due time.

    A finished save (``complete``: a rename onto the ledger) after ``debounce`` quiet seconds
    is due at once (leading edge); any other change, or a save following another within
    ``debounce``, is due ``debounce`` after the last change (trailing edge), but never later
    than ``max_delay`` after the first change of the burst.
    """

    def __init__(self, debounce: float, *, max_delay: float | None = None,
                 clock: Clock = time.monotonic):
        self.debounce = check_delay("防抖时间（--debounce）", debounce)
        # A save storm must not postpone the notice forever.
        self.max_delay = max(5.0, 5 * self.debounce) if max_delay is None else max_delay
        self.clock = clock
        self.cond = threading.Condition()
        self._pending: dict[Path, Pending] = {}
        self._busy: set[Path] = set()
        self._last_save: dict[Path, float] = {}

    def add(self, path: Path, kind: str, fingerprint: tuple | None, *,
            delay: float | None = None, complete: bool = False) -> bool:
        """Queue ``path`` after an event of ``kind``; True when it repeats the last event."""
        with self.cond:
            now = self.clock()
            if complete:
                quiet = now - self._last_save.get(path, float("-inf")) > self.debounce
                self._last_save[path] = now
                if quiet and delay is None:
                    delay = 0.0
            pending = self._pending.get(path)
            repeat = pending is not None and pending.last_event == kind
            due = now + (self.debounce if delay is None else delay)
            if pending is None:
                self._pending[path] = Pending(due, now, fingerprint, kind)
            else:
                pending.due = min(due, pending.first + self.max_delay)
                pending.fingerprint = fingerprint
                pending.last_event = kind
            self.cond.notify_all()
        return repeat

    def pop_due(self) -> tuple[Path, Pending] | None:
        """The ledger due first if it is due now and not being built; it becomes busy."""
        with self.cond:
            ready = [(p, job) for p, job in self._pending.items() if p not in self._busy]
            if not ready:
                return None
            path, job = min(ready, key=lambda item: item[1].due)
            if job.due > self.clock():
                return None
            del self._pending[path]
            self._busy.add(path)
            return path, job

    def next_wait(self) -> float | None:
        """Seconds until a ledger that is not busy falls due (0 when one is due); None: none."""
        with self.cond:
            dues = [job.due for p, job in self._pending.items() if p not in self._busy]
            if not dues:
                return None
            return max(0.0, min(dues) - self.clock())

    def take(self, stopping: threading.Event) -> tuple[Path, Pending] | None:
        """Block until a ledger is due (it becomes busy), or None once ``stopping`` is set."""
        with self.cond:
            while not stopping.is_set():
                job = self.pop_due()
                if job is not None:
                    return job
                wait = self.next_wait()
                self.cond.wait(None if wait is None else min(wait, MAX_DELAY_SECONDS))
            return None

    def done(self, path: Path) -> None:
        """The build of ``path`` is over: newer events for it may now be taken."""
        with self.cond:
            self._busy.discard(path)
            self.cond.notify_all()

    def has_pending(self, path: Path) -> bool:
        with self.cond:
            return path in self._pending

    def is_busy(self, path: Path) -> bool:
        with self.cond:
            return path in self._busy

    def idle(self) -> bool:
        """Nothing waiting and nothing being built."""
        with self.cond:
            return not self._pending and not self._busy

    def drain(self) -> list[Path]:
        """Drop every waiting ledger (at stop); the ones dropped, sorted."""
        with self.cond:
            dropped = sorted(self._pending)
            self._pending.clear()
            return dropped

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()
