"""History: snapshots, matching rows between versions, each kind of change, warnings, CLI diff."""

import json
import re
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_factory import HEADER, default_rows, row, write_ledger
from typer.testing import CliRunner

from toolkit import build as build_module
from toolkit.archive import ledger_key
from toolkit.build import BUILT, UNCHANGED, build_notice
from toolkit.cli import app
from toolkit.errors import OutputError
from toolkit.history import (
    ADDED,
    DEADLINE_EXTENDED,
    DISAPPEARED,
    NEWLY_DONE,
    REGRESSED,
    TEXT_EDITED,
    SnapshotError,
    diff_rows,
    history_root,
    list_snapshots,
    load_snapshot,
    match_rows,
    store_snapshot,
)
from toolkit.model import WARNING
from toolkit.pipeline import analyse, diff_ledger

TODAY = date(2024, 10, 30)
T1, T2, T3 = datetime(2024, 11, 1, 9, 0), datetime(2024, 12, 1, 9, 0), datetime(2024, 12, 20, 9, 0)
runner = CliRunner()


@pytest.fixture
def hist(tmp_path):
    return history_root(tmp_path / "out")


def snap(path, rows, hist, when=T1, **kw):
    """Write the ledger, store it as a snapshot, return the snapshot's path."""
    write_ledger(path, rows, **kw)
    return store_snapshot(analyse(path, TODAY), hist, now=when)


def kinds(changes):
    return sorted((c.kind, c.problem) for c in changes)


def rows_of(*specs):
    """(number, problem, status[, deadline]) -> snapshot-like row dicts."""
    out = []
    for k, spec in enumerate(specs):
        number, problem, status, *rest = spec
        deadline = rest[0] if rest else None
        out.append({"row": k + 2, "number": number, "problem": problem, "status": status,
                    "deadline": deadline, "deadline_text": deadline or ""})
    return out


# ---------------------------------------------------------------- snapshots

def test_snapshot_is_stored_as_json_under_history(tmp_path, hist):
    path = snap(tmp_path / "某单位.xlsx", None, hist)
    assert path.parent == tmp_path / "out" / ".history" / "某单位"
    # Numbered (records are ordered by number, not by the clock), timed, and naming the ledger.
    assert re.fullmatch(r"000001-20241101-090000-000000-[0-9a-f]{8}\.json", path.name)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "toolkit-history/1" and data["ledger"] == "某单位.xlsx"
    assert data["stats"]["total"] == 5 and data["stats"]["counts"]["已完成"] == 2
    first = data["rows"][0]
    assert first["problem"] == "问题甲" and first["deadline"] == "2024-09-30"
    assert first["status"] == "已完成" and first["number"] == "1"
    loaded = load_snapshot(path)
    assert loaded.created == T1 and len(loaded.rows) == 5


def test_identical_snapshot_is_not_stored_twice(tmp_path, hist):
    ledger = tmp_path / "a.xlsx"
    assert snap(ledger, None, hist, T1) is not None
    assert store_snapshot(analyse(ledger, TODAY), hist, now=T2) is None
    assert snap(ledger, default_rows()[:4], hist, T2) is not None
    assert [t for t, _ in list_snapshots(hist, ledger)] == [T1, T2]


def test_same_second_does_not_overwrite(tmp_path, hist):
    ledger = tmp_path / "a.xlsx"
    first = snap(ledger, None, hist, T1)
    second = snap(ledger, default_rows()[:2], hist, T1)
    assert first != second and second.name.startswith("000002-20241101-090000-000000-")
    assert len(list_snapshots(hist, ledger)) == 2


def test_damaged_or_foreign_snapshots_are_refused(tmp_path):
    bad = tmp_path / "20241101-090000-000000.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SnapshotError, match="已损坏"):
        load_snapshot(bad)
    bad.write_text(json.dumps({"format": "other"}), encoding="utf-8")
    with pytest.raises(SnapshotError, match="格式无法识别"):
        load_snapshot(bad)
    with pytest.raises(SnapshotError, match="不存在"):
        load_snapshot(tmp_path / "none.json")


