"""Exceptions for "cannot continue" situations.

Validation problems are *data* (see ``model.Finding``); these exceptions are only raised
when a file cannot be used at all. Every message is one Chinese line naming the file.
"""

from __future__ import annotations

import errno
from pathlib import Path


class ToolkitError(Exception):
    """Base of every error the toolkit raises on purpose."""

    def __init__(self, path: Path | str | None, message: str, cell: str | None = None):
        self.path = Path(path) if path is not None else None
        self.cell = cell
        self.reason = message
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.path.name}" if self.path is not None else ""
        if self.cell:
            where += f" {self.cell}"
        return f"{where}：{self.reason}" if where else self.reason


class UnreadableLedgerError(ToolkitError):
    """The file is not a workbook the toolkit can read."""


class NotAWorkbookError(UnreadableLedgerError):
    """Empty, truncated, not a zip, or a zip without a workbook in it."""


class LegacyFormatError(UnreadableLedgerError):
    """An old binary .xls workbook."""


class EncryptedWorkbookError(UnreadableLedgerError):
    """A password-protected workbook (OLE container holding EncryptionInfo)."""


class ZipBombError(UnreadableLedgerError):
    """Members declare more uncompressed data than any real ledger has."""


class UnsafeXmlError(UnreadableLedgerError):
    """XML with a DOCTYPE or entity declarations."""


class NoHeaderError(UnreadableLedgerError):
    """No sheet has a recognisable header row."""


class TemplateError(ToolkitError):
    """A notice template cannot be used (missing, broken, unknown placeholder)."""


class OutputError(ToolkitError):
    """An output file cannot be written."""


class OutputLockedError(OutputError):
    """The target exists and cannot be replaced (open in Word/Excel on Windows)."""


class SnapshotError(ToolkitError):
    """A history snapshot cannot be read, or there is none to compare with."""


class WatchError(ToolkitError):
    """A folder cannot be watched at all (missing, unreadable)."""


class RollupError(ToolkitError):
    """A folder cannot be rolled up at all (missing, unreadable, no ledger in it)."""


class PdfConversionError(ToolkitError):
    """LibreOffice is missing or failed to convert the notice."""


# Why a system call failed, in Chinese, for the common error numbers; the system's own text
# (in English on most servers) only for the rare others.
_OS_REASON_CN = {
    getattr(errno, name): text for name, text in (
        ("EACCES", "没有权限"), ("EPERM", "没有权限"), ("EROFS", "只读文件系统"),
        ("ENOSPC", "磁盘空间已满或文件数已达上限"), ("EDQUOT", "超出磁盘配额"),
        ("EISDIR", "同名的文件夹已存在"), ("ENOENT", "路径不存在"), ("EEXIST", "同名的文件已存在"),
        ("ENOTDIR", "路径中有一部分不是文件夹"), ("EBUSY", "正被占用"),
        ("EIO", "读写出错（磁盘或网络故障）"), ("ENAMETOOLONG", "文件名太长"), ("EINVAL", "不是普通文件或名称无效"),
        ("ENXIO", "设备不可用"), ("ELOOP", "符号链接循环"), ("EMFILE", "打开的文件太多"),
        ("ETIMEDOUT", "连接超时"), ("EHOSTDOWN", "服务器无响应"),
    ) if hasattr(errno, name)
}


def os_reason(exc: BaseException) -> str:
    """Why an OSError happened, in Chinese where the error number is a common one."""
    if isinstance(exc, OSError) and exc.errno in _OS_REASON_CN:
        return _OS_REASON_CN[exc.errno]
    return str(getattr(exc, "strerror", None) or exc)
