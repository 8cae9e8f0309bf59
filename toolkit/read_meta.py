"""The meta sheet ``通报信息``: two columns, 项目 and 内容, one key per row -> ``model.Meta``."""

from __future__ import annotations

from typing import Any

from openpyxl.utils.cell import get_column_letter

from . import normalize as nz
from .codes import Code
from .model import INFO, WARNING, Finding, Meta
from .read_raw import HEADER_SEARCH_ROWS, RawSheet

META_SHEET_NAMES = ("通报信息", "基本信息", "通报设置")

META_KEYS = nz.META_KEYS  # defined with the other value rules (validate names them too)
# Not part of the notice: which sheet holds the ledger when several could (see read.py).
SHEET_CHOICE_KEYS = ("台账工作表", "台账表", "台账工作表名称")
META_LABELS = nz.META_LABELS
_META_INDEX = {nz.squash(name): key for key, names in META_KEYS.items() for name in names}
_DATE_KEYS = ("start_date", "end_date", "feedback_date", "as_of", "issue_date")
_PARAGRAPH_KEYS = ("organisation", "long_term_measures", "next_steps")


def _columns(sheet: RawSheet) -> tuple[int, int, int]:
    """(key column, value column, header row) of the meta sheet; A and B when no 项目/内容."""
    for row_number, cells in sheet.rows[:HEADER_SEARCH_ROWS]:
        names = {col: nz.squash(nz.cell_text(value)) for col, value in cells.items()}
        key_cols = [c for c, n in names.items() if n == "项目"]
        value_cols = [c for c, n in names.items() if n == "内容"]
        if key_cols and value_cols:
            return key_cols[0], value_cols[0], row_number
    return 1, 2, 0


_CHOICE_INDEX = {nz.squash(name) for name in SHEET_CHOICE_KEYS}


def sheet_choice(sheet: RawSheet) -> tuple[str, str] | None:
    """(sheet name, cell) of the ``台账工作表`` key, which names the ledger sheet explicitly."""
    key_col, value_col, start = _columns(sheet)
    for row_number, cells in sheet.rows:
        if row_number <= start or key_col not in cells:
            continue
        if nz.squash(nz.cell_text(cells[key_col])).rstrip(":") in _CHOICE_INDEX:
            name = nz.cell_text(cells.get(value_col))
            if name:
                return name, f"{get_column_letter(value_col)}{row_number}"
    return None


def read_meta(sheet: RawSheet, findings: list[Finding]) -> Meta:
    key_col, value_col, start = _columns(sheet)
    values: dict[str, object] = {}
    cells_of: dict[str, str] = {}
    for row_number, cells in sheet.rows:
        if row_number <= start or key_col not in cells:
            continue
        label = nz.cell_text(cells[key_col])
        key = _META_INDEX.get(nz.squash(label).rstrip(":"))
        ref = f"{get_column_letter(value_col)}{row_number}"
        if key is None:
            if label and nz.squash(label).rstrip(":") not in _CHOICE_INDEX:
                findings.append(Finding(
                    code=Code.UNKNOWN_META_KEY, severity=INFO, sheet=sheet.title,
                    cell=f"{get_column_letter(key_col)}{row_number}", column="项目", value=label,
                    message=f"“{label}”不是通报信息的已知项目，已忽略"))
            continue
        raw = cells.get(value_col)
        if not nz.cell_text(raw):
            continue
        if key in values:
            findings.append(Finding(
                code=Code.DUPLICATE_META_KEY, severity=WARNING, sheet=sheet.title, cell=ref, column="内容", value=label,
                message=f"“{label}”重复填写，使用第一次出现的值"))
            continue
        values[key], cells_of[key] = raw, ref

    fields: dict[str, Any] = {}
    for key, raw_value in values.items():
        if key in _DATE_KEYS:
            day = nz.parse_day(raw_value)
            if day is None:
                findings.append(Finding(
                    code=Code.BAD_META_DATE, severity=WARNING, sheet=sheet.title, cell=cells_of[key], column="内容",
                    value=nz.cell_text(raw_value),
                    message=f"{META_LABELS[key]}“{nz.cell_text(raw_value)}”不是可识别的日期"
                            "（如 2024年10月30日），已忽略"))
                continue
            fields[key] = day
        elif key in _PARAGRAPH_KEYS:
            fields[key] = tuple(line.strip() for line in nz.cell_text(raw_value).split("\n") if line.strip())
        else:
            fields[key] = nz.cell_text(raw_value)
    return Meta(sheet=sheet.title, cells=cells_of, **fields)


