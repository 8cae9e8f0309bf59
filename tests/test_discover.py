"""Ledger discovery: every format, one file per stem (newest wins, said so), regular files only."""

from __future__ import annotations

import os
import shutil

import pytest
from format_factory import write_xls
from ledger_factory import row, write_ledger
from typer.testing import CliRunner

from toolkit.build import find_ledgers as find_ledgers_from_build
from toolkit.cli import app
from toolkit.discover import discover_ledgers, find_ledgers, is_ledger_file

runner = CliRunner()


@pytest.mark.parametrize("name, expected", [
    ("台账.xlsx", True), ("台账.XLS", True), ("台账.xlsm", True), ("台账.xlsb", True),
    ("台账.ods", True), ("台账.et", True), ("台账.csv", False), ("台账.docx", False),
    ("~$台账.xlsx", False), (".~lock.台账.xls#", False), ("台账-统计.xlsx", False),
    ("台账-校验报告.xlsx", False), ("台账.xls.tmp", False),
])
def test_is_ledger_file(tmp_path, name, expected):
    assert is_ledger_file(tmp_path / name) is expected


def test_newest_of_the_same_stem_wins_and_the_other_is_named(tmp_path):
    stale = write_ledger(tmp_path / "台账.xlsx", [row(1, "类", "旧问题", "已完成")])
    newer = write_xls(tmp_path / "台账.xls")
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    found = discover_ledgers(tmp_path)
    assert found.ledgers == (newer,)
    [warning] = found.warnings
    assert "台账.xlsx" in warning and "台账.xls" in warning and "较新" in warning
    assert find_ledgers(tmp_path) == [newer] == find_ledgers_from_build(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifo_is_skipped_with_a_warning(tmp_path):
    os.mkfifo(tmp_path / "管道.xlsx")
    good = write_ledger(tmp_path / "好.xlsx")
    found = discover_ledgers(tmp_path)
    assert found.ledgers == (good,)
    assert any("管道.xlsx" in w and "不是普通文件" in w for w in found.warnings)


def test_build_reads_an_xls_beside_a_stale_xlsx(tmp_path):
    ledgers, out = tmp_path / "ledgers", tmp_path / "out"
    ledgers.mkdir()
    stale = write_ledger(ledgers / "台账.xlsx", [row(1, "类", "旧问题", "已完成")])
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    write_xls(ledgers / "台账.xls")
    shutil.copy(write_xls(tmp_path / "x.xls"), ledgers / "乙单位.xls")
    result = runner.invoke(app, ["build", str(ledgers), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "台账.xlsx 与 台账.xls 同名" in result.output
    assert (out / "台账.docx").exists() and (out / "乙单位.docx").exists()
    assert "5" in result.output  # the .xls's five problems, not the stale one's one


def test_a_csv_ledger_in_the_folder_is_named_not_read(tmp_path):
    (tmp_path / "台账.csv").write_text("序号,具体问题\n1,问题\n", encoding="utf-8")
    (tmp_path / "通报.docx").write_bytes(b"notice")  # the toolkit's own output: no warning
    found = discover_ledgers(tmp_path)
    assert found.ledgers == ()
    assert found.warnings == ("台账.csv：是CSV 文本，不是台账格式，未读取（请在 Excel/WPS 中另存为 .xlsx）",)
