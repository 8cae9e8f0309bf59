"""What build/render/check/stats/init print: errors where the clerk looks, warnings, files."""

import json
import os
from pathlib import Path

import pytest
from ledger_factory import META, default_rows, row, write_ledger
from typer.testing import CliRunner

from toolkit import cli
from toolkit.build import BUILT, BuildResult
from toolkit.cli import STATS_COLUMNS, app
from toolkit.official import OFFICIAL_PARTS, missing_official_parts
from toolkit.read import read_ledger

runner = CliRunner()


def many_errors(count):
    return [row(i, "类", f"问题{i}", "已完城") for i in range(1, count + 1)]


def test_render_with_errors_prints_them_with_sheet_cell_value_and_message(tmp_path):
    rows = [row(1, "类", "问题", "已完城"), row(2, "类", None, "已完成")]
    ledger = write_ledger(tmp_path / "坏.xlsx", rows)
    result = runner.invoke(app, ["render", str(ledger), "-o", str(tmp_path / "n.docx")])
    assert result.exit_code == 1
    assert "坏.xlsx：台账有 2 个错误，未生成新通报" in result.output
    assert "整改台账!I2" in result.output and "已完城" in result.output
    assert "整改台账!C3" in result.output
    assert not (tmp_path / "n.docx").exists()


