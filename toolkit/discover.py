"""Which files in a folder are ledgers: every spreadsheet format the reader takes, one per stem.

Lock, owner and temporary files of Excel, WPS, LibreOffice and the toolkit are never ledgers,
nor are the toolkit's own workbooks, nor anything that is not a regular file (a FIFO named
``x.xlsx`` would block whoever opened it). When a clerk keeps ``台账.xls`` and ``台账.xlsx``
side by side, the newer one is the ledger and a warning names the other.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .names import REPORT_SUFFIX, STATS_SUFFIX, is_toolkit_output

# .xlsx and .xlsm (OOXML), .xls (Excel 97-2003, older WPS), .xlsb (Excel binary), .ods
# (LibreOffice), .et (WPS; read when it holds a BIFF or OOXML workbook, as WPS writes by default).
LEDGER_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et")
# Tables a clerk may drop into the folder that are not workbooks: said once, never read.
FOREIGN_TABLES = {".csv": "CSV 文本", ".txt": "文本文件", ".numbers": "Numbers 表格",
                  ".wps": "WPS 文字文档", ".doc": "Word 文档", ".docx": "Word 文档"}


@dataclass(frozen=True)
class Discovery:
    ledgers: tuple[Path, ...]  # sorted by name
    warnings: tuple[str, ...]  # Chinese, one line each: shadowed files, non-regular files


def is_ledger_file(path: Path) -> bool:
    """A spreadsheet that is not an owner/lock/temp file of Excel, WPS, LibreOffice or ours."""
    name = Path(path).name
    if name.startswith(("~$", ".~lock.", ".~toolkit-", ".")) or name.endswith(("#", ".tmp")):
        return False
    # Our own workbooks (statistics, findings report) when OUTDIR is the ledger folder.
    if name.endswith((STATS_SUFFIX, REPORT_SUFFIX)):
        return False
    if Path(path).suffix.lower() not in LEDGER_SUFFIXES:
        return False
    # Anything else the toolkit wrote (a roll-up or change workbook saved among the ledgers)
    # carries its mark and is never read back as a unit.
    return not is_toolkit_output(path)


def discover_ledgers(folder: Path) -> Discovery:
    """The ledgers of ``folder`` (not recursive), and what a clerk should know about the rest."""
    warnings: list[str] = []
    by_stem: dict[str, list[tuple[float, Path]]] = {}
    for path in sorted(Path(folder).iterdir()):
        if not is_ledger_file(path):
            what = FOREIGN_TABLES.get(path.suffix.lower())
            if what and not path.name.startswith(("~$", ".")) and _looks_like_ledger_name(path):
                warnings.append(f"{path.name}：是{what}，不是台账格式，未读取"
                                "（请在 Excel/WPS 中另存为 .xlsx）")
            continue
        try:
            info = path.stat()
        except OSError:
            continue  # vanished or unreadable between listing and now
        if not stat.S_ISREG(info.st_mode):
            if not stat.S_ISDIR(info.st_mode):
                warnings.append(f"{path.name}：不是普通文件（命名管道、设备等），已跳过")
            continue
        by_stem.setdefault(_stem_key(path), []).append((info.st_mtime, path))
    ledgers = []
    for versions in by_stem.values():
        versions.sort(key=lambda v: (v[0], v[1].name), reverse=True)
        newest = versions[0][1]
        ledgers.append(newest)
        for _, other in versions[1:]:
            warnings.append(f"{other.name} 与 {newest.name} 同名，使用较新的 {newest.name}，"
                            f"{other.name} 未读取（如已不用，请移走）")
    return Discovery(tuple(sorted(ledgers)), tuple(warnings))


def newer_twin(path: Path) -> Path | None:
    """Another ledger of ``path``'s folder with the same name (台账.xls beside 台账.xlsx) saved
    later than ``path``: the one ``discover_ledgers`` uses, so ``path``'s notice must not be
    made from ``path``. None when ``path`` is the newest (or alone, or gone)."""
    path = Path(path)
    try:
        mine = path.stat().st_mtime
        siblings = list(path.parent.iterdir())
    except OSError:
        return None
    key = _stem_key(path)
    for other in siblings:
        if other == path or _stem_key(other) != key or not is_ledger_file(other):
            continue
        try:
            info = other.stat()
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and (info.st_mtime, other.name) > (mine, path.name):
            return other
    return None


def find_ledgers(folder: Path) -> list[Path]:
    return list(discover_ledgers(folder).ledgers)


def _looks_like_ledger_name(path: Path) -> bool:
    # Notices (.docx) live in the output folder, which may be this one: only a file whose name
    # says it is a ledger is worth a warning.
    return path.suffix.lower() in (".csv", ".numbers") or "台账" in path.stem


def _stem_key(path: Path) -> str:
    # Windows and macOS folders are case-insensitive: 台账.XLS and 台账.xlsx are the same stem.
    return os.path.normcase(path.stem).casefold()
