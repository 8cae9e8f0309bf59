"""The watcher's build workers: several threads, one ledger never built twice at once.

No ledger may starve the others: a build that runs longer than ``stuck_after`` seconds (a
ledger that takes minutes to read, a converter that hangs) no longer counts as a worker, and
``tick()`` starts a replacement, so ``workers`` threads are always free for the other ledgers.
The stuck thread finishes on its own (or is abandoned at stop); its ledger stays busy until
then, so it is never built twice at the same time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .watch_debounce import DebounceQueue, Pending

logger = logging.getLogger("toolkit.watch")

MAX_EXTRA_WORKERS = 8  # replacements for stuck builds, at most


class WorkerPool:
    def __init__(self, queue: DebounceQueue, handle: Callable[[Path, Pending], None], *,
                 stopping: threading.Event, workers: int = 2, stuck_after: float = 120.0):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive integer, not {workers!r}")
        self._queue = queue
        self._handle = handle
        self._stopping = stopping
        self.workers = workers
        self.stuck_after = stuck_after
        self._threads: list[threading.Thread] = []
        self._running: dict[threading.Thread, tuple[Path, float]] = {}  # thread -> (ledger, start)
        self._reported: set[tuple[Path, float]] = set()
        self._serial = 0

    # The queue's condition guards the pool's own state too: one lock for the watcher's state.

    def start(self) -> None:
        with self._queue.cond:
            while len(self._threads) < self.workers:
                self._spawn()

    def tick(self) -> None:
        """Replace workers stuck in a long build (called by the supervisor every few seconds)."""
        with self._queue.cond:
            if self._stopping.is_set():
                return
            now = self._queue.clock()
            stuck = self._stuck(now)
            for path, started in stuck:
                if (path, started) not in self._reported:
                    self._reported.add((path, started))
                    logger.warning("%s：生成已超过 %g 秒仍未结束，其他台账照常处理", path.name,
                                   self.stuck_after)
            self._threads = [t for t in self._threads if t.is_alive()]
            while len(self._threads) < self._wanted(len(stuck)):
                self._spawn()

    def join(self, timeout: float, poll: Callable[[], object] | None = None) -> bool:
        """Wait for the workers to end, calling ``poll`` every 0.2 s; False when some are left."""
        # Real time, not the queue's clock: a stop must end even under a fake clock.
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            while thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0 or self._is_stuck(thread):
                    return False  # a build already given up on is not waited for again
                if poll is not None:
                    poll()
                thread.join(min(0.2, left))
        return True

    def running(self) -> list[Path]:
        """The ledgers being built right now."""
        with self._queue.cond:
            return sorted(path for path, _ in self._running.values())

    def _is_stuck(self, thread: threading.Thread) -> bool:
        with self._queue.cond:
            running = self._running.get(thread)
            return running is not None and self._queue.clock() - running[1] > self.stuck_after

    def _stuck(self, now: float) -> list[tuple[Path, float]]:
        return [(path, started) for path, started in self._running.values()
                if now - started > self.stuck_after]

    def _wanted(self, stuck: int) -> int:
        return self.workers + min(stuck, MAX_EXTRA_WORKERS)

    def _spawn(self) -> None:
        self._serial += 1
        thread = threading.Thread(target=self._work, name=f"toolkit-watch-worker-{self._serial}",
                                  daemon=True)
        self._threads.append(thread)
        thread.start()

    def _surplus(self) -> bool:
        """More workers alive than needed now that a stuck build is over: this one may end."""
        alive = sum(1 for t in self._threads if t.is_alive())
        return alive > self._wanted(len(self._stuck(self._queue.clock())))

    def _work(self) -> None:
        me = threading.current_thread()
        while (job := self._queue.take(self._stopping)) is not None:
            path, pending = job
            with self._queue.cond:
                self._running[me] = (path, self._queue.clock())
            try:
                self._handle(path, pending)
            except Exception:  # a bug must not stop the watcher; the next save tries again
                logger.exception("%s：处理时发生意外错误", path.name)
            finally:
                with self._queue.cond:
                    self._running.pop(me, None)
                    surplus = self._surplus()
                    if surplus:
                        self._threads = [t for t in self._threads if t is not me]
                self._queue.done(path)
            if surplus:
                return
