"""Ledger -> notice on disk: the one function that ``render``, ``build`` and the watcher share."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import __version__
from .annex import ANNEX_KIND
from .archive import archive_edited, ledger_key, remember_notice, sha256_of, store_record, written_state
from .atomic import remove_quietly, write_atomic
from .discover import LEDGER_SUFFIXES as LEDGER_SUFFIXES  # re-exported: callers find them here
from .discover import discover_ledgers as discover_ledgers
from .discover import find_ledgers as find_ledgers
from .discover import is_ledger_file as is_ledger_file
from .errors import OutputLockedError, ToolkitError
from .exit_status import ExitStatus
from .files import open_regular, read_regular
from .history import history_findings
from .model import Finding, Report
from .names import (
    NOTICE,
    check_replaceable,
    edited_fallback_path,
    history_root,
    is_toolkit_output,
    mark_package,
    pdf_path_for,
    stats_path_for,
)
from .names import locked_fallback_path as locked_fallback_path  # re-exported
from .names import notice_path_for as notice_path_for  # re-exported
from .pipeline import analyse, with_findings, with_history
from .side_job import SideJob
from .stats_book import stats_workbook
from .xlsx_out import WorkbookBytes

BUILT = "built"  # notice written
BUILT_BESIDE = "built_beside"  # the notice was edited by hand: the new one went beside it
UNCHANGED = "unchanged"  # nothing the notice depends on changed: not rebuilt (无变化)
INVALID = "invalid"  # ledger has errors: previous notice kept
UNUSABLE = "unusable"  # file cannot be read, or output cannot be written
# Up to this many problems the history comparison and the statistics workbook run in a child
# (``side_job``). The child soon holds its own copy of the ledger (see SideJob), about as much
# memory again as the parent: 50 MB at 10,000 rows, 170 MB at 50,000, where it would take the
# build past its 250 MB budget.
SIDE_JOB_MAX_PROBLEMS = 20_000
OUTCOME_CN = {BUILT: "已生成", BUILT_BESIDE: "已生成（原通报有手工修改，新版另存）",
              UNCHANGED: "无变化", INVALID: "有错误，未生成", UNUSABLE: "无法使用"}



@dataclass(frozen=True)
class BuildResult:
    ledger: Path
    outcome: str  # BUILT | BUILT_BESIDE | UNCHANGED | INVALID | UNUSABLE
    report: Report | None = None
    notice: Path | None = None  # where the notice was written (UNCHANGED: the notice kept)
    pdf: Path | None = None
    problem: ToolkitError | None = None  # why the file was unusable / output failed
    notes: tuple[str, ...] = field(default_factory=tuple)  # Chinese remarks (locked output …)
    stats_book: Path | None = None  # the statistics workbook beside the notice
    snapshot: Path | None = None  # the history record of the notice written
    edited: Path | None = None  # a hand-edited notice that was kept (or archived with force)

    @property
    def built(self) -> bool:
        """A new notice was written (in its place or beside an edited one)."""
        return self.outcome in (BUILT, BUILT_BESIDE)

    @property
    def exit_code(self) -> ExitStatus:
        return {BUILT: ExitStatus.OK, BUILT_BESIDE: ExitStatus.OK, UNCHANGED: ExitStatus.OK,
                INVALID: ExitStatus.LEDGER_ERRORS, UNUSABLE: ExitStatus.UNUSABLE}[self.outcome]


def ledger_digest(ledger: Path) -> str:
    """The ledger's content, cheaply: each part of the workbook package by its CRC-32 and size
    (read from the zip directory, nothing decompressed), leaving out docProps/ (save time,
    author) and the calculation chain, which Excel rewrites on a save that changes nothing.
    Another file (or a broken package) is hashed whole."""
    try:
        with open_regular(ledger) as handle, zipfile.ZipFile(handle) as package:
            parts = sorted((i.filename, i.CRC, i.file_size) for i in package.infolist()
                           if not i.filename.startswith("docProps/")
                           and i.filename != "xl/calcChain.xml")
        return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError, EOFError):
        return sha256_of(ledger) or ""


def notice_fingerprint(report: Report, kind: str | None, template: Path | None,
                       source: str | None = None) -> str:
    """What a notice depends on, as one digest: the ledger's content (``ledger_digest``, taken
    before it was read: never its mtime; the meta sheet is part of it), the statistics (their
    date may be today), the template bytes, the kind asked for and the toolkit's version."""
    digest = hashlib.sha256()
    source = source if source is not None else ledger_digest(report.ledger.path)
    for part in (source, repr(report.stats), repr(kind), __version__):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    for path in _template_files(template):
        digest.update(path.name.encode("utf-8", "surrogatepass"))
        try:
            digest.update(hashlib.sha256(read_regular(path)).digest())
        except OSError:  # missing, or not a file: rendering says so
            digest.update(b"-")
    return digest.hexdigest()


