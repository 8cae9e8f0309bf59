"""The exit-status contract: 0 clean, 1 ledger errors, 2 unusable/usage, 3 internal error."""

import os
import subprocess
import sys

import pytest
from ledger_factory import row, write_ledger
from typer.testing import CliRunner

from toolkit.build import BUILT, INVALID, UNUSABLE, BuildResult
from toolkit.cli import app
from toolkit.exit_status import ExitStatus

runner = CliRunner()


def test_exit_status_values_are_the_contract():
    assert [int(s) for s in ExitStatus] == [0, 1, 2, 3]
    assert ExitStatus.worst([0, 2, 1]) is ExitStatus.UNUSABLE and ExitStatus.worst([]) is ExitStatus.OK


def test_build_result_exit_code_is_an_exit_status(tmp_path):
    codes = {o: BuildResult(tmp_path / "a.xlsx", o).exit_code for o in (BUILT, INVALID, UNUSABLE)}
    assert codes == {BUILT: ExitStatus.OK, INVALID: ExitStatus.LEDGER_ERRORS,
                     UNUSABLE: ExitStatus.UNUSABLE}
    assert all(isinstance(c, ExitStatus) for c in codes.values())


def _boom(*args, **kwargs):
    raise RuntimeError("模拟的程序缺陷")


@pytest.mark.parametrize("args", [["stats"], ["check"], ["render"], ["diff"]])
def test_an_unexpected_exception_exits_3_with_one_line_and_a_log(tmp_path, monkeypatch, args):
    ledger = write_ledger(tmp_path / "a.xlsx")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr("toolkit.pipeline.read_ledger", _boom)
    result = runner.invoke(app, args + [str(ledger)])
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("内部错误（RuntimeError）")
    assert "Traceback" not in result.output
    [log] = (tmp_path / "state" / "toolkit").glob("toolkit-错误-*.log")
    assert str(log) in lines[0]
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "模拟的程序缺陷" in text and "_boom" in text


def test_a_crash_is_still_exit_3_when_no_log_can_be_written(tmp_path, monkeypatch):
    ledger = write_ledger(tmp_path / "a.xlsx")
    monkeypatch.setattr("toolkit.pipeline.read_ledger", _boom)
    monkeypatch.setattr("toolkit.console.crash_dirs", lambda: iter([tmp_path / "a.xlsx" / "x"]))
    result = runner.invoke(app, ["stats", str(ledger)])
    assert result.exit_code == 3 and "未能写入日志文件" in result.output


def test_a_crash_in_a_real_process_exits_3_never_1(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx")
    code = ("import toolkit.pipeline as p\n"
            "def boom(*a, **k):\n    raise KeyError('x')\n"
            "p.read_ledger = boom\n"
            "from toolkit.cli import main\nmain()\n")
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    proc = subprocess.run([sys.executable, "-c", code, "check", str(ledger)],
                          capture_output=True, text=True, encoding="utf-8", env=env)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and "内部错误（KeyError）" in proc.stderr
    assert list((tmp_path / "state" / "toolkit").glob("*.log"))


def test_a_toolkit_error_escaping_a_command_exits_2_with_its_message(tmp_path):
    broken = tmp_path / "坏.xlsx"
    broken.write_bytes(b"not a workbook")
    result = runner.invoke(app, ["diff", str(broken)])
    assert result.exit_code == 2 and "坏.xlsx" in result.output and "Traceback" not in result.output


def test_an_os_error_is_exit_2_naming_the_path(tmp_path, monkeypatch):
    ledger = write_ledger(tmp_path / "a.xlsx")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "a.xlsx"))

    monkeypatch.setattr("toolkit.pipeline.read_ledger", refuse)
    result = runner.invoke(app, ["stats", str(ledger)])
    assert result.exit_code == 2 and "a.xlsx" in result.output and "无法读写" in result.output


def test_unwritable_output_is_never_exit_1(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx")
    result = runner.invoke(app, ["render", str(ledger), "-o", "/proc/toolkit-test/x.docx"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_usage_errors_exit_2_and_ledger_errors_exit_1(tmp_path):
    bad = write_ledger(tmp_path / "坏.xlsx", [row(1, "类", "问题", "已完城")])
    assert runner.invoke(app, ["check", "--nope", str(bad)]).exit_code == 2
    assert runner.invoke(app, ["check"]).exit_code == 2
    assert runner.invoke(app, ["biuld"]).exit_code == 2
    assert runner.invoke(app, ["check", str(bad)]).exit_code == 1
    assert runner.invoke(app, ["render", str(bad), "-o", str(tmp_path / "n.docx")]).exit_code == 1


def test_readme_exit_code_table_lists_3():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "| 3 |" in readme and "内部错误" in readme


def test_a_closed_pipe_is_exit_2_never_1(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx")
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "check", str(ledger)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the child writes anything: its first write gets EPIPE
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 2, stderr
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr
