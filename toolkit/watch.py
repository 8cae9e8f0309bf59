"""Watch a ledger folder and rebuild a ledger's notice soon after a clerk saves it.

One save travels: file-system event -> filter (``is_ledger_file``) -> per-ledger debounce ->
wait until the file holds still and opens -> ``build_notice`` (the same call as
``toolkit build``) -> 校验报告, ``status.json`` and one log line.

Threads: the watchdog observer only queues ledger paths; one worker thread does every build,
so two builds of a ledger never overlap; a supervisor restarts the observer when its thread
dies (a polling emitter stops when a network share drops). This is the only module that
imports watchdog.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Callable

from watchdog.events import (
    FileClosedNoWriteEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
    FileSystemMovedEvent,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from .atomic import TEMP_PREFIX, TEMP_SUFFIX, write_atomic
from .build import BUILT, INVALID, UNUSABLE, BuildResult, build_notice, find_ledgers, is_ledger_file
from .build import OUTCOME_CN, UNCHANGED, notice_path_for
from .count import counts_to_dict
from .errors import ToolkitError, UnreadableLedgerError, WatchError
from .findings_book import remove_findings_book, report_path_for, report_rows, write_findings_book
from .names import LOG_NAME, STATUS_NAME

logger = logging.getLogger(__name__)


DELETED = "deleted"  # status.json result of a ledger that disappeared; its notice is kept
RESULT_CN = {BUILT: "已生成", INVALID: "有错误，未生成", UNUSABLE: "无法使用", DELETED: "台账已删除"}
RESULT_CN.update(OUTCOME_CN)  # 无变化, 新版另存 (build.py)
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 5
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
_LEVEL_CN = {"DEBUG": "调试", "INFO": "信息", "WARNING": "警告", "ERROR": "错误", "CRITICAL": "严重"}


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


def log_formatter() -> logging.Formatter:
    """Time, level in Chinese, message: the format of the console and of toolkit.log."""
    return _ChineseLevelFormatter("%(asctime)s %(levelname_cn)s %(message)s", "%Y-%m-%d %H:%M:%S")


class _ChineseLevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.levelname_cn = _LEVEL_CN.get(record.levelname, record.levelname)
        return super().format(record)


def _fingerprint(path: Path) -> tuple[int, int, int, int] | None:
    """What changes when a file is saved (a rename changes the inode); None when missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _folder_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _opens(path: Path) -> bool:
    # Windows refuses to open a file another program is still writing.
    try:
        with open(path, "rb"):
            return True
    except OSError:
        return False


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


@dataclass
class _Pending:
    due: float  # monotonic time at which to build
    first: float  # monotonic time of the first event of this burst
    fingerprint: tuple | None  # the file as it was at the last event
    last_event: str = ""


# ---------------------------------------------------------------- the watcher

class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher):
        self._watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        self._watcher._on_event(event)


