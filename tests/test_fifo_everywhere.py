"""A FIFO (or any non-regular file) wherever the toolkit reads a file of its own or a clerk's
never blocks it: each command runs in a subprocess that must answer within a time limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_factory import write_ledger

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")

LIMIT = 60  # seconds: far more than any of these takes; a blocked open never returns


def toolkit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit.cli", *args], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=LIMIT, stdin=subprocess.DEVNULL)


@pytest.fixture
def built(tmp_path):
    """A ledger with one notice built, so that its history folder exists."""
    write_ledger(tmp_path / "a.xlsx")
    done = toolkit("render", "a.xlsx", "-o", "out/a.docx", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path


def test_render_of_a_fifo_named_like_a_ledger_is_refused(tmp_path):
    os.mkfifo(tmp_path / "x.xlsx")
    done = toolkit("render", "x.xlsx", "-o", "out/x.docx", cwd=tmp_path)
    assert done.returncode == 2 and "x.xlsx" in done.stdout + done.stderr


def test_a_fifo_in_place_of_a_snapshot_or_the_state_never_blocks(built):
    folder = built / "out" / ".history" / "a"
    snapshot = next(p for p in folder.iterdir() if p.suffix == ".json" and p.name != "state.json")
    snapshot.unlink()
    os.mkfifo(snapshot)
    (folder / "state.json").unlink()
    os.mkfifo(folder / "state.json")
    for args in (("check", "a.xlsx", "-o", "out"), ("diff", "a.xlsx", "-o", "out"),
                 ("render", "a.xlsx", "-o", "out/a.docx", "--force"), ("history", "a.xlsx", "-o", "out")):
        done = toolkit(*args, cwd=built)
        assert done.returncode in (0, 1, 2), (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and "内部错误" not in done.stdout + done.stderr, args


@pytest.mark.parametrize("state", [{"format": "toolkit-notice-state/1", "files": []},
                                   {"files": {"a.docx": []}}, [1, 2], "text", None])
def test_a_hand_edited_state_file_never_stops_a_build(built, state):
    (built / "out" / ".history" / "a" / "state.json").write_text(json.dumps(state), encoding="utf-8")
    write_ledger(built / "b.xlsx")
    done = toolkit("build", ".", "-o", "out", cwd=built)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (built / "out" / "b.docx").is_file()
    restored = toolkit("history", "a.xlsx", "-o", "out", "--restore", "1", cwd=built)
    assert restored.returncode in (0, 2) and "内部错误" not in restored.stdout + restored.stderr


def test_a_fifo_in_place_of_the_watchers_log_is_a_clear_error(tmp_path):
    (tmp_path / "ledgers").mkdir()
    (tmp_path / "out").mkdir()
    os.mkfifo(tmp_path / "out" / "toolkit.log")
    done = toolkit("watch", "ledgers", "-o", "out", cwd=tmp_path)
    assert done.returncode == 2 and "toolkit.log" in done.stdout + done.stderr