# ---------------------------------------------------------------- diff on crafted ledgers

def test_diff_detects_each_kind_of_change(tmp_path, hist):
    ledger = tmp_path / "a.xlsx"
    snap(ledger, default_rows(), hist)
    after = [
        row(1, "政治建设不到位", "问题甲", "正在整改"),  # regressed
        row(2, "政治建设不到位", "问题乙", "已完成", deadline="2025年12月底前"),  # newly done
        row(3, "财务管理不规范", "问题丙", "未完成", deadline="2025年3月"),  # extended
        # 4 (问题丁) deleted
        row(5, "财务管理不规范", "问题戊，文字有修改", "已完成", recovered=0.02, flagged="是"),
        row(6, "财务管理不规范", "问题己", "未完成"),  # added
    ]
    write_ledger(ledger, after)
    result = diff_ledger(ledger, hist, today=TODAY)
    assert kinds(result.changes) == sorted([
        (REGRESSED, "问题甲"), (NEWLY_DONE, "问题乙"), (DEADLINE_EXTENDED, "问题丙"),
        (DISAPPEARED, "问题丁"), (TEXT_EDITED, "问题戊，文字有修改"), (ADDED, "问题己")])
    by_kind = {c.kind: c for c in result.changes}
    assert (by_kind[REGRESSED].old, by_kind[REGRESSED].new) == ("已完成", "正在整改")
    assert (by_kind[DEADLINE_EXTENDED].old, by_kind[DEADLINE_EXTENDED].new) == \
        ("2024年9月30日", "2025年3月")
    assert by_kind[DISAPPEARED].row is None and by_kind[DISAPPEARED].old_row == 5
    assert by_kind[TEXT_EDITED].old == "问题戊"
    assert {c.kind for c in result.changes if c.severity == WARNING} == \
        {REGRESSED, DEADLINE_EXTENDED, DISAPPEARED}
    assert "找不到了" in by_kind[DISAPPEARED].message and "倒退" in by_kind[REGRESSED].message


def test_renumbering_after_an_inserted_row_is_not_a_change(tmp_path, hist):
    ledger = tmp_path / "a.xlsx"
    snap(ledger, default_rows(), hist)
    shifted = [row(1, "政治建设不到位", "新插入的问题", "未完成")]
    shifted += [[r[0] + 1] + r[1:] for r in default_rows()]
    write_ledger(ledger, shifted)
    result = diff_ledger(ledger, hist, today=TODAY)
    assert kinds(result.changes) == [(ADDED, "新插入的问题")]


def test_text_edited_and_renumbered_is_matched_by_similarity():
    old = rows_of(("1", "干部选拔任用程序不规范，个别干部档案材料缺失", "正在整改"),
                  ("2", "财务报销审核不严", "正在整改"))
    new = rows_of(("1", "全新的问题", "未完成"),
                  ("2", "干部选拔任用程序不规范，个别干部档案材料缺失严重", "已完成"),
                  ("3", "财务报销审核不严", "正在整改"))
    changes = diff_rows(old, new)
    assert kinds(changes) == sorted([
        (ADDED, "全新的问题"), (TEXT_EDITED, "干部选拔任用程序不规范，个别干部档案材料缺失严重"),
        (NEWLY_DONE, "干部选拔任用程序不规范，个别干部档案材料缺失严重")])


def test_rewritten_text_under_the_same_number_is_reported_not_hidden():
    old = rows_of(("3", "公务用车管理混乱", "正在整改"))
    new = rows_of(("3", "党组会议记录不完整", "已完成"))
    assert kinds(diff_rows(old, new)) == [(ADDED, "党组会议记录不完整"), (DISAPPEARED, "公务用车管理混乱")]


def test_same_number_with_similar_text_is_an_edit():
    old = rows_of(("3", "公务用车管理混乱", "正在整改"))
    new = rows_of(("3", "公务用车管理比较混乱。", "正在整改"))
    assert kinds(diff_rows(old, new)) == [(TEXT_EDITED, "公务用车管理比较混乱。")]


