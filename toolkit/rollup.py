"""Roll-up across units: one line per ledger of a folder, totals, one workbook with a chart.

A ledger that cannot be read, or that has errors, still gets its line saying so: the person
collecting the figures must see which unit is missing, not a crash or a silently short total.
Ledgers with errors are counted (their unrecognised rows left out, as ``count`` does) and
marked 统计不完整; unusable ledgers add nothing to the totals.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .discover import discover_ledgers
from .errors import RollupError, ToolkitError, os_reason
from .exit_status import ExitStatus
from .history import last_snapshot_time
from .model import Counts, format_percent
from .names import SUMMARY
from .normalize import format_cn_date, format_wan
from .pipeline import analyse
from .stats_book import (
    COUNT_HEADERS,
    Formats,
    SheetWriter,
    WorkbookBytes,
    counts_values,
    is_stats_file,
    status_bars,
    write_counts,
)
from .xlsx_out import build_workbook

OK = "ok"
INVALID = "invalid"  # has errors: counted, but incomplete
UNUSABLE = "unusable"

SHEET_NAME = "汇总"
HEADERS = ("台账", "被巡察单位", "状态") + COUNT_HEADERS + ("最近生成通报",)
TOTAL_LABEL = "合计"


@dataclass(frozen=True)
class RollupRow:
    ledger: Path
    unit: str  # 被巡察单位, or the file's stem when the meta sheet does not say
    state: str  # OK | INVALID | UNUSABLE
    note: str  # Chinese: 正常 / 有 N 个错误（统计不完整）/ 无法使用：…
    counts: Counts | None  # None when unusable
    last_build: datetime | None  # latest history snapshot, if any
    counted: bool = True  # False: another ledger of the same unit is counted instead

    @property
    def exit_code(self) -> ExitStatus:
        return {OK: ExitStatus.OK, INVALID: ExitStatus.LEDGER_ERRORS,
                UNUSABLE: ExitStatus.UNUSABLE}[self.state]


@dataclass(frozen=True)
class Rollup:
    rows: tuple[RollupRow, ...]
    total: Counts  # the sum of the counted rows
    as_of: date  # when the roll-up was made (each ledger has its own 统计截止日期)
    notes: tuple[str, ...] = ()  # Chinese: units with more than one ledger

    @property
    def units(self) -> int:
        """Units counted in the totals (a unit with two ledgers is one unit)."""
        return len({r.unit for r in self.rows if r.counts is not None and r.counted})

    @property
    def exit_code(self) -> ExitStatus:
        return ExitStatus.worst(r.exit_code for r in self.rows)


def add_counts(a: Counts, b: Counts) -> Counts:
    return Counts(a.total + b.total, a.done + b.done, a.in_progress + b.in_progress,
                  a.not_done + b.not_done, a.long_term + b.long_term, a.flagged + b.flagged,
                  a.overdue + b.overdue, a.recovered_wan + b.recovered_wan)


def rollup(folder: Path, *, history_dir: Path | None = None, today: date | None = None,
           exclude: tuple[Path, ...] = ()) -> Rollup:
    """Analyse every ledger of ``folder`` (but ``exclude``). Raises ``ToolkitError`` only when
    the folder cannot be listed or holds no ledger."""
    folder = Path(folder)
    skip = {Path(p).resolve() for p in exclude}
    try:
        discovery = discover_ledgers(folder)
    except OSError as exc:
        raise RollupError(folder, f"无法读取文件夹（{os_reason(exc)}）") from exc
    ledgers = [p for p in discovery.ledgers if not is_stats_file(p) and p.resolve() not in skip]
    if not ledgers:
        raise RollupError(folder, "文件夹中没有台账（.xlsx、.xls、.et、.ods 等）")
    rows = []
    for path in ledgers:
        last = last_snapshot_time(history_dir, path) if history_dir is not None else None
        try:
            report = analyse(path, today)
        except ToolkitError as exc:
            rows.append(RollupRow(path, path.stem, UNUSABLE, f"无法使用：{exc.reason}", None, last))
            continue
        counts = report.stats.overall
        unit = report.ledger.meta.unit or path.stem
        if report.errors:
            rows.append(RollupRow(path, unit, INVALID,
                                  f"有 {len(report.errors)} 个错误（统计不完整）", counts, last))
        else:
            rows.append(RollupRow(path, unit, OK, "正常", counts, last))
    rows, notes = _count_units_once(rows)
    notes = discovery.warnings + notes  # same-name files, tables that are not ledgers
    total = Counts()
    for r in rows:
        if r.counts is not None and r.counted:
            total = add_counts(total, r.counts)
    return Rollup(tuple(rows), total, today or date.today(), notes)


def _count_units_once(rows: list[RollupRow]) -> tuple[list[RollupRow], tuple[str, ...]]:
    """Two ledgers of one 被巡察单位 (a copy kept beside the real one, a renamed file) would
    count its problems twice: the most recently saved one is counted, the others are listed
    with a note naming the file that counts."""
    by_unit: dict[str, list[RollupRow]] = {}
    for r in rows:
        if r.counts is not None:
            by_unit.setdefault(r.unit, []).append(r)
    notes, replaced = [], {}
    for unit, group in by_unit.items():
        if len(group) < 2:
            continue
        kept = max(group, key=lambda r: (_mtime(r.ledger), r.ledger.name))
        others = [r for r in group if r is not kept]
        names = "、".join(r.ledger.name for r in group)
        notes.append(f"“{unit}”有 {len(group)} 本台账（{names}），合计中只计一次："
                     f"按最近保存的 {kept.ledger.name} 计算")
        for r in others:
            replaced[id(r)] = replace(r, counted=False,
                                      note=f"与 {kept.ledger.name} 同属“{unit}”，未计入合计（{r.note}）")
    return [replaced.get(id(r), r) for r in rows], tuple(notes)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _time_text(when: datetime | None) -> str:
    return f"{format_cn_date(when.date())} {when:%H:%M}" if when else "-"


def _rate_text(rate: float | None) -> str:
    return format_percent(rate, "-")


def table_rows(result: Rollup) -> list[list[str]]:
    """The table as text, in the order of ``HEADERS``, totals last (what the CLI prints)."""
    def numbers(c: Counts) -> list[str]:
        return [str(v) for v in counts_values(c)[:-2]] + [_rate_text(c.completion_rate),
                                                         format_wan(c.recovered_wan)]

    lines = []
    for r in result.rows:
        counted = numbers(r.counts) if r.counts is not None else [""] * len(COUNT_HEADERS)
        lines.append([r.ledger.name, r.unit, r.note] + counted + [_time_text(r.last_build)])
    lines.append([TOTAL_LABEL, f"{result.units} 个单位", ""] + numbers(result.total) + [""])
    return lines


def rollup_workbook(result: Rollup) -> WorkbookBytes:
    """The roll-up workbook in memory: the table, totals and a stacked bar chart per unit."""
    def fill(book: Any, notes: list[str]) -> None:
        ws = book.add_worksheet(SHEET_NAME)
        sheet = SheetWriter(ws, notes)
        f = Formats(book)

        sheet.text(0, 0, "巡察整改进展汇总", f.title)
        sheet.text(1, 0, "汇总日期")
        sheet.day(1, 1, result.as_of, f.plain_date)
        header_row, first = 3, 4
        widths = (28, 16, 22) + (9,) * len(COUNT_HEADERS) + (18,)
        for col, (header, width) in enumerate(zip(HEADERS, widths)):
            sheet.text(header_row, col, header, f.head)
            ws.set_column(col, col, width)
        last_col = len(HEADERS) - 1
        for i, r in enumerate(result.rows):
            row = first + i
            sheet.text(row, 0, r.ledger.name, f.text)
            sheet.text(row, 1, r.unit, f.text)
            sheet.text(row, 2, r.note, f.text if r.state == OK and r.counted else f.alert)
            write_counts(sheet, f, row, 3, r.counts)
            if r.last_build:
                sheet.day(row, last_col, r.last_build, f.stamp)
            else:
                sheet.text(row, last_col, "-", f.text)
        total_row = first + len(result.rows)
        sheet.text(total_row, 0, TOTAL_LABEL, f.label)
        sheet.text(total_row, 1, f"{result.units} 个单位", f.label)
        sheet.text(total_row, 2, "", f.label)
        write_counts(sheet, f, total_row, 3, result.total)
        sheet.text(total_row, last_col, "", f.label)
        for k, note in enumerate(result.notes, start=1):
            sheet.text(total_row + k, 0, note, f.alert)
        ws.freeze_panes(first, 2)

        if result.rows:
            # Bars named by unit; 已完成 is the column after 问题数.
            chart, _ = status_bars(book, "各单位整改进展", SHEET_NAME, header_row, first,
                                   total_row - 1, name_col=1, done_col=4, width=720)
            sheet.chart(total_row + 2 + len(result.notes), 0, chart)

    return build_workbook(SUMMARY, "汇总表", fill)


def write_rollup(result: Rollup, target: Path) -> WorkbookBytes:
    """Build and write atomically; raises ``OutputError``."""
    book = rollup_workbook(result)
    write_atomic(Path(target), book.data)
    return book


def summarise(folder: Path, target: Path, *, history_dir: Path | None = None,
              today: date | None = None) -> tuple[Rollup, WorkbookBytes]:
    """``toolkit summary``: roll the folder up and write the workbook to ``target``."""
    # The roll-up may be written into the ledger folder; it must not roll itself up next time.
    result = rollup(folder, history_dir=history_dir, today=today, exclude=(Path(target),))
    return result, write_rollup(result, target)
