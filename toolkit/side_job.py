"""Work done on the second core: a forked child computes a value while the parent goes on.

A build's history comparison and statistics workbook depend only on the analysed ledger, not on
the notice, and cost a fifth of a 10,000-row build; on a two-core machine a child computes them
while the parent renders the notice. The child only computes: it writes nothing but its pickled
result to a pipe and ends with ``os._exit`` (no exit handlers, no flushing of the parent's
buffers). Whenever a child cannot be used — no ``fork`` here (Windows), macOS (system libraries
are not fork-safe), other threads running (the watcher: a forked copy of a threaded process can
deadlock on a lock another thread held), fork failing, the child failing or dying, a result that
does not pickle — the parent calls the function itself, so the value, and any exception, are
exactly those of calling it inline.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_MISSING: Any = object()


def can_fork() -> bool:
    """A child may be forked here and now."""
    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


class SideJob(Generic[T]):
    """``fn(*args)``, started in a child when ``in_child`` and ``can_fork()``; ``result()``
    gives its value.

    A child's pages are shared with the parent only until touched, and Python touches every
    object it reads (reference counts, the garbage collector): a child that reads all of a big
    ledger soon holds a copy of it. Callers pass ``in_child=False`` where that copy does not
    fit. Use it as a context manager: leaving it before ``result()`` stops the child.
    """

    def __init__(self, fn: Callable[..., T], *args: Any, in_child: bool = True) -> None:
        self._fn, self._args = fn, args
        self._pid: int | None = None
        self._fd: int | None = None
        self._value: Any = _MISSING
        if in_child and can_fork():
            self._start()

    def _start(self) -> None:
        try:
            read_end, write_end = os.pipe()
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return
        if pid == 0:  # the child
            os.close(read_end)
            _run_child(write_end, self._fn, self._args)
        os.close(write_end)
        self._pid, self._fd = pid, read_end

    @property
    def forked(self) -> bool:
        return self._pid is not None

    def result(self) -> T:
        """The value (computed once: a second call gives the same object)."""
        if self._value is _MISSING:
            value = self._collect() if self._pid is not None else _MISSING
            self._value = self._fn(*self._args) if value is _MISSING else value
        return self._value

    def _collect(self) -> Any:
        pid, fd = self._pid, self._fd
        self._pid = self._fd = None
        assert pid is not None and fd is not None
        try:
            with os.fdopen(fd, "rb") as source:
                data = source.read()
        except OSError:
            data = b""
        finally:
            _reap(pid)
        try:
            done, value = pickle.loads(data)
        except Exception:  # died before writing, or wrote something unreadable
            return _MISSING
        return value if done else _MISSING

    def cancel(self) -> None:
        """Stop the child, if any, without waiting for its value."""
        pid, fd = self._pid, self._fd
        self._pid = self._fd = None
        if pid is None:
            return
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        _reap(pid)

    def __enter__(self) -> SideJob[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


def _run_child(fd: int, fn: Callable[..., Any], args: tuple) -> None:
    code = 0
    try:
        try:
            payload = pickle.dumps((True, fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # the parent computes it again and meets the same failure
            payload = pickle.dumps((False, None))
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
