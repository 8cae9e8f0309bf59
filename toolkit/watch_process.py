"""One ledger's turn on a watcher worker: settle, build (with retries), record.

``LedgerProcessor.process`` is what a worker runs for a ledger that fell due: wait until the
file holds still and opens, skip it when it is not a regular file (a FIFO named ``x.xlsx``
would block any reader) or has not changed since its last build, build it, and hand the
result to the recorder. A builder that raises is recorded as a failure like any other.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .build import UNUSABLE, BuildResult, notice_path_for
from .discover import newer_twin
from .errors import OutputError, ToolkitError, UnreadableLedgerError
from .watch_debounce import DebounceQueue, Pending, os_reason
from .watch_record import LOG_NAME, StatusRecorder

logger = logging.getLogger("toolkit.watch")

NOT_REGULAR = "不是普通文件（可能是命名管道、设备或文件夹），已跳过，不会读取"

Fingerprint = tuple[int, int, int, int, bool]


def fingerprint(path: Path) -> Fingerprint | None:
    """What changes when a file is saved (a rename changes the inode), and whether it is a
    regular file; None when missing. ``stat`` never blocks, not even on a FIFO."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, stat.S_ISREG(st.st_mode))


def opens(path: Path) -> bool:
    # Windows refuses to open a file another program is still writing. O_NONBLOCK: a FIFO
    # swapped in after the stat must not block the worker.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return False
    os.close(fd)
    return True


def unexpected_failure(path: Path, target: Path, exc: Exception) -> BuildResult:
    """A builder that raised instead of returning a result: still a result, saying why."""
    if isinstance(exc, ToolkitError):
        problem: ToolkitError = exc
    elif isinstance(exc, OSError):
        where = Path(exc.filename) if isinstance(exc.filename, str) else target
        problem = OutputError(where, f"无法写入（{os_reason(exc)}）")
    else:
        problem = ToolkitError(path, f"处理时发生意外错误（{type(exc).__name__}：{exc}），"
                                     f"详见 {LOG_NAME}")
    return BuildResult(path, UNUSABLE, problem=problem)


@dataclass
class ProcessSettings:
    out_dir: Path
    debounce: float
    retries: int = 3
    retry_delay: float = 0.5
    settle_timeout: float = 10.0
    kind: str | None = None
    pdf: bool = False


class LedgerProcessor:
    def __init__(self, queue: DebounceQueue, recorder: StatusRecorder,
                 builder: Callable[..., BuildResult], settings: ProcessSettings, *,
                 stopping: Callable[[], bool], on_done: Callable[[str, dict], None]):
        self._queue = queue
        self._recorder = recorder
        self._builder = builder
        self.settings = settings
        self._stopping = stopping
        self._on_done = on_done
        self._built_fp: dict[Path, tuple] = {}  # the file as of its last build (queue's lock)

    def process(self, path: Path, job: Pending) -> None:
        current = self._settle(path, job.fingerprint)
        if self._superseded(path):
            return  # a newer save is queued; it will be built instead
        if current is None:
            self._deleted(path)
            return
        if not current[-1]:
            if self._remember(path, current):
                logger.warning("%s：%s", path.name, NOT_REGULAR)
                problem = UnreadableLedgerError(path, NOT_REGULAR)
                self._on_done(path.name, self._recorder.record(
                    path, BuildResult(path, UNUSABLE, problem=problem), 0.0))
            return
        twin = newer_twin(path)
        if twin is not None:  # the same notice comes from the newer file (discover_ledgers)
            logger.warning("%s 与 %s 同名，使用较新的 %s，%s 未读取（如已不用，请移走）",
                           path.name, twin.name, twin.name, path.name)
            return
        with self._queue.cond:
            unchanged = self._built_fp.get(path) == current
        if unchanged:
            logger.debug("%s：内容未变，不重新生成", path.name)
            return
        started = time.monotonic()
        result = self._build_with_retries(path)
        if result is None:
            return  # superseded by a newer save while retrying
        with self._queue.cond:
            if result.problem is not None and not isinstance(result.problem, UnreadableLedgerError):
                self._built_fp.pop(path, None)  # the ledger is fine; the next event must retry
            else:
                self._built_fp[path] = current
        self._on_done(path.name, self._recorder.record(path, result, time.monotonic() - started))

    def _remember(self, path: Path, current: tuple) -> bool:
        """Store ``current`` as built; True when it differs from what was stored."""
        with self._queue.cond:
            changed = self._built_fp.get(path) != current
            self._built_fp[path] = current
        return changed

    def _deleted(self, path: Path) -> None:
        with self._queue.cond:
            known = self._built_fp.pop(path, None) is not None
        if not known and not self._recorder.knows(path.name):
            logger.debug("%s：出现后又消失，从未生成过通报", path.name)
            return
        self._on_done(path.name, self._recorder.record_deleted(path))

    def _superseded(self, path: Path) -> bool:
        return self._stopping() or self._queue.has_pending(path)

    def _pause(self, path: Path, seconds: float) -> bool:
        """Wait ``seconds``; True when a newer event for ``path`` (or a stop) cut it short."""
        with self._queue.cond:
            return self._queue.cond.wait_for(lambda: self._superseded(path), seconds)

    def _settle(self, path: Path, previous: tuple | None) -> tuple | None:
        """Wait until the file holds still and opens; its fingerprint, or None when it is gone.

        ``previous`` is the fingerprint seen at the last event, a debounce ago: when nothing
        moved since, the file is settled without waiting any longer. Not a regular file:
        returned at once, never opened.
        """
        step = min(0.25, max(0.05, self.settings.debounce / 4))
        deadline = time.monotonic() + self.settings.settle_timeout
        while True:
            current = fingerprint(path)
            if current is None or not current[-1]:
                return current
            if current == previous and opens(path):
                return current
            if time.monotonic() > deadline or self._pause(path, step):
                return current  # still moving: build anyway, the result says what is wrong
            previous = current

    def _build_once(self, path: Path, target: Path) -> BuildResult:
        s = self.settings
        try:
            return self._builder(path, target, kind=s.kind, pdf=s.pdf)
        except Exception as exc:  # a crash in one build is a failed result, not a dead worker
            logger.exception("%s：生成时发生意外错误", path.name)
            return unexpected_failure(path, target, exc)

    def _build_with_retries(self, path: Path) -> BuildResult | None:
        target = notice_path_for(path, self.settings.out_dir)
        for attempt in range(self.settings.retries + 1):
            result = self._build_once(path, target)
            half_saved = (result.outcome == UNUSABLE
                          and isinstance(result.problem, UnreadableLedgerError))
            if not half_saved or attempt == self.settings.retries:
                return result
            delay = self.settings.retry_delay * 2 ** attempt
            reason = result.problem.reason if result.problem else ""
            logger.debug("%s：暂时无法读取（%s），%g 秒后重试", path.name, reason, delay)
            if self._pause(path, delay):
                return None
            if fingerprint(path) is None:
                return result
        return result