def _template_files(template: Path | None) -> list[Path]:
    """The template(s) a notice may be rendered from: the one given, else the bundled one of
    each kind (any change to them counts as a change)."""
    if template is not None:
        return [Path(template)]
    from .model import KINDS
    from .render import template_for  # render resolves templates; ask it, not the disk

    found = []
    for kind in KINDS:
        try:
            found.append(template_for(kind))
        except Exception:
            continue
    return found


def _unchanged(history_dir: Path, ledger: Path, target: Path, fingerprint: str | None,
               pdf: bool) -> Path | None:
    """The notice already made from exactly this input (the target, or the new version beside
    a hand-edited target), or None when a build is needed."""
    if fingerprint is None:
        return None
    key = ledger_key(ledger)
    for candidate in (target, edited_fallback_path(target)):
        state = written_state(history_dir, target, candidate)
        if (state and state.get("fingerprint") == fingerprint and state.get("ledger") == key
                and candidate.is_file() and (not pdf or candidate.with_suffix(".pdf").is_file())):
            return candidate
    return None


def _hand_edited(history_dir: Path, target: Path, file: Path | None = None) -> bool:
    """The toolkit wrote ``file`` (default: the notice ``target`` itself; or the new version
    beside it) and it no longer has the checksum it was written with."""
    file = file or target
    state = written_state(history_dir, target, file)
    if not state or not state.get("sha256") or not file.is_file():
        return False
    # A notice put back with ``toolkit history --restore`` is kept like a hand-edited one.
    return bool(state.get("restored")) or sha256_of(file) != state["sha256"]


def build_notice(ledger: Path, target: Path, *, kind: str | None = None,
                 template: Path | None = None, pdf: bool = False,
                 today: date | None = None, records: bool = True,
                 force: bool = False, sheet: str | None = None) -> BuildResult:
    """Analyse ``ledger`` and, if it has no errors, write its notice to ``target`` atomically.

    A ledger with errors leaves any previous notice untouched. With ``records`` (the default)
    changes since the last notice in ``<target folder>/.history`` become warnings; a notice
    whose inputs did not change is not rebuilt (UNCHANGED); a notice edited by hand since it
    was written is kept and the new one goes beside it (BUILT_BESIDE). ``force`` rebuilds
    anyway and replaces an edited notice after archiving it. A built notice is followed by its
    statistics workbook and a history record; failures writing those become notes and never
    cost the notice.
    """
    ledger, target = Path(ledger), Path(target)
    history_dir = history_root(target.parent) if records else None
    # Taken before reading: a save in between makes the next build see a change, never miss one.
    source = ledger_digest(ledger) if history_dir is not None else None
    try:
        # The history comparison is added below (``with_history``) or beside the rendering.
        report = analyse(ledger, today, sheet=sheet)
    except ToolkitError as exc:
        return BuildResult(ledger, UNUSABLE, problem=exc)
    if history_dir is None:
        if not report.ok:
            return BuildResult(ledger, INVALID, report=report)
        return _write_notice(report, target, None, None, kind=kind, template=template, pdf=pdf,
                             fingerprint=None, edited=None, force=force, notes=[])
    if not report.ok:
        return BuildResult(ledger, INVALID, report=with_history(report, history_dir, target.name))

    notes: list[str] = []
    edited = None
    try:
        fingerprint = notice_fingerprint(report, kind, template, source)
    except (OSError, ToolkitError):
        fingerprint = None  # the template cannot be read: rendering will say why
    kept = None if force else _unchanged(history_dir, ledger, target, fingerprint, pdf)
    if kept is not None:
        if _hand_edited(history_dir, target):
            notes.append(f"{target.name} 有手工修改，已保留")
        return BuildResult(ledger, UNCHANGED, report=with_history(report, history_dir, target.name),
                           notice=kept, notes=tuple(notes))
    if _hand_edited(history_dir, target):
        edited = target
    # On the second core while the notice renders: the comparison with the history and the
    # statistics workbook (a fifth of a 10,000-row build, and neither needs the notice).
    with SideJob(_beside_notice, report, history_dir, target.name,
                 in_child=len(report.ledger.problems) <= SIDE_JOB_MAX_PROBLEMS) as beside:
        return _write_notice(report, target, history_dir, beside, kind=kind, template=template,
                             pdf=pdf, fingerprint=fingerprint, edited=edited, force=force,
                             notes=notes)


