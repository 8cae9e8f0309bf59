"""Refuse broken, foreign and hostile files before any heavy parsing, and say what they are.

Everything here looks only at the first bytes of the file, the zip's central directory (plus
the first kilobytes of each XML member) or the OLE container's directory, so it answers in
milliseconds even for a zip bomb: the declared sizes bound what zipfile will ever inflate.
Only regular files are opened, and without blocking: a FIFO or a device named ``x.xlsx`` would
otherwise hang the reader (and the watcher's worker) forever.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path
from typing import BinaryIO

from .errors import (
    EncryptedWorkbookError,
    LegacyFormatError,
    NotAWorkbookError,
    UnsafeXmlError,
    ZipBombError,
    os_reason,
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# A 50,000-row ledger inflates to well under 200 MB; 1 GiB leaves room and still stops bombs.
MAX_TOTAL_UNCOMPRESSED = 1 << 30
MAX_MEMBERS = 10_000
PROLOG_BYTES = 64 * 1024
# An .xls holds at most 65,536 rows; a full one of real ledger text is well under 100 MB.
MAX_OLE_BYTES = 256 << 20

# What check_workbook_file says a file is.
XLSX, XLSB, ODS, XLS = "xlsx", "xlsb", "ods", "xls"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file; never blocks (FIFO, device)."""
    try:
        info = os.stat(path)
        _require_regular(path, info.st_mode)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise NotAWorkbookError(path, "文件不存在") from exc
    except IsADirectoryError as exc:
        raise NotAWorkbookError(path, "这是一个文件夹，不是台账文件") from exc
    except OSError as exc:
        raise NotAWorkbookError(path, f"无法打开文件（{os_reason(exc)}）") from exc
    try:
        _require_regular(path, os.fstat(fd).st_mode)  # replaced between stat and open
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _require_regular(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise NotAWorkbookError(path, "这是一个文件夹，不是台账文件")
    what = ("命名管道（FIFO）" if stat.S_ISFIFO(mode) else "套接字" if stat.S_ISSOCK(mode)
            else "设备文件" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "特殊文件")
    raise NotAWorkbookError(path, f"这是{what}，不是普通文件，拒绝读取")


def check_workbook_file(path: Path, handle: BinaryIO | None = None) -> str:
    """The kind of workbook at ``path`` (XLSX, XLSB, ODS or XLS), or an UnreadableLedgerError.

    With ``handle`` (from ``open_regular``) the checks read that open file and leave it open.
    """
    if handle is None:
        with open_regular(path) as own:
            return check_workbook_file(path, own)
    try:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(0)
        head = handle.read(512)
    except OSError as exc:
        raise NotAWorkbookError(path, f"无法读取文件（{os_reason(exc)}）") from exc
    if size == 0:
        raise NotAWorkbookError(path, "文件是空的（0 字节），可能保存未完成")
    if head.startswith(OLE_MAGIC):
        return _check_ole(path, handle, size)
    if not head.startswith(ZIP_MAGIC[:2]):
        raise NotAWorkbookError(path, describe_foreign(head))
    return _check_zip(path, handle)


def describe_foreign(head: bytes) -> str:
    """What a file that is neither a zip nor an OLE container most likely is, as a message."""
    resave = "；请在 Excel/WPS 中打开原表格，另存为 .xlsx"
    if head.startswith(b"%PDF"):
        return "这是 PDF 文件，不是 Excel 工作簿" + resave
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "这是图片文件，不是 Excel 工作簿"
    if head.startswith(b"{\\rtf"):
        return "这是 RTF 文档，不是 Excel 工作簿"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "这是网页（HTML）文件，不是 Excel 工作簿" + resave
    if text.startswith(b"<?xml"):
        return "这是 XML 文本文件（可能是“XML 电子表格 2003”），不是 Excel 工作簿" + resave
    decoded = _as_text(text)
    if decoded is not None:
        if any(sep in decoded for sep in (",", "\t", "，")):
            return "这是文本文件（CSV 等逗号/制表符分隔的表格），不是 Excel 工作簿" + resave
        return "这是纯文本文件，不是 Excel 工作簿"
    return "文件格式无法识别，不是 Excel 工作簿（.xlsx/.xls/.ods）"


def _as_text(head: bytes) -> str | None:
    """``head`` as text when it is printable UTF-8 or GB18030 (its last character may be cut)."""
    for codec in ("utf-8", "gb18030"):
        for cut in range(4):
            try:
                decoded = head[: len(head) - cut].decode(codec)
            except UnicodeDecodeError:
                continue
            if decoded and all(ch.isprintable() or ch in "\r\n\t" for ch in decoded):
                return decoded
            break
    return None


# ---------------------------------------------------------------- zip containers

def _check_zip(path: Path, handle: BinaryIO) -> str:
    try:
        handle.seek(0)
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise NotAWorkbookError(path, "文件已损坏或不完整（可能保存未完成），无法作为工作簿打开") from exc
    infos = archive.infolist()
    names = {info.filename for info in infos}
    check_archive_limits(path, archive)
    kind = _zip_kind(path, archive, names)
    check_xml_prologs(path, archive)
    return kind


def _zip_kind(path: Path, archive: zipfile.ZipFile, names: set[str]) -> str:
    if "word/document.xml" in names:
        raise NotAWorkbookError(
            path, f"这是 Word 文档，不是 Excel 台账（扩展名被改成了 {path.suffix or '表格扩展名'}？）")
    if "ppt/presentation.xml" in names:
        raise NotAWorkbookError(path, "这是 PowerPoint 演示文稿，不是 Excel 台账")
    if "mimetype" in names:
        mimetype = _read_member(path, archive, "mimetype", 200).strip()
        if mimetype == ODS_MIMETYPE or mimetype.startswith(ODS_MIMETYPE + b"-template"):
            if "content.xml" not in names:
                raise NotAWorkbookError(path, "OpenDocument 表格缺少 content.xml，文件已损坏")
            return ODS
        if mimetype.startswith(b"application/vnd.oasis.opendocument"):
            raise NotAWorkbookError(path, "这是 OpenDocument 文本/演示文档，不是表格")
    if "[Content_Types].xml" not in names:
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            raise NotAWorkbookError(path, "缺少 [Content_Types].xml，不是有效的 .xlsx 工作簿")
        raise NotAWorkbookError(path, "缺少 [Content_Types].xml：这是一个普通压缩包，不是 Excel 台账")
    if "xl/workbook.bin" in names:
        return XLSB
    if "xl/workbook.xml" not in names:
        raise NotAWorkbookError(path, "压缩包中没有工作簿（xl/workbook.xml），不是 Excel 台账")
    return XLSX


def _read_member(path: Path, archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    try:
        with archive.open(name) as member:
            return member.read(limit)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise NotAWorkbookError(path, f"压缩包成员 {name} 已损坏，无法读取") from exc


def _check_prolog(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    # A DOCTYPE (and with it any entity declaration) must come before the root element, so
    # the prolog is enough; the reader's parsers refuse one later on as the backstop.
    prolog = _read_member(path, archive, info.filename, PROLOG_BYTES)
    upper = prolog.upper()
    if any(marker.encode(codec) in upper for marker in ("<!DOCTYPE", "<!ENTITY")
           for codec in ("ascii", "utf-16-le", "utf-16-be")):
        raise UnsafeXmlError(path, f"{info.filename} 含有 DOCTYPE/实体声明，出于安全原因拒绝读取")


# ---------------------------------------------------------------- OLE containers (.xls, .et)

def _check_ole(path: Path, handle: BinaryIO, size: int) -> str:
    if size > MAX_OLE_BYTES:
        raise ZipBombError(path, f"文件过大（{size / 2**20:,.0f} MB），远超任何真实台账，拒绝读取")
    handle.seek(0)
    data = handle.read()
    names = ole_stream_names(data)
    if names is None:
        # A directory that cannot be walked: the stream names may still be seen in the bytes.
        if "EncryptionInfo".encode("utf-16-le") in data[: 4 << 20]:
            raise EncryptedWorkbookError(path, "工作簿设置了打开密码，请在 Excel/WPS 中取消密码后另存为 .xlsx")
        raise LegacyFormatError(path, "旧版 .xls/.et 文件已损坏（复合文档目录无法读取）")
    if "EncryptionInfo" in names or "EncryptedPackage" in names:
        raise EncryptedWorkbookError(path, "工作簿设置了打开密码，请在 Excel/WPS 中取消密码后另存为 .xlsx")
    if "Workbook" in names or "Book" in names:
        return XLS
    if "WordDocument" in names:
        raise NotAWorkbookError(path, "这是 Word 97-2003 文档（.doc），不是 Excel 台账")
    if "PowerPoint Document" in names:
        raise NotAWorkbookError(path, "这是 PowerPoint 97-2003 演示文稿，不是 Excel 台账")
    raise LegacyFormatError(
        path, "这是 Office 97-2003 复合文档，但其中没有 .xls 工作簿（WPS 专有格式请另存为 .xlsx）")


def ole_stream_names(data: bytes) -> set[str] | None:
    """Names in an OLE compound file's directory (MS-CFB), or None when it cannot be walked.

    Only the directory is read: a cell's text can never pass for a stream name.
    """
    entries = _ole_directory(data)
    return {name for name, *_ in entries} or None if entries is not None else None


def ole_stream(data: bytes, name: str) -> bytes | None:
    """The bytes of stream ``name`` (e.g. ``Workbook``) of an OLE compound file, or None."""
    entries = _ole_directory(data)
    if entries is None:
        return None
    layout = _ole_layout(data)
    assert layout is not None  # the directory was read with it
    sector, sectors, fat = layout
    by_name = {entry[0]: entry for entry in entries}
    if name not in by_name:
        return None
    _, start, size = by_name[name]
    if size >= int.from_bytes(data[56:60], "little"):  # at least the mini stream cutoff (4096)
        return _ole_chain(data, start, sector, sectors, fat)[:size]
    # Small streams live in the mini stream (the root entry's chain), in 64-byte sectors.
    root = by_name.get("Root Entry")
    if root is None:
        return None
    mini_stream = _ole_chain(data, root[1], sector, sectors, fat)
    mini_fat = _ole_chain(data, int.from_bytes(data[60:64], "little"), sector, sectors, fat)
    out = bytearray()
    sid = start
    for _ in range(len(mini_stream) // 64 + 1):
        if 64 * sid >= len(mini_stream) or len(out) >= size:
            break
        out += mini_stream[64 * sid:64 * sid + 64]
        sid = int.from_bytes(mini_fat[4 * sid:4 * sid + 4], "little") if 4 * sid + 4 <= len(mini_fat) else -1
        if sid < 0:
            break
    return bytes(out[:size])


def _ole_layout(data: bytes) -> tuple[int, int, bytes] | None:
    """(sector size, number of sectors, the FAT) of an OLE compound file."""
    shift = int.from_bytes(data[30:32], "little")
    if shift not in (9, 12) or len(data) < 512:
        return None
    sector = 1 << shift
    sectors = max(0, (len(data) - sector) // sector)
    fat_sids = [int.from_bytes(data[76 + 4 * i:80 + 4 * i], "little") for i in range(109)]
    next_difat = int.from_bytes(data[68:72], "little")
    for _ in range(sectors):  # the DIFAT chain, bounded against cycles
        if next_difat >= sectors:
            break
        base = (next_difat + 1) * sector
        entries = [int.from_bytes(data[base + 4 * i:base + 4 * i + 4], "little")
                   for i in range(sector // 4)]
        fat_sids += entries[:-1]
        next_difat = entries[-1]
    fat = b"".join(data[(sid + 1) * sector:(sid + 2) * sector] for sid in fat_sids if sid < sectors)
    return sector, sectors, fat


def _ole_chain(data: bytes, sid: int, sector: int, sectors: int, fat: bytes) -> bytes:
    """The sectors of one chain, joined; bounded by the sector count against cycles."""
    parts = []
    for _ in range(sectors):
        if sid >= sectors:
            break
        parts.append(data[(sid + 1) * sector:(sid + 2) * sector])
        sid = int.from_bytes(fat[4 * sid:4 * sid + 4], "little") if 4 * sid + 4 <= len(fat) else -1
        if sid < 0:
            break
    return b"".join(parts)


def _ole_directory(data: bytes) -> list[tuple[str, int, int]] | None:
    """(name, start sector, size) of each storage/stream in the directory, or None."""
    layout = _ole_layout(data)
    if layout is None:
        return None
    sector, sectors, fat = layout
    directory = _ole_chain(data, int.from_bytes(data[48:52], "little"), sector, sectors, fat)
    entries = []
    for entry in range(0, len(directory) - 127, 128):
        length = int.from_bytes(directory[entry + 64:entry + 66], "little")
        if 2 <= length <= 64 and directory[entry + 66] in (1, 2, 5):
            name = directory[entry:entry + length - 2].decode("utf-16-le", "replace")
            start = int.from_bytes(directory[entry + 116:entry + 120], "little")
            size = int.from_bytes(directory[entry + 120:entry + 124], "little")
            entries.append((name, start, size))
    return entries or None
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
