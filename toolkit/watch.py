"""Watch a ledger folder and rebuild a ledger's notice soon after a clerk saves it.

One save travels: file-system event -> filter (``is_ledger_file``) -> per-ledger debounce
(``watch_debounce``) -> a worker (``watch_workers``) waits until the file holds still and
opens -> ``build_notice`` (the same call as ``toolkit build``) -> 校验报告, ``status.json``
and one log line (``watch_record``).

Threads: the watchdog observer only queues ledger paths; a few workers build, never two at
once for one ledger, and a build that hangs does not hold up the other ledgers; a supervisor
restarts the observer when its thread dies (``watch_observer``: a polling emitter stops when a
network share drops). Only the watch modules import watchdog.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    FileClosedNoWriteEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
    FileSystemMovedEvent,
)
from watchdog.observers.api import BaseObserver

from .atomic import TEMP_PREFIX, TEMP_SUFFIX
from .build import BuildResult, build_notice, is_ledger_file
from .discover import discover_ledgers
from .errors import WatchError
from .pdf import cancel_conversions
from .watch_debounce import (
    Clock,
    DebounceQueue,
    WatchSettingError,
    check_delay,
    os_reason,
)
from .watch_observer import ObserverSupervisor
from .watch_process import LedgerProcessor, ProcessSettings, fingerprint
from .watch_record import (  # noqa: F401  (re-exported: the CLI and tests use these names)
    DELETED,
    LOG_NAME,
    RESULT_CN,
    STATUS_NAME,
    StatusRecorder,
    check_writable,
    log_formatter,
)
from .watch_workers import WorkerPool

logger = logging.getLogger(__name__)

__all__ = [
    "WatchSettingError",
    "Watcher",
    "log_formatter",
    "mount_of",
    "network_filesystem",
    "parse_mounts",
    "remove_stale_temps",
]

# A temp file of ours this old is left over from a crash; a younger one may belong to a
# `toolkit build` running at the same moment, so it is left alone.
STALE_TEMP_SECONDS = 60.0

# File systems on which inotify sees only local writes, so a clerk's save on another machine
# would go unnoticed: watch them by polling.
NETWORK_FS_TYPES = frozenset({
    "cifs", "smb3", "smbfs", "smb2", "nfs", "nfs4", "ncpfs", "afs", "9p", "v9fs", "drvfs",
    "virtiofs", "vboxsf", "ceph", "glusterfs", "lustre", "gpfs", "davfs", "fuse.sshfs",
    "fuse.glusterfs", "fuse.davfs2", "fuse.rclone", "fuse.s3fs", "fuse.vmhgfs-fuse",
})
MOUNTS_FILE = Path("/proc/mounts")

_EVENT_CN = {"created": "新建", "modified": "修改", "deleted": "删除", "moved": "改名/移入",
             "closed": "写入完成", "attrib": "属性变化"}


# ---------------------------------------------------------------- network file systems

def parse_mounts(text: str) -> list[tuple[str, str]]:
    """(mount point, fs type) pairs of a /proc/mounts text, in file order."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            # The kernel writes space, tab, newline and backslash in mount points as \ooo.
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1])
            mounts.append((point, fields[2]))
    return mounts