def test_build_lists_the_first_20_errors_then_says_how_many_more(tmp_path):
    folder = tmp_path / "ledgers"
    folder.mkdir()
    write_ledger(folder / "坏.xlsx", many_errors(25))
    result = runner.invoke(app, ["build", str(folder), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert sum(line.startswith("整改台账!I") for line in result.output.splitlines()) == 20
    assert "整改台账!I2" in result.output and "整改台账!I21" in result.output
    assert "整改台账!I22" not in result.output
    assert "另有 5 个，见 toolkit check" in result.output


def test_a_built_notice_prints_its_warnings_and_the_important_ones(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx")
    result = runner.invoke(app, ["render", str(ledger), "-o", str(tmp_path / "out" / "a.docx")])
    assert result.exit_code == 0
    assert "a.xlsx：警告 1 个，其中需要注意的 1 个" in result.output
    assert "整改台账!G4" in result.output and "已逾期" in result.output  # the overdue row
    write_ledger(ledger, default_rows()[1:])  # a problem vanishes from the ledger
    again = runner.invoke(app, ["render", str(ledger), "-o", str(tmp_path / "out" / "a.docx")])
    assert "在台账中找不到了" in again.output and "需要注意的 2 个" in again.output


def test_check_names_the_sheet_with_the_cell(tmp_path):
    meta = dict(META, 反馈日期="不是日期")
    ledger = write_ledger(tmp_path / "坏.xlsx", [row(1, "类", "问题", "已完城")], meta=meta)
    result = runner.invoke(app, ["check", str(ledger)])
    assert "整改台账!I2" in result.output
    assert any(line.split()[1].startswith("通报信息!B") for line in result.output.splitlines()
               if "通报信息!" in line)


def test_missing_official_parts_are_computed_by_the_library(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx", meta={"被巡察单位": "市文联", "巡察组": "  "})
    assert missing_official_parts(read_ledger(ledger).meta) == tuple(label for _f, label in OFFICIAL_PARTS)
    full = write_ledger(tmp_path / "b.xlsx")
    assert missing_official_parts(read_ledger(full).meta) == ()


def test_a_notice_right_after_init_says_what_it_lacks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", "ledgers/新台账.xlsx"]).exit_code == 0
    _add_first_problem(Path("ledgers/新台账.xlsx"))  # a ledger with no problem is an error
    result = runner.invoke(app, ["build", "ledgers", "-o", "out"])
    assert "已生成（缺少：发文机关、成文日期、巡察组、部署依据、统计截止日期）" in result.output
    assert "还不能作为正式通报印发" in result.output
    rendered = runner.invoke(app, ["render", "ledgers/新台账.xlsx", "-o", "out/x.docx"])
    assert "已生成（缺少：发文机关" in rendered.output


def test_a_complete_notice_is_just_built(tmp_path):
    folder = tmp_path / "ledgers"
    folder.mkdir()
    write_ledger(folder / "a.xlsx")
    result = runner.invoke(app, ["build", str(folder), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0 and "已生成" in result.output and "缺少" not in result.output


def test_build_prints_details_first_and_the_table_last_with_relative_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("ledgers").mkdir()
    write_ledger(Path("ledgers/a.xlsx"))
    write_ledger(Path("ledgers/b.xlsx"), [row(1, "类", "问题", "已完城")])
    result = runner.invoke(app, ["build", "ledgers", "-o", "out"])
    assert result.exit_code == 1
    lines = result.stdout.rstrip().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("台账  "))
    table = lines[header:]
    assert table[0].split() == ["台账", "结果", "问题数", "已完成", "正在整改", "未完成", "警告", "文件/原因"]
    assert table[2].startswith("a.xlsx") and table[2].split()[-1] == "out/a.docx"
    assert table[3].split() == ["out/a-统计.xlsx"]
    assert table[4].startswith("b.xlsx") and len(table) == 5
    assert str(tmp_path) not in result.output
    # Progress goes to stderr, one plain line per ledger when not on a terminal.
    assert "生成通报 [1/2] a.xlsx" in result.stderr and "生成通报 [2/2] b.xlsx" in result.stderr


def test_the_result_table_lists_the_pdf_and_the_statistics_workbook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ledger = write_ledger(tmp_path / "a.xlsx")
    from toolkit.pipeline import analyse

    result = BuildResult(ledger, BUILT, report=analyse(ledger), notice=tmp_path / "a.docx",
                         pdf=tmp_path / "a.pdf", stats_book=tmp_path / "a-统计.xlsx")
    rows = cli._build_row(result)
    assert [r[-1] for r in rows] == ["a.docx", "a.pdf", "a-统计.xlsx"]
    assert rows[0][1] == "已生成" and all(r[0] == "" for r in rows[1:])


@pytest.mark.parametrize("tty", [False, True])
def test_progress_yields_every_item_in_order(monkeypatch, tty):
    monkeypatch.setattr("sys.stderr.isatty", lambda: tty, raising=False)
    items = [Path(f"{i}.xlsx") for i in range(3)]
    assert list(cli._progress(items, "生成通报")) == items


def test_init_in_a_missing_folder_says_it_created_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "新文件夹/子/台账.xlsx"])
    assert result.exit_code == 0
    assert "文件夹 新文件夹/子 原来不存在，已新建" in result.output
    assert "已新建空白台账：新文件夹/子/台账.xlsx" in result.output
    again = runner.invoke(app, ["init", "新文件夹/子/另一本.xlsx"])
    assert "原来不存在" not in again.output


def test_init_where_the_folder_is_a_file(tmp_path):
    (tmp_path / "x").write_text("")
    result = runner.invoke(app, ["init", str(tmp_path / "x" / "a.xlsx")])
    assert result.exit_code == 2 and "不是文件夹" in result.output


def test_stats_json_keys_and_the_console_table_agree(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx")
    data = json.loads(runner.invoke(app, ["stats", "--json", str(ledger)]).stdout)
    table = runner.invoke(app, ["stats", str(ledger)]).stdout.splitlines()
    header = next(line for line in table if line.startswith("合计"))
    total = next(line for line in table if line.startswith("全部问题"))
    labels = [label for _key, label in STATS_COLUMNS]
    assert header.split()[1:] == labels
    shown = dict(zip(labels, total.split()[1:]))
    for key, label in STATS_COLUMNS:
        value = data
        for part in key.split("."):
            value = value[part]
        assert shown[label] == str(value), label
    numeric = {k for k, v in data.items() if isinstance(v, (int, float)) and k != "errors"}
    numeric |= {f"counts.{k}" for k in data["counts"]}
    assert numeric == {key for key, _label in STATS_COLUMNS}


def test_paths_are_printed_relative_to_where_toolkit_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_ledger(tmp_path / "a.xlsx")
    result = runner.invoke(app, ["render", "a.xlsx", "-o", str(tmp_path / "out" / "a.docx")])
    assert "out/a.docx" in result.output and str(tmp_path) not in result.output
    summary = runner.invoke(app, ["summary", ".", "-o", str(tmp_path / "out" / "汇总.xlsx")])
    assert "已生成汇总表：out/汇总.xlsx" in summary.output


def test_result_rows_tell_an_unreadable_ledger_from_a_failed_output(tmp_path, monkeypatch):
    from toolkit.build import UNUSABLE
    from toolkit.errors import NotAWorkbookError, OutputError, PdfConversionError
    from toolkit.pipeline import analyse

    monkeypatch.chdir(tmp_path)
    ledger = write_ledger(tmp_path / "a.xlsx")
    report = analyse(ledger)
    unreadable = BuildResult(ledger, UNUSABLE, problem=NotAWorkbookError(ledger, "不是工作簿"))
    unwritable = BuildResult(ledger, UNUSABLE, report=report, problem=OutputError("out/a.docx", "无法写入"))
    no_pdf = BuildResult(ledger, UNUSABLE, report=report, notice=tmp_path / "a.docx",
                         problem=PdfConversionError("a.docx", "找不到 LibreOffice"))
    assert cli._build_row(unreadable) == [["a.xlsx", "无法使用", "", "", "", "", "", "不是工作簿"]]
    assert cli._build_row(unwritable)[0][1] == "未生成"
    rows = cli._build_row(no_pdf)
    assert rows[0][1] == "已生成通报，PDF 未生成" and rows[0][-1] == "找不到 LibreOffice"
    assert rows[1][-1] == "a.docx"


def _add_first_problem(path: Path) -> None:
    """What a clerk does next in a new ledger: fill in the first problem under the header."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb.worksheets[0]
    header_row = next(r for r in range(1, 11) if any(c.value == "具体问题" for c in ws[r]))
    values = {"序号": 1, "具体问题": "问题甲", "整改状态": "正在整改", "整改时限": "长期坚持"}
    for cell in ws[header_row]:
        if cell.value in values:
            ws.cell(header_row + 1, cell.column, values[cell.value])
    wb.save(path)


def test_paths_outside_the_working_folder_are_relative_too(tmp_path, monkeypatch):
    (tmp_path / "ledgers").mkdir()
    write_ledger(tmp_path / "ledgers" / "a.xlsx")
    monkeypatch.chdir(tmp_path / "ledgers")
    result = runner.invoke(app, ["build", ".", "-o", "../通报"])
    assert result.exit_code == 0, result.output
    assert f"..{os.sep}通报{os.sep}a.docx" in result.output and str(tmp_path) not in result.output


def test_stats_says_which_sheet_it_counted(tmp_path):
    from openpyxl import load_workbook

    path = write_ledger(tmp_path / "a.xlsx")
    wb = load_workbook(path)
    copy = wb.copy_worksheet(wb["整改台账"])
    copy.title = "2023年台账"
    wb.move_sheet(copy, offset=-wb.index(copy))  # placed first, as Excel's Move or Copy does
    wb.save(path)
    result = runner.invoke(app, ["stats", str(path), "--json"])
    assert "2023年台账" in result.stderr and "台账工作表" in result.stderr
    assert json.loads(result.stdout)["total"] == 5
