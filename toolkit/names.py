"""Every file name the toolkit writes, and how it knows a file is its own.

One place for names: the notice, its PDF, statistics workbook and 校验报告, the history
folder, the watcher's status and log, and the names a new notice takes when the old one
cannot be replaced (open in Word, or edited by hand).

Every workbook and document the toolkit writes carries a mark: a custom document property
``ToolkitOutput`` (``docProps/custom.xml``) whose value says what the file is (``notice``,
``stats``, ``report``, ``summary``, ``changes``). Word, WPS and Excel keep custom properties
when the file is edited and saved, so a notice polished by hand is still known as ours.
A PDF cannot carry it through LibreOffice (custom properties are not exported), so a PDF is
ours when LibreOffice produced it and the notice of the same name beside it is ours.
``check_replaceable`` is the one guard every writer goes through (``atomic.write_atomic``):
an existing file may only be replaced when it carries the mark (or is one of the toolkit's
own bookkeeping files); a ledger, or any file a person made, is never replaced.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from pathlib import Path

from .errors import OutputError, os_reason
from .files import open_regular

# ---------------------------------------------------------------- names

HISTORY_DIR_NAME = ".history"
STATUS_NAME = "status.json"
LOG_NAME = "toolkit.log"
INDEX_NAME = "toolkit-notices.json"  # in the user's state folder, see archive.state_dir
STATS_SUFFIX = "-统计.xlsx"
REPORT_SUFFIX = "-校验报告.xlsx"
NOTICE_SUFFIX = ".docx"
PDF_SUFFIX = ".pdf"
LOCKED_TAG = "（新版，原文件被占用）"
EDITED_TAG = "（新版）"


def notice_path_for(ledger: Path | str, out_dir: Path | str) -> Path:
    """``ledgers/某单位.xlsx`` -> ``out/某单位.docx``."""
    return Path(out_dir) / f"{Path(ledger).stem}{NOTICE_SUFFIX}"


def pdf_path_for(notice: Path | str) -> Path:
    return Path(notice).with_suffix(PDF_SUFFIX)


def stats_path_for(notice: Path | str) -> Path:
    """``out/台账.docx`` -> ``out/台账-统计.xlsx``: the workbook sits beside its notice."""
    notice = Path(notice)
    return notice.with_name(f"{notice.stem}{STATS_SUFFIX}")


def report_path_for(ledger: Path | str, out_dir: Path | str) -> Path:
    """The 校验报告 of a ledger: ``out/某单位-校验报告.xlsx``."""
    return Path(out_dir) / f"{Path(ledger).stem}{REPORT_SUFFIX}"


def locked_fallback_path(target: Path | str) -> Path:
    """Where a new file goes when the old one is open in Word/Excel and cannot be replaced."""
    target = Path(target)
    return target.with_name(f"{target.stem}{LOCKED_TAG}{target.suffix}")


def edited_fallback_path(target: Path | str) -> Path:
    """Where a new notice goes when the old one was edited by hand: ``<名>（新版）.docx``."""
    target = Path(target)
    return target.with_name(f"{target.stem}{EDITED_TAG}{target.suffix}")


def history_root(out_dir: Path | str) -> Path:
    """``OUTDIR/.history``: snapshots and archived notices of every notice in OUTDIR."""
    return Path(out_dir) / HISTORY_DIR_NAME


def status_path(out_dir: Path | str) -> Path:
    return Path(out_dir) / STATUS_NAME


def log_path(out_dir: Path | str) -> Path:
    return Path(out_dir) / LOG_NAME


def is_bookkeeping(path: Path | str) -> bool:
    """status.json, toolkit.log (and its rotations), the index of notices and anything under
    ``.history``."""
    path = Path(path)
    return (path.name in (STATUS_NAME, INDEX_NAME) or path.name.startswith(LOG_NAME)
            or HISTORY_DIR_NAME in path.parts)


# ---------------------------------------------------------------- the mark

MARK_PROPERTY = "ToolkitOutput"
NOTICE, STATS, REPORT, SUMMARY, CHANGES, PDF = "notice", "stats", "report", "summary", "changes", "pdf"
# Large enough for any custom.xml Word writes; a hostile file cannot make us read more.
_MAX_PROPS_BYTES = 1_000_000
_MARK_VALUE = re.compile(
    rb'name="' + MARK_PROPERTY.encode() + rb'"[^>]*>\s*<vt:lpwstr>([A-Za-z]+)</vt:lpwstr>')
_PDF_TAIL_BYTES = 256 * 1024
_CUSTOM_PART = "docProps/custom.xml"
_CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"


def mark_of(path: Path | str) -> str | None:
    """What the toolkit wrote ``path`` as (``notice`` …), or None when it did not write it.

    Cheap and safe on any file: a zip package is asked only for its small custom-properties
    part; a PDF only its last 256 kB are searched. Never raises.
    """
    path = Path(path)
    try:
        with open_regular(path) as handle:
            head = handle.read(5)
            if head.startswith(b"%PDF"):
                return _pdf_mark(path, handle)
            if not head.startswith(b"PK"):
                return None
            handle.seek(0)
            with zipfile.ZipFile(handle) as package:
                info = package.getinfo(_CUSTOM_PART)
                if info.file_size > _MAX_PROPS_BYTES:
                    return None
                data = package.read(info)
    except (OSError, KeyError, zipfile.BadZipFile, ValueError, RuntimeError, EOFError):
        return None
    match = _MARK_VALUE.search(data)
    return match.group(1).decode("ascii") if match else None


def _legacy_mark(path: Path) -> str | None:
    """Outputs of toolkit versions before the mark, told by name and by what is inside.

    A notice is ours when the history beside it holds records of a notice of that name; a
    statistics workbook, 校验报告 or roll-up when its first sheet is the one we name.
    """
    name = path.name
    if path.suffix.lower() == NOTICE_SUFFIX:
        records = path.parent / HISTORY_DIR_NAME / path.stem
        try:
            return NOTICE if any(p.suffix == ".json" for p in records.iterdir()) else None
        except OSError:
            return None
    first = _first_sheet(path)
    if name.endswith(STATS_SUFFIX) and first == "总览":
        return STATS
    if name.endswith(REPORT_SUFFIX) and first == "校验报告":
        return REPORT
    if path.suffix.lower() == ".xlsx" and first == "汇总" and _has_string(path, "巡察整改进展汇总"):
        return SUMMARY
    return None


def _has_string(path: Path, text: str) -> bool:
    try:
        with open_regular(path) as handle, zipfile.ZipFile(handle) as package:
            info = package.getinfo("xl/sharedStrings.xml")
            return info.file_size <= _MAX_PROPS_BYTES and text.encode() in package.read(info)
    except (OSError, KeyError, zipfile.BadZipFile, ValueError, RuntimeError, EOFError):
        return False


def _first_sheet(path: Path) -> str | None:
    try:
        with open_regular(path) as handle, zipfile.ZipFile(handle) as package:
            info = package.getinfo("xl/workbook.xml")
            if info.file_size > _MAX_PROPS_BYTES:
                return None
            found = re.search(rb'<(?:\w+:)?sheet [^>]*name="([^"]*)"', package.read(info))
    except (OSError, KeyError, zipfile.BadZipFile, ValueError, RuntimeError, EOFError):
        return None
    return found.group(1).decode("utf-8", "replace") if found else None


def _pdf_mark(path: Path, handle) -> str | None:
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(max(0, size - _PDF_TAIL_BYTES))
    tail = handle.read()
    # LibreOffice names itself in the document information as UTF-16 hex or as plain text.
    made_by_office = (b"LibreOffice" in tail
                      or "LibreOffice".encode("utf-16-be").hex().upper().encode() in tail.upper())
    sibling = path.with_suffix(NOTICE_SUFFIX)
    if made_by_office and sibling != path and mark_of(sibling) == NOTICE:
        return PDF
    return None


def is_toolkit_output(path: Path | str) -> bool:
    """True for a workbook, document or PDF the toolkit wrote (see the module docstring)."""
    return mark_of(path) is not None


def custom_properties_xml(kind: str) -> bytes:
    """A ``docProps/custom.xml`` holding only the mark."""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/docPropsVTypes"><property fmtid="{_FMTID}" pid="2" name="{MARK_PROPERTY}">'
            f'<vt:lpwstr>{kind}</vt:lpwstr></property></Properties>').encode()


def mark_package(data: bytes, kind: str) -> bytes:
    """Add the mark to a .docx/.xlsx package given as bytes.

    The package is appended to, not rewritten: the large parts (a 50,000-row body) are neither
    decompressed nor copied, only the content types, the package relationships and the new
    custom-properties part are written again (the replaced entries are dropped from the
    central directory, so readers never see them). A package that already has custom
    properties gets ours added to them.
    """
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as package:
        names = set(package.namelist())
        types = package.read("[Content_Types].xml").decode("utf-8")
        rels = package.read("_rels/.rels").decode("utf-8")
        if _CUSTOM_PART in names:
            custom = package.read(_CUSTOM_PART).decode("utf-8")
            custom = _add_property(custom, kind)
        else:
            custom = custom_properties_xml(kind).decode("utf-8")
            if f'PartName="/{_CUSTOM_PART}"' not in types:
                types = types.replace(
                    "</Types>",
                    f'<Override PartName="/{_CUSTOM_PART}" ContentType="{_CUSTOM_TYPE}"/></Types>')
            if _CUSTOM_REL not in rels:
                rels = rels.replace(
                    "</Relationships>",
                    f'<Relationship Id="rIdToolkitMark" Type="{_CUSTOM_REL}" '
                    f'Target="{_CUSTOM_PART}"/></Relationships>')
        replaced = {"[Content_Types].xml": types, "_rels/.rels": rels, _CUSTOM_PART: custom}
        package.filelist = [i for i in package.filelist if i.filename not in replaced]
        for name in replaced:
            package.NameToInfo.pop(name, None)
        for name, text in replaced.items():
            package.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


def _add_property(custom: str, kind: str) -> str:
    if f'name="{MARK_PROPERTY}"' in custom:
        return re.sub(rf'(name="{MARK_PROPERTY}"[^>]*>\s*<vt:lpwstr>)[^<]*', rf"\g<1>{kind}", custom)
    pids = [int(p) for p in re.findall(r'pid="(\d+)"', custom)] or [1]
    prop = (f'<property fmtid="{_FMTID}" pid="{max(pids) + 1}" name="{MARK_PROPERTY}">'
            f'<vt:lpwstr>{kind}</vt:lpwstr></property>')
    if "</Properties>" in custom:
        return custom.replace("</Properties>", prop + "</Properties>")
    return custom_properties_xml(kind).decode("utf-8")


# ---------------------------------------------------------------- the guard

class NotOursError(OutputError):
    """The output path holds a file the toolkit did not write (a ledger, a person's file)."""


def check_replaceable(target: Path | str) -> None:
    """Raise ``NotOursError`` unless ``target`` is absent or a file the toolkit wrote.

    Used by ``atomic.write_atomic`` before any file is replaced, so every writer (notice, PDF,
    statistics workbook, 校验报告, summary, change workbook, archive restore) is guarded.
    """
    target = Path(target)
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(target, f"无法访问（{os_reason(exc)}）") from exc
    if stat.S_ISDIR(mode):
        raise NotOursError(target, "这是一个文件夹，不能作为输出文件；请换一个文件名")
    if not stat.S_ISREG(mode):
        raise NotOursError(target, "不是普通文件，为避免破坏已停止；请换一个文件名")
    if is_bookkeeping(target) or is_toolkit_output(target) or _legacy_mark(target):
        return
    what = ("它是台账或其他表格" if target.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".xlsb",
                                                          ".ods", ".et", ".csv")
            else "它不是本工具生成的文件")
    raise NotOursError(target, f"文件已存在且{what}，为避免覆盖已停止；请换一个输出文件名或文件夹")
