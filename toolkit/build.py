"""Ledger -> notice on disk: the one function that ``render``, ``build`` and the watcher share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .atomic import write_atomic
from .errors import OutputLockedError, ToolkitError
from .findings_book import REPORT_SUFFIX
from .history import history_root, store_snapshot
from .model import Report
from .pipeline import analyse
from .stats_book import STATS_SUFFIX, stats_path_for, stats_workbook

BUILT = "built"  # notice written
INVALID = "invalid"  # ledger has errors: previous notice kept
UNUSABLE = "unusable"  # file cannot be read, or output cannot be written

# Discovery lives in discover.py; imported here so that existing callers keep working.
from .discover import LEDGER_SUFFIXES, discover_ledgers, find_ledgers, is_ledger_file  # noqa: E402,F401


def notice_path_for(ledger: Path, out_dir: Path) -> Path:
    return Path(out_dir) / f"{Path(ledger).stem}.docx"


def locked_fallback_path(target: Path) -> Path:
    """Where a new notice goes when the old one is open in Word and cannot be replaced."""
    return target.with_name(f"{target.stem}（新版，原文件被占用）{target.suffix}")


@dataclass(frozen=True)
class BuildResult:
    ledger: Path
    outcome: str  # BUILT | INVALID | UNUSABLE
    report: Report | None = None
    notice: Path | None = None  # where the notice was written
    pdf: Path | None = None
    problem: ToolkitError | None = None  # why the file was unusable / output failed
    notes: tuple[str, ...] = field(default_factory=tuple)  # Chinese remarks (locked output …)
    stats_book: Path | None = None  # the statistics workbook beside the notice
    snapshot: Path | None = None  # the history snapshot (None when unchanged or not stored)

    @property
    def exit_code(self) -> int:
        return {BUILT: 0, INVALID: 1, UNUSABLE: 2}[self.outcome]


def build_notice(ledger: Path, target: Path, *, kind: str | None = None,
                 template: Path | None = None, pdf: bool = False,
                 today: date | None = None, records: bool = True,
                 sheet: str | None = None) -> BuildResult:
    """Analyse ``ledger`` and, if it has no errors, write its notice to ``target`` atomically.

    A ledger with errors leaves any previous notice untouched. With ``records`` (the default)
    changes since the last notice in ``<target folder>/.history`` become warnings, and a built
    notice is followed by its statistics workbook and a history snapshot; failures writing
    those two become notes and never cost the notice.
    """
    ledger, target = Path(ledger), Path(target)
    history_dir = history_root(target.parent) if records else None
    try:
        report = analyse(ledger, today, history_dir=history_dir, sheet=sheet)
    except ToolkitError as exc:
        return BuildResult(ledger, UNUSABLE, problem=exc)
    if not report.ok:
        return BuildResult(ledger, INVALID, report=report)

    from .render import render_notice  # docxtpl is heavy; only building needs it

    notes: list[str] = []
    try:
        data = render_notice(report, kind=kind, template=template)
        try:
            written = write_atomic(target, data)
        except OutputLockedError:
            written = write_atomic(locked_fallback_path(target), data)
            notes.append(f"{target.name} 被占用（可能正在 Word/WPS 中打开），旧文件未动；"
                         f"新通报已另存为 {written.name}，请关闭旧文件后替换")
    except ToolkitError as exc:
        return BuildResult(ledger, UNUSABLE, report=report, problem=exc, notes=tuple(notes))
    book = snapshot = None
    if history_dir is not None:
        book, snapshot = _write_records(report, target, written, history_dir, notes)
    pdf_path = None
    if pdf:
        from .pdf import convert_to_pdf

        try:
            pdf_path = written.with_suffix(".pdf")
            convert_to_pdf(written, pdf_path)
        except ToolkitError as exc:
            return BuildResult(ledger, UNUSABLE, report=report, notice=written, problem=exc,
                               notes=tuple(notes), stats_book=book, snapshot=snapshot)
    return BuildResult(ledger, BUILT, report=report, notice=written, pdf=pdf_path, notes=tuple(notes),
                       stats_book=book, snapshot=snapshot)


def _write_records(report: Report, target: Path, notice: Path, history_dir: Path,
                   notes: list[str]) -> tuple[Path | None, Path | None]:
    """The statistics workbook and the history snapshot of a notice just written.

    The notice is already on disk, so nothing here may fail the build: problems become notes.
    """
    book_path = None
    book_target = stats_path_for(target)
    try:
        book = stats_workbook(report)
        notes.extend(f"统计表：{note}" for note in book.notes)
        try:
            book_path = write_atomic(book_target, book.data)
        except OutputLockedError:
            # Keeps the -统计.xlsx ending, so the copy is still known as ours.
            book_path = write_atomic(stats_path_for(locked_fallback_path(target)), book.data)
            notes.append(f"{book_target.name} 被占用（可能正在 Excel/WPS 中打开），旧文件未动；"
                         f"新统计表已另存为 {book_path.name}，请关闭旧文件后替换")
    except ToolkitError as exc:
        notes.append(f"统计表未能生成：{exc.message}（通报已生成，不受影响）")
    snapshot = None
    try:
        snapshot = store_snapshot(report, history_dir, notice=notice)
    except ToolkitError as exc:
        notes.append(f"通报记录未能保存：{exc.message}（通报已生成，不受影响；"
                     "下次比较变化时将以更早的记录为准）")
    return book_path, snapshot
