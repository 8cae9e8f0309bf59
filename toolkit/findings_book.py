"""The 校验报告 workbook: what the watcher found in a ledger, one row per finding.

The clerk opens it in Excel/WPS next to the notice. Every piece of ledger text goes in with
``write_string`` (and the workbook refuses to guess formulas, numbers or links), so a cell
value such as ``=HYPERLINK(...)`` written by a clerk can never become a live formula here.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .atomic import remove_quietly, write_atomic
from .model import ERROR, INFO, SEVERITY_CN, WARNING, Finding
from .names import REPORT
from .names import REPORT_SUFFIX as REPORT_SUFFIX  # re-exported: callers find it here
from .names import report_path_for as report_path_for  # re-exported: callers find it here
from .xlsx_out import clean_cell_text, new_workbook

SHEET_NAME = "校验报告"
COLUMNS = (("工作表", 14), ("单元格", 10), ("级别", 8), ("列", 16), ("值", 30), ("说明", 70))
_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True)
class ReportRow:
    """One line of the report; plain text, already in Chinese."""

    sheet: str
    cell: str
    severity: str  # ERROR | WARNING | INFO
    column: str
    value: str
    message: str


def row_for_finding(finding: Finding) -> ReportRow:
    message = finding.message
    if finding.hint and finding.hint not in message:
        message = f"{message}（建议：{finding.hint}）"
    return ReportRow(finding.sheet, finding.cell, finding.severity, finding.column,
                     finding.value, message)


def row_for_problem(message: str, severity: str = ERROR) -> ReportRow:
    """A row about the whole file (unreadable, output locked …): no cell, no column."""
    return ReportRow("", "", severity, "", "", message)


def report_rows(findings: Iterable[Finding] = (), problems: Iterable[str] = (),
                notes: Iterable[str] = ()) -> list[ReportRow]:
    """Rows in reading order: file-level problems first, then errors, warnings, infos, notes."""
    rows = [row_for_problem(p) for p in problems]
    rows += [row_for_finding(f) for f in sorted(findings, key=lambda f: _ORDER.get(f.severity, 3))]
    rows += [row_for_problem(n, INFO) for n in notes]
    return rows


def _clean(text: object) -> str:
    # xlsxwriter alone encodes control characters and literal "_xHHHH_" (see xlsx_out).
    return clean_cell_text(text)


def findings_book_bytes(ledger_name: str, rows: Iterable[ReportRow], *,
                        when: datetime | None = None) -> bytes:
    """The report workbook as bytes (built in memory, so writing it can be atomic)."""
    rows = list(rows)
    when = when or datetime.now()
    buffer = io.BytesIO()
    with new_workbook(buffer, REPORT) as book:
        sheet = book.add_worksheet(SHEET_NAME)
        title = book.add_format({"bold": True, "font_size": 12})
        head = book.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1})
        text = book.add_format({"text_wrap": True, "valign": "top", "border": 1})
        severity_formats = {
            ERROR: book.add_format({"text_wrap": True, "valign": "top", "border": 1,
                                    "font_color": "#C00000", "bold": True}),
            WARNING: book.add_format({"text_wrap": True, "valign": "top", "border": 1,
                                      "font_color": "#9C5700"}),
        }
        errors = sum(1 for r in rows if r.severity == ERROR)
        warnings = sum(1 for r in rows if r.severity == WARNING)
        verdict = ("有错误，未生成新通报，原有通报保留；请按下表修改台账并保存"
                   if errors else "没有错误，通报已生成；警告请核对")
        sheet.write_string(0, 0, _clean(f"《{ledger_name}》校验报告（{when:%Y-%m-%d %H:%M:%S}）："
                                        f"错误 {errors} 个，警告 {warnings} 个。{verdict}。"), title)
        for col, (name, width) in enumerate(COLUMNS):
            sheet.write_string(1, col, name, head)
            sheet.set_column(col, col, width)
        for i, r in enumerate(rows, start=2):
            values = (r.sheet, r.cell, SEVERITY_CN.get(r.severity, r.severity), r.column, r.value,
                      r.message)
            fmt = severity_formats.get(r.severity, text)
            for col, value in enumerate(values):
                sheet.write_string(i, col, _clean(value), fmt if col == 2 else text)
        sheet.freeze_panes(2, 0)
        if rows:
            sheet.autofilter(1, 0, 1 + len(rows), len(COLUMNS) - 1)
    return buffer.getvalue()


def write_findings_book(target: Path, ledger_name: str, rows: Iterable[ReportRow], *,
                        when: datetime | None = None) -> Path:
    """Write the report atomically. Raises ``OutputError`` (e.g. it is open in Excel)."""
    return write_atomic(Path(target), findings_book_bytes(ledger_name, rows, when=when))


def remove_findings_book(target: Path) -> bool:
    """Delete the report; True when there was one. Raises ``OSError`` when it is locked."""
    return remove_quietly(Path(target))