def test_duplicate_texts_pair_by_number_then_order():
    old = rows_of(("1", "制度不健全", "已完成"), ("2", "制度不健全", "正在整改"))
    new = rows_of(("2", "制度不健全", "正在整改"), ("1", "制度不健全", "已完成"))
    assert match_rows(old, new) == [(1, 0), (0, 1)]
    assert diff_rows(old, new) == ()
    # One of the two deleted: exactly one vanishes.
    assert kinds(diff_rows(old, new[:1])) == [(DISAPPEARED, "制度不健全")]


def test_ledger_without_numbers_is_matched_by_text(tmp_path, hist):
    header = [h for h in HEADER if h != "序号"]
    ledger = tmp_path / "a.xlsx"
    snap(ledger, [r[1:] for r in default_rows()], hist, header=header)
    after = [r[1:] for r in default_rows()][::-1]  # reordered
    after[0] = after[0][:7] + ["正在整改"] + after[0][8:]  # 问题戊 was 已完成
    write_ledger(ledger, after, header=header)
    changes = diff_ledger(ledger, hist, today=TODAY).changes
    assert kinds(changes) == [(REGRESSED, "问题戊")]
    assert changes[0].number == ""


def test_deadline_rules():
    old = rows_of(("1", "甲", "正在整改", "2024-09-30"), ("2", "乙", "正在整改", "2024-09-30"),
                  ("3", "丙", "正在整改", "2024-09-30"), ("4", "丁", "正在整改", "2024-09-30"),
                  ("5", "戊", "正在整改", None))
    new = rows_of(("1", "甲", "正在整改", None),  # to 长期坚持 / blank: no longer due
                  ("2", "乙", "正在整改", "2024-08-31"),  # earlier: fine
                  ("3", "丙", "已完成", "2024-12-31"),  # done: the deadline no longer binds
                  ("4", "丁", "正在整改", "2024-09-30"),
                  ("5", "戊", "正在整改", "2025-01-31"))  # a first deadline: fine
    assert kinds(diff_rows(old, new)) == sorted([(DEADLINE_EXTENDED, "甲"), (NEWLY_DONE, "丙")])


def test_in_progress_to_not_done_is_a_regression_too():
    old = rows_of(("1", "甲", "正在整改"))
    assert kinds(diff_rows(old, rows_of(("1", "甲", "未完成")))) == [(REGRESSED, "甲")]
    assert diff_rows(rows_of(("1", "甲", "未完成")), rows_of(("1", "甲", "正在整改"))) == ()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="甲乙丙丁戊己庚辛壬癸", min_size=4, max_size=12), min_size=1,
                max_size=12, unique=True), st.randoms(use_true_random=False))
def test_shuffled_and_renumbered_ledger_has_no_changes(texts, rnd):
    old = rows_of(*[(str(k + 1), t, "正在整改") for k, t in enumerate(texts)])
    shuffled = texts[:]
    rnd.shuffle(shuffled)
    new = rows_of(*[(str(k + 1), t, "正在整改") for k, t in enumerate(shuffled)])
    assert diff_rows(old, new) == ()
    # And every deletion is seen.
    assert kinds(diff_rows(old, new[1:])) == [(DISAPPEARED, shuffled[0])]


def test_many_edited_rows_are_still_matched_quickly():
    # Past MAX_FUZZY_PAIRS leftover pairs only likely pairs are compared.
    import random

    rnd = random.Random(5)
    alphabet = [chr(0x4E00 + k) for k in range(300)]
    texts = ["".join(rnd.choice(alphabet) for _ in range(24)) for _ in range(240)]
    old = rows_of(*[(str(k + 1), t, "正在整改") for k, t in enumerate(texts)])
    edited = [t[:12] + "，" + t[12:] + "（已修改）" for t in texts]
    rnd.shuffle(edited)
    new = rows_of(*[(str(k + 1), t, "正在整改") for k, t in enumerate(edited)])
    changes = diff_rows(old, new)
    assert len(changes) == 240 and {c.kind for c in changes} == {TEXT_EDITED}
    assert all(c.new == c.problem and c.old + "（已修改）" == c.new.replace("，", "", 1)
               for c in changes)


