"""The statistics workbook: sheets, charts, numbers equal to ``stats --json``, hostile text."""

import io
import json
import re
import zipfile
from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ledger_factory import META, default_rows, row, write_ledger
from openpyxl import load_workbook
from typer.testing import CliRunner

from toolkit import build as build_module
from toolkit.atomic import OutputLockedError
from toolkit.build import BUILT, build_notice
from toolkit.cli import app
from toolkit.errors import OutputError
from toolkit.pipeline import analyse
from toolkit.stats_book import SHEET_LONG_TERM, SHEET_OVERDUE, SHEET_OVERVIEW, stats_path_for, stats_workbook
from toolkit.xlsx_out import MAX_CELL_UNITS, TRUNCATION_MARK, SheetWriter, fit_cell_text

TODAY = date(2024, 10, 30)
HOSTILE = '=HYPERLINK("http://x","y")'
runner = CliRunner()


def _open(data: bytes):
    return load_workbook(io.BytesIO(data))


def _charts(data: bytes) -> list[str]:
    """The chart parts of the workbook, as XML text."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [z.read(n).decode() for n in sorted(z.namelist()) if n.startswith("xl/charts/chart")]


def _as_strings(path, cells: dict[str, str]):
    """Store ``cells`` in the ledger as plain strings, the way Excel keeps text such as '=…."""
    wb = load_workbook(path)
    ws = wb["整改台账"]
    for ref, text in cells.items():
        ws[ref].value = text
        ws[ref].data_type = "s"  # openpyxl would otherwise store a leading = as a formula
    wb.save(path)
    return path


