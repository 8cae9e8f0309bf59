"""Which sheet is the ledger (issue 9.9), section rows by shape (9.10), Excel's escapes (9.12),
a renamed required column (11.6) and a ledger open in a spreadsheet program (11.3)."""

from __future__ import annotations

import pytest
from ledger_factory import HEADER, META, default_rows, row, write_ledger
from openpyxl import load_workbook
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.errors import NoHeaderError
from toolkit.pipeline import analyse
from toolkit.read import read_ledger

runner = CliRunner()


def _add_sheet(path, title, rows, *, index=0, hidden=False):
    wb = load_workbook(path)
    ws = wb.create_sheet(title, index)
    for values in rows:
        ws.append(list(values))
    if hidden:
        ws.sheet_state = "hidden"
    wb.save(path)
    return path


# ---------------------------------------------------------------- 9.9 the ledger sheet

def test_hidden_copy_placed_first_is_never_the_ledger(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx")
    _add_sheet(path, "整改台账（旧）", [HEADER, row(1, "类", "旧问题", "未完成")], hidden=True)
    ledger = read_ledger(path)
    assert ledger.sheet == "整改台账" and len(ledger.problems) == 5
    assert not [f for f in ledger.findings if f.code == "several_ledger_sheets"]


def test_only_a_hidden_sheet_with_a_header_says_so(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx")
    wb = load_workbook(path)
    wb["整改台账"].sheet_state = "hidden"
    wb.save(path)
    with pytest.raises(NoHeaderError) as info:
        read_ledger(path)
    assert "隐藏" in info.value.message and "整改台账" in info.value.message


@pytest.mark.parametrize("name", ["填表说明", "说明", "示例", "样表", "台账填写示例"])
def test_instruction_sheet_with_header_and_example_is_not_chosen(tmp_path, name):
    path = write_ledger(tmp_path / "a.xlsx")
    _add_sheet(path, name, [HEADER, row(1, "示例类别", "示例问题", "已完成")])
    ledger = read_ledger(path)
    assert ledger.sheet == "整改台账" and len(ledger.problems) == 5
    [warning] = [f for f in ledger.findings if f.code == "several_ledger_sheets"]
    assert warning.severity == "warning" and "“整改台账”" in warning.message and name in warning.message


def test_two_ledger_sheets_warn_and_the_first_visible_is_used(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx")
    _add_sheet(path, "2023年台账", [HEADER, row(1, "类", "去年的问题", "已完成")], index=1)
    ledger = read_ledger(path)
    assert ledger.sheet == "整改台账"
    [warning] = [f for f in analyse(path).findings if f.code == "several_ledger_sheets"]
    assert "2023年台账" in warning.message and "--sheet" in warning.message


def test_sheet_option_and_meta_key_choose(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx")
    _add_sheet(path, "2023年台账", [HEADER, row(1, "类", "去年的问题", "已完成")], index=1)
    assert [p.problem for p in read_ledger(path, sheet="2023年台账").problems] == ["去年的问题"]
    meta = dict(META, 台账工作表="2023年台账")
    path2 = write_ledger(tmp_path / "b.xlsx", meta=meta)
    _add_sheet(path2, "2023年台账", [HEADER, row(1, "类", "去年的问题", "已完成")], index=1)
    ledger = read_ledger(path2)
    assert ledger.sheet == "2023年台账"
    assert not [f for f in ledger.findings if f.code in ("unknown_meta_key", "several_ledger_sheets")]


def test_unknown_sheet_name_is_a_clear_error(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx")
    with pytest.raises(NoHeaderError) as info:
        read_ledger(path, sheet="不存在")
    assert "不存在" in info.value.message and "整改台账" in info.value.message
    result = runner.invoke(app, ["check", str(path), "--sheet", "不存在"])
    assert result.exit_code == 2 and "不存在" in result.output
    meta_path = write_ledger(tmp_path / "b.xlsx", meta=dict(META, 台账工作表="旧表"))
    with pytest.raises(NoHeaderError) as info:
        read_ledger(meta_path)
    assert "旧表" in info.value.message and "通报信息!B" in info.value.message


def test_sheet_option_reaches_stats_and_render(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx")
    _add_sheet(path, "2023年台账", [HEADER, row(1, "类", "去年的问题", "已完成")], index=1)
    result = runner.invoke(app, ["stats", str(path), "--json", "--sheet", "2023年台账"])
    assert result.exit_code == 0 and '"total": 1' in result.output
    notice = tmp_path / "n.docx"
    result = runner.invoke(app, ["render", str(path), "-o", str(notice), "--sheet", "2023年台账"])
    assert result.exit_code == 0 and notice.exists()


# ---------------------------------------------------------------- 9.10 section rows by shape

def test_new_row_with_only_its_problem_typed_counts_when_problem_is_first(tmp_path):
    header = ["具体问题", "整改措施", "责任部门", "整改时限", "整改进展", "整改状态"]
    rows = [["问题甲", "措施", "办公室", "2024年9月底前", "进展", "已完成"],
            ["刚录入的问题乙", None, None, None, None, None]]
    report = analyse(write_ledger(tmp_path / "a.xlsx", rows, header=header))
    assert [p.problem for p in report.ledger.problems] == ["问题甲", "刚录入的问题乙"]
    [missing] = [f for f in report.findings if f.code == "missing_status"]
    assert missing.cell == "F3" and "整改状态为空" in missing.message


def test_section_row_merged_across_still_a_section_when_problem_is_first(tmp_path):
    header = ["具体问题", "整改措施", "责任部门", "整改时限", "整改进展", "整改状态"]
    rows = [["第一方面问题：政治建设"] + [None] * 5, ["问题甲", "措施", "办公室", "长期坚持", "进展", "已完成"]]
    ledger = read_ledger(write_ledger(tmp_path / "a.xlsx", rows, header=header, merges=["A2:F2"]))
    assert [(p.problem, p.category) for p in ledger.problems] == [("问题甲", "政治建设")]


def test_long_text_alone_in_the_number_column_is_not_a_heading(tmp_path):
    rows = default_rows() + [["这是一段很长的问题描述" * 10] + [None] * 11, row(6, None, "问题己", "已完成")]
    ledger = read_ledger(write_ledger(tmp_path / "a.xlsx", rows))
    assert [p.category for p in ledger.problems][-1] == "财务管理不规范"


# ---------------------------------------------------------------- 9.12 Excel's _xHHHH_ escapes

def test_excel_escapes_are_decoded_as_excel_does(tmp_path):
    from hostile_corpus import STRINGS, rewrite, shared

    path = shared(tmp_path / "a.xlsx", [row(1, "类", "问题甲", "已完成"), row(2, "类", "问题乙", "已完成")])
    rewrite(path, {STRINGS: lambda d: d.replace("问题甲".encode(), b"A_x000D__x000A_B_x0001_C")
                   .replace("问题乙".encode(), b"_x005F_x0041_ and _x0041_ and _xD83D__xDE00_")})
    problems = read_ledger(path).problems
    assert problems[0].problem == "A\nB\x01C"
    assert problems[1].problem == "_x0041_ and A and 😀"


# ---------------------------------------------------------------- 11.6 a renamed required column

def test_renamed_problem_column_is_one_error_with_the_closest_header(tmp_path):
    header = list(HEADER)
    header[2] = "反馈的问题"
    report = analyse(write_ledger(tmp_path / "a.xlsx", header=header))
    errors = report.errors
    assert len(errors) == 1, [e.message for e in errors]
    [error] = errors
    assert error.code == "missing_column" and error.cell == "C1"
    assert "具体问题" in error.message and "是否是“反馈的问题”" in error.message
    assert "序号" in error.message and "整改状态" in error.message  # the headers found


# ---------------------------------------------------------------- 11.3 open in Excel/WPS/LibreOffice

@pytest.mark.parametrize("lock, program", [("~$台账.xlsx", "Excel/WPS"), (".~lock.台账.xlsx#", "LibreOffice"),
                                           (".~台账.xlsx", "WPS")])
def test_lock_file_beside_the_ledger_is_a_warning(tmp_path, lock, program):
    path = write_ledger(tmp_path / "台账.xlsx")
    assert not [f for f in analyse(path).findings if f.code == "ledger_open"]
    (tmp_path / lock).write_bytes(b"owner")
    [finding] = [f for f in analyse(path).findings if f.code == "ledger_open"]
    assert finding.severity == "warning" and program in finding.message
    assert "台账正在被编辑" in finding.message and "通报按最后一次保存的内容生成" in finding.message
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0 and "台账正在被编辑" in result.output


def test_build_and_render_say_the_ledger_is_open(tmp_path):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = write_ledger(ledgers / "台账.xlsx")
    (ledgers / ".~lock.台账.xlsx#").write_text("user", encoding="utf-8")
    result = runner.invoke(app, ["build", str(ledgers), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0 and "LibreOffice" in result.output and "台账正在被编辑" in result.output
    result = runner.invoke(app, ["render", str(path), "-o", str(tmp_path / "n.docx")])
    assert result.exit_code == 0 and "台账正在被编辑" in result.output


def test_example_sheet_known_by_its_rows_is_not_chosen(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx")
    _add_sheet(path, "Sheet1", [HEADER, row(1, "示例：政治建设", "例：某某问题（示例）", "已完成")])
    ledger = read_ledger(path)
    assert ledger.sheet == "整改台账" and len(ledger.problems) == 5
