"""Exceptions for "cannot continue" situations.

Validation problems are *data* (see ``model.Finding``); these exceptions are only raised
when a file cannot be used at all. Every message is one Chinese line naming the file.
"""

from __future__ import annotations

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
