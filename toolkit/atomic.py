"""Atomic output: a file is either the old one or the new one, never half written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import OutputError, OutputLockedError, os_reason
from .names import check_replaceable

TEMP_PREFIX = ".~toolkit-"
TEMP_SUFFIX = ".tmp"


def write_atomic(target: Path, data: bytes | Iterable[bytes], *, overwrite: bool = True) -> Path:
    """Write ``data`` to a temp file beside ``target``, fsync it, then ``os.replace`` it in.

    ``data`` is the bytes, or an iterable of chunks (a large file written as it is made,
    never held whole in memory).

    An existing ``target`` is only ever replaced when the toolkit wrote it
    (``names.check_replaceable``): a ledger or a person's file is refused with
    ``NotOursError``. Every failure is an ``OutputError`` naming the path.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(target, f"无法创建输出文件夹 {target.parent}（{os_reason(exc)}）") from exc
    if not overwrite and (target.exists() or target.is_symlink()):
        raise OutputError(target, "文件已存在，为避免覆盖已停止；请换一个文件名")
    if overwrite:
        check_replaceable(target)
    try:
        fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise OutputError(target, f"无法在 {target.parent} 中写入（{os_reason(exc)}）") from exc
    temp = Path(temp_name)
    try:
        # mkstemp makes the file private (0600); a notice in a shared folder must stay readable
        # by colleagues, so keep the old file's mode, or the usual one for a new file.
        with contextlib.suppress(OSError):
            os.chmod(temp, _mode_for(target))
        with os.fdopen(fd, "wb") as handle:
            for chunk in (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if not overwrite:
            # link() fails when the name exists, closing the race between exists() and here.
            try:
                os.link(temp, target)
            except FileExistsError as exc:
                raise OutputError(target, "文件已存在，为避免覆盖已停止；请换一个文件名") from exc
            except OSError:
                os.replace(temp, target)  # filesystems without hard links
        else:
            os.replace(temp, target)
    except PermissionError as exc:
        if _is_read_only(target.parent):
            raise OutputError(target, f"输出文件夹不可写（{os_reason(exc)}）") from exc
        raise OutputLockedError(
            target, "文件被占用（可能正在 Word/WPS/Excel 中打开），无法替换；请关闭后重试") from exc
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(target, f"无法写入（{os_reason(exc)}）") from exc
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
    _fsync_dir(target.parent)
    return target


def _is_read_only(folder: Path) -> bool:
    """A folder we cannot create files in (as opposed to a target locked by another program)."""
    try:
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    except OSError:
        return True
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return False


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_quietly(path: Path) -> bool:
    """Delete ``path`` if present; True when something was removed."""
    try:
        Path(path).unlink()
        return True
    except FileNotFoundError:
        return False
