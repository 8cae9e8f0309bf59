"""No command crashes on a console that cannot show Chinese (cp1252, GBK, LANG=C): real processes."""

import os
import subprocess
import sys

import pytest
from ledger_factory import row, write_ledger

TOOLKIT = [sys.executable, "-m", "toolkit.cli"]


def run(args, cwd, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_CTYPE")}
    environment.update(env)
    return subprocess.run(TOOLKIT + args, capture_output=True, cwd=cwd, env=environment,
                          timeout=120)


@pytest.fixture
def folder(tmp_path):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    write_ledger(ledgers / "好台账.xlsx")
    write_ledger(ledgers / "坏台账.xlsx", [row(1, "类", "问题", "已完城")])
    return tmp_path


COMMANDS = [
    (["-h"], 0),
    ([], 0),
    (["check", "ledgers/好台账.xlsx"], 0),
    (["check", "ledgers/坏台账.xlsx"], 1),
    (["check", "--json", "ledgers/好台账.xlsx"], 0),
    (["stats", "ledgers/好台账.xlsx"], 0),
    (["render", "ledgers/好台账.xlsx", "-o", "out/通报.docx"], 0),
    (["render", "ledgers/坏台账.xlsx", "-o", "out/坏.docx"], 1),
    (["build", "ledgers", "-o", "out"], 1),
    (["diff", "ledgers/好台账.xlsx", "-o", "out"], 0),
    (["summary", "ledgers", "-o", "out/汇总.xlsx"], 1),
    (["init", "新建/台账.xlsx"], 0),
    (["check", "--nope"], 2),
    (["biuld"], 2),
]


# Every command on cp1252 (a Western Windows console); a sample on the others.
@pytest.mark.parametrize("env, commands", [
    ({"PYTHONIOENCODING": "cp1252"}, COMMANDS),
    ({"PYTHONIOENCODING": "ascii"}, COMMANDS[2:4] + COMMANDS[8:9] + COMMANDS[-2:]),
    ({"LANG": "C", "LC_ALL": "C"}, COMMANDS[:1] + COMMANDS[3:4] + COMMANDS[8:9] + COMMANDS[-1:]),
], ids=["cp1252", "ascii", "LANG=C"])
def test_no_command_crashes_on_a_narrow_console(folder, env, commands):
    for args, expected in commands:
        proc = run(args, folder, **env)
        stderr = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == expected, (args, stderr)
        assert b"Traceback" not in proc.stderr and b"UnicodeEncodeError" not in proc.stderr, args


def test_gbk_console_shows_chinese(folder):
    proc = run(["check", "ledgers/坏台账.xlsx"], folder, PYTHONIOENCODING="gbk")
    assert proc.returncode == 1
    out = proc.stdout.decode("gbk")
    assert "整改台账!I2" in out and "错误 1 个" in out


def test_cp1252_replaces_what_it_cannot_show(folder):
    proc = run(["check", "ledgers/好台账.xlsx"], folder, PYTHONIOENCODING="cp1252")
    assert proc.returncode == 0 and b"?" in proc.stdout and b"G4" in proc.stdout