def mount_of(path: Path | str, mounts: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The mount holding ``path``: the longest mount point that is a prefix of it."""
    target = os.path.realpath(path)
    best: tuple[str, str] | None = None
    for point, fstype in mounts:
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        # ">=": a later mount over the same point hides the earlier one.
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, fstype)
    return best


def network_filesystem(path: Path | str, mounts_text: str | None = None) -> str | None:
    """The network file system ``path`` lives on ("cifs", "nfs4", "UNC" …), None when local."""
    if os.name == "nt":
        return _windows_network_drive(path)
    if mounts_text is None:
        try:
            mounts_text = MOUNTS_FILE.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError:
            return None  # not Linux: nothing to go by, use the native observer
    found = mount_of(path, parse_mounts(mounts_text))
    if found and found[1] in NETWORK_FS_TYPES:
        return found[1]
    return None


def _windows_network_drive(path: Path | str) -> str | None:
    full = os.path.abspath(path)
    if full.startswith(("\\\\", "//")):
        return "UNC"
    import ctypes  # only on Windows

    drive = os.path.splitdrive(full)[0] + "\\"
    drive_remote = 4
    if ctypes.windll.kernel32.GetDriveTypeW(drive) == drive_remote:  # type: ignore[attr-defined]
        return "网络驱动器"
    return None


# ---------------------------------------------------------------- small helpers

def remove_stale_temps(folder: Path, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Delete our own leftover atomic-write temp files (``.~toolkit-*.tmp``) in ``folder``."""
    removed = []
    now = time.time()
    with contextlib.suppress(OSError):
        for path in Path(folder).glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime >= older_than:
                    path.unlink()
                    removed.append(path)
    return removed


class _EventHandler(FileSystemEventHandler):
    """Turns watchdog events into ledger paths for the queue; everything else is dropped."""

    def __init__(self, ledger_dir: Path, polling: Callable[[], bool],
                 enqueue: Callable[..., None]):
        self._ledger_dir = ledger_dir
        self._polling = polling
        self._enqueue = enqueue

    def dispatch(self, event: FileSystemEvent) -> None:
        self._on_event(event)

    def _ledger_path(self, raw: bytes | str) -> Path | None:
        """The ledger an event path names, spelled as ``find_ledgers`` does; None if not one."""
        path = Path(os.fsdecode(raw))
        if not is_ledger_file(path):
            return None
        # Some observers report the folder's real path (macOS: /private/var for /var).
        if path.parent != self._ledger_dir and (
                os.path.realpath(path.parent) != os.path.realpath(self._ledger_dir)):
            return None
        return self._ledger_dir / path.name

    def _on_event(self, event: FileSystemEvent) -> None:
        # Our own reads of a ledger produce open/close-no-write events: never a reason to build.
        if event.is_directory or isinstance(event, (FileOpenedEvent, FileClosedNoWriteEvent)):
            return
        raw = [event.src_path]
        if isinstance(event, FileSystemMovedEvent) and event.dest_path:
            raw.append(event.dest_path)
        paths = [self._ledger_path(r) for r in raw]
        if not any(paths):
            return  # lock, owner and temp files: not even looked at
        what = _EVENT_CN.get(event.event_type, event.event_type)
        if len(raw) == 2:
            what += f"（{Path(os.fsdecode(raw[0])).name} → {Path(os.fsdecode(raw[1])).name}）"
        for i, path in enumerate(paths):
            if path is not None:
                self._enqueue(path, event.event_type, what, complete=self._completes(event, i))

    def _completes(self, event: FileSystemEvent, index: int) -> bool:
        """Does this event end a save, so that the file is complete?

        A rename onto the ledger ends an Excel/WPS save. A poll compares two listings: the
        same save shows up as "created" (the ledger has a new inode; or, when the poll fell
        between the delete and the rename, it reappears), never as a rename in progress.
        Treating it as finished saves a whole debounce (the settle check still applies).
        """
        if index == 1:
            return True
        return self._polling() and event.event_type == "created"


# ---------------------------------------------------------------- the watcher

class Watcher:
    """Builds every ledger of ``ledger_dir`` once, then rebuilds each one after it changes.

    Debounce per ledger (see ``DebounceQueue``): a finished save after ``debounce`` quiet
    seconds is built at once, other changes ``debounce`` after the last one. Then the file
    must hold still and open; a file that cannot be read is tried ``retries`` more times,
    ``retry_delay`` doubling, before it is reported. ``workers`` ledgers build at once; a
    build running over ``stuck_after`` seconds gets a replacement worker.

    ``polling``: True forces watchdog's PollingObserver (every ``interval`` seconds), False
    the native observer; None (default) polls when the folder is on a network file system.
    ``on_build(name, entry)`` is called on a worker thread after each build or deletion,
    ``entry`` being that ledger's ``status.json`` record. Use as a context manager, or
    ``start()`` / ``stop()``; ``run()`` blocks until ``request_stop()``.
    Settings that cannot be delays (inf, nan, negative) raise ``WatchSettingError``.
    """

    def __init__(self, ledger_dir: Path | str, out_dir: Path | str, *,
                 polling: bool | None = None, interval: float = 1.0, debounce: float = 1.0,
                 pdf: bool = False, kind: str | None = None,
                 retries: int = 3, retry_delay: float = 0.5,
                 settle_timeout: float = 10.0, supervise_every: float = 2.0,
                 stop_timeout: float = 30.0, log_file: bool = True,
                 on_build: Callable[[str, dict], None] | None = None,
                 builder: Callable[..., BuildResult] = build_notice,
                 workers: int = 2, stuck_after: float = 120.0,
                 clock: Clock = time.monotonic):
        self.ledger_dir = Path(os.path.abspath(ledger_dir))
        self.out_dir = Path(os.path.abspath(out_dir))
        self.interval = check_delay("轮询间隔（--interval）", interval, positive=True)
        self.retry_delay = check_delay("重试间隔", retry_delay)
        self.settle_timeout = check_delay("等待文件稳定的时间", settle_timeout)
        self.stop_timeout = check_delay("停止时的等待时间", stop_timeout)
        supervise_every = check_delay("检查监视线程的间隔", supervise_every, positive=True)
        stuck_after = check_delay("单本台账生成时限", stuck_after, positive=True,
                                  upper=float("1e6"))
        self.pdf = pdf
        self.on_build = on_build
        self._log_file = log_file
        self._requested_polling = polling
        self.network_fs: str | None = None
        self._stopped = False
        self._stopping = threading.Event()
        self._queue = DebounceQueue(debounce, clock=clock)
        self._cond = self._queue.cond  # one lock for the watcher's shared state
        self._builds: dict[str, int] = {}
        self._recorder = StatusRecorder(self.ledger_dir, self.out_dir,
                                        polling=lambda: self.polling)
        settings = ProcessSettings(self.out_dir, self.debounce, retries, self.retry_delay,
                                   self.settle_timeout, kind, pdf)
        self._processor = LedgerProcessor(self._queue, self._recorder, builder, settings,
                                          stopping=self._stopping.is_set, on_done=self._on_done)
        self._pool = WorkerPool(self._queue, self._processor.process, stopping=self._stopping,
                                workers=workers, stuck_after=stuck_after)
        self._supervisor = ObserverSupervisor(
            self.ledger_dir, _EventHandler(self.ledger_dir, lambda: self.polling, self._enqueue),
            polling=bool(polling), interval=self.interval,
            every=supervise_every, stopping=self._stopping, on_restart=self._on_restart,
            on_tick=self._pool.tick)

    @property
    def debounce(self) -> float:
        return self._queue.debounce

    @property
    def max_delay(self) -> float:
        return self._queue.max_delay

    @property
    def polling(self) -> bool:
        return self._supervisor.polling

    @property
    def restarts(self) -> int:
        return self._supervisor.restarts

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start watching; every ledger is queued for a first build. Raises WatchError."""
        if not self.ledger_dir.is_dir():
            raise WatchError(self.ledger_dir, "台账文件夹不存在或无法访问")
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WatchError(self.out_dir, f"无法创建输出文件夹 {self.out_dir}"
                                           f"（{os_reason(exc)}）") from exc
        if self._log_file:
            self._recorder.attach_log_file()
        try:
            check_writable(self.out_dir)
            self._start_watching()
        except BaseException:
            self._recorder.detach_log_file()
            raise
        self._pool.start()
        self._queue_all()

    def _start_watching(self) -> None:
        for path in remove_stale_temps(self.out_dir):
            logger.info("清理上次遗留的临时文件 %s", path.name)
        self._recorder.load()
        if self._requested_polling is None:
            self.network_fs = network_filesystem(self.ledger_dir)
            self._supervisor.polling = self.network_fs is not None
        how = (f"轮询（每 {self.interval:g} 秒）" if self.polling else "系统文件通知")
        if self.network_fs:
            how += f"；{self.ledger_dir} 位于网络文件系统（{self.network_fs}），自动改用轮询"
        logger.info("开始监视 %s → %s，方式：%s，防抖 %g 秒", self.ledger_dir, self.out_dir, how,
                    self.debounce)
        # Watch first, then queue the first builds: a save in between is not missed.
        try:
            self._supervisor.start()
        except OSError as exc:
            raise WatchError(self.ledger_dir, f"无法监视该文件夹（{os_reason(exc)}）") from exc

    def request_stop(self) -> None:
        """Ask ``run()`` (blocking in another thread) to stop and return."""
        self._stopping.set()
        self._queue.wake()

    def run(self) -> None:
        """Start, block until ``request_stop()`` or KeyboardInterrupt, then stop cleanly.

        The CLI turns SIGTERM into KeyboardInterrupt, so both end here through ``stop()``.
        """
        try:
            self.start()
            while not self._stopping.wait(0.5):  # a timeout keeps Ctrl-C deliverable on Windows
                pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop watching: PDF conversions are cancelled (their LibreOffice killed), the current
        notices finish (up to ``stop_timeout``), waiting changes are dropped. A second stop
        signal (KeyboardInterrupt) during the wait ends it at once; "已停止" is logged either way.
        """
        if self._stopped:
            return
        self._stopped = True
        self.request_stop()
        try:
            cancel_conversions()
            self._supervisor.stop(self.stop_timeout)
            if not self._pool.join(self.stop_timeout, poll=cancel_conversions):
                logger.warning("正在生成的通报（%s）在 %g 秒内未生成完，已放弃（下次启动时会重新生成）",
                               "、".join(p.name for p in self._pool.running()), self.stop_timeout)
        except KeyboardInterrupt:
            cancel_conversions()
            logger.warning("再次收到停止信号，不再等待正在生成的通报（下次启动时会重新生成）")
        finally:
            self._finish_stop()

    def _finish_stop(self) -> None:
        try:  # one more stop signal here must not cost the last log line
            dropped = [p.name for p in self._queue.drain()]
            if dropped:
                logger.info("未处理的变化（下次启动时会重新生成）：%s", "、".join(dropped))
            remove_stale_temps(self.out_dir)
        finally:
            logger.info("已停止监视 %s", self.ledger_dir)
            self._recorder.detach_log_file()

    # ---------------------------------------------------------------- for tests and callers

    def builds(self, name: str) -> int:
        """How many times the ledger ``name`` has been built (or found deleted)."""
        with self._cond:
            return self._builds.get(name, 0)

    def status(self, name: str) -> dict | None:
        return self._recorder.status(name)

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds (checked after each build); False on timeout."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_builds(self, name: str, count: int, timeout: float) -> bool:
        return self.wait_until(lambda: self._builds.get(name, 0) >= count, timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Block until no change is waiting and no build is running; False on timeout."""
        return self.wait_until(self._queue.idle, timeout)

    @property
    def observer(self) -> BaseObserver | None:
        return self._supervisor.observer

    @property
    def healthy(self) -> bool:
        """The observer and its emitter threads are running (what the supervisor checks)."""
        return self._supervisor.healthy

    # ---------------------------------------------------------------- queueing

    def _enqueue(self, path: Path, kind: str, what: str, delay: float | None = None,
                 complete: bool = False) -> None:
        if kind == "deleted" and self.polling and delay is None:
            # A poll may see a save's delete one round before the ledger's return: give it
            # a round more before calling the ledger deleted.
            delay = max(self.debounce, 2 * self.interval)
        repeat = self._queue.add(path, kind, fingerprint(path), delay=delay, complete=complete)
        # One line per save, not per write() of it.
        logger.log(logging.DEBUG if repeat else logging.INFO, "%s：%s", path.name, what)

    def _queue_all(self) -> None:
        try:
            discovery = discover_ledgers(self.ledger_dir)
        except OSError as exc:
            logger.warning("无法读取台账文件夹 %s（%s）", self.ledger_dir, os_reason(exc))
            return
        for warning in discovery.warnings:  # same name twice, CSV or other tables, FIFOs …
            logger.warning("%s", warning)
        ledgers = discovery.ledgers
        if not ledgers:
            logger.info("%s 中暂无台账（.xlsx、.xls、.et、.ods 等）", self.ledger_dir)
        for path in ledgers:
            self._enqueue(path, "scan", "检查", delay=0.0)

    def _on_restart(self) -> None:
        self._queue.wake()  # wait_until() callers look at ``restarts``
        self._queue_all()

    def _on_done(self, name: str, entry: dict) -> None:
        """After each build or deletion: the callback, then the count that tests wait on."""
        if self.on_build is not None:
            try:
                self.on_build(name, dict(entry))
            except Exception:
                logger.exception("on_build 回调出错")
        with self._cond:
            self._builds[name] = self._builds.get(name, 0) + 1
            self._cond.notify_all()
