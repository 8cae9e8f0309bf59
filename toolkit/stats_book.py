"""The statistics workbook ``<stem>-统计.xlsx``: the numbers of the notice, as tables and charts.

Sheets: 总览 (the statistics tables with native Excel charts), 逾期清单 (overdue problems),
长期坚持 (long-term problems). The numbers are those of ``count.count`` (the same ones
``toolkit stats --json`` prints), written cell by cell, never recomputed by formulas.

Ledger text is hostile until proven otherwise: every string goes in with ``write_string`` and
the workbook is told not to guess formulas, numbers or links, so ``=HYPERLINK(...)`` typed by
a clerk stays text. xlsxwriter reports problems through return codes, not exceptions; every
code is checked and turned into a Chinese note for the clerk.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .model import Counts, Problem, Report, round_amount
from .names import STATS, STATS_SUFFIX
from .names import stats_path_for as stats_path_for  # re-exported: callers find it here
from .normalize import format_cn_date, is_overdue
from .xlsx_out import TRUNCATION_MARK as TRUNCATION_MARK
from .xlsx_out import WORKBOOK_OPTIONS as WORKBOOK_OPTIONS  # re-exported for rollup
from .xlsx_out import SheetWriter as SheetWriter  # re-exported: the other workbooks use it
from .xlsx_out import WorkbookBytes as WorkbookBytes
from .xlsx_out import build_workbook  # re-exported for the tests

SHEET_OVERVIEW = "总览"
SHEET_OVERDUE = "逾期清单"
SHEET_LONG_TERM = "长期坚持"

# Columns of every statistics table: header, width.
COUNT_HEADERS = ("问题数", "已完成", "正在整改", "未完成", "长期坚持", "点人点事", "逾期",
                 "完成率（%）", "追赃挽损（万元）")
RATE_FORMAT = '0.0"%"'  # the value stays 43.2, as in ``stats --json``; Excel shows 43.2%
DATE_FORMAT = 'yyyy"年"m"月"d"日"'



def is_stats_file(path: Path) -> bool:
    """True for a statistics workbook of ours (an .xlsx that is never a ledger)."""
    return Path(path).name.endswith(STATS_SUFFIX)


def counts_values(counts: Counts) -> tuple[int | float | None, ...]:
    """One table row in the order of ``COUNT_HEADERS`` (the numbers of ``counts_to_dict``)."""
    return (counts.total, counts.done, counts.in_progress, counts.not_done, counts.long_term,
            counts.flagged, counts.overdue, counts.completion_rate,
            float(round_amount(counts.recovered_wan)))


class Formats:
    """The cell formats both workbooks (statistics, roll-up) use."""

    def __init__(self, book):
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True})
        self.head = book.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1,
                                     "text_wrap": True, "valign": "vcenter", "align": "center"})
        self.text = book.add_format({"border": 1, "valign": "top", "text_wrap": True})
        self.alert = book.add_format({"border": 1, "valign": "top", "text_wrap": True,
                                      "font_color": "#C00000"})
        self.label = book.add_format({"border": 1, "valign": "top", "bold": True})
        self.number = book.add_format({"border": 1, "valign": "top"})
        self.rate = book.add_format({"border": 1, "valign": "top", "num_format": RATE_FORMAT})
        self.amount = book.add_format({"border": 1, "valign": "top", "num_format": "0.####"})
        self.date = book.add_format({"border": 1, "valign": "top", "num_format": DATE_FORMAT})
        self.stamp = book.add_format({"border": 1, "valign": "top",
                                      "num_format": 'yyyy"年"m"月"d"日" hh:mm'})
        self.plain_date = book.add_format({"num_format": DATE_FORMAT, "align": "left"})


def write_counts(sheet: SheetWriter, f: Formats, row: int, col: int, counts: Counts | None) -> None:
    """The ``COUNT_HEADERS`` numbers from ``col`` on; bordered blanks when ``counts`` is None."""
    values = counts_values(counts) if counts is not None else (None,) * len(COUNT_HEADERS)
    for k, (header, value) in enumerate(zip(COUNT_HEADERS, values)):
        if counts is None:
            sheet.text(row, col + k, "", f.text)
            continue
        fmt = f.rate if header.startswith("完成率") else f.amount if header.startswith("追赃") \
            else f.number
        sheet.number(row, col + k, value, fmt)


def _write_table(sheet: SheetWriter, f: Formats, row: int, caption: str, first_header: str,
                 rows: tuple[tuple[str, Counts], ...]) -> tuple[int, int]:
    """A caption, a header and one line per group; returns (first data row, last data row)."""
    sheet.text(row, 0, caption, f.bold)
    sheet.text(row + 1, 0, first_header, f.head)
    for col, header in enumerate(COUNT_HEADERS, start=1):
        sheet.text(row + 1, col, header, f.head)
    for i, (name, counts) in enumerate(rows):
        sheet.text(row + 2 + i, 0, name, f.text)
        write_counts(sheet, f, row + 2 + i, 1, counts)
    return row + 2, row + 1 + len(rows)


def status_bars(book, title: str, sheet_name: str, header_row: int, first: int, last: int,
                name_col: int = 0, done_col: int = 2, width: int = 640):
    """已完成 / 正在整改 / 未完成 stacked, one bar per table row ``first``..``last``.

    The table has the group names in ``name_col`` and the three statuses in ``done_col`` and
    the two columns after it, headed by their names in ``header_row``. Returns (chart, height).
    """
    chart = book.add_chart({"type": "bar", "subtype": "stacked"})
    for col, colour in zip(range(done_col, done_col + 3), ("#70AD47", "#FFC000", "#C00000")):
        chart.add_series({
            "name": [sheet_name, header_row, col],
            "categories": [sheet_name, first, name_col, last, name_col],
            "values": [sheet_name, first, col, last, col],
            "fill": {"color": colour},
            "data_labels": {"value": True},
        })
    chart.set_title({"name": title})
    chart.set_y_axis({"reverse": True})  # first group on top, as in the table
    chart.set_x_axis({"name": "问题数", "min": 0})
    chart.set_legend({"position": "bottom"})
    height = max(260, 90 + 30 * (last - first + 1))
    chart.set_size({"width": width, "height": height})
    return chart, height


def stats_workbook(report: Report, *, when: datetime | None = None) -> WorkbookBytes:
    """The statistics workbook of ``report`` in memory. Raises ``OutputError`` if unbuildable."""
    stats, ledger = report.stats, report.ledger
    counted = [p for p in ledger.problems if p.status]  # the rows ``count`` counts
    when = when or datetime.now()
    def fill(book: Any, notes: list[str]) -> None:
        f = Formats(book)
        overview = SheetWriter(book.add_worksheet(SHEET_OVERVIEW), notes)
        _write_overview(book, overview, f, report, when)
        _write_overdue(SheetWriter(book.add_worksheet(SHEET_OVERDUE), notes), f,
                       [p for p in counted if is_overdue(p, stats.as_of)], stats.as_of)
        _write_long_term(SheetWriter(book.add_worksheet(SHEET_LONG_TERM), notes), f,
                         [p for p in counted if p.long_term])

    return build_workbook(STATS, "统计表", fill)


def _write_overview(book, sheet: SheetWriter, f: Formats, report: Report, when: datetime) -> None:
    stats, ledger = report.stats, report.ledger
    ws = sheet.ws
    name = ws.name
    ws.set_column(0, 0, 24)
    ws.set_column(1, len(COUNT_HEADERS), 10)
    unit = ledger.meta.unit or ledger.path.stem
    sheet.text(0, 0, f"{unit}巡察整改统计", f.title)
    sheet.text(1, 0, stats.summary)
    sheet.text(2, 0, "统计截止日期")
    sheet.day(2, 1, stats.as_of, f.plain_date)
    sheet.text(3, 0, "台账文件")
    sheet.text(3, 1, ledger.path.name)
    sheet.text(4, 0, "生成时间")
    sheet.text(4, 1, f"{format_cn_date(when.date())} {when:%H:%M}")

    total_first, _ = _write_table(sheet, f, 6, "全部问题", "项目", (("合计", stats.overall),))
    cat_first, cat_last = _write_table(sheet, f, total_first + 2, "按问题类别", "问题类别",
                                       stats.by_category)
    unit_top = max(cat_last, cat_first) + 2
    unit_first, unit_last = _write_table(sheet, f, unit_top, "按责任部门", "责任部门",
                                         stats.by_unit)
    ws.freeze_panes(0, 1)

    chart_col = len(COUNT_HEADERS) + 2
    if stats.overall.total:
        doughnut = book.add_chart({"type": "doughnut"})
        doughnut.add_series({
            "name": "整改状态",
            # The header cells 已完成/正在整改/未完成 and the 合计 row of the first table.
            "categories": [name, total_first - 1, 2, total_first - 1, 4],
            "values": [name, total_first, 2, total_first, 4],
            "data_labels": {"value": True, "percentage": True, "separator": "\n"},
            "points": [{"fill": {"color": "#70AD47"}}, {"fill": {"color": "#FFC000"}},
                       {"fill": {"color": "#C00000"}}],
        })
        doughnut.set_title({"name": f"整改状态（共{stats.overall.total}个问题）"})
        doughnut.set_legend({"position": "bottom"})
        doughnut.set_size({"width": 480, "height": 320})
        sheet.chart(0, chart_col, doughnut)
    row = 17  # below the doughnut (320 px at the default 20 px a row)
    for title, first, last in (("按问题类别", cat_first, cat_last),
                               ("按责任部门", unit_first, unit_last)):
        if last < first:
            continue  # an empty table has nothing to draw
        chart, height = status_bars(book, title, name, first - 1, first, last)
        sheet.chart(row, chart_col, chart)
        row += -(-height // 20) + 1


def _problem_label(p: Problem) -> str:
    return p.number or str(p.seq)


def _write_list(sheet: SheetWriter, f: Formats, caption: str, headers: tuple[tuple[str, int], ...],
                rows: Sequence[Sequence[tuple[str, Any]]], empty: str) -> None:
    ws = sheet.ws
    sheet.text(0, 0, caption, f.title)
    for col, (header, width) in enumerate(headers):
        sheet.text(1, col, header, f.head)
        ws.set_column(col, col, width)
    if not rows:
        sheet.text(2, 0, empty)
    for i, cells in enumerate(rows, start=2):
        for col, (kind, value) in enumerate(cells):
            if kind == "number":
                sheet.number(i, col, value, f.number)
            elif kind == "date":
                sheet.day(i, col, value, f.date)
            else:
                sheet.text(i, col, value, f.text)
    ws.freeze_panes(2, 0)
    if rows:
        ws.autofilter(1, 0, 1 + len(rows), len(headers) - 1)


OVERDUE_HEADERS = (("序号", 6), ("问题类别", 16), ("具体问题", 48), ("责任部门", 14),
                   ("责任领导", 10), ("整改时限", 16), ("时限日期", 14), ("整改状态", 10),
                   ("逾期天数", 9))
LONG_TERM_HEADERS = (("序号", 6), ("问题类别", 16), ("具体问题", 48), ("整改措施", 40),
                     ("责任部门", 14), ("责任领导", 10), ("整改时限", 16), ("整改状态", 10),
                     ("整改进展", 48))


def _write_overdue(sheet: SheetWriter, f: Formats, problems: list[Problem], as_of: date) -> None:
    # Longest overdue first: the list is read to decide whom to chase.
    dated = [(p, p.deadline) for p in problems if p.deadline is not None]  # overdue: all dated
    ordered = sorted(dated, key=lambda pair: (pair[1], pair[0].seq))
    rows = [[("text", _problem_label(p)), ("text", p.category), ("text", p.problem),
             ("text", p.unit), ("text", p.leader), ("text", p.deadline_text),
             ("date", deadline), ("text", p.status), ("number", (as_of - deadline).days)]
            for p, deadline in ordered]
    _write_list(sheet, f, f"逾期问题清单（截至{format_cn_date(as_of)}，共{len(rows)}个）",
                OVERDUE_HEADERS, rows, "没有逾期问题。")


def _write_long_term(sheet: SheetWriter, f: Formats, problems: list[Problem]) -> None:
    rows = [[("text", _problem_label(p)), ("text", p.category), ("text", p.problem),
             ("text", p.measures), ("text", p.unit), ("text", p.leader),
             ("text", p.deadline_text), ("text", p.status), ("text", p.progress)]
            for p in problems]
    _write_list(sheet, f, f"长期坚持的整改任务（共{len(rows)}个）", LONG_TERM_HEADERS, rows,
                "没有长期坚持的问题。")


def write_stats_workbook(report: Report, target: Path, *, when: datetime | None = None) -> WorkbookBytes:
    """Build and write atomically; raises ``OutputError`` (``OutputLockedError`` when open)."""
    book = stats_workbook(report, when=when)
    write_atomic(Path(target), book.data)
    return book