# ---------------------------------------------------------------- choosing the baseline

def test_after_a_build_the_changes_stay_visible_until_the_next_edit(tmp_path, hist):
    ledger = tmp_path / "a.xlsx"
    snap(ledger, default_rows(), hist, T1)
    regressed = default_rows()
    regressed[0] = row(1, "政治建设不到位", "问题甲", "正在整改")
    snap(ledger, regressed, hist, T2)  # the build of the regressed ledger
    result = diff_ledger(ledger, hist, today=TODAY)
    assert result.same_as_latest and result.baseline.created == T1
    assert kinds(result.changes) == [(REGRESSED, "问题甲")]
    codes = [f.code for f in analyse(ledger, TODAY, history_dir=hist).findings]
    assert "history_regressed" in codes
    # The next edit compares with the notice that already reported the regression.
    edited = regressed[:]
    edited[1] = row(2, "政治建设不到位", "问题乙", "已完成")
    write_ledger(ledger, edited)
    result = diff_ledger(ledger, hist, today=TODAY)
    assert not result.same_as_latest and result.baseline.created == T2
    assert kinds(result.changes) == [(NEWLY_DONE, "问题乙")]


def test_only_an_identical_snapshot_means_no_change(tmp_path, hist):
    ledger = tmp_path / "a.xlsx"
    snap(ledger, None, hist)
    result = diff_ledger(ledger, hist, today=TODAY)
    assert result.changes == () and result.baseline.created == T1


def test_against_a_date_or_a_file(tmp_path, hist):
    ledger = tmp_path / "a.xlsx"
    first = snap(ledger, default_rows()[:3], hist, T1)
    snap(ledger, default_rows()[:4], hist, T2)
    write_ledger(ledger, default_rows())
    assert diff_ledger(ledger, hist, today=TODAY).baseline.created == T2
    by_date = diff_ledger(ledger, hist, against="2024-11-15", today=TODAY)
    assert by_date.baseline.created == T1 and len(by_date.changes) == 2
    assert diff_ledger(ledger, hist, against="2024年12月1日", today=TODAY).baseline.created == T2
    assert diff_ledger(ledger, hist, against=first.name, today=TODAY).baseline.path == first
    assert diff_ledger(ledger, hist, against=str(first), today=TODAY).baseline.path == first
    with pytest.raises(SnapshotError, match="及以前没有通报记录"):
        diff_ledger(ledger, hist, against="2024-10-01", today=TODAY)
    with pytest.raises(SnapshotError, match="既不是通报记录文件，也不是日期"):
        diff_ledger(ledger, hist, against="上周", today=TODAY)


def test_no_history_cannot_be_diffed(tmp_path, hist):
    ledger = write_ledger(tmp_path / "a.xlsx")
    with pytest.raises(SnapshotError, match="还没有生成过通报"):
        diff_ledger(ledger, hist, today=TODAY)


# ---------------------------------------------------------------- warnings in analyse

def test_analyse_turns_the_serious_changes_into_located_warnings(tmp_path, hist):
    ledger = tmp_path / "a.xlsx"
    snap(ledger, default_rows(), hist)
    after = default_rows()
    after[0] = row(1, "政治建设不到位", "问题甲", "未完成")
    after[2] = row(3, "财务管理不规范", "问题丙", "未完成", deadline="长期坚持")
    after[1] = row(2, "政治建设不到位", "问题乙", "已完成")  # information only
    del after[3]
    write_ledger(ledger, after)
    findings = {f.code: f for f in analyse(ledger, TODAY, history_dir=hist).findings
                if f.code.startswith("history_")}
    assert set(findings) == {"history_regressed", "history_deadline_extended",
                             "history_disappeared"}
    assert all(f.severity == WARNING for f in findings.values())
    assert findings["history_regressed"].cell == "I2"
    assert findings["history_regressed"].column == "整改状态"
    assert findings["history_deadline_extended"].cell == "G4"
    assert findings["history_disappeared"].cell == "" and findings["history_disappeared"].value == "问题丁"
    assert findings["history_disappeared"].message.startswith("与2024年11月1日 09:00 的通报记录相比：")
    # Without a history folder nothing is compared.
    assert not any(f.code.startswith("history_") for f in analyse(ledger, TODAY).findings)


