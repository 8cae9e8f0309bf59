"""Roll-up across units: one line per ledger, totals equal to the sum, workbook and CLI."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from ledger_factory import META, default_rows, row, write_ledger
from openpyxl import load_workbook
from typer.testing import CliRunner

from toolkit.cli import _shown, app
from toolkit.history import history_root, store_snapshot
from toolkit.pipeline import analyse
from toolkit.rollup import HEADERS, INVALID, OK, SHEET_NAME, UNUSABLE, RollupError, rollup, rollup_workbook, table_rows

TODAY = date(2024, 10, 30)
runner = CliRunner()


@pytest.fixture
def folder(tmp_path):
    """Three units, one ledger with an error, one file that is not a workbook."""
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    write_ledger(ledgers / "甲.xlsx", meta=dict(META, 被巡察单位="市文联"))
    write_ledger(ledgers / "乙.xlsx", default_rows()[:3] + [
        row(4, "作风建设", "问题丁", "正在整改", deadline="2024年1月", recovered="300元")],
        meta=dict(META, 被巡察单位="市档案馆"))
    write_ledger(ledgers / "丙.xlsx", [row(1, "类", "问题", "已完成"), row(2, "类", "问题二", "已完城")],
                 meta=dict(META, 被巡察单位="市科协"))
    (ledgers / "丁.xlsx").write_bytes(b"PK\x03\x04 broken")
    (ledgers / "~$甲.xlsx").write_bytes(b"owner file")  # Excel's lock file: not a ledger
    return ledgers


def test_totals_are_the_sum_of_the_ledgers(folder):
    result = rollup(folder, today=TODAY)
    assert [r.ledger.name for r in result.rows] == ["丁.xlsx", "丙.xlsx", "乙.xlsx", "甲.xlsx"]
    states = {r.ledger.name: r.state for r in result.rows}
    assert states == {"丁.xlsx": UNUSABLE, "丙.xlsx": INVALID, "乙.xlsx": OK, "甲.xlsx": OK}
    counted = [analyse(folder / name, TODAY).stats.overall for name in ("丙.xlsx", "乙.xlsx", "甲.xlsx")]
    for field in ("total", "done", "in_progress", "not_done", "long_term", "flagged", "overdue",
                  "recovered_wan"):
        assert getattr(result.total, field) == sum((getattr(c, field) for c in counted),
                                                   0 if field != "recovered_wan" else Decimal(0))
    assert result.total.total == 5 + 4 + 1
    assert result.total.recovered_wan == Decimal("0.05")
    assert result.total.completion_rate == round(result.total.done * 100 / result.total.total, 1)
    assert result.exit_code == 2


def test_bad_ledgers_get_a_row_saying_so(folder):
    rows = {r.ledger.name: r for r in rollup(folder, today=TODAY).rows}
    assert rows["丁.xlsx"].note.startswith("无法使用：") and rows["丁.xlsx"].counts is None
    assert rows["丙.xlsx"].note == "有 1 个错误（统计不完整）" and rows["丙.xlsx"].counts.total == 1
    assert rows["甲.xlsx"].unit == "市文联" and rows["丁.xlsx"].unit == "丁"


def test_workbook_values_and_chart(folder, tmp_path):
    history = history_root(tmp_path / "out")
    store_snapshot(analyse(folder / "甲.xlsx", TODAY), history, now=datetime(2024, 12, 20, 15, 30))
    result = rollup(folder, history_dir=history, today=TODAY)
    book = rollup_workbook(result)
    assert book.notes == ()
    wb = load_workbook(io.BytesIO(book.data))
    assert wb.sheetnames == [SHEET_NAME]
    ws = wb[SHEET_NAME]
    assert len(ws._charts) == 1
    table = list(ws.iter_rows(min_row=4, max_row=9, values_only=True))
    assert table[0] == HEADERS
    lines = {r[0]: r for r in table[1:]}
    assert lines["丁.xlsx"][2].startswith("无法使用") and lines["丁.xlsx"][3] is None
    assert lines["甲.xlsx"][1:12] == ("市文联", "正常", 5, 2, 2, 1, 1, 1, 1, 40, 0.02)
    assert lines["甲.xlsx"][12] == datetime(2024, 12, 20, 15, 30)
    assert lines["乙.xlsx"][12] == "-"
    total = lines["合计"]
    assert total[1] == "3 个单位" and total[3] == result.total.total == 10
    # The totals row is the column sums of the ledgers' rows.
    for col in range(3, 10):
        if HEADERS[col] != "完成率（%）":
            assert total[col] == sum(r[col] or 0 for name, r in lines.items() if name != "合计")
    assert total[11] == pytest.approx(0.05)
    with zipfile.ZipFile(io.BytesIO(book.data)) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert '<c:grouping val="stacked"/>' in chart and chart.count("<c:ser>") == 3


def test_table_rows_print_the_same_numbers(folder):
    result = rollup(folder, today=TODAY)
    lines = {r[0]: r for r in table_rows(result)}
    assert lines["甲.xlsx"][3:12] == ["5", "2", "2", "1", "1", "1", "1", "40.0%", "0.02"]
    assert lines["合计"][3] == "10" and lines["合计"][11] == "0.05"
    assert lines["丁.xlsx"][3:12] == [""] * 9


def test_empty_or_missing_folder_cannot_be_rolled_up(tmp_path):
    with pytest.raises(RollupError, match="没有台账"):
        rollup(tmp_path)
    with pytest.raises(RollupError, match="无法读取文件夹"):
        rollup(tmp_path / "无")


# ---------------------------------------------------------------- CLI

def test_cli_summary_writes_and_prints(folder, tmp_path):
    target = tmp_path / "汇总" / "各单位汇总.xlsx"
    result = runner.invoke(app, ["summary", str(folder), "-o", str(target),
                                 "--notices", str(tmp_path / "out")])
    assert result.exit_code == 2  # one ledger is unusable
    out = result.output
    for header in ("台账", "被巡察单位", "问题数", "已完成", "正在整改", "未完成", "逾期",
                   "完成率（%）", "最近生成通报"):
        assert header in out
    assert "无法使用：" in out and "有 1 个错误（统计不完整）" in out and "3 个单位" in out
    assert f"已生成汇总表：{_shown(target)}" in out
    assert load_workbook(target)[SHEET_NAME]["A5"].value == "丁.xlsx"


def test_cli_summary_exit_codes(tmp_path, folder):
    (folder / "丁.xlsx").unlink()
    target = folder / "汇总.xlsx"  # written into the ledger folder on purpose
    assert runner.invoke(app, ["summary", str(folder), "-o", str(target)]).exit_code == 1
    (folder / "丙.xlsx").unlink()
    first = runner.invoke(app, ["summary", str(folder), "-o", str(target)])
    assert first.exit_code == 0, first.output
    # The roll-up itself is never rolled up as a ledger.
    again = runner.invoke(app, ["summary", str(folder), "-o", str(target)])
    assert again.exit_code == 0
    assert not any(line.startswith("汇总.xlsx") for line in again.output.splitlines())
    assert any(line.startswith("甲.xlsx") for line in again.output.splitlines())
    assert runner.invoke(app, ["summary", str(tmp_path / "无")]).exit_code == 2
    empty = tmp_path / "空"
    empty.mkdir()
    result = runner.invoke(app, ["summary", str(empty), "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2 and "没有台账" in result.output
    result = runner.invoke(app, ["summary", str(folder), "-o", str(tmp_path / "x.docx")])
    assert result.exit_code == 2 and "须以 .xlsx 结尾" in result.output


def test_two_ledgers_of_one_unit_are_counted_once(tmp_path):
    import os

    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    old = write_ledger(ledgers / "市文联台账（旧）.xlsx", meta=dict(META, 被巡察单位="市文联"))
    new = write_ledger(ledgers / "市文联台账.xlsx", default_rows()[:3], meta=dict(META, 被巡察单位="市文联"))
    write_ledger(ledgers / "科协.xlsx", meta=dict(META, 被巡察单位="市科协"))
    os.utime(old, (1_000_000_000, 1_000_000_000))
    result = rollup(ledgers, today=TODAY)
    assert result.units == 2 and result.total.total == 3 + 5
    assert len(result.notes) == 1 and old.name in result.notes[0] and new.name in result.notes[0]
    skipped = next(r for r in result.rows if r.ledger == old)
    assert not skipped.counted and new.name in skipped.note
    lines = {r[0]: r for r in table_rows(result)}
    assert lines["合计"][1] == "2 个单位" and lines["合计"][3] == "8"
    cli = runner.invoke(app, ["summary", str(ledgers), "-o", str(tmp_path / "汇总.xlsx")])
    assert cli.exit_code == 0 and "只计一次" in cli.output


def test_a_ledger_left_out_for_a_newer_one_of_the_same_name_is_named(tmp_path):
    import os

    from format_factory import write_xls

    folder = tmp_path / "units"
    folder.mkdir()
    old = write_ledger(folder / "台账.xlsx")
    os.utime(old, (1_600_000_000, 1_600_000_000))
    write_xls(folder / "台账.xls")
    result = rollup(folder)
    assert [r.ledger.name for r in result.rows] == ["台账.xls"]
    assert any("台账.xlsx" in note and "同名" in note for note in result.notes)
