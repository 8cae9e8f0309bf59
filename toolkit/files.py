"""Reading a file that anyone may have put in a shared folder: only a regular file is read, and
opening it never blocks (a FIFO or a device named like one of our files would hang a read)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotRegularFileError(OSError):
    """A FIFO, socket, device or folder where a regular file was expected."""


def open_regular(path: Path | str) -> BinaryIO:
    """``path`` opened for reading; raises ``NotRegularFileError`` (an ``OSError``) unless it is
    a regular file, and any other ``OSError`` as ``open`` would."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFileError(errno.EINVAL, "不是普通文件", str(path))
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_regular(path: Path | str) -> bytes:
    """The bytes of the regular file ``path`` (see ``open_regular``)."""
    with open_regular(path) as handle:
        return handle.read()


def is_regular_or_absent(path: Path | str) -> bool:
    """True when nothing is at ``path`` or a regular file is (not a FIFO, device, folder)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False
