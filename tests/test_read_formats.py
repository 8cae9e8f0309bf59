"""Every spreadsheet format a clerk saves reads into the same ledger, findings and cell refs."""

from __future__ import annotations

import dataclasses
import shutil
import struct
from datetime import datetime
from decimal import Decimal

import pytest
from format_factory import ods_table, write_ods, write_ods_tables, write_xls
from ledger_factory import HEADER, default_rows, row, write_ledger

from toolkit.errors import NotAWorkbookError, UnreadableLedgerError
from toolkit.pipeline import analyse
from toolkit.read import read_ledger

TODAY = datetime(2024, 12, 1).date()
WRITERS = {".xlsx": write_ledger, ".xls": write_xls, ".ods": write_ods}


def _layouts():
    blank = [None] * len(HEADER)
    sections = [["第一方面问题：落实上级决策部署不到位"] + blank[1:], row(1, None, "甲", "已完成"),
                row(2, None, "乙\n第二行", "正在整改", deadline=datetime(2024, 9, 30)),
                ["二、财务管理"] + blank[1:], row(3, None, "丙", "已完成城", recovered="两万")]
    return {
        "plain": dict(),
        "titles_and_merged_category": dict(title_rows=["中共XX党组巡察反馈意见整改台账"],
                                           merges=["A1:L1", "B3:B4", "B5:B7"]),
        "sections_and_errors": dict(rows=sections, merges=["A2:L2", "A5:L5"]),
    }


def _comparable(report):
    problems = [dataclasses.replace(p, cells=dict(p.cells)) for p in report.ledger.problems]
    return problems, report.findings, report.stats


@pytest.mark.parametrize("layout", list(_layouts()))
@pytest.mark.parametrize("suffix", [".xls", ".ods"])
def test_same_ledger_findings_and_counts_as_xlsx(tmp_path, layout, suffix):
    options = _layouts()[layout]
    reference = analyse(write_ledger(tmp_path / "a.xlsx", **options), TODAY)
    other = analyse(WRITERS[suffix](tmp_path / f"a{suffix}", **options), TODAY)
    assert _comparable(other) == _comparable(reference)
    assert other.ledger.meta == reference.ledger.meta
    assert reference.ledger.problems  # the comparison is not vacuous


def test_wps_et_holding_a_biff_workbook_is_read(tmp_path):
    xls = write_xls(tmp_path / "a.xls")
    et = tmp_path / "台账.et"
    shutil.copy(xls, et)
    assert len(read_ledger(et).problems) == 5


def test_hidden_sheet_of_an_xls_is_never_the_ledger(tmp_path):
    path = write_xls(tmp_path / "a.xls", hidden_first="整改台账（旧）")
    ledger = read_ledger(path)
    assert ledger.sheet == "整改台账" and len(ledger.problems) == 5


def test_xls_with_one_cell_far_away_is_refused_before_calamine_builds_its_grid(tmp_path):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("整改台账")
    for c, text in enumerate(HEADER):
        sheet.write(0, c, text)
    sheet.write(65535, 255, "远处的一格")  # a dense grid of 16.7 M cells inside calamine
    path = tmp_path / "稀疏.xls"
    book.save(str(path))
    assert path.stat().st_size < 20_000
    with pytest.raises(UnreadableLedgerError) as info:
        read_ledger(path)
    assert "稀疏.xls" in info.value.message and "拒绝读取" in info.value.message


def test_ods_repeated_cells_are_counted_before_reading(tmp_path):
    header = "".join(f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
                     for h in HEADER)
    bomb = ('<table:table table:name="整改台账"><table:table-row>' + header + "</table:table-row>"
            '<table:table-row table:number-rows-repeated="1000000"><table:table-cell '
            'table:number-columns-repeated="1000" office:value-type="string"><text:p>x</text:p>'
            "</table:table-cell></table:table-row></table:table>")
    path = write_ods_tables(tmp_path / "重复.ods", [bomb])
    assert path.stat().st_size < 5_000
    with pytest.raises(UnreadableLedgerError) as info:
        read_ledger(path)
    assert "重复.ods" in info.value.message


def test_ods_sheet_with_trailing_repeated_empty_rows_reads(tmp_path):
    table = ods_table("整改台账", [HEADER] + [list(r) for r in default_rows()])
    table = table.replace("</table:table>", '<table:table-row table:number-rows-repeated="1048000">'
                          '<table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table>')
    assert len(read_ledger(write_ods_tables(tmp_path / "a.ods", [table])).problems) == 5


@pytest.mark.parametrize("content, words", [
    (b"\xef\xbb\xbf\xe5\xba\x8f\xe5\x8f\xb7,\xe5\x85\xb7\xe4\xbd\x93\xe9\x97\xae\xe9\xa2\x98\n1,x\n", ("CSV",)),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ("PDF",)),
    (b"<html><body>x</body></html>", ("网页",)),
])
def test_foreign_file_named_like_a_ledger_says_what_it_is(tmp_path, content, words):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(content)
    with pytest.raises(NotAWorkbookError) as info:
        read_ledger(path)
    assert "台账.xlsx" in info.value.message
    for word in words:
        assert word in info.value.message


def test_doc_97_named_xls_says_word(tmp_path):
    # A real OLE file whose one stream is renamed WordDocument in its directory entry.
    path = tmp_path / "a.xls"
    data = bytearray(write_xls(tmp_path / "b.xls").read_bytes())
    at = data.find("Workbook".encode("utf-16-le"))
    word = "WordDocument".encode("utf-16-le") + b"\0\0"
    data[at:at + len(word)] = word
    data[at + 64:at + 66] = len(word).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(NotAWorkbookError) as info:
        read_ledger(path)
    assert "Word" in info.value.message


def _xlsb_record(kind: int, body: bytes) -> bytes:
    head = bytes([kind]) if kind < 128 else bytes([(kind & 0x7F) | 0x80, kind >> 7])
    return head + bytes([len(body)]) + body


def test_xlsb_sparse_grid_is_refused_from_its_records(tmp_path):
    import struct
    import zipfile

    from toolkit.read_calamine import _xlsb_records

    sheet = (_xlsb_record(0, struct.pack("<I", 0) + b"\0" * 8)
             + _xlsb_record(7, struct.pack("<I", 0) + b"\0" * 8)
             + _xlsb_record(0, struct.pack("<I", 1_000_000) + b"\0" * 8)
             + _xlsb_record(5, struct.pack("<I", 16_000) + b"\0" * 12))
    assert [kind for kind, _ in _xlsb_records(sheet)] == [0, 7, 0, 5]
    path = tmp_path / "稀疏.xlsb"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.bin", b"")
        z.writestr("xl/worksheets/sheet1.bin", sheet)
    with pytest.raises(UnreadableLedgerError) as info:
        read_ledger(path)
    assert "稀疏.xlsb" in info.value.message and "拒绝读取" in info.value.message


def test_broken_xlsb_is_one_clear_line(tmp_path):
    import zipfile

    path = tmp_path / "坏.xlsb"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.bin", b"\x00\x01garbage")
    with pytest.raises(UnreadableLedgerError) as info:
        read_ledger(path)
    assert "坏.xlsb" in info.value.message and "\n" not in info.value.message


def test_bundled_xls_sample_reads_without_errors(tmp_path):
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "ledgers" / "市体育局巡察整改台账.xls"
    report = analyse(sample, TODAY)
    assert report.ledger.meta.unit == "市体育局" and not report.errors
    assert report.stats.overall.total == 5 and report.stats.overall.recovered_wan == Decimal("0.35")
    assert [p.category for p in report.ledger.problems][1:3] == ["落实意识形态工作责任制不到位",
                                                                 "公共体育服务效能不高"]


def test_xls_shared_string_lengths_are_read_across_continue_records(tmp_path):
    import xlwt

    from toolkit.read_calamine import _BIFF_SST, _sst_lengths
    from toolkit.safety import ole_stream

    texts = [f"{i}" + "长" * (i * 37 % 3000) + ("abc" * (i % 5)) for i in range(300)]
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("s")
    for i, text in enumerate(texts):
        sheet.write(i, 0, text)
    path = tmp_path / "长.xls"
    book.save(str(path))
    stream = ole_stream(path.read_bytes(), "Workbook")
    offset = 0
    while True:  # find the SST record
        kind, length = struct.unpack_from("<HH", stream, offset)
        if kind == _BIFF_SST:
            break
        offset += 4 + length
    assert sorted(_sst_lengths(stream, offset + 4, length)) == sorted(len(t) for t in texts)


def test_xls_long_text_repeated_in_many_cells_is_refused(tmp_path):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("整改台账")
    for c, text in enumerate(HEADER):
        sheet.write(0, c, text)
    long_text = "长" * 30_000
    for r in range(1, 2_000):
        sheet.write(r, 2, long_text)  # one shared string, 2,000 cells: 60 M characters
    path = tmp_path / "文字.xls"
    book.save(str(path))
    assert path.stat().st_size < 200_000
    with pytest.raises(UnreadableLedgerError) as info:
        read_ledger(path)
    assert "文字总量" in info.value.message


def test_ods_long_text_repeated_over_cells_is_refused(tmp_path):
    header = "".join(f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
                     for h in HEADER)
    bomb = ('<table:table table:name="整改台账"><table:table-row>' + header + "</table:table-row>"
            '<table:table-row table:number-rows-repeated="100"><table:table-cell '
            'table:number-columns-repeated="100" office:value-type="string"><text:p>' + "长" * 9000
            + "</text:p></table:table-cell></table:table-row></table:table>")
    path = write_ods_tables(tmp_path / "文字.ods", [bomb])
    with pytest.raises(UnreadableLedgerError) as info:
        read_ledger(path)
    assert "文字总量" in info.value.message


def test_xlsb_long_shared_string_in_many_cells_is_refused(tmp_path):
    import zipfile

    strings = _xlsb_record(19, b"\0" + struct.pack("<I", 30_000) + "长".encode("utf-16-le") * 10)
    rows = b"".join(_xlsb_record(0, struct.pack("<I", r) + b"\0" * 8)
                    + _xlsb_record(7, struct.pack("<I", 2) + b"\0" * 4 + struct.pack("<I", 0))
                    for r in range(2_000))
    path = tmp_path / "文字.xlsb"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.bin", b"")
        z.writestr("xl/sharedStrings.bin", strings)
        z.writestr("xl/worksheets/sheet1.bin", rows)
    with pytest.raises(UnreadableLedgerError) as info:
        read_ledger(path)
    assert "文字总量" in info.value.message
