"""The change workbook (``diff --xlsx``): fills, comments, vanished sheet, print setup (13.5)."""

from __future__ import annotations

import zipfile
from datetime import date, datetime

import pytest
from ledger_factory import default_rows, row, write_ledger
from openpyxl import load_workbook
from typer.testing import CliRunner

from toolkit.changes_book import FILLS, SHEET_CHANGES, SHEET_VANISHED, changes_workbook
from toolkit.cli import app
from toolkit.history import history_root, store_snapshot
from toolkit.names import CHANGES, mark_of
from toolkit.pipeline import analyse, diff_ledger

TODAY = date(2024, 10, 30)
runner = CliRunner()


def fill_of(cell) -> str:
    return (cell.fill.fgColor.rgb or "")[-6:].upper()


def colour(name: str) -> str:
    return FILLS[name].lstrip("#").upper()


def make_diff(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx")
    hist = history_root(tmp_path / "out")
    store_snapshot(analyse(ledger, TODAY), hist, now=datetime(2024, 11, 1))
    rows = default_rows()
    rows[0] = row(1, "政治建设不到位", "问题甲", "正在整改")  # regression
    rows[1] = row(2, "政治建设不到位", "问题乙", "正在整改", deadline="2026年12月底前",
                  measures="新措施 <b>&amp;")  # deadline pushed back, text changed
    del rows[4]  # 问题戊 vanishes
    rows.append(row(6, "作风建设", "新问题己", "未完成"))
    write_ledger(ledger, rows)
    return ledger, hist, diff_ledger(ledger, hist, today=TODAY, whole_baseline=True)


def test_fills_comments_and_vanished_rows(tmp_path):
    _, _, diff = make_diff(tmp_path)
    data = changes_workbook(diff).data
    book = load_workbook(__import__("io").BytesIO(data))
    ws = book[SHEET_CHANGES]
    headers = [c.value for c in ws[1]]
    status, deadline, measures = (headers.index(h) + 1 for h in ("整改状态", "整改时限", "整改措施"))
    assert ws.cell(2, status).value == "正在整改" and fill_of(ws.cell(2, status)) == colour("regressed")
    assert "已完成" in ws.cell(2, status).comment.text
    assert fill_of(ws.cell(3, deadline)) == colour("deadline")
    assert "2025年12月底前" in ws.cell(3, deadline).comment.text
    assert fill_of(ws.cell(3, measures)) == colour("changed")
    assert ws.cell(3, measures).value == "新措施 <b>&amp;"  # verbatim text
    assert ws.cell(3, measures).data_type == "s" and "原整改措施：措施" in ws.cell(3, measures).comment.text
    new_row = 6
    assert ws.cell(new_row, 3).value == "新问题己" and fill_of(ws.cell(new_row, 3)) == colour("added")
    assert ws.cell(4, 3).comment is None and fill_of(ws.cell(4, 3)) != colour("added")  # unchanged
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
    gone = book[SHEET_VANISHED]
    assert [c.value for c in gone[2]][2:4] == ["财务管理不规范", "问题戊"]
    assert mark_of_bytes(data) == CHANGES


def mark_of_bytes(data: bytes) -> str | None:
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        text = z.read("docProps/custom.xml").decode()
    return CHANGES if "ToolkitOutput" in text and CHANGES in text else None


def test_cli_diff_xlsx(tmp_path):
    ledger, _, _ = make_diff(tmp_path)
    target = tmp_path / "变化.xlsx"
    result = runner.invoke(app, ["diff", str(ledger), "-o", str(tmp_path / "out"), "--xlsx", str(target)])
    assert result.exit_code == 0, result.output
    assert mark_of(target) == CHANGES
    # Written again over our own workbook; never over a ledger.
    again = runner.invoke(app, ["diff", str(ledger), "-o", str(tmp_path / "out"), "--xlsx", str(target)])
    assert again.exit_code == 0
    before = ledger.read_bytes()
    refused = runner.invoke(app, ["diff", str(ledger), "-o", str(tmp_path / "out"), "--xlsx", str(ledger)])
    assert refused.exit_code == 2 and "a.xlsx" in refused.output and ledger.read_bytes() == before


def test_the_diff_without_the_whole_baseline_finds_the_same_changes_but_makes_no_workbook(tmp_path):
    ledger, hist, whole = make_diff(tmp_path)
    reduced = diff_ledger(ledger, hist, today=TODAY)
    assert reduced.changes == whole.changes and not reduced.whole_baseline
    # Only the rows that changed are held: 问题丙 and 问题丁 are left out as unchanged.
    assert len(reduced.baseline.rows) < len(whole.baseline.rows) == 5
    assert sum(reduced.baseline.left_out.values()) == 2
    with pytest.raises(ValueError, match="whole baseline"):
        changes_workbook(reduced)
