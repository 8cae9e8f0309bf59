"""How every workbook the toolkit writes is opened and how text goes into its cells.

One option set and one cleaning function for the statistics workbook, the 校验报告, the
roll-up and the change workbook:

- xlsxwriter is told never to guess: a string is a string, never a formula, number or link,
  so ``=HYPERLINK(...)`` typed by a clerk stays text.
- Text is given to xlsxwriter as it is. xlsxwriter alone encodes what a cell cannot hold
  literally (control characters as ``_x0001_``, a literal ``_x0041_`` as ``_x005F_x0041_``),
  exactly as Excel does (ECMA-376 Part 1, 22.9.2.19); escaping it here as well would make
  Excel show ``_x005F_x0041_``. The only change is a visible cut at Excel's cell limit.
- Every workbook carries the toolkit's mark (``names.MARK_PROPERTY``), so it is never taken
  for a ledger and may be replaced by the next run.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .errors import OutputError
from .names import MARK_PROPERTY

WORKBOOK_OPTIONS: dict[str, Any] = {
    "in_memory": True,
    # No guessing: a string is a string, never a formula, number or hyperlink.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}

MAX_CELL_UNITS = 32767  # Excel's limit for one cell, counted in UTF-16 code units
TRUNCATION_MARK = "…（超出 Excel 单元格长度上限，已截断）"
# xlsxwriter writes each control character as a 7-unit escape and a literal "_xHHHH_" as
# 13 units; Excel's limit applies to the decoded text, but stay below it in the file too.
_ESCAPE_GROWTH = 7


def build_workbook(kind: str, what: str, fill: Callable[[Any, list[str]], None]) -> WorkbookBytes:
    """An in-memory workbook marked ``kind``, filled by ``fill(book, notes)``. xlsxwriter's
    failures become one ``OutputError`` naming ``what`` (统计表, 汇总表 …); the notes of the
    checked writes come back once each."""
    from xlsxwriter.exceptions import XlsxWriterException  # deferred, as in new_workbook

    notes: list[str] = []
    buffer = io.BytesIO()
    try:
        book = new_workbook(buffer, kind)
        fill(book, notes)
        book.close()
    except (XlsxWriterException, ValueError, TypeError, OSError) as exc:
        raise OutputError(None, f"{what}无法生成（{exc}）") from exc
    return WorkbookBytes(buffer.getvalue(), tuple(dict.fromkeys(notes)))


def new_workbook(target: Any, kind: str):
    """An xlsxwriter workbook with the safe options and the toolkit's mark ``kind``."""
    import xlsxwriter  # deferred: commands that write no workbook do not pay for it

    book = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
    book.set_custom_property(MARK_PROPERTY, kind)
    return book


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def fit_cell_text(value: object) -> tuple[str, bool]:
    """``value`` as cell text, cut to Excel's cell limit with a visible mark; (text, was_cut)."""
    text = "" if value is None else str(value)
    if len(text) * _ESCAPE_GROWTH <= MAX_CELL_UNITS or _escaped_len(text) <= MAX_CELL_UNITS:
        return text, False
    room = MAX_CELL_UNITS - _utf16_len(TRUNCATION_MARK)
    kept, used = [], 0
    for ch in text:
        used += _escaped_len(ch)
        if used > room:
            break
        kept.append(ch)
    return "".join(kept) + TRUNCATION_MARK, True


def _escaped_len(text: str) -> int:
    """UTF-16 units of ``text`` once xlsxwriter has escaped it (an upper bound)."""
    units = _utf16_len(text)
    units += 6 * sum(1 for ch in text if ch < " " and ch not in "\t\n")
    units += 6 * text.count("_x")
    return units


def clean_cell_text(value: object) -> str:
    """The text for a cell (``fit_cell_text`` without the flag)."""
    return fit_cell_text(value)[0]


def cell_name(row: int, col: int) -> str:
    """Zero-based (row, col) -> ``C5``."""
    letters, col = "", col + 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


_RETURN_CODES = {-1: "超出 Excel 表格范围，未写入", -2: "文字超出单元格长度上限，已截断",
                 -3: "链接过长，未写入", -4: "内容为空，未写入"}


class SheetWriter:
    """An xlsxwriter worksheet whose every write is checked; problems become notes."""

    def __init__(self, worksheet, notes: list[str]):
        self.ws = worksheet
        self.notes = notes

    def _check(self, code: int, row: int, col: int) -> None:
        if code:
            what = _RETURN_CODES.get(code, f"写入失败（代码 {code}）")
            self.notes.append(f"{self.ws.name} {cell_name(row, col)}：{what}")

    def text(self, row: int, col: int, value: object, fmt=None) -> None:
        text, cut = fit_cell_text(value)
        if cut:
            self.notes.append(f"{self.ws.name} {cell_name(row, col)}：文字超出 Excel 单元格长度上限"
                              f"（{MAX_CELL_UNITS} 字），已截断并在末尾注明")
        if text:
            self._check(self.ws.write_string(row, col, text, fmt), row, col)
        elif fmt is not None:
            self._check(self.ws.write_blank(row, col, None, fmt), row, col)

    def number(self, row: int, col: int, value: float | int | None, fmt=None) -> None:
        if value is None:
            self.text(row, col, "-", fmt)
        else:
            self._check(self.ws.write_number(row, col, value, fmt), row, col)

    def day(self, row: int, col: int, value: date | datetime | None, fmt=None) -> None:
        if value is None:
            self.text(row, col, "", fmt)
            return
        if not isinstance(value, datetime):
            value = datetime.combine(value, datetime.min.time())
        self._check(self.ws.write_datetime(row, col, value, fmt), row, col)

    def chart(self, row: int, col: int, chart) -> None:
        self._check(self.ws.insert_chart(row, col, chart), row, col)


@dataclass(frozen=True)
class WorkbookBytes:
    """Workbook bytes, plus notes about anything that could not be written as it was."""

    data: bytes
    notes: tuple[str, ...] = ()
