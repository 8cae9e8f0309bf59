import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
import xlsxwriter
from ledger_factory import HEADER, default_rows, row, write_ledger
from openpyxl.styles import Font

from toolkit.errors import NoHeaderError
from toolkit.model import DONE, IN_PROGRESS, NOT_DONE
from toolkit.read import clean_category, read_ledger


def test_plain_ledger(tmp_path):
    ledger = read_ledger(write_ledger(tmp_path / "a.xlsx"))
    assert ledger.sheet == "整改台账" and ledger.header_row == 1
    assert [p.problem for p in ledger.problems] == ["问题甲", "问题乙", "问题丙", "问题丁", "问题戊"]
    assert [p.status for p in ledger.problems] == [DONE, IN_PROGRESS, NOT_DONE, IN_PROGRESS, DONE]
    first = ledger.problems[0]
    assert first.cells["status"] == "I2" and first.cells["problem"] == "C2"
    assert first.row == 2 and first.seq == 1 and first.number == "1"


def test_title_rows_above_header_merged_across(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx",
                        title_rows=["中共XX党组巡察反馈意见整改台账", "填报单位：办公室  截至2024年10月30日"],
                        merges=["A1:L1", "A2:L2"])
    ledger = read_ledger(path)
    assert ledger.header_row == 3
    assert len(ledger.problems) == 5
    assert ledger.problems[0].cells["status"] == "I4"