def _table(ws, caption: str) -> dict[str, tuple]:
    """The rows of one table of the overview: first cell -> the row's values."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == caption) + 2
    table = {}
    for r in rows[start:]:
        if r[0] is None:
            break
        table[r[0]] = r[1:10]
    return table


def _json_line(d: dict) -> tuple:
    c = d["counts"]
    rate = "-" if d["completion_rate"] is None else d["completion_rate"]
    return (d["total"], c["已完成"], c["正在整改"], c["未完成"], d["long_term"], d["flagged"],
            d["overdue"], rate, d["recovered_wan"])


def test_sheets_and_charts(tmp_path):
    report = analyse(write_ledger(tmp_path / "a.xlsx"), TODAY)
    book = stats_workbook(report)
    assert book.notes == ()
    wb = _open(book.data)
    assert wb.sheetnames == [SHEET_OVERVIEW, SHEET_OVERDUE, SHEET_LONG_TERM]
    assert len(wb[SHEET_OVERVIEW]._charts) == 3
    charts = _charts(book.data)
    assert len(charts) == 3
    assert sum("<c:doughnutChart>" in c for c in charts) == 1
    bars = [c for c in charts if "<c:barChart>" in c]
    assert len(bars) == 2
    assert all('<c:grouping val="stacked"/>' in c and c.count("<c:ser>") == 3 for c in bars)
    # The doughnut reads the 合计 row: 已完成 / 正在整改 / 未完成.
    doughnut = next(c for c in charts if "<c:doughnutChart>" in c)
    assert re.search(r"总览'?!\$C\$\d+:\$E\$\d+", doughnut)


def test_workbook_agrees_with_stats_json_to_the_digit(tmp_path):
    rows = default_rows() + [
        row(6, "作风建设", "问题己", "正在整改", unit="财务科", deadline="2024年6月", recovered=1.5),
        row(7, "作风建设", "问题庚", "已完成", unit="财务科", recovered="200元"),
        row(8, "作风建设", "问题辛", "正在整改", unit="人事科", deadline="2024年10月1日"),
    ]
    ledger = write_ledger(tmp_path / "台账.xlsx", rows)
    result = runner.invoke(app, ["stats", "--json", str(ledger)])
    assert result.exit_code == 0
    data = json.loads(result.output)
    # The workbook as the build writes it (the stats command has no fixed today either).
    built = build_notice(ledger, tmp_path / "out" / "台账.docx")
    assert built.outcome == BUILT and built.stats_book == tmp_path / "out" / "台账-统计.xlsx"
    ws = load_workbook(built.stats_book)[SHEET_OVERVIEW]

    assert _table(ws, "全部问题") == {"合计": _json_line(data)}
    assert _table(ws, "按问题类别") == {d["name"]: _json_line(d) for d in data["by_category"]}
    assert _table(ws, "按责任部门") == {d["name"]: _json_line(d) for d in data["by_unit"]}
    assert list(_table(ws, "按问题类别")) == [d["name"] for d in data["by_category"]]
    assert ws["A2"].value == data["summary"]
    assert ws["B3"].value.date().isoformat() == data["as_of"]
    overdue = load_workbook(built.stats_book)[SHEET_OVERDUE]
    assert overdue.max_row - 2 == data["overdue"]


def test_overdue_and_long_term_sheets(tmp_path):
    rows = default_rows() + [row(6, "作风建设", "问题己", "未完成", unit="财务科", leader="李主任",
                                 deadline="2024年6月")]
    report = analyse(write_ledger(tmp_path / "a.xlsx", rows), TODAY)
    wb = _open(stats_workbook(report).data)
    overdue = list(wb[SHEET_OVERDUE].iter_rows(min_row=2, values_only=True))
    assert overdue[0] == ("序号", "问题类别", "具体问题", "责任部门", "责任领导", "整改时限",
                          "时限日期", "整改状态", "逾期天数")
    # Longest overdue first; days counted to 统计截止日期 2024-10-30.
    assert overdue[1] == ("6", "作风建设", "问题己", "财务科", "李主任", "2024年6月",
                          datetime(2024, 6, 30), "未完成", 122)
    assert overdue[2][2] == "问题丙" and overdue[2][8] == 30
    assert len(overdue) - 1 == report.stats.overall.overdue == 2
    long_term = list(wb[SHEET_LONG_TERM].iter_rows(min_row=3, values_only=True))
    assert [r[2] for r in long_term] == ["问题丁"]
    assert long_term[0][8] == "一是做了。\n二是也做了。"  # line breaks kept


def test_hostile_text_stays_text(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx", default_rows() + [
        row(6, "x", "x", "未完成", deadline="2024年1月", long_term="")])
    _as_strings(ledger, {"B7": HOSTILE, "C7": HOSTILE, "E7": "=1+1", "F7": "http://evil.example"})
    report = analyse(ledger, TODAY)
    assert report.ledger.problems[-1].problem == HOSTILE
    data = stats_workbook(report).data
    wb = _open(data)
    ws = wb[SHEET_OVERDUE]
    cells = {c.value: c for r in ws.iter_rows(min_row=3) for c in r}
    for text in (HOSTILE, "=1+1", "http://evil.example"):
        assert cells[text].data_type == "s"
    assert ws.cell(3, 3).value == HOSTILE
    category_names = [r[0] for r in wb[SHEET_OVERVIEW].iter_rows(values_only=True)]
    assert HOSTILE in category_names
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any(b"<f>" in s or b"<hyperlink" in s for s in sheets)
        rels = b"".join(z.read(n) for n in z.namelist() if n.endswith(".rels"))
        assert b"relationships/hyperlink" not in rels


def test_text_over_the_cell_limit_is_cut_visibly(tmp_path):
    # A ledger cell holds at most 32,767 characters; the title adds to the unit's name.
    meta = dict(META, 被巡察单位="单位" * 16_400)
    report = analyse(write_ledger(tmp_path / "a.xlsx", meta=meta), TODAY)
    assert len(report.ledger.meta.unit) == 32_767  # openpyxl itself stops there
    book = stats_workbook(report)
    title = _open(book.data)[SHEET_OVERVIEW]["A1"].value
    assert title.endswith(TRUNCATION_MARK) and len(title) == MAX_CELL_UNITS
    assert title.startswith("单位单位")
    assert book.notes == ("总览 A1：文字超出 Excel 单元格长度上限（32767 字），已截断并在末尾注明",)


def test_long_progress_is_cut_visibly(tmp_path):
    report = analyse(write_ledger(tmp_path / "a.xlsx"), TODAY)
    # Text from elsewhere than one Excel cell (another reader, a joined cell) may be longer.
    long_term = replace(report.ledger.problems[3], progress="进展" * 20_000)
    problems = report.ledger.problems[:3] + (long_term,) + report.ledger.problems[4:]
    report = replace(report, ledger=replace(report.ledger, problems=problems))
    book = stats_workbook(report)
    cell = _open(book.data)[SHEET_LONG_TERM]["I3"].value
    assert cell.endswith(TRUNCATION_MARK) and len(cell) == MAX_CELL_UNITS
    assert any(n.startswith("长期坚持 I3：") for n in book.notes)


@given(st.text(alphabet=st.sampled_from("a中😀\n"), max_size=40))
def test_fit_cell_text_never_exceeds_the_limit(text):
    fitted, cut = fit_cell_text(text * 1000)
    assert len(fitted.encode("utf-16-le")) // 2 <= MAX_CELL_UNITS
    assert cut == (len((text * 1000).encode("utf-16-le")) // 2 > MAX_CELL_UNITS)
    if not cut:
        assert fitted == text * 1000


def test_return_codes_become_notes():
    import xlsxwriter

    notes = []
    book = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    sheet = SheetWriter(book.add_worksheet("表"), notes)
    sheet.text(1_048_576, 0, "超出行数")  # one past Excel's last row
    sheet.number(0, 16_384, 1)  # one past the last column
    book.close()
    assert notes == ["表 A1048577：超出 Excel 表格范围，未写入", "表 XFE1：超出 Excel 表格范围，未写入"]


def test_empty_ledger_gives_a_workbook_without_charts(tmp_path):
    report = analyse(write_ledger(tmp_path / "a.xlsx", []), TODAY)
    book = stats_workbook(report)
    wb = _open(book.data)
    assert wb[SHEET_OVERDUE]["A3"].value == "没有逾期问题。"
    assert wb[SHEET_LONG_TERM]["A3"].value == "没有长期坚持的问题。"
    assert _charts(book.data) == []


def test_stats_path_is_beside_the_notice(tmp_path):
    assert stats_path_for(tmp_path / "out" / "某单位.docx") == tmp_path / "out" / "某单位-统计.xlsx"


# ---------------------------------------------------------------- through build_notice

def test_build_writes_the_workbook_beside_the_notice(tmp_path):
    ledger = write_ledger(tmp_path / "某单位.xlsx")
    result = build_notice(ledger, tmp_path / "out" / "某单位.docx", today=TODAY)
    assert result.outcome == BUILT and result.notes == ()
    assert result.stats_book == tmp_path / "out" / "某单位-统计.xlsx"
    assert load_workbook(result.stats_book).sheetnames == [SHEET_OVERVIEW, SHEET_OVERDUE,
                                                           SHEET_LONG_TERM]


def test_build_without_records_writes_only_the_notice(tmp_path):
    ledger = write_ledger(tmp_path / "某单位.xlsx")
    result = build_notice(ledger, tmp_path / "out" / "某单位.docx", today=TODAY, records=False)
    assert result.outcome == BUILT and result.stats_book is None and result.snapshot is None
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["某单位.docx"]


def test_invalid_ledger_writes_no_workbook(tmp_path):
    ledger = write_ledger(tmp_path / "坏.xlsx", [row(1, "类", "问题", "已完城")])
    result = build_notice(ledger, tmp_path / "out" / "坏.docx", today=TODAY)
    assert result.outcome != BUILT and not (tmp_path / "out" / "坏-统计.xlsx").exists()


def test_failing_workbook_does_not_lose_the_notice(tmp_path, monkeypatch):
    def broken(report):
        raise OutputError(None, "模拟失败")

    monkeypatch.setattr(build_module, "stats_workbook", broken)
    ledger = write_ledger(tmp_path / "某单位.xlsx")
    result = build_notice(ledger, tmp_path / "out" / "某单位.docx", today=TODAY)
    assert result.outcome == BUILT and result.notice.exists() and result.stats_book is None
    assert result.notes == ("统计表未能生成：模拟失败（通报已生成，不受影响）",)
    assert result.snapshot is not None  # the history does not depend on the workbook


def test_locked_workbook_is_saved_beside_it(tmp_path, monkeypatch):
    real = build_module.write_atomic

    def locked(target, data, **kwargs):
        if target.name == "某单位-统计.xlsx":
            raise OutputLockedError(target, "文件被占用")
        return real(target, data, **kwargs)

    monkeypatch.setattr(build_module, "write_atomic", locked)
    ledger = write_ledger(tmp_path / "某单位.xlsx")
    result = build_notice(ledger, tmp_path / "out" / "某单位.docx", today=TODAY)
    assert result.outcome == BUILT
    assert result.stats_book.name == "某单位（新版，原文件被占用）-统计.xlsx"
    assert result.stats_book.exists()
    assert any("某单位-统计.xlsx 被占用" in n for n in result.notes)


@pytest.mark.parametrize("kind", ["doughnut", "bar"])
def test_chart_series_point_at_the_overview(tmp_path, kind):
    report = analyse(write_ledger(tmp_path / "a.xlsx"), TODAY)
    charts = [c for c in _charts(stats_workbook(report).data) if f"<c:{kind}Chart>" in c]
    refs = re.findall(r"<c:f>([^<]+)</c:f>", "".join(charts))
    assert refs and all(r.startswith(("总览!", "'总览'!")) for r in refs)
