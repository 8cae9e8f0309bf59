"""Read stage: a ledger workbook (.xlsx/.xlsm, .xls, .xlsb, .ods, WPS .et) -> ``model.Ledger``.

One file handle, opened only if the path is a regular file (``safety.open_regular``), goes
through the safety checks, then to the reader for its format (``read_xlsx`` for OOXML,
``read_calamine`` for the rest), which hands over ``RawSheet``s; the ledger sheet is chosen
here and built by ``read_build``, so every format gives the same ledger and findings.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import BinaryIO

from . import normalize as nz
from .codes import Code
from .errors import (
    EncryptedWorkbookError,
    NoHeaderError,
    ToolkitError,
    UnreadableLedgerError,
    UnsafeXmlError,
)
from .model import WARNING, Finding, Ledger, Meta
from .read_build import build_ledger, clean_category, clean_subcategory, find_header
from .read_meta import META_KEYS, META_LABELS, META_SHEET_NAMES, read_meta, sheet_choice
from .read_raw import RawBook, RawSheet, TooBig, UnsafeXml
from .safety import XLSX, check_workbook_file, open_regular

__all__ = ["META_KEYS", "META_LABELS", "META_SHEET_NAMES", "clean_category", "clean_subcategory",
           "editing_findings", "read_ledger"]

# Sheets whose name says they explain the ledger rather than hold it; they often carry the
# header and an example row, and must never win over the real ledger sheet.
FORMAT_NAMES = {"xlsx": " Excel 工作簿", "xls": " Excel 97-2003（.xls/.et）工作簿",
                "xlsb": " Excel 二进制（.xlsb）工作簿", "ods": " OpenDocument（.ods）表格"}
EXAMPLE_SHEET_WORDS = ("说明", "示例", "样表", "样例", "范例", "模板", "填表", "填报要求", "例子")


def read_ledger(path: Path | str, sheet: str | None = None) -> Ledger:
    """Read and normalise a ledger. Raises an ``UnreadableLedgerError`` subclass when unusable.

    ``sheet`` names the ledger sheet; without it the ``台账工作表`` key of the meta sheet does,
    and without that the first visible sheet with a header that is not an instruction sheet.
    """
    path = Path(path)
    with open_regular(path) as handle:
        kind = check_workbook_file(path, handle)
        ledger = _read_guarded(path, handle, kind, sheet)
    extra = editing_findings(path)
    return dataclasses.replace(ledger, findings=ledger.findings + extra) if extra else ledger


def _read_guarded(path: Path, handle: BinaryIO, kind: str, sheet: str | None) -> Ledger:
    try:
        book = _open_book(handle, kind)
        try:
            return _read_book(path, book, sheet)
        finally:
            book.close()
    except ToolkitError:
        raise
    except UnsafeXml as exc:
        raise UnsafeXmlError(path, "含有 DOCTYPE/实体声明，出于安全原因拒绝读取") from exc
    except TooBig as exc:
        raise UnreadableLedgerError(
            path, f"{exc.args[0]}远超任何真实台账（疑似压缩炸弹或被篡改的文件），拒绝读取") from exc
    except Exception as exc:  # a foreign file can break openpyxl or calamine in many ways
        names = _chain_names(exc)
        if "PasswordError" in names:
            raise EncryptedWorkbookError(
                path, "工作簿设置了打开密码，请在 Excel/WPS 中取消密码后另存为 .xlsx") from exc
        # openpyxl re-raises defusedxml's refusal (a ValueError) as a plain ValueError.
        if any("Forbidden" in n or "DTD" in n or "Entities" in n for n in names):
            raise UnsafeXmlError(path, "含有 DOCTYPE/实体声明，出于安全原因拒绝读取") from exc
        raise UnreadableLedgerError(
            path, f"文件已损坏或不是有效的{FORMAT_NAMES.get(kind, kind)}，无法读取（{type(exc).__name__}）"
        ) from exc


def _open_book(handle: BinaryIO, kind: str) -> RawBook:
    if kind == XLSX:
        from .read_xlsx import XlsxBook

        return XlsxBook(handle)
    from .read_calamine import CalamineBook

    return CalamineBook(handle, kind)


def _chain_names(exc: BaseException | None) -> list[str]:
    names, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        names.append(type(exc).__name__)
        exc = exc.__cause__ or exc.__context__
    return names


def _read_book(path: Path, book: RawBook, wanted: str | None) -> Ledger:
    meta_index = next((i for i, s in enumerate(book.sheets)
                       if s.has_cells and nz.squash(s.title) in META_SHEET_NAMES), None)
    meta_findings: list[Finding] = []
    meta, cell = Meta(), ""
    if meta_index is not None:
        meta_sheet = book.full(meta_index)
        meta = read_meta(meta_sheet, meta_findings)
        if wanted is None and (choice := sheet_choice(meta_sheet)) is not None:
            wanted, cell = choice[0], f"{meta_sheet.title}!{choice[1]}"
    if wanted is not None:
        index = _named_sheet(path, book, wanted, cell)
        if find_header(book.head(index).rows) is None:
            raise NoHeaderError(path, f"指定的工作表“{book.sheets[index].title}”前 10 行中没有表头"
                                      "（至少 3 个可识别的列名，如 具体问题、整改状态、责任部门）")
    else:
        index = _choose_sheet(path, book, meta_index, meta_findings)
    sheet = book.full(index)
    return build_ledger(path, sheet, meta, meta_findings, book.formulas_unverified)


def _named_sheet(path: Path, book: RawBook, wanted: str, where: str) -> int:
    names = [s.title for s in book.sheets]
    for matches in (lambda t: t == wanted, lambda t: nz.squash(t) == nz.squash(wanted)):
        found = [i for i, title in enumerate(names) if matches(title)]
        if found:
            return found[0]
    source = f"（{where} 中的“台账工作表”）" if where else ""
    raise NoHeaderError(path, f"没有名为“{wanted}”的工作表{source}；工作簿中的工作表："
                              + "、".join(names))


# Rows of an instruction sheet say they are examples: “示例：…”, “例：…”, “（样例）…”.
EXAMPLE_ROW_WORDS = ("示例", "样例", "范例", "例：", "例:", "例如", "填写说明", "填表说明")


def _is_example(title: str, head: RawSheet) -> bool:
    """An instruction or example sheet, by its name or by example rows under its header."""
    if any(word in nz.squash(title) for word in EXAMPLE_SHEET_WORDS):
        return True
    found = find_header(head.rows)
    below = [nz.squash(nz.cell_text(v)) for r, cells in head.rows if found and r > found[0]
             for v in cells.values() if isinstance(v, str)]
    return any(text.startswith(EXAMPLE_ROW_WORDS) or "（示例）" in text or "(示例)" in text
               for text in below)


def _choose_sheet(path: Path, book: RawBook, meta_index: int | None,
                  findings: list[Finding]) -> int:
    """The first visible sheet with a header, instruction/example sheets last; hidden never."""
    candidates: list[int] = []
    hidden: list[int] = []
    examples: set[int] = set()
    for i, entry in enumerate(book.sheets):
        if i == meta_index or not entry.has_cells:
            continue
        head = book.head(i)
        if find_header(head.rows) is None:
            continue
        (candidates if entry.visible else hidden).append(i)
        if _is_example(entry.title, head):
            examples.add(i)
    if not candidates:
        because = (f"（隐藏的工作表“{book.sheets[hidden[0]].title}”有表头，但隐藏的工作表不作为台账；"
                   "请取消隐藏，或在通报信息中填写“台账工作表”）") if hidden else ""
        raise NoHeaderError(
            path, "找不到表头：前 10 行中没有一行含有至少 3 个可识别的列名（如 具体问题、整改状态、责任部门）"
            + because)
    ordered = sorted(candidates, key=lambda i: i in examples)
    chosen = ordered[0]
    if len(candidates) > 1:
        names = "、".join(f"“{book.sheets[i].title}”" for i in candidates)
        used = book.sheets[chosen].title
        findings.append(Finding(
            code=Code.SEVERAL_LEDGER_SHEETS, severity=WARNING, sheet=used, cell="", column="", value="",
            message=f"工作簿中有 {len(candidates)} 个工作表含台账表头（{names}），使用的是“{used}”；"
                    "如需指定，请在通报信息中填写“台账工作表”（check、stats、render 也可用 --sheet 选项）"))
    return chosen


# ---------------------------------------------------------------- open in a spreadsheet program

def editing_findings(path: Path) -> tuple[Finding, ...]:
    """A warning when a lock file beside the ledger says it is open in Excel, WPS or LibreOffice.

    The toolkit reads what was last saved; a clerk still typing must know the notice lags.
    """
    name = path.name
    owners = [(f"~${name}", "Excel/WPS"), (f".~lock.{name}#", "LibreOffice"), (f".~{name}", "WPS")]
    if len(path.stem) > 6:  # Excel shortens the owner file of a long name: ~$ replaces 2 chars
        owners.insert(1, (f"~${name[2:]}", "Excel/WPS"))
    for lock_name, program in owners:
        if _exists(path.with_name(lock_name)):
            return (Finding(
                code=Code.LEDGER_OPEN, severity=WARNING, sheet="", cell="", column="", value=lock_name,
                message=f"台账正在被编辑（{program} 打开，发现锁定文件 {lock_name}），通报按最后一次保存的内容生成"),)
    return ()


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False