def test_header_anywhere_in_first_ten_rows(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx", title_rows=["标题"] + [""] * 8)
    assert read_ledger(path).header_row == 10


def test_header_below_row_ten_is_refused(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx", title_rows=["标题"] * 10)
    with pytest.raises(NoHeaderError) as info:
        read_ledger(path)
    assert "a.xlsx" in info.value.message and "表头" in info.value.message


def test_synonym_headers_with_spaces_and_colons(tmp_path):
    header = ["编号", "方面", "问题 描述", "整改举措", "牵头领导", "责任单位：", "完成时限",
              "整改情况", "完成状态:", "是否长期坚持", "书记点人点事", "追赃挽损(元)"]
    rows = [row(1, "类", "问题", "整改完成", recovered=200)]
    ledger = read_ledger(write_ledger(tmp_path / "a.xlsx", rows, header=header))
    p = ledger.problems[0]
    assert (p.problem, p.status, p.unit) == ("问题", DONE, "办公室")
    assert p.recovered_wan == Decimal("0.02")
    assert ledger.headers["unit"] == "责任单位："


def test_unknown_header_is_kept_as_extra_and_reported_once_as_info(tmp_path):
    header = HEADER + ["督办人"]
    rows = [r + ["王某"] for r in default_rows()]
    ledger = read_ledger(write_ledger(tmp_path / "a.xlsx", rows, header=header))
    infos = [f for f in ledger.findings if f.code == "extra_column"]
    assert len(infos) == 1 and infos[0].severity == "info" and infos[0].cell == "M1"
    assert ledger.problems[0].extras == (("督办人", "王某"),)


def test_category_merged_down(tmp_path):
    rows = [row(1, "第一方面问题：政治建设不到位", "甲", "已完成"), row(2, None, "乙", "已完成"),
            row(3, None, "丙", "已完成"), row(4, "二、财务管理", "丁", "已完成"), row(5, None, "戊", "已完成")]
    ledger = read_ledger(write_ledger(tmp_path / "a.xlsx", rows, merges=["B2:B4", "B5:B6"]))
    assert [p.category for p in ledger.problems] == ["政治建设不到位"] * 3 + ["财务管理"] * 2


def test_section_rows_set_category_and_subcategory(tmp_path):
    blank = [None] * len(HEADER)
    rows = [
        ["第一方面问题：落实上级决策部署不到位"] + blank[1:],
        ["（一）学习贯彻有差距"] + blank[1:],
        row(1, None, "甲", "已完成"),
        row(2, None, "乙", "正在整改"),
        ["一、聚焦群众身边腐败问题"] + blank[1:],
        row(3, None, "丙", "已完成"),
    ]
    ledger = read_ledger(write_ledger(tmp_path / "a.xlsx", rows, merges=["A2:L2", "A3:L3"]))
    got = [(p.problem, p.category, p.subcategory) for p in ledger.problems]
    assert got == [("甲", "落实上级决策部署不到位", "学习贯彻有差距"),
                   ("乙", "落实上级决策部署不到位", "学习贯彻有差距"),
                   ("丙", "聚焦群众身边腐败问题", "")]


def test_blank_rows_and_formatted_empty_rows(tmp_path):
    path = tmp_path / "a.xlsx"
    write_ledger(path, default_rows()[:2] + [[None] * 12] + default_rows()[2:])
    from openpyxl import load_workbook
    wb = load_workbook(path)
    ws = wb["整改台账"]
    for r in range(10, 600):  # formatted but empty rows after the last problem
        for c in range(1, 13):
            ws.cell(r, c).font = Font(bold=True)
        ws.cell(r, 1).value = None
    wb.save(path)
    ledger = read_ledger(path)
    assert len(ledger.problems) == 5


def test_running_number_alone_is_not_a_problem(tmp_path):
    rows = default_rows() + [[6] + [None] * 11, [7] + [None] * 11]
    assert len(read_ledger(write_ledger(tmp_path / "a.xlsx", rows)).problems) == 5


def test_line_breaks_are_kept(tmp_path):
    rows = [row(1, "类", "问题", "已完成", progress="一是甲。\n二是乙。\r\n三是丙。")]
    p = read_ledger(write_ledger(tmp_path / "a.xlsx", rows)).problems[0]
    assert p.progress == "一是甲。\n二是乙。\n三是丙。"


def test_numbers_as_text_and_dates_in_both_forms(tmp_path):
    rows = [row("12", "类", "问题", "正在整改", deadline=datetime(2024, 9, 30)),
            row(13.0, "类", "问题二", "正在整改", deadline="2024年9月底前")]
    ledger = read_ledger(write_ledger(tmp_path / "a.xlsx", rows))
    assert [p.number for p in ledger.problems] == ["12", "13"]
    assert [p.deadline for p in ledger.problems] == [date(2024, 9, 30)] * 2


def test_meta_sheet(tmp_path):
    meta = read_ledger(write_ledger(tmp_path / "a.xlsx")).meta
    assert meta.issuer == "中共某某市文联党组" and meta.unit == "市文联"
    assert meta.start_date == date(2024, 4, 10) and meta.end_date == date(2024, 5, 11)
    assert meta.as_of == date(2024, 10, 30) and meta.kind == "集中整改进展"
    assert meta.organisation == ("第一段组织情况。", "第二段组织情况。")
    assert meta.cells["issuer"] == "B2"


def test_meta_synonyms_and_bad_date(tmp_path):
    meta = {"发文单位": "某党组", "截止日期": "2024年10月30日", "成文日期": "明天", "奇怪的项": "x"}
    ledger = read_ledger(write_ledger(tmp_path / "a.xlsx", meta=meta))
    assert ledger.meta.issuer == "某党组" and ledger.meta.as_of == date(2024, 10, 30)
    assert ledger.meta.issue_date is None
    codes = {f.code for f in ledger.findings}
    assert {"bad_meta_date", "unknown_meta_key"} <= codes


def test_ledger_sheet_is_first_with_a_header(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx", extra_sheets=["填表说明"])
    assert read_ledger(path).sheet == "整改台账"


def test_formula_without_cached_value_is_reported(tmp_path):
    # openpyxl writes formulas without cached results, like any tool that does not calculate.
    rows = default_rows()
    rows[0][0] = "=ROW()-1"
    ledger = read_ledger(write_ledger(tmp_path / "a.xlsx", rows))
    found = [f for f in ledger.findings if f.code == "formula_no_cache"]
    assert [(f.cell, f.severity) for f in found] == [("A2", "warning")]
    assert ledger.problems[0].number == ""


def test_formula_with_cached_value_and_unverified_flag(tmp_path):
    path = tmp_path / "x.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("台账")
    ws.write_row(0, 0, ["序号", "具体问题", "整改状态", "责任部门"])
    ws.write_formula(1, 0, "=ROW()-1", None, 1)
    ws.write_row(1, 1, ["问题", "已完成", "办公室"])
    wb.close()
    ledger = read_ledger(path)
    assert ledger.problems[0].number == "1"  # the cached value
    assert ledger.formulas_unverified  # xlsxwriter asks Excel to recalculate on load
    assert ledger.problems[0].formula_cells == ("A2",)


def test_forged_merge_over_a_million_rows_is_cheap(tmp_path):
    from test_safety import rewrite_member

    rows = [row(1, "类", "甲", "已完成"), row(2, None, "乙", "已完成")]
    path = write_ledger(tmp_path / "a.xlsx", rows, merges=["B2:B3"])
    # Only the <mergeCell> claims a million rows; the sheet data stays two rows long.
    rewrite_member(path, "xl/worksheets/sheet1.xml",
                   lambda data: data.replace(b'ref="B2:B3"', b'ref="B2:B1048576"'))
    assert b"B2:B1048576" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    ledger = read_ledger(path)
    assert [p.category for p in ledger.problems] == ["类", "类"]


@pytest.mark.parametrize("text,expected", [
    ("第一方面问题：落实不到位", "落实不到位"), ("第十二方面：党建", "党建"), ("三、作风", "作风"),
    ("作风建设", "作风建设"),
])
def test_clean_category(text, expected):
    assert clean_category(text) == expected


def test_missing_meta_sheet_reads(tmp_path):
    ledger = read_ledger(write_ledger(tmp_path / "a.xlsx", meta=None))
    assert ledger.meta.sheet == "" and ledger.meta.issuer is None


def test_reading_never_writes_the_ledger(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx")
    before = path.read_bytes(), path.stat().st_mtime_ns
    read_ledger(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_1904_date_system(tmp_path):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    rows = [row(1, "类", "问题", "正在整改", deadline=datetime(2024, 9, 30))]
    path = write_ledger(tmp_path / "a.xlsx", rows, epoch=CALENDAR_MAC_1904)
    assert read_ledger(path).problems[0].deadline == date(2024, 9, 30)




def test_borders_down_to_many_rows_are_a_real_ledger_not_a_bomb(tmp_path):
    """600,000 formatted empty cells, each with its own reference as Excel writes them."""
    from hostile_corpus import SHEET, _stream_member, member
    from openpyxl.utils.cell import get_column_letter

    path = write_ledger(tmp_path / "边框.xlsx")
    head, tail = member(path, SHEET).split(b"</sheetData>")
    letters = [get_column_letter(c) for c in range(1, 31)]
    cell = '<c r="{}{}" s="1"/>'
    rows = b"".join((f'<row r="{r}">' + "".join(cell.format(x, r) for x in letters) + "</row>").encode()
                    for r in range(7, 20_007))
    _stream_member(path, SHEET, head, rows, 1, b"</sheetData>" + tail)
    assert len(read_ledger(path).problems) == 5
