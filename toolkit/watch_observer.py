"""The watcher's observer and its supervisor: native or polling, restarted when it dies.

A polling emitter stops when a network share drops; inotify keeps following a folder that was
deleted and made again. The supervisor thread checks every ``every`` seconds and starts a new
observer when the old one is dead or watches the wrong folder, then calls ``on_restart`` so the
saves made while nobody was watching get built. It also calls ``on_tick`` each round.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from .watch_debounce import os_reason

logger = logging.getLogger("toolkit.watch")


def folder_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class ObserverSupervisor:
    def __init__(self, folder: Path, handler: FileSystemEventHandler, *, polling: bool,
                 interval: float, every: float, stopping: threading.Event,
                 on_restart: Callable[[], None], on_tick: Callable[[], None] | None = None):
        self.folder = folder
        self.polling = polling
        self.interval = interval
        self.every = every
        self.restarts = 0
        self._handler = handler
        self._stopping = stopping
        self._on_restart = on_restart
        self._on_tick = on_tick
        self._observer: BaseObserver | None = None
        self._lock = threading.Lock()
        self._watched_id: tuple[int, int] | None = None  # the folder the observer watches
        self._thread: threading.Thread | None = None

    @property
    def observer(self) -> BaseObserver | None:
        return self._observer

    @property
    def healthy(self) -> bool:
        """The observer and its emitter threads run and watch the folder that is there now."""
        observer = self._observer
        return observer is not None and self._healthy(observer)

    def start(self) -> None:
        """Start the observer (OSError when the folder cannot be watched), then the supervisor."""
        with self._lock:
            self._observer = self._start_observer()
        self._thread = threading.Thread(target=self._supervise, name="toolkit-watch-supervisor",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        # The supervisor may hang in a restart on a share that does not answer: bounded waits.
        if self._lock.acquire(timeout=timeout):
            try:
                if self._observer is not None:
                    self._stop_observer(self._observer)
                    self._observer = None
            finally:
                self._lock.release()
        if self._thread is not None:
            self._thread.join(timeout)

    def _start_observer(self) -> BaseObserver:
        observer: BaseObserver = (PollingObserver(timeout=self.interval) if self.polling
                                  else Observer())
        watched = folder_id(self.folder)
        try:
            observer.schedule(self._handler, str(self.folder), recursive=False)
            observer.start()
        except OSError as exc:
            if self.polling or exc.errno not in (errno.ENOSPC, errno.EMFILE):
                raise
            # The inotify watch or instance limit is reached: polling still works.
            logger.warning("系统文件通知不可用（%s），改用轮询", os_reason(exc))
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
        return folder_id(self.folder) == self._watched_id

    def _restart_if_needed(self) -> bool | None:
        """True when restarted, False when healthy or the restart failed, None when stopping."""
        with self._lock:
            if self._stopping.is_set() or self._observer is None:
                return None
            if self._healthy(self._observer):
                return False
            logger.warning("监视线程已停止或文件夹已变动（共享文件夹可能断开过），正在重启")
            self._stop_observer(self._observer)
            try:
                self._observer = self._start_observer()
            except OSError as exc:
                logger.warning("重启监视失败（%s），%g 秒后重试", os_reason(exc), self.every)
                return False
        return True

    def _supervise(self) -> None:
        while not self._stopping.wait(self.every):
            if self._on_tick is not None:
                try:
                    self._on_tick()
                except Exception:
                    logger.exception("监视线程检查时出错")
            restarted = self._restart_if_needed()
            if restarted is None:
                return
            if restarted:
                logger.info("监视已恢复")
                self.restarts += 1
                # Saves made while nobody was watching; unchanged ledgers are skipped.
                self._on_restart()