def _beside_notice(report: Report, history_dir: Path, notice: str,
                   ) -> tuple[tuple[Finding, ...], WorkbookBytes | None]:
    """What a build needs besides the notice: the history's findings and the statistics
    workbook (None when it cannot be built: ``_write_records`` builds it again and says why)."""
    changes = history_findings(report.ledger, report.stats, history_dir, notice)
    try:
        book = stats_workbook(report)
    except ToolkitError:
        book = None
    return changes, book


def _joined(report: Report, beside: SideJob | None) -> tuple[Report, WorkbookBytes | None]:
    if beside is None:
        return report, None
    changes, book = beside.result()
    return with_findings(report, changes), book


def _rendered(report: Report, kind: str | None, template: Path | None) -> bytes:
    """The notice's bytes; ``台账附件`` is the ledger annex, rendered from its own template."""
    # docxtpl is heavy: only building imports it.
    if kind is not None and kind.strip() == ANNEX_KIND:
        from .annex import render_annex

        return render_annex(report, template)
    from .render import render_notice

    return render_notice(report, kind=kind, template=template)


def _write_notice(report: Report, target: Path, history_dir: Path | None,
                  beside: SideJob | None, *, kind: str | None, template: Path | None, pdf: bool,
                  fingerprint: str | None, edited: Path | None, force: bool,
                  notes: list[str]) -> BuildResult:
    ledger = report.ledger.path
    outcome, dest = BUILT, target
    try:
        data = mark_package(_rendered(report, kind, template), NOTICE)
    except ToolkitError as exc:
        return BuildResult(ledger, UNUSABLE, report=_joined(report, beside)[0], problem=exc,
                           notes=tuple(notes))
    # Joined before anything is written: the comparison reads the history this build adds to.
    report, book = _joined(report, beside)
    try:
        if edited is not None and history_dir is not None and not force:
            outcome, dest = BUILT_BESIDE, edited_fallback_path(target)
            if _hand_edited(history_dir, target, dest):  # the new version was edited too
                kept = archive_edited(history_dir, target, ledger, source=dest)
                notes.append(f"{dest.name} 也有手工修改，已存档为 {kept.with_suffix('.docx').name}"
                             "（toolkit history 可查看和恢复）")
            notes.append(f"{target.name} 在生成后被手工修改过（或是恢复的旧版），为保留它未覆盖；新通报已另存为 "
                         f"{dest.name}（确认不需要原修改时可用 --force 覆盖，原文件会先存档）")
        elif edited is not None and history_dir is not None:
            kept = archive_edited(history_dir, target, ledger)
            notes.append(f"{target.name} 有手工修改，已存档为 {kept.with_suffix('.docx').name}"
                         "（toolkit history 可查看和恢复），并按 --force 覆盖")
        try:
            written = write_atomic(dest, data)
        except OutputLockedError:
            written = write_atomic(locked_fallback_path(dest), data)
            notes.append(f"{dest.name} 被占用（可能正在 Word/WPS 中打开），旧文件未动；"
                         f"新通报已另存为 {written.name}，请关闭旧文件后替换")
        if written == target and history_dir is not None:
            _retire_new_version(history_dir, target, ledger, notes)
    except ToolkitError as exc:
        return BuildResult(ledger, UNUSABLE, report=report, problem=exc, notes=tuple(notes))
    pdf_path = problem = None
    if pdf:
        from .pdf import convert_to_pdf

        try:
            pdf_path = pdf_path_for(written)
            check_replaceable(pdf_path)  # pdf.py replaces it; a PDF of someone else's stays
            convert_to_pdf(written, pdf_path)
            data = _record_on_even_page(report, kind, template, written, pdf_path, data, notes)
            notes.extend(_font_notes())
        except ToolkitError as exc:
            pdf_path, problem = None, exc
    book_path = snapshot = None
    if history_dir is not None:
        book_path, snapshot = _write_records(report, target, written, history_dir, notes,
                                             data=data, pdf=pdf_path, fingerprint=fingerprint,
                                             book=book)
        remember_notice(ledger, written)
    if problem is not None:
        return BuildResult(ledger, UNUSABLE, report=report, notice=written, problem=problem,
                           notes=tuple(notes), stats_book=book_path, snapshot=snapshot,
                           edited=edited)
    return BuildResult(ledger, outcome, report=report, notice=written, pdf=pdf_path,
                       notes=tuple(notes), stats_book=book_path, snapshot=snapshot, edited=edited)


