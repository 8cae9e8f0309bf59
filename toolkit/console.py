"""The console around the commands: streams that never fail on a narrow encoding, and the crash
log that turns an unexpected exception into one line and a file."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

from . import __version__


def crash_dirs() -> Iterator[Path]:
    """Where a crash report may go: the user's state folder, then the temp folder."""
    import tempfile

    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        yield Path(os.environ["LOCALAPPDATA"]) / "toolkit" / "logs"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    yield Path(state) / "toolkit"
    yield Path(tempfile.gettempdir()) / "toolkit-logs"


def log_crash(exc: BaseException) -> Path | None:
    """Write the full traceback to a file; its path, or None when nothing could be written."""
    import platform
    import traceback
    from datetime import datetime

    now = datetime.now()
    text = (f"toolkit {__version__}  Python {platform.python_version()}  {platform.platform()}\n"
            f"时间：{now.isoformat(timespec='seconds')}\n命令：{' '.join(sys.argv)}\n"
            f"工作目录：{os.getcwd()}\n\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    name = f"toolkit-错误-{now:%Y%m%d-%H%M%S}-{os.getpid()}.log"
    for folder in crash_dirs():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def crash_line(exc: BaseException, log: Path | None) -> str:
    what = type(exc).__name__
    where = f"完整的出错信息已记录在 {log}，请把这个文件发给维护人员" if log is not None \
        else "出错信息未能写入日志文件"
    return f"内部错误（{what}）：这是程序的问题，不是台账的问题，本次操作未完成；{where}。"


def silence_stdout() -> None:
    """Point stdout at the null device, so the flush at exit does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def configure_streams() -> None:
    """Never crash on a console that cannot show Chinese (cp1252, LANG=C, a GBK pipe).

    Characters the stream cannot encode become "?"; a Windows console is switched to UTF-8,
    which it can show.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            if os.name == "nt" and stream.isatty():
                reconfigure(encoding="utf-8", errors="replace")
            else:
                reconfigure(errors="replace")
        except (ValueError, OSError, AttributeError):
            continue
