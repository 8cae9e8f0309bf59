"""Ledger -> notice on disk: the one function that ``render``, ``build`` and the watcher share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .atomic import OutputLockedError, write_atomic
from .errors import ToolkitError
from .model import Report
from .pipeline import analyse

BUILT = "built"  # notice written
INVALID = "invalid"  # ledger has errors: previous notice kept
UNUSABLE = "unusable"  # file cannot be read, or output cannot be written

LEDGER_SUFFIXES = (".xlsx",)


def is_ledger_file(path: Path) -> bool:
    """An .xlsx that is not an owner/lock/temp file of Excel, WPS, LibreOffice or ours."""
    name = path.name
    if name.startswith(("~$", ".~lock.", ".~toolkit-", ".")) or name.endswith(("#", ".tmp")):
        return False
    return path.suffix.lower() in LEDGER_SUFFIXES


def find_ledgers(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and is_ledger_file(p))


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

    @property
    def exit_code(self) -> int:
        return {BUILT: 0, INVALID: 1, UNUSABLE: 2}[self.outcome]


def build_notice(ledger: Path, target: Path, *, kind: str | None = None,
                 template: Path | None = None, pdf: bool = False,
                 today: date | None = None) -> BuildResult:
    """Analyse ``ledger`` and, if it has no errors, write its notice to ``target`` atomically.

    A ledger with errors leaves any previous notice untouched.
    """
    ledger, target = Path(ledger), Path(target)
    try:
        report = analyse(ledger, today)
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
    pdf_path = None
    if pdf:
        from .pdf import convert_to_pdf

        try:
            pdf_path = written.with_suffix(".pdf")
            convert_to_pdf(written, pdf_path)
        except ToolkitError as exc:
            return BuildResult(ledger, UNUSABLE, report=report, notice=written, problem=exc,
                               notes=tuple(notes))
    return BuildResult(ledger, BUILT, report=report, notice=written, pdf=pdf_path, notes=tuple(notes))