def _retire_new_version(history_dir: Path, target: Path, ledger: Path, notes: list[str]) -> None:
    """The notice itself was just written: a ``（新版）`` made beside it earlier, while it was
    hand-edited, is out of date. Its content is in the archive (a hand edit of it is archived
    now), so it and its PDF and statistics workbook are taken away, never a file not ours."""
    beside = edited_fallback_path(target)
    if not beside.is_file() or not is_toolkit_output(beside):
        return
    if _hand_edited(history_dir, target, beside):
        kept = archive_edited(history_dir, target, ledger, source=beside)
        notes.append(f"{beside.name} 有手工修改，已存档为 {kept.with_suffix('.docx').name}"
                     "（toolkit history 可查看和恢复）")
    for old in (beside, pdf_path_for(beside), stats_path_for(beside)):
        if old.is_file() and is_toolkit_output(old):
            remove_quietly(old)
    notes.append(f"{beside.name} 已过时（通报已按新台账生成在 {target.name}），已移走")


def _write_records(report: Report, target: Path, notice: Path, history_dir: Path,
                   notes: list[str], *, data: bytes | None = None, pdf: Path | None = None,
                   fingerprint: str | None = None, book: WorkbookBytes | None = None,
                   ) -> tuple[Path | None, Path | None]:
    """The statistics workbook (``book``, or built here) and the history record of a notice
    just written.

    The notice is already on disk, so nothing here may fail the build: problems become notes.
    """
    book_path = None
    book_target = stats_path_for(notice)
    try:
        book = book if book is not None else stats_workbook(report)
        notes.extend(f"统计表：{note}" for note in book.notes)
        try:
            book_path = write_atomic(book_target, book.data)
        except OutputLockedError:
            # Keeps the -统计.xlsx ending, so the copy is still known as ours.
            book_path = write_atomic(stats_path_for(locked_fallback_path(notice)), book.data)
            notes.append(f"{book_target.name} 被占用（可能正在 Excel/WPS 中打开），旧文件未动；"
                         f"新统计表已另存为 {book_path.name}，请关闭旧文件后替换")
    except ToolkitError as exc:
        notes.append(f"统计表未能生成：{exc.message}（通报已生成，不受影响）")
    except (OSError, MemoryError) as exc:  # nothing after the notice may fail the build
        notes.append(f"统计表未能生成：{book_target.name}（{exc}）（通报已生成，不受影响）")
    snapshot = None
    try:
        snapshot = store_record(report, history_dir, target=target, written=notice,
                                notice_data=data, pdf=pdf, fingerprint=fingerprint)
    except ToolkitError as exc:
        notes.append(f"通报记录未能保存：{exc.message}（通报已生成，不受影响；"
                     "下次比较变化时将以更早的记录为准）")
    except OSError as exc:
        notes.append(f"通报记录未能保存：{exc}（通报已生成，不受影响）")
    return book_path, snapshot


def _font_notes() -> list[str]:
    """Which substitutes the PDF used for the 公文 fonts not installed here (or nothing)."""
    from .pdf import describe_substitutes, font_substitutes

    note = describe_substitutes(font_substitutes())
    return [note] if note else []


def _record_on_even_page(report: Report, kind: str | None, template: Path | None, docx: Path,
                         pdf: Path, data: bytes, notes: list[str]) -> bytes:
    """The notice's bytes on disk once its PDF puts the 版记 on an even last page
    (``even_page``; the ledger annex has no 版记)."""
    if kind is not None and kind.strip() == ANNEX_KIND:
        return data
    from .even_page import record_on_even_page

    try:
        placed = record_on_even_page(report, kind, template, docx, pdf, data)
    except ToolkitError as exc:  # the first .docx and PDF stand, and agree
        notes.append(f"版记未能另起偶数页：{exc.message}（{docx.name} 和 PDF 保持原排版）")
        return data
    if placed.note:
        notes.append(placed.note)
    return placed.data
