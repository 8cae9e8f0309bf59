"""Refuse broken, foreign and hostile files before any heavy parsing.

Everything here looks only at the first bytes of the file and the zip's central directory,
plus the first kilobytes of each XML member, so it answers in milliseconds even for a zip
bomb: the declared sizes bound what zipfile will ever inflate.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .errors import (
    EncryptedWorkbookError,
    LegacyFormatError,
    NotAWorkbookError,
    UnsafeXmlError,
    ZipBombError,
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# A 50,000-row ledger inflates to well under 200 MB; 1 GiB leaves room and still stops bombs.
MAX_TOTAL_UNCOMPRESSED = 1 << 30
MAX_MEMBERS = 10_000
PROLOG_BYTES = 64 * 1024


def check_workbook_file(path: Path) -> None:
    """Raise an UnreadableLedgerError subclass unless ``path`` looks like a safe .xlsx."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(len(OLE_MAGIC))
            if head == OLE_MAGIC:
                handle.seek(0)
                container = handle.read(4 * 1024 * 1024)
    except FileNotFoundError as exc:
        raise NotAWorkbookError(path, "文件不存在") from exc
    except IsADirectoryError as exc:
        raise NotAWorkbookError(path, "这是一个文件夹，不是台账文件") from exc
    except OSError as exc:
        raise NotAWorkbookError(path, f"无法打开文件（{exc.strerror or exc}）") from exc

    if size == 0:
        raise NotAWorkbookError(path, "文件是空的（0 字节），可能保存未完成")
    if head == OLE_MAGIC:
        # Encrypted OOXML is stored in an OLE container with an EncryptionInfo stream.
        if "EncryptionInfo".encode("utf-16-le") in container:
            raise EncryptedWorkbookError(path, "工作簿设置了打开密码，请在 Excel/WPS 中取消密码后另存为 .xlsx")
        raise LegacyFormatError(path, "这是旧版 .xls 格式，请在 Excel/WPS 中另存为 .xlsx 后再使用")
    if not head.startswith(ZIP_MAGIC[:2]):
        raise NotAWorkbookError(path, "不是 Excel 工作簿（.xlsx）文件")

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise NotAWorkbookError(path, "文件已损坏或不完整（可能保存未完成），无法作为 .xlsx 打开") from exc
    with archive:
        names = {info.filename for info in archive.infolist()}
        check_archive_limits(path, archive)
        if "word/document.xml" in names:
            raise NotAWorkbookError(path, "这是 Word 文档，不是 Excel 台账（扩展名被改成了 .xlsx？）")
        if "[Content_Types].xml" not in names:
            raise NotAWorkbookError(path, "缺少 [Content_Types].xml，不是有效的 .xlsx 工作簿")
        if "xl/workbook.xml" not in names:
            raise NotAWorkbookError(path, "压缩包中没有工作簿（xl/workbook.xml），不是 Excel 台账")
        check_xml_prologs(path, archive)


def _check_prolog(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    # A DOCTYPE (and with it any entity declaration) must come before the root element, so
    # the prolog is enough; defusedxml inside openpyxl stays the backstop.
    try:
        with archive.open(info) as member:
            prolog = member.read(PROLOG_BYTES)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise NotAWorkbookError(path, f"压缩包成员 {info.filename} 已损坏，无法读取") from exc
    upper = prolog.upper()
    if any(marker.encode(codec) in upper for marker in ("<!DOCTYPE", "<!ENTITY")
           for codec in ("ascii", "utf-16-le", "utf-16-be")):
        raise UnsafeXmlError(path, f"{info.filename} 含有 DOCTYPE/实体声明，出于安全原因拒绝读取")


def check_archive_limits(path: Path, archive: zipfile.ZipFile,
                         max_total: int = MAX_TOTAL_UNCOMPRESSED) -> None:
    """Raise ZipBombError when ``archive`` holds too many members or declares more
    uncompressed data than ``max_total`` (zipfile never inflates past the declared size).
    Shared by ledgers and notice templates."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ZipBombError(path, f"压缩包内文件过多（{len(infos)} 个），拒绝读取")
    total = sum(info.file_size for info in infos)
    if total > max_total:
        raise ZipBombError(
            path, f"解压后大小异常（{total / 2**20:,.0f} MB），疑似压缩炸弹，拒绝读取")


def check_xml_prologs(path: Path, archive: zipfile.ZipFile) -> None:
    """Raise UnsafeXmlError when an XML member of ``archive`` declares a DOCTYPE or entities."""
    for info in archive.infolist():
        if info.filename.endswith((".xml", ".rels")) and info.file_size:
            _check_prolog(path, archive, info)
