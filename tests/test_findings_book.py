"""The 校验报告 workbook: one row per finding, ledger text always stored as plain text."""

from __future__ import annotations

import io
import re
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from toolkit.findings_book import (
    findings_book_bytes,
    remove_findings_book,
    report_path_for,
    report_rows,
    write_findings_book,
)
from toolkit.model import ERROR, INFO, WARNING, Finding
from toolkit.xlsx_out import MAX_CELL_UNITS

HEADER = ["工作表", "单元格", "级别", "列", "值", "说明"]


def finding(severity=ERROR, cell="I5", value="进行了", message="整改状态无法识别", hint="", column="整改状态"):
    return Finding(
        code="status_bad", severity=severity, sheet="整改台账", cell=cell, column=column, value=value, message=message,
        hint=hint)


def rows_of(data: bytes) -> list[tuple]:
    ws = load_workbook(io.BytesIO(data)).active
    return [tuple("" if v is None else v for v in r) for r in ws.iter_rows(values_only=True)]


def test_one_row_per_finding_file_problems_first_then_by_severity():
    findings = [finding(INFO, "A1", message="多余的列"), finding(WARNING, "G4", message="已逾期"),
                finding(ERROR, "I5", message="状态错")]
    data = findings_book_bytes("台账.xlsx", report_rows(findings, ["文件已损坏"], ["通报被占用"]))
    rows = rows_of(data)
    assert "《台账.xlsx》校验报告" in rows[0][0] and "错误 2 个，警告 1 个" in rows[0][0]
    assert list(rows[1]) == HEADER
    assert [(r[1], r[2], r[5]) for r in rows[2:]] == [
        ("", "错误", "文件已损坏"), ("I5", "错误", "状态错"), ("G4", "警告", "已逾期"),
        ("A1", "提示", "多余的列"), ("", "提示", "通报被占用")]
    assert rows[3] == ("整改台账", "I5", "错误", "整改状态", "进行了", "状态错")


def test_hint_is_added_unless_the_message_already_names_it():
    rows = report_rows([finding(message="无法识别", hint="已完成"),
                        finding(message="是否应为“已完成”？", hint="已完成")])
    assert rows[0].message == "无法识别（建议：已完成）"
    assert rows[1].message == "是否应为“已完成”？"


def test_formulas_links_and_numbers_written_by_a_clerk_stay_text():
    nasty = ["=HYPERLINK(\"http://evil\",\"点我\")", "+1+1", "-2", "@SUM(A1)", "http://example.com",
             "mailto:a@b.c", "12", "1e5", "2024-10-30"]
    data = findings_book_bytes("a.xlsx", report_rows([finding(value=v, message=v) for v in nasty]))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet and "hyperlink" not in sheet.lower()
        assert not any(n.startswith("xl/worksheets/_rels") for n in z.namelist())
    ws = load_workbook(io.BytesIO(data)).active
    values = [ws.cell(row, 5) for row in range(3, 3 + len(nasty))]
    assert [c.value for c in values] == nasty
    assert {c.data_type for c in values} == {"s"}


def excel_strings(data: bytes) -> list[str]:
    """The shared strings decoded as Excel does (ECMA-376 Part 1, 22.9.2.19): one pass of
    ``_xHHHH_`` -> the character. openpyxl decodes only part of it, so read the XML."""
    from xml.etree import ElementTree

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    root = ElementTree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("xl/sharedStrings.xml"))
    texts = ["".join(t.text or "" for t in si.iter(f"{ns}t")) for si in root.iter(f"{ns}si")]
    return [re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), t) for t in texts]


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_text_reads_back_as_written(text):
    # Every character a clerk typed comes back, control characters and "_xHHHH_" included:
    # xlsxwriter alone encodes them, once.
    data = findings_book_bytes("a.xlsx", report_rows([finding(value=text + "·")]))
    assert text + "·" in excel_strings(data)


def test_escape_like_text_is_encoded_once():
    # Issue 9.12: "_x0041_" used to read back as "_x005FA" (escaped twice).
    nasty = ["_x0041_", "a_x000D_b", "c\x01d\x1fe", "_x005F_", "x\r\ny"]
    data = findings_book_bytes("a.xlsx", report_rows([finding(value=v) for v in nasty]))
    ws = load_workbook(io.BytesIO(data)).active
    assert [ws.cell(3 + k, 5).value for k in range(2)] == nasty[:2]  # openpyxl: identical
    for value in nasty:
        assert value in excel_strings(data)


def test_overlong_text_is_cut_to_what_a_cell_holds():
    data = findings_book_bytes("a.xlsx", report_rows([finding(value="_x0041_" * 20000)]))
    cell = load_workbook(io.BytesIO(data)).active.cell(3, 5).value
    assert len(cell) <= MAX_CELL_UNITS and "（超出 Excel 单元格长度上限，已截断）" in cell


def test_written_atomically_beside_the_notice_and_removed(tmp_path):
    target = report_path_for(tmp_path / "ledgers" / "某单位台账.xlsx", tmp_path / "out")
    assert target == tmp_path / "out" / "某单位台账-校验报告.xlsx"
    write_findings_book(target, "某单位台账.xlsx", report_rows([finding()]))
    assert rows_of(target.read_bytes())[2][1] == "I5"
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temp file left
    assert remove_findings_book(target) is True
    assert remove_findings_book(target) is False
