"""The change workbook for the boss (``toolkit diff LEDGER --xlsx 变化.xlsx``).

Sheet 变化: the ledger's current rows; what changed since the last notice is marked in place:
a changed cell is filled yellow with a comment holding the old value, a new row is green, a
status that went backwards is red, a deadline pushed back orange (with the old one in the
comment). Sheet 问题消失: problems of the last notice that are no longer in the ledger.
Sheet 说明: what the colours mean and what was compared with what.

Ledger text is written as plain strings (``xlsx_out``: never a formula, number or link).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .history import ADDED, DEADLINE_EXTENDED, KINDS_CN, REGRESSED, LedgerDiff, match_rows
from .names import CHANGES
from .xlsx_out import SheetWriter, WorkbookBytes, build_workbook

SHEET_CHANGES = "变化"
SHEET_VANISHED = "问题消失"
SHEET_LEGEND = "说明"
# (snapshot row key, header, width)
COLUMNS = (
    ("number", "序号", 6), ("category", "问题类别", 16), ("problem", "具体问题", 44),
    ("measures", "整改措施", 32), ("leader", "责任领导", 10), ("unit", "责任部门", 12),
    ("deadline_text", "整改时限", 14), ("progress", "整改进展", 40), ("status", "整改状态", 10),
    ("done_date", "完成日期", 12),
)
CHANGE_COLUMN = ("变化", 30)
FILLS = {"changed": "#FFF2CC", "added": "#C6EFCE", "regressed": "#FFC7CE",
         "deadline": "#F8CBAD"}
LEGEND = (("changed", "内容有修改（批注中是原来的内容）"), ("added", "新增的问题（整行）"),
          ("regressed", "整改状态倒退（如“已完成”改为“正在整改”）"),
          ("deadline", "整改时限被延后（批注中是原时限）"))


class _Formats:
    def __init__(self, book):
        base = {"border": 1, "valign": "top", "text_wrap": True}
        self.head = book.add_format({**base, "bold": True, "bg_color": "#D9D9D9",
                                     "align": "center"})
        self.text = book.add_format(base)
        self.fill = {name: book.add_format({**base, "bg_color": colour})
                     for name, colour in FILLS.items()}
        self.title = book.add_format({"bold": True, "font_size": 12})


def _value(row: dict, key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value)


def _print_setup(ws, last_col: int) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # one page wide, as many long as it takes
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.freeze_panes(1, 0)
    del last_col


def _row_marks(before: dict | None, after: dict, kinds: set[str]) -> dict[str, tuple[str, str]]:
    """Column key -> (fill name, comment) for one current row."""
    if before is None:
        return {}
    marks: dict[str, tuple[str, str]] = {}
    for key, header, _ in COLUMNS:
        was, now = _value(before, key), _value(after, key)
        if was != now:
            marks[key] = ("changed", f"原{header}：{was or '（空）'}")
    if REGRESSED in kinds:
        marks["status"] = ("regressed", f"整改状态倒退：原为“{_value(before, 'status')}”")
    if DEADLINE_EXTENDED in kinds:
        was = _value(before, "deadline_text") or _value(before, "deadline")
        marks["deadline_text"] = ("deadline", f"整改时限被延后：原为“{was}”")
    return marks


def _write_changes(sheet: SheetWriter, f: _Formats, diff: LedgerDiff,
                   rows: list[dict], old_rows: list[dict]) -> None:
    ws = sheet.ws
    headers = [(h, w) for _, h, w in COLUMNS] + [CHANGE_COLUMN]
    for col, (header, width) in enumerate(headers):
        sheet.text(0, col, header, f.head)
        ws.set_column(col, col, width)
    pairs = {j: i for i, j in match_rows(old_rows, rows)}
    kinds_by_row: dict[int, set[str]] = {}
    for change in diff.changes:
        if change.row is not None:
            kinds_by_row.setdefault(change.row, set()).add(change.kind)
    for k, after in enumerate(rows, start=1):
        kinds = kinds_by_row.get(after["row"], set())
        before = old_rows[pairs[k - 1]] if k - 1 in pairs else None
        marks = _row_marks(before, after, kinds)
        row_fill = f.fill["added"] if ADDED in kinds or before is None else None
        for col, (key, _, _) in enumerate(COLUMNS):
            fill, comment = marks.get(key, (None, ""))
            fmt = f.fill[fill] if fill else row_fill or f.text
            sheet.text(k, col, _value(after, key), fmt)
            if comment:
                ws.write_comment(k, col, comment[:30000], {"x_scale": 2, "y_scale": 1.5})
        summary = "、".join(KINDS_CN[kind] for kind in KINDS_CN if kind in kinds)
        if before is not None and marks and not summary:
            summary = "内容修改"
        sheet.text(k, len(COLUMNS), summary, row_fill or f.text)
    ws.autofilter(0, 0, max(1, len(rows)), len(headers) - 1)
    _print_setup(ws, len(headers) - 1)


def _write_vanished(sheet: SheetWriter, f: _Formats, old_rows: list[dict], rows: list[dict]) -> None:
    ws = sheet.ws
    headers = [("原行号", 8)] + [(h, w) for _, h, w in COLUMNS]
    for col, (header, width) in enumerate(headers):
        sheet.text(0, col, header, f.head)
        ws.set_column(col, col, width)
    matched = {i for i, _ in match_rows(old_rows, rows)}
    gone = [r for i, r in enumerate(old_rows) if i not in matched]
    for k, before in enumerate(gone, start=1):
        sheet.number(k, 0, before.get("row"), f.text)
        for col, (key, _, _) in enumerate(COLUMNS, start=1):
            sheet.text(k, col, _value(before, key), f.text)
    if not gone:
        sheet.text(1, 0, "没有消失的问题。")
    ws.autofilter(0, 0, max(1, len(gone)), len(headers) - 1)
    _print_setup(ws, len(headers) - 1)


def _write_legend(sheet: SheetWriter, f: _Formats, diff: LedgerDiff) -> None:
    sheet.ws.set_column(0, 0, 14)
    sheet.ws.set_column(1, 1, 60)
    sheet.text(0, 0, f"《{diff.report.ledger.path.name}》与{diff.baseline.label}相比的变化", f.title)
    counts = "，".join(f"{name} {diff.count(kind)} 个" for kind, name in KINDS_CN.items())
    sheet.text(1, 0, counts)
    for k, (name, meaning) in enumerate(LEGEND, start=3):
        sheet.text(k, 0, "", f.fill[name])
        sheet.text(k, 1, meaning, f.text)


def changes_workbook(diff: LedgerDiff) -> WorkbookBytes:
    """The change workbook in memory, of a diff made with ``whole_baseline`` (every row of the
    baseline is shown); raises ``OutputError`` when it cannot be built."""
    from .archive import snapshot_rows

    if not diff.whole_baseline:
        raise ValueError("the change workbook needs the whole baseline (diff_ledger(whole_baseline=True))")

    rows = snapshot_rows(diff.report.ledger)
    old_rows = list(diff.baseline.rows)
    def fill(book: Any, notes: list[str]) -> None:
        f = _Formats(book)
        _write_changes(SheetWriter(book.add_worksheet(SHEET_CHANGES), notes), f, diff, rows,
                       old_rows)
        _write_vanished(SheetWriter(book.add_worksheet(SHEET_VANISHED), notes), f, old_rows, rows)
        _write_legend(SheetWriter(book.add_worksheet(SHEET_LEGEND), notes), f, diff)

    return build_workbook(CHANGES, "变化表", fill)


def write_changes_book(diff: LedgerDiff, target: Path) -> WorkbookBytes:
    """Build and write atomically (never over a ledger or a file not ours): ``OutputError``."""
    book = changes_workbook(diff)
    write_atomic(Path(target), book.data)
    return book
