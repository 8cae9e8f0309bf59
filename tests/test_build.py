"""build_notice: unchanged notices, hand edits, the archive, history per notice, write failures."""

from __future__ import annotations

import errno
import json
import os
from datetime import date, datetime

import pytest
from docx import Document
from ledger_factory import default_rows, row, write_ledger
from typer.testing import CliRunner

from toolkit import atomic
from toolkit import build as build_module
from toolkit.archive import (
    history_entries,
    ledger_key,
    list_records,
    locate_history,
    records_for,
    restore_notice,
    store_record,
)
from toolkit.build import BUILT, BUILT_BESIDE, UNCHANGED, UNUSABLE, build_notice, find_ledgers, is_ledger_file
from toolkit.cli import app
from toolkit.errors import OutputLockedError
from toolkit.names import history_root, is_toolkit_output, locked_fallback_path, stats_path_for
from toolkit.pipeline import analyse

TODAY = date(2024, 10, 30)
runner = CliRunner()


def docx_text(path) -> str:
    return "\n".join(p.text for p in Document(str(path)).paragraphs)


def edit_by_hand(path, text="（办公室手工补充的一段话）") -> None:
    doc = Document(str(path))
    doc.add_paragraph(text)
    doc.save(str(path))


def write_in(path, rows=None, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_ledger(path, rows, **kw)


@pytest.fixture
def ledger(tmp_path):
    return write_in(tmp_path / "ledgers" / "a.xlsx")


def change(ledger) -> None:
    rows = default_rows()
    rows[1] = row(2, "政治建设不到位", "问题乙", "已完成")
    write_ledger(ledger, rows)


# ---------------------------------------------------------------- 13.2 no rebuild without change

def test_notice_is_marked_and_archived(ledger, tmp_path):
    target = tmp_path / "out" / "a.docx"
    result = build_notice(ledger, target, today=TODAY)
    assert result.outcome == BUILT and is_toolkit_output(target)
    assert is_toolkit_output(stats_path_for(target))
    assert result.snapshot.with_suffix(".docx").read_bytes() == target.read_bytes()


def test_unchanged_ledger_is_not_rebuilt(ledger, tmp_path):
    target = tmp_path / "out" / "a.docx"
    build_notice(ledger, target, today=TODAY)
    os.utime(target, (1_000_000_000, 1_000_000_000))
    ledger.touch()  # a save without a change: new mtime, same content
    again = build_notice(ledger, target, today=TODAY)
    assert again.outcome == UNCHANGED and again.exit_code == 0 and again.notice == target
    assert target.stat().st_mtime == 1_000_000_000
    assert len(records_for(history_root(target.parent), ledger, target.name)) == 1
    forced = build_notice(ledger, target, today=TODAY, force=True)
    assert forced.outcome == BUILT and target.stat().st_mtime != 1_000_000_000


def test_template_or_kind_change_rebuilds(ledger, tmp_path):
    target = tmp_path / "out" / "a.docx"
    build_notice(ledger, target, today=TODAY)
    assert build_notice(ledger, target, today=TODAY, kind="阶段性进展").outcome == BUILT


def test_saved_again_without_change_is_unchanged_meta_change_is_not(ledger, tmp_path):
    from ledger_factory import META

    target = tmp_path / "out" / "a.docx"
    build_notice(ledger, target, today=TODAY)
    write_in(ledger)  # the same content saved again (new save time inside the file)
    assert build_notice(ledger, target, today=TODAY).outcome == UNCHANGED
    write_in(ledger, meta=dict(META, 发文机关="中共某某市文联党组（新）"))
    assert build_notice(ledger, target, today=TODAY).outcome == BUILT


def test_deleted_notice_is_rebuilt(ledger, tmp_path):
    target = tmp_path / "out" / "a.docx"
    build_notice(ledger, target, today=TODAY)
    target.unlink()
    assert build_notice(ledger, target, today=TODAY).outcome == BUILT and target.exists()


def test_cli_says_no_change(ledger, tmp_path):
    out = tmp_path / "out"
    assert runner.invoke(app, ["build", str(ledger.parent), "-o", str(out)]).exit_code == 0
    again = runner.invoke(app, ["build", str(ledger.parent), "-o", str(out)])
    assert again.exit_code == 0 and "无变化" in again.output
    forced = runner.invoke(app, ["build", str(ledger.parent), "-o", str(out), "--force"])
    assert forced.exit_code == 0 and "已生成" in forced.output


# ---------------------------------------------------------------- 13.3 hand edits

def test_hand_edit_is_kept_and_new_notice_goes_beside(ledger, tmp_path):
    target = tmp_path / "out" / "a.docx"
    build_notice(ledger, target, today=TODAY)
    edit_by_hand(target)
    edited = target.read_bytes()
    assert build_notice(ledger, target, today=TODAY).outcome == UNCHANGED  # nothing to do
    change(ledger)
    result = build_notice(ledger, target, today=TODAY)
    assert result.outcome == BUILT_BESIDE and result.exit_code == 0
    assert target.read_bytes() == edited  # the clerk's edit is kept
    beside = tmp_path / "out" / "a（新版）.docx"
    assert result.notice == beside and beside.exists() and "手工修改" in " ".join(result.notes)
    assert "办公室手工补充" not in docx_text(beside)
    assert stats_path_for(beside).exists()
    # The same input again: nothing new, the edit still kept.
    assert build_notice(ledger, target, today=TODAY).outcome == UNCHANGED
    # The new version edited too, then another change: that edit is archived, never lost.
    edit_by_hand(beside, "（新版里的修改）")
    edited_beside = beside.read_bytes()
    rows = default_rows()
    rows[3] = row(4, "财务管理不规范", "问题丁", "已完成")
    write_in(ledger, rows)
    third = build_notice(ledger, target, today=TODAY)
    assert third.outcome == BUILT_BESIDE and target.read_bytes() == edited
    copies = [r for r in list_records(history_root(target.parent) / "a") if r.edited]
    assert [c.archive.read_bytes() for c in copies] == [edited_beside]


def test_force_archives_the_edited_notice_then_replaces_it(ledger, tmp_path):
    target = tmp_path / "out" / "a.docx"
    build_notice(ledger, target, today=TODAY)
    edit_by_hand(target)
    edited = target.read_bytes()
    change(ledger)
    result = build_notice(ledger, target, today=TODAY, force=True)
    assert result.outcome == BUILT and result.notice == target
    assert "办公室手工补充" not in docx_text(target)
    copies = [r for r in list_records(history_root(target.parent) / "a") if r.edited]
    assert len(copies) == 1 and copies[0].archive.read_bytes() == edited


def test_force_takes_away_the_new_version_it_supersedes(ledger, tmp_path):
    from toolkit.names import edited_fallback_path

    target = tmp_path / "out" / "a.docx"
    build_notice(ledger, target, today=TODAY)
    edit_by_hand(target)
    change(ledger)
    beside = build_notice(ledger, target, today=TODAY)
    assert beside.outcome == BUILT_BESIDE and beside.notice == edited_fallback_path(target)
    assert stats_path_for(beside.notice).is_file()
    edit_by_hand(beside.notice, "（在新版上也改了一句）")
    edited_new = beside.notice.read_bytes()
    result = build_notice(ledger, target, today=TODAY, force=True)
    assert result.outcome == BUILT and result.notice == target
    assert not beside.notice.exists() and not stats_path_for(beside.notice).exists()
    copies = [r.archive.read_bytes() for r in list_records(history_root(target.parent) / "a") if r.edited]
    assert edited_new in copies  # the hand edit of the new version is kept in the archive
    again = build_notice(ledger, target, today=TODAY)
    assert again.outcome == UNCHANGED and again.notice == target


def test_cli_render_reports_the_new_version(ledger, tmp_path):
    target = tmp_path / "out" / "a.docx"
    assert runner.invoke(app, ["render", str(ledger), "-o", str(target)]).exit_code == 0
    edit_by_hand(target)
    change(ledger)
    result = runner.invoke(app, ["render", str(ledger), "-o", str(target)])
    assert result.exit_code == 0 and "a（新版）.docx" in result.output


# ---------------------------------------------------------------- 13.1 archive and restore

def test_archive_is_bounded_and_keeps_the_newest(ledger, tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_HISTORY_KEEP", "2")
    target = tmp_path / "out" / "a.docx"
    for k in range(4):
        rows = default_rows()
        rows[0] = row(1, "政治建设不到位", f"问题甲{k}", "已完成")
        write_ledger(ledger, rows)
        assert build_notice(ledger, target, today=TODAY).outcome == BUILT
    records = list_records(history_root(target.parent) / "a")
    assert [r.seq for r in records] == [3, 4]
    assert records[-1].archive.read_bytes() == target.read_bytes()


def test_history_lists_and_restores(ledger, tmp_path):
    out = tmp_path / "out"
    target = out / "a.docx"
    build_notice(ledger, target, today=TODAY)
    first = target.read_bytes()
    change(ledger)
    build_notice(ledger, target, today=TODAY)
    listed = runner.invoke(app, ["history", str(ledger), "-o", str(out)])
    assert listed.exit_code == 0, listed.output
    assert "编号" in listed.output and "000001-" in listed.output and "000002-" in listed.output
    restored = runner.invoke(app, ["history", str(ledger), "-o", str(out), "--restore", "1"])
    assert restored.exit_code == 0, restored.output
    assert target.read_bytes() == first
    entries = history_entries(history_root(out), ledger, target)
    assert entries[-1].event == "edited"  # the notice replaced by the restore was archived
    # The restored notice is protected: the next build goes beside it.
    rows = default_rows()
    rows[2] = row(3, "财务管理不规范", "问题丙", "已完成")
    write_ledger(ledger, rows)
    assert build_notice(ledger, target, today=TODAY).outcome == BUILT_BESIDE
    assert target.read_bytes() == first
    missing = runner.invoke(app, ["history", str(ledger), "-o", str(out), "--restore", "99"])
    assert missing.exit_code == 2 and "99" in missing.output


def test_restore_without_copy_is_refused(ledger, tmp_path):
    from toolkit.errors import SnapshotError
    from toolkit.history import store_snapshot

    hist = history_root(tmp_path / "out")
    store_snapshot(analyse(ledger, TODAY), hist)
    with pytest.raises(SnapshotError, match="没有存档"):
        restore_notice(hist, ledger, tmp_path / "out" / "a.docx", 1)


# ---------------------------------------------------------------- 13.4 history per notice, in order

def test_same_ledger_name_in_two_folders_has_two_histories(tmp_path):
    old = write_in(tmp_path / "2023" / "台账.xlsx")
    new = write_in(tmp_path / "2024" / "台账.xlsx", [
        row(1, "作风建设", "全新问题一", "正在整改"), row(2, "作风建设", "全新问题二", "已完成")])
    out = tmp_path / "out"
    assert build_notice(old, out / "2023年通报.docx", today=TODAY).outcome == BUILT
    result = build_notice(new, out / "2024年通报.docx", today=TODAY)
    assert result.outcome == BUILT
    assert not [f for f in result.report.findings if f.code.startswith("history_")]
    # Also when both write the same notice name in turn: each compares with its own records.
    build_notice(old, out / "通报.docx", today=TODAY)
    again = build_notice(new, out / "通报.docx", today=TODAY)
    assert not [f for f in again.report.findings if f.code == "history_disappeared"]


def test_records_are_ordered_by_number_not_clock(ledger, tmp_path):
    hist = history_root(tmp_path / "out")
    target = tmp_path / "out" / "a.docx"
    report = analyse(ledger, TODAY)
    # A clock that was ahead dated the first record 2030; the real next one is 2024.
    store_record(report, hist, target=target, now=datetime(2030, 1, 1))
    rows = default_rows()
    rows[0] = row(1, "政治建设不到位", "问题甲", "正在整改")  # a real regression
    write_ledger(ledger, rows)
    store_record(analyse(ledger, TODAY), hist, target=target, now=datetime(2024, 11, 1))
    rows[0] = row(1, "政治建设不到位", "问题甲", "未完成")  # regressed further
    write_ledger(ledger, rows)
    findings = analyse(ledger, TODAY, history_dir=hist).findings
    regressed = [f for f in findings if f.code == "history_regressed"]
    assert len(regressed) == 1 and "“正在整改”倒退为“未完成”" in regressed[0].message


# ---------------------------------------------------------------- 12.6 history found where it is

def test_diff_and_check_find_the_history_where_notices_went(ledger, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "通报" / "x.docx"
    assert runner.invoke(app, ["render", str(ledger), "-o", str(target)]).exit_code == 0
    write_ledger(ledger, default_rows()[1:])
    diff = runner.invoke(app, ["diff", str(ledger)])
    assert diff.exit_code == 0, diff.output
    assert "问题甲" in diff.output and "找不到了" in diff.output
    check = runner.invoke(app, ["check", str(ledger)])
    assert "找不到了" in check.output
    assert locate_history(ledger) == (target.parent / ".history", target)


# ---------------------------------------------------------------- 9.2 damaged snapshots

DAMAGE = {
    "no number": lambda d: [r.pop("number") for r in d["rows"]],
    "bad deadline": lambda d: d["rows"][0].update(deadline="2024-13-45"),
    "wrong type": lambda d: d["rows"][0].update(status=5),
    "no row": lambda d: [r.pop("row") for r in d["rows"]],
    "minimal": lambda d: d.update(rows=[{"problem": "x"}]),
    "stats not a dict": lambda d: d.update(stats=[1]),
    "rows not a list": lambda d: d.update(rows="abc"),
    "not an object": lambda d: d.clear(),
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_damaged_snapshot_never_blocks_the_ledger(ledger, tmp_path, damage):
    out = tmp_path / "out"
    target = out / "a.docx"
    first = build_notice(ledger, target, today=TODAY)
    data = json.loads(first.snapshot.read_text(encoding="utf-8"))
    DAMAGE[damage](data)
    first.snapshot.write_text(json.dumps(data if data else [1]), encoding="utf-8")
    change(ledger)
    result = build_notice(ledger, target, today=TODAY)
    assert result.outcome == BUILT
    skipped = [f for f in result.report.findings if f.code == "history_unreadable"]
    assert skipped and first.snapshot.name in skipped[0].message
    for args in (["check", str(ledger), "-o", str(out)], ["diff", str(ledger), "-o", str(out)],
                 ["render", str(ledger), "-o", str(target), "--force"]):
        outcome = runner.invoke(app, args)
        assert "Traceback" not in outcome.output and outcome.exit_code in (0, 2), outcome.output
        assert outcome.exception is None or isinstance(outcome.exception, SystemExit)


# ---------------------------------------------------------------- 9.3 write failures

def test_full_disk_while_writing_statistics_does_not_fail_the_build(ledger, tmp_path, monkeypatch):
    real = atomic.tempfile.mkstemp

    def full_for_workbooks(*args, **kwargs):
        if str(kwargs.get("dir", "")).endswith("out") and full_for_workbooks.notice_done:
            raise OSError(errno.ENOSPC, "No space left on device")
        full_for_workbooks.notice_done = True
        return real(*args, **kwargs)

    full_for_workbooks.notice_done = False
    monkeypatch.setattr(atomic.tempfile, "mkstemp", full_for_workbooks)
    result = build_notice(ledger, tmp_path / "out" / "a.docx", today=TODAY)
    assert result.outcome == BUILT and result.notice.exists()
    assert any("统计表未能生成" in n and "磁盘空间已满" in n for n in result.notes)


def test_read_only_output_folder_is_exit_2(ledger, tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    result = build_notice(ledger, tmp_path / "out" / "a.docx", today=TODAY)
    assert result.outcome == UNUSABLE and result.exit_code == 2
    assert "a.docx" in result.problem.message and "没有权限" in result.problem.message
    cli = runner.invoke(app, ["build", str(ledger.parent), "-o", str(tmp_path / "out")])
    assert cli.exit_code == 2 and "Traceback" not in cli.output


# ---------------------------------------------------------------- 10.6 locked notice

def test_locked_notice_goes_to_the_fallback_name(ledger, tmp_path, monkeypatch):
    target = tmp_path / "out" / "a.docx"
    build_notice(ledger, target, today=TODAY)
    before = target.read_bytes()
    real = build_module.write_atomic

    def locked(path, data, **kw):
        if path == target:
            raise OutputLockedError(path, "文件被占用")
        return real(path, data, **kw)

    monkeypatch.setattr(build_module, "write_atomic", locked)
    change(ledger)
    result = build_notice(ledger, target, today=TODAY)
    assert result.outcome == BUILT and result.notice == locked_fallback_path(target)
    assert target.read_bytes() == before and result.notice.exists()
    assert "被占用" in result.notes[0] and result.notice.name in result.notes[0]


# ---------------------------------------------------------------- discovery

def test_toolkit_workbooks_are_not_ledgers(ledger, tmp_path):
    out = ledger.parent  # notices written into the ledger folder
    build_notice(ledger, out / "a.docx", today=TODAY)
    runner.invoke(app, ["summary", str(out), "-o", str(out / "汇总.xlsx")])
    assert (out / "汇总.xlsx").exists()
    assert find_ledgers(out) == [ledger]
    assert not is_ledger_file(out / "a-统计.xlsx")
    assert ledger_key(ledger) == ledger_key(ledger.parent / "." / "a.xlsx")


def test_hand_edited_status_json_does_not_stop_the_watcher(ledger, tmp_path):
    from toolkit.watch import Watcher

    out = tmp_path / "out"
    out.mkdir()
    (out / "status.json").write_text('{"ledgers": []}', encoding="utf-8")
    with Watcher(ledger.parent, out, log_file=False, polling=True, interval=0.1,
                 debounce=0.05) as watcher:
        assert watcher.wait_builds(ledger.name, 1, 60)
    assert json.loads((out / "status.json").read_text(encoding="utf-8"))["ledgers"][ledger.name]


def test_changed_template_rebuilds(ledger, tmp_path):
    import shutil

    from toolkit.render import template_for

    template = tmp_path / "模板.docx"
    shutil.copy(template_for("集中整改进展"), template)
    target = tmp_path / "out" / "a.docx"
    assert build_notice(ledger, target, today=TODAY, template=template).outcome == BUILT
    assert build_notice(ledger, target, today=TODAY, template=template).outcome == UNCHANGED
    doc = Document(str(template))
    doc.core_properties.comments = "模板改过"
    doc.save(str(template))
    assert build_notice(ledger, target, today=TODAY, template=template).outcome == BUILT


def _fake_pdf_converter(docx, pdf):
    """A PDF that says which notice it was made from (as LibreOffice's says who made it)."""
    import hashlib

    from toolkit.atomic import write_atomic

    digest = hashlib.sha256(docx.read_bytes()).hexdigest()
    write_atomic(pdf, f"%PDF-1.4 {digest}\n/Producer (LibreOffice 7.4)\n%%EOF\n".encode())


def test_restore_puts_back_the_pdf_of_the_restored_notice(ledger, tmp_path, monkeypatch):
    import hashlib

    from toolkit import pdf as pdf_module

    monkeypatch.setattr(pdf_module, "convert_to_pdf", _fake_pdf_converter)
    out = tmp_path / "out"
    target = out / "a.docx"
    assert build_notice(ledger, target, pdf=True, today=TODAY).pdf is not None
    first_pdf = target.with_suffix(".pdf").read_bytes()
    change(ledger)
    build_notice(ledger, target, pdf=True, today=TODAY)
    second_pdf = target.with_suffix(".pdf").read_bytes()
    assert second_pdf != first_pdf
    restore_notice(history_root(out), ledger, target, 1)
    assert target.with_suffix(".pdf").read_bytes() == first_pdf
    assert hashlib.sha256(target.read_bytes()).hexdigest() in first_pdf.decode()
    # The PDF it replaced is kept with the notice it belonged to.
    kept = [p for p in (history_root(out) / "a").iterdir() if p.suffix == ".pdf"]
    assert any(p.read_bytes() == second_pdf for p in kept)


def test_restore_without_a_pdf_takes_the_stale_one_away_and_keeps_it(ledger, tmp_path, monkeypatch):
    from toolkit import pdf as pdf_module

    monkeypatch.setattr(pdf_module, "convert_to_pdf", _fake_pdf_converter)
    out = tmp_path / "out"
    target = out / "a.docx"
    build_notice(ledger, target, today=TODAY)  # no PDF for the first notice
    change(ledger)
    build_notice(ledger, target, pdf=True, today=TODAY)
    stale = target.with_suffix(".pdf").read_bytes()
    restore_notice(history_root(out), ledger, target, 1)
    assert not target.with_suffix(".pdf").exists()
    kept = [p for p in (history_root(out) / "a").iterdir() if p.suffix == ".pdf"]
    assert any(p.read_bytes() == stale for p in kept)