class Watcher:
    """Builds every ledger of ``ledger_dir`` once, then rebuilds each one after it changes.

    Debounce per ledger: a finished save (a rename onto the ledger) after ``debounce`` quiet
    seconds is built at once; any other change, or a save following another within
    ``debounce``, is built ``debounce`` seconds after the last change (at most ``max_delay``
    after the first). Then the file must hold still and open; a file that cannot be read is
    tried ``retries`` more times, ``retry_delay`` doubling, before it is reported.

    ``polling``: True forces watchdog's PollingObserver (every ``interval`` seconds), False
    the native observer; None (default) polls when the folder is on a network file system.
    ``on_build(name, entry)`` is called on the worker thread after each build or deletion,
    ``entry`` being that ledger's ``status.json`` record. Use as a context manager, or
    ``start()`` / ``stop()``; ``run()`` blocks until ``request_stop()``.
    """

    def __init__(self, ledger_dir: Path | str, out_dir: Path | str, *,
                 polling: bool | None = None, interval: float = 1.0, debounce: float = 1.0,
                 pdf: bool = False, kind: str | None = None,
                 retries: int = 3, retry_delay: float = 0.5,
                 settle_timeout: float = 10.0, supervise_every: float = 2.0,
                 stop_timeout: float = 30.0, log_file: bool = True,
                 on_build: Callable[[str, dict], None] | None = None,
                 builder: Callable[..., BuildResult] = build_notice):
        self.ledger_dir = Path(os.path.abspath(ledger_dir))
        self.out_dir = Path(os.path.abspath(out_dir))
        self.interval = interval
        self.debounce = debounce
        # A save storm must not postpone the notice forever.
        self.max_delay = max(5.0, 5 * debounce)
        self.pdf = pdf
        self.kind = kind
        self.retries = retries
        self.retry_delay = retry_delay
        self.settle_timeout = settle_timeout
        self.supervise_every = supervise_every
        self.stop_timeout = stop_timeout
        self.on_build = on_build
        self._builder = builder
        self._log_file = log_file
        self._requested_polling = polling
        self.polling = bool(polling)
        self.network_fs: str | None = None
        self.restarts = 0
        self._stopped = False

        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._pending: dict[Path, _Pending] = {}
        self._busy: Path | None = None
        self._built_fp: dict[Path, tuple] = {}  # the file as of its last build
        self._last_save: dict[Path, float] = {}  # monotonic time of the last rename onto it
        self._builds: dict[str, int] = {}
        self._status: dict[str, dict] = {}
        self._handler = _Handler(self)
        self._observer: BaseObserver | None = None
        self._observer_lock = threading.Lock()
        self._watched_id: tuple[int, int] | None = None  # the folder the observer watches
        self._worker: threading.Thread | None = None
        self._supervisor: threading.Thread | None = None
        self._file_handler: logging.Handler | None = None

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
            raise WatchError(self.out_dir, f"无法创建输出文件夹（{exc.strerror or exc}）") from exc
        self._attach_log_file()
        for path in remove_stale_temps(self.out_dir):
            logger.info("清理上次遗留的临时文件 %s", path.name)
        self._load_status()

        if self._requested_polling is None:
            self.network_fs = network_filesystem(self.ledger_dir)
            self.polling = self.network_fs is not None
        how = (f"轮询（每 {self.interval:g} 秒）" if self.polling else "系统文件通知")
        if self.network_fs:
            how += f"；{self.ledger_dir} 位于网络文件系统（{self.network_fs}），自动改用轮询"
        logger.info("开始监视 %s → %s，方式：%s，防抖 %g 秒", self.ledger_dir, self.out_dir, how,
                    self.debounce)

        # Watch first, then queue the first builds: a save in between is not missed.
        try:
            self._observer = self._start_observer()
        except OSError as exc:
            self._detach_log_file()
            raise WatchError(self.ledger_dir, f"无法监视该文件夹（{exc.strerror or exc}）") from exc
        self._worker = threading.Thread(target=self._work, name="toolkit-watch-worker", daemon=True)
        self._worker.start()
        self._supervisor = threading.Thread(target=self._supervise, name="toolkit-watch-supervisor",
                                            daemon=True)
        self._supervisor.start()
        self._queue_all()

    def request_stop(self) -> None:
        """Ask ``run()`` (blocking in another thread) to stop and return."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()

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
        """Stop watching; let the current build finish (up to ``stop_timeout``), drop the rest."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        # The supervisor may hang in a restart on a share that does not answer: bounded waits.
        if self._observer_lock.acquire(timeout=self.stop_timeout):
            try:
                if self._observer is not None:
                    self._stop_observer(self._observer)
                    self._observer = None
            finally:
                self._observer_lock.release()
        if self._supervisor is not None:
            self._supervisor.join(self.stop_timeout)
        if self._worker is not None:
            self._worker.join(self.stop_timeout)
            if self._worker.is_alive():
                logger.warning("当前通报在 %g 秒内未生成完，已放弃（下次启动时会重新生成）",
                               self.stop_timeout)
        with self._cond:
            dropped = sorted(p.name for p in self._pending)
            self._pending.clear()
        if dropped:
            logger.info("未处理的变化（下次启动时会重新生成）：%s", "、".join(dropped))
        remove_stale_temps(self.out_dir)
        logger.info("已停止监视 %s", self.ledger_dir)
        self._detach_log_file()

    # ---------------------------------------------------------------- for tests and callers

    def builds(self, name: str) -> int:
        """How many times the ledger ``name`` has been built (or found deleted)."""
        with self._cond:
            return self._builds.get(name, 0)

    def status(self, name: str) -> dict | None:
        with self._cond:
            entry = self._status.get(name)
            return dict(entry) if entry is not None else None

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds (checked after each build); False on timeout."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_builds(self, name: str, count: int, timeout: float) -> bool:
        return self.wait_until(lambda: self._builds.get(name, 0) >= count, timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Block until no change is waiting and no build is running; False on timeout."""
        return self.wait_until(lambda: not self._pending and self._busy is None, timeout)

    @property
    def observer(self) -> BaseObserver | None:
        return self._observer

    @property
    def healthy(self) -> bool:
        """The observer and its emitter threads are running (what the supervisor checks)."""
        observer = self._observer
        return observer is not None and self._healthy(observer)

    # ---------------------------------------------------------------- events

    def _ledger_path(self, raw: bytes | str) -> Path | None:
        """The ledger an event path names, spelled as ``find_ledgers`` does; None if not one."""
        path = Path(os.fsdecode(raw))
        if not is_ledger_file(path):
            return None
        # Some observers report the folder's real path (macOS: /private/var for /var).
        if path.parent != self.ledger_dir and (
                os.path.realpath(path.parent) != os.path.realpath(self.ledger_dir)):
            return None
        return self.ledger_dir / path.name

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
                # A rename onto the ledger ends an Excel/WPS save: the file is complete.
                self._enqueue(path, event.event_type, what, complete=i == 1)

    def _enqueue(self, path: Path, kind: str, what: str, delay: float | None = None,
                 complete: bool = False) -> None:
        now = time.monotonic()
        fingerprint = _fingerprint(path)
        with self._cond:
            if complete:
                # Leading edge: a finished save after a quiet spell is built at once; saves
                # following it within the debounce wait for the burst to end (trailing edge).
                quiet = now - self._last_save.get(path, float("-inf")) > self.debounce
                self._last_save[path] = now
                if quiet and delay is None:
                    delay = 0.0
            pending = self._pending.get(path)
            repeat = pending is not None and pending.last_event == kind
            due = now + (self.debounce if delay is None else delay)
            if pending is None:
                self._pending[path] = _Pending(due, now, fingerprint, kind)
            else:
                pending.due = min(due, pending.first + self.max_delay)
                pending.fingerprint = fingerprint
                pending.last_event = kind
            self._cond.notify_all()
        # One line per save, not per write() of it.
        logger.log(logging.DEBUG if repeat else logging.INFO, "%s：%s", path.name, what)

    def _queue_all(self) -> None:
        try:
            ledgers = find_ledgers(self.ledger_dir)
        except OSError as exc:
            logger.warning("无法读取台账文件夹 %s（%s）", self.ledger_dir, exc.strerror or exc)
            return
        if not ledgers:
            logger.info("%s 中暂无台账（.xlsx）", self.ledger_dir)
        for path in ledgers:
            self._enqueue(path, "scan", "检查", delay=0.0)

    # ---------------------------------------------------------------- observer and supervisor

    def _start_observer(self) -> BaseObserver:
        observer: BaseObserver = (PollingObserver(timeout=self.interval) if self.polling
                                  else Observer())
        watched = _folder_id(self.ledger_dir)
        try:
            observer.schedule(self._handler, str(self.ledger_dir), recursive=False)
            observer.start()
        except OSError as exc:
            if self.polling or exc.errno not in (errno.ENOSPC, errno.EMFILE):
                raise
            # The inotify watch or instance limit is reached: polling still works.
            logger.warning("系统文件通知不可用（%s），改用轮询", exc.strerror or exc)
            self.polling = True
            return self._start_observer()
        self._watched_id = watched
        return observer

    @staticmethod
    def _stop_observer(observer: BaseObserver) -> None:
        with contextlib.suppress(Exception):  # a dead observer may fail to stop; it is gone anyway
            observer.stop()
        with contextlib.suppress(RuntimeError):
            observer.join(5.0)

    def _healthy(self, observer: BaseObserver) -> bool:
        emitters = list(observer.emitters)
        if not (observer.is_alive() and emitters and all(e.is_alive() for e in emitters)):
            return False
        # inotify follows the folder's inode: a folder deleted and made again (or a share
        # remounted) would be watched no more although every thread is alive.
        return _folder_id(self.ledger_dir) == self._watched_id

    def _supervise(self) -> None:
        while not self._stopping.wait(self.supervise_every):
            with self._observer_lock:
                if self._stopping.is_set() or self._observer is None:
                    return
                if self._healthy(self._observer):
                    continue
                logger.warning("监视线程已停止或文件夹已变动（共享文件夹可能断开过），正在重启")
                self._stop_observer(self._observer)
                try:
                    self._observer = self._start_observer()
                except OSError as exc:
                    logger.warning("重启监视失败（%s），%g 秒后重试", exc.strerror or exc,
                                   self.supervise_every)
                    continue
            logger.info("监视已恢复")
            with self._cond:
                self.restarts += 1
                self._cond.notify_all()
            # Saves made while nobody was watching; unchanged ledgers are skipped.
            self._queue_all()

    # ---------------------------------------------------------------- worker

    def _next_job(self) -> tuple[Path, _Pending] | None:
        with self._cond:
            while not self._stopping.is_set():
                if self._pending:
                    path, job = min(self._pending.items(), key=lambda item: item[1].due)
                    wait = job.due - time.monotonic()
                    if wait <= 0:
                        del self._pending[path]
                        self._busy = path
                        return path, job
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _work(self) -> None:
        while (next_job := self._next_job()) is not None:
            path, job = next_job
            try:
                self._process(path, job.fingerprint)
            except Exception:  # a bug must not stop the watcher; the next save tries again
                logger.exception("%s：处理时发生意外错误", path.name)
            finally:
                with self._cond:
                    self._busy = None
                    self._cond.notify_all()

    def _superseded(self, path: Path) -> bool:
        return self._stopping.is_set() or path in self._pending

    def _pause(self, path: Path, seconds: float) -> bool:
        """Wait ``seconds``; True when a newer event for ``path`` (or a stop) cut it short."""
        with self._cond:
            return self._cond.wait_for(lambda: self._superseded(path), seconds)

    def _settle(self, path: Path, previous: tuple | None) -> tuple | None:
        """Wait until the file holds still and opens; its fingerprint, or None when it is gone.

        ``previous`` is the fingerprint seen at the last event, a debounce ago: when nothing
        moved since, the file is settled without waiting any longer.
        """
        step = min(0.25, max(0.05, self.debounce / 4))
        deadline = time.monotonic() + self.settle_timeout
        while True:
            current = _fingerprint(path)
            if current is None:
                return None
            if current == previous and _opens(path):
                return current
            if time.monotonic() > deadline or self._pause(path, step):
                return current  # still moving: build anyway, the result says what is wrong
            previous = current

    def _process(self, path: Path, at_event: tuple | None) -> None:
        fingerprint = self._settle(path, at_event)
        if self._superseded(path):
            return  # a newer save is queued; it will be built instead
        if fingerprint is None:
            self._record_deleted(path)
            return
        if self._built_fp.get(path) == fingerprint:
            logger.debug("%s：内容未变，不重新生成", path.name)
            return
        started = time.monotonic()
        result = self._build_with_retries(path)
        if result is None:
            return  # superseded by a newer save while retrying
        self._record(path, result, fingerprint, time.monotonic() - started)

    def _build_with_retries(self, path: Path) -> BuildResult | None:
        target = notice_path_for(path, self.out_dir)
        for attempt in range(self.retries + 1):
            result = self._builder(path, target, kind=self.kind, pdf=self.pdf)
            half_saved = (result.outcome == UNUSABLE
                          and isinstance(result.problem, UnreadableLedgerError))
            if not half_saved or attempt == self.retries:
                return result
            delay = self.retry_delay * 2 ** attempt
            logger.debug("%s：暂时无法读取（%s），%g 秒后重试", path.name, result.problem.reason, delay)
            if self._pause(path, delay):
                return None
            if _fingerprint(path) is None:
                return result
        return result

    # ---------------------------------------------------------------- results

    def _record(self, path: Path, result: BuildResult, fingerprint: tuple, seconds: float) -> None:
        name = path.name
        report = result.report
        output_failed = (result.problem is not None
                         and not isinstance(result.problem, UnreadableLedgerError))
        with self._cond:
            if output_failed:
                self._built_fp.pop(path, None)  # the ledger is fine; the next event must retry
            else:
                self._built_fp[path] = fingerprint
        report_path = self._write_report(path, result)

        errors = len(report.errors) if report else 0
        warnings = len(report.warnings) if report else 0
        previous = self._status.get(name, {})
        target = notice_path_for(path, self.out_dir)
        kept = str(target) if target.exists() else None  # the last good notice, if any
        entry = {
            "ledger": str(path),
            "time": _now(),
            "result": result.outcome,
            "result_cn": RESULT_CN[result.outcome],
            "notice": str(result.notice) if result.notice else previous.get("notice") or kept,
            "notice_time": _now() if result.built else previous.get("notice_time"),
            "report": str(report_path) if report_path else None,
            "counts": counts_to_dict(report.stats.overall) if report else None,
            "errors": errors,
            "warnings": warnings,
            "message": result.problem.message if result.problem else "",
            "notes": list(result.notes),
        }
        if result.outcome == UNCHANGED:
            logger.info("%s：无变化（台账、通报信息和模板都没有改变），未重新生成", name)
        elif result.built:
            c = report.stats.overall
            logger.info("%s：已生成通报 %s（问题 %d 个：已完成 %d，正在整改 %d，未完成 %d；警告 %d）"
                        "，用时 %.1f 秒", name, result.notice.name, c.total, c.done, c.in_progress,
                        c.not_done, warnings, seconds)
        elif result.outcome == INVALID:
            logger.warning("%s：有 %d 个错误，未生成新通报，原通报保留；详见 %s", name, errors,
                           report_path.name if report_path else "校验报告")
        else:
            logger.error("%s：%s；原通报保留", name, result.problem.message)
        for note in result.notes:
            logger.warning("%s：%s", name, note)
        self._finish(name, entry)

    def _record_deleted(self, path: Path) -> None:
        name = path.name
        with self._cond:
            known = self._built_fp.pop(path, None) is not None or name in self._status
        if not known:
            logger.debug("%s：出现后又消失，从未生成过通报", name)
            return
        previous = self._status.get(name, {})
        entry = dict(previous, ledger=str(path), time=_now(), result=DELETED,
                     result_cn=RESULT_CN[DELETED], message="台账已删除或移走，原通报保留")
        logger.warning("%s：台账已删除或移走，原通报保留", name)
        self._finish(name, entry)

    def _finish(self, name: str, entry: dict) -> None:
        with self._cond:
            self._status[name] = entry
            snapshot = {k: dict(v) for k, v in self._status.items()}
        self._write_status(snapshot)
        if self.on_build is not None:
            try:
                self.on_build(name, dict(entry))
            except Exception:
                logger.exception("on_build 回调出错")
        with self._cond:
            self._builds[name] = self._builds.get(name, 0) + 1
            self._cond.notify_all()

    def _write_report(self, path: Path, result: BuildResult) -> Path | None:
        """Write the 校验报告 when there is anything to act on; remove it when there is not."""
        report = result.report
        findings = report.findings if report else ()
        target = report_path_for(path, self.out_dir)
        needed = (not (result.built or result.outcome == UNCHANGED) or result.notes
                  or any(f.severity != "info" for f in findings))
        try:
            if not needed:
                if remove_findings_book(target):
                    logger.info("%s：台账无错误和警告，已删除 %s", path.name, target.name)
                return None
            problems = [result.problem.message] if result.problem else []
            rows = report_rows(findings, problems, result.notes)
            return write_findings_book(target, path.name, rows)
        except ToolkitError as exc:
            logger.warning("%s：校验报告未更新：%s", path.name, exc.message)
        except OSError as exc:
            logger.warning("%s：无法删除 %s（%s），可能正在 Excel 中打开", path.name, target.name,
                           exc.strerror or exc)
        return target if target.exists() else None

    def _write_status(self, ledgers: dict[str, dict]) -> None:
        data = {
            "updated": _now(),
            "ledger_dir": str(self.ledger_dir),
            "out_dir": str(self.out_dir),
            "polling": self.polling,
            "ledgers": dict(sorted(ledgers.items())),
        }
        try:
            write_atomic(self.out_dir / STATUS_NAME,
                         json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
        except ToolkitError as exc:
            logger.warning("status.json 未更新：%s", exc.message)

    def _load_status(self) -> None:
        # Keep what earlier runs knew (a ledger deleted while we were stopped keeps its entry).
        try:
            data = json.loads((self.out_dir / STATUS_NAME).read_text(encoding="utf-8"))
            ledgers = data.get("ledgers", {}) if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return
        if not isinstance(ledgers, dict):  # a hand-edited status.json: start afresh
            return
        self._status = {k: v for k, v in ledgers.items() if isinstance(v, dict)}

    # ---------------------------------------------------------------- log file

    def _attach_log_file(self) -> None:
        if not self._log_file:
            return
        handler = RotatingFileHandler(self.out_dir / LOG_NAME, maxBytes=LOG_MAX_BYTES,
                                      backupCount=LOG_BACKUPS, encoding="utf-8")
        handler.setFormatter(log_formatter())
        handler.setLevel(logging.INFO)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)  # the log lines are part of what the watcher delivers
        self._file_handler = handler

    def _detach_log_file(self) -> None:
        if self._file_handler is not None:
            logger.removeHandler(self._file_handler)
            self._file_handler.close()
            self._file_handler = None
