"""toolkit init: the blank ledger reads back as an empty ledger with the canonical layout."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from typer.testing import CliRunner

from toolkit.blank import LAYOUT, META_NOTES, blank_ledger_bytes
from toolkit.cli import app
from toolkit.names import is_toolkit_output
from toolkit.normalize import CANONICAL_HEADERS
from toolkit.read import read_ledger

runner = CliRunner()


def test_layout_headers_and_dropdowns():
    wb = load_workbook(io.BytesIO(blank_ledger_bytes()))
    assert wb.sheetnames == ["整改台账", "通报信息"]
    ws = wb["整改台账"]
    assert [c.value for c in ws[2]] == [CANONICAL_HEADERS[f] for f, _ in LAYOUT]
    sources = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert any("已完成" in (s or "") for s in sources)
    meta = wb["通报信息"]
    assert [meta.cell(r, 1).value for r in range(2, 2 + len(META_NOTES))] == [k for k, _, _ in META_NOTES]


def test_init_writes_a_readable_ledger_and_never_overwrites(tmp_path):
    target = tmp_path / "新台账.xlsx"
    first = runner.invoke(app, ["init", str(target)])
    assert first.exit_code == 0, first.output
    ledger = read_ledger(target)
    assert ledger.problems == ()
    # A blank ledger is a ledger: not marked as an output, so nothing may ever replace it.
    assert not is_toolkit_output(target)
    before = target.read_bytes()
    again = runner.invoke(app, ["init", str(target)])
    assert again.exit_code == 2 and "新台账.xlsx" in again.output and target.read_bytes() == before


def test_init_needs_xlsx_name(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "a.xls")])
    assert result.exit_code == 2
