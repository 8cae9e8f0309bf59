"""The CLI through typer's CliRunner: output, exit codes, and ledgers never written."""

import json
import subprocess
import sys

import pytest
from ledger_factory import row, write_ledger
from openpyxl import load_workbook
from typer.testing import CliRunner

from toolkit.cli import app, format_table
from toolkit.read import read_ledger

runner = CliRunner()


@pytest.fixture
def good(tmp_path):
    return write_ledger(tmp_path / "好台账.xlsx")


@pytest.fixture
def bad(tmp_path):
    return write_ledger(tmp_path / "坏台账.xlsx", [row(1, "类", "问题", "已完城"), row(2, "类", None, "已完成")])


@pytest.fixture
def broken(tmp_path):
    path = tmp_path / "损坏.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    return path


def test_init_writes_a_blank_ledger_that_reads(tmp_path):
    path = tmp_path / "新台账.xlsx"
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 0 and "已新建" in result.output
    ledger = read_ledger(path)
    assert ledger.problems == () and ledger.meta.sheet == "通报信息"
    assert ledger.headers["status"] == "整改状态" and ledger.headers["recovered"] == "追赃挽损（万元）"
    wb = load_workbook(path)
    ws = wb["整改台账"]
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    status_col = ledger.columns["status"]
    status_dv = next(dv for ref, dv in validations.items() if ref.startswith(status_col))
    assert status_dv.type == "list" and "已完成" in status_dv.formula1
    assert any(dv.type == "date" for dv in validations.values())
    assert ws.freeze_panes == "A3"
    keys = [c.value for c in wb["通报信息"]["A"][1:]]
    assert "发文机关" in keys and "统计截止日期" in keys and "下一步工作安排" in keys


def test_init_refuses_to_overwrite(good):
    before = good.read_bytes()
    result = runner.invoke(app, ["init", str(good)])
    assert result.exit_code == 2 and "已存在" in result.output
    assert good.read_bytes() == before


def test_check_clean_ledger_exits_0(good):
    result = runner.invoke(app, ["check", str(good)])
    assert result.exit_code == 0
    assert "错误 0 个" in result.output and "G4" in result.output  # the overdue warning


def test_check_errors_exit_1_and_name_the_cell(bad):
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert "I2" in result.output and "已完城" in result.output and "C3" in result.output


def test_check_unusable_exit_2_one_line(broken):
    result = runner.invoke(app, ["check", str(broken)])
    assert result.exit_code == 2
    assert "损坏.xlsx" in result.output and "Traceback" not in result.output


def test_check_several_files_takes_the_worst_code(good, bad, broken):
    assert runner.invoke(app, ["check", str(good), str(bad)]).exit_code == 1
    assert runner.invoke(app, ["check", str(good), str(bad), str(broken)]).exit_code == 2


def test_check_json(good, bad, broken):
    result = runner.invoke(app, ["check", "--json", str(good), str(bad), str(broken)])
    data = json.loads(result.stdout)
    assert [d["usable"] for d in data] == [True, True, False]
    assert data[1]["errors"] == 2
    assert {"code", "severity", "sheet", "cell", "column", "value", "message", "hint"} <= set(
        data[1]["findings"][0])


def test_stats_json_keys(good):
    result = runner.invoke(app, ["stats", "--json", str(good)])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    for key in ("total", "counts", "long_term", "flagged", "recovered_wan", "overdue",
                "completion_rate", "as_of", "by_category", "by_unit", "summary"):
        assert key in data
    assert data["counts"] == {"已完成": 2, "正在整改": 2, "未完成": 1}
    assert data["summary"].startswith("截至2024年10月30日，巡察反馈的5个具体问题")


def test_stats_table(good):
    result = runner.invoke(app, ["stats", str(good)])
    assert result.exit_code == 0 and "问题类别" in result.output and "财务管理不规范" in result.output


def test_stats_unusable(broken):
    result = runner.invoke(app, ["stats", str(broken)])
    assert result.exit_code == 2 and "损坏.xlsx" in result.output


def test_stats_with_errors_exits_1(bad):
    assert runner.invoke(app, ["stats", str(bad)]).exit_code == 1


def test_ledger_bytes_unchanged_after_every_command(good, bad, tmp_path):
    paths = [good, bad]
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in paths]
    for args in (["check"], ["check", "--json"], ["stats"], ["stats", "--json"]):
        for p in paths:
            runner.invoke(app, args + [str(p)])
    for p in paths:
        runner.invoke(app, ["render", str(p), "-o", str(tmp_path / "out" / "n.docx")])
    runner.invoke(app, ["build", str(good.parent), "-o", str(tmp_path / "out")])
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in paths] == before


def test_usage_errors_are_one_chinese_line_with_exit_2():
    proc = subprocess.run([sys.executable, "-m", "toolkit.cli", "check", "--nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("用法错误") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_kind_is_refused(good):
    result = runner.invoke(app, ["render", str(good), "--kind", "年度"])
    assert result.exit_code == 2 and "通报类型" in result.output


def test_table_aligns_chinese():
    lines = format_table(["列", "说明"], [["整改状态", "x"], ["A", "y"]]).splitlines()
    # Each Chinese character takes two terminal columns: x and y start at the same column.
    assert lines[2].index("x") == 6 and lines[3].index("y") == 10


def test_outputs_are_not_private_files(good, tmp_path):
    import os
    import stat

    target = tmp_path / "out" / "n.docx"
    assert runner.invoke(app, ["render", str(good), "-o", str(target)]).exit_code == 0
    mode = stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_build_skips_lock_temp_and_own_output_files(tmp_path):
    from toolkit.build import find_ledgers

    folder = tmp_path / "共享"
    folder.mkdir()
    write_ledger(folder / "台账.xlsx")
    for name in ("~$台账.xlsx", ".~lock.台账.xlsx#", "台账.xlsx.tmp", "ABCD1234", "台账-统计.xlsx",
                 "台账-校验报告.xlsx", ".~toolkit-x.tmp"):
        (folder / name).write_bytes(b"junk")
    assert [p.name for p in find_ledgers(folder)] == ["台账.xlsx"]