def test_damaged_snapshot_is_skipped_with_a_warning(tmp_path, hist):
    ledger = tmp_path / "a.xlsx"
    snap(ledger, default_rows(), hist, T1)
    broken = hist / "a" / f"000002-20241201-090000-000000-{ledger_key(ledger)}.json"
    broken.write_text("{", encoding="utf-8")
    write_ledger(ledger, default_rows()[:4])
    findings = analyse(ledger, TODAY, history_dir=hist).findings
    codes = [f.code for f in findings]
    assert "history_unreadable" in codes and "history_disappeared" in codes


# ---------------------------------------------------------------- through build_notice

def test_build_stores_snapshots_and_warns_about_regressions(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx")
    target = tmp_path / "out" / "a.docx"
    first = build_notice(ledger, target, today=TODAY)
    assert first.outcome == BUILT and first.snapshot.parent == tmp_path / "out" / ".history" / "a"
    assert not any(f.code.startswith("history_") for f in first.report.findings)
    again = build_notice(ledger, target, today=TODAY)
    assert again.outcome == UNCHANGED and again.snapshot is None  # 无变化: nothing rebuilt
    rows = default_rows()
    rows[0] = row(1, "政治建设不到位", "问题甲", "正在整改")
    write_ledger(ledger, rows)
    third = build_notice(ledger, target, today=TODAY)
    assert third.outcome == BUILT and third.snapshot is not None
    assert [f.code for f in third.report.warnings if f.code.startswith("history_")] == \
        ["history_regressed"]
    assert len(list_snapshots(history_root(tmp_path / "out"), ledger)) == 2


def test_failing_snapshot_does_not_lose_the_notice(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OutputError(tmp_path / "out" / ".history", "无法写入（只读）")

    monkeypatch.setattr(build_module, "store_record", broken)
    ledger = write_ledger(tmp_path / "a.xlsx")
    result = build_notice(ledger, tmp_path / "out" / "a.docx", today=TODAY)
    assert result.outcome == BUILT and result.notice.exists() and result.snapshot is None
    assert result.notes == ("通报记录未能保存：.history：无法写入（只读）（通报已生成，不受影响；"
                            "下次比较变化时将以更早的记录为准）",)


# ---------------------------------------------------------------- CLI

def test_cli_diff_lists_changes_in_chinese(tmp_path):
    ledger = tmp_path / "a.xlsx"
    out = tmp_path / "out"
    snap(ledger, default_rows(), history_root(out))
    rows = default_rows()
    rows[0] = row(1, "政治建设不到位", "问题甲", "正在整改")
    del rows[4]
    write_ledger(ledger, rows)
    result = runner.invoke(app, ["diff", str(ledger), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert re.search(r"与2024年11月1日 09:00 的通报记录（000001-20241101-090000-000000-[0-9a-f]{8}"
                     r"\.json）相比：", result.output)
    assert "状态倒退 1 个" in result.output and "问题消失 1 个" in result.output
    assert "序号1“问题甲”的整改状态由“已完成”倒退为“正在整改”" in result.output
    assert "原6" in result.output  # the vanished row is located in the old version

    as_json = runner.invoke(app, ["diff", str(ledger), "-o", str(out), "--json"])
    data = json.loads(as_json.output)
    assert as_json.exit_code == 0 and data["counts"][REGRESSED] == 1
    assert data["counts"][DISAPPEARED] == 1 and data["errors"] == 0
    assert {c["kind_cn"] for c in data["changes"]} == {"状态倒退", "问题消失"}


def test_cli_diff_exit_codes(tmp_path):
    out = tmp_path / "out"
    ledger = tmp_path / "a.xlsx"
    snap(ledger, default_rows(), history_root(out))
    write_ledger(ledger, default_rows()[:4] + [row(5, "类", "问题戊", "已完城")])
    result = runner.invoke(app, ["diff", str(ledger), "-o", str(out)])
    assert result.exit_code == 1 and "台账有 1 个错误" in result.output
    result = runner.invoke(app, ["diff", str(ledger), "-o", str(tmp_path / "空")])
    assert result.exit_code == 2 and "还没有生成过通报" in result.output
    result = runner.invoke(app, ["diff", str(ledger), "-o", str(out), "--against", "昨天"])
    assert result.exit_code == 2 and "也不是日期" in result.output
    broken = tmp_path / "b.xlsx"
    broken.write_bytes(b"not a workbook")
    result = runner.invoke(app, ["diff", str(broken), "-o", str(out)])
    assert result.exit_code == 2 and "不是 Excel 工作簿" in result.output
    result = runner.invoke(app, ["diff"])
    assert result.exit_code == 2


def test_cli_check_reads_the_history_of_its_out_folder(tmp_path):
    out = tmp_path / "out"
    ledger = tmp_path / "a.xlsx"
    snap(ledger, default_rows(), history_root(out))
    write_ledger(ledger, default_rows()[:4])
    result = runner.invoke(app, ["check", str(ledger), "-o", str(out)])
    assert result.exit_code == 0  # warnings do not fail the check
    assert "序号5“问题戊”（原第 6 行）在台账中找不到了" in result.output
    elsewhere = runner.invoke(app, ["check", str(ledger), "--out", str(tmp_path / "空")])
    assert elsewhere.exit_code == 0 and "找不到了" not in elsewhere.output
    as_json = runner.invoke(app, ["check", str(ledger), "-o", str(out), "--json"])
    codes = [f["code"] for f in json.loads(as_json.output)[0]["findings"]]
    assert "history_disappeared" in codes


def test_cli_render_and_build_print_the_changes_since_the_last_notice(tmp_path):
    folder = tmp_path / "ledgers"
    folder.mkdir()
    ledger = write_ledger(folder / "a.xlsx")
    out = tmp_path / "out"
    first = runner.invoke(app, ["render", str(ledger), "-o", str(out / "a.docx")])
    assert first.exit_code == 0 and "已生成" in first.output and "a-统计.xlsx" in first.output
    assert "找不到了" not in first.output
    write_ledger(ledger, default_rows()[1:])
    again = runner.invoke(app, ["render", str(ledger), "-o", str(out / "a.docx")])
    assert again.exit_code == 0
    assert "a.xlsx：警告" in again.output and "序号1“问题甲”（原第 2 行）在台账中找不到了" in again.output
    built = runner.invoke(app, ["build", str(folder), "-o", str(out)])
    assert built.exit_code == 0 and "序号1“问题甲”（原第 2 行）在台账中找不到了" in built.output


def test_text_edit_shows_the_differing_part_with_context():
    from toolkit.history import Change, text_change

    old = "关于财务报销审批流程整改不及时，导致多笔款项长期挂账的问题"
    new = "关于财务报销审批流程整改不到位，导致多笔款项长期挂账的问题"
    assert text_change(old, new) == ("…销审批流程整改不【及时】，导致多笔款项长…",
                                     "…销审批流程整改不【到位】，导致多笔款项长…")
    # Two long texts that differ near the end: the difference is shown, not two equal prefixes.
    old2 = "甲" * 60 + "原来的结尾"
    new2 = "甲" * 60 + "新的结尾"
    message = Change(TEXT_EDITED, "3", new2, old2, new2, 4, 4).message
    assert "【原来】" in message and "【新】" in message
    assert text_change("问题甲", "问题") == ("问题【甲】", "问题【】")
