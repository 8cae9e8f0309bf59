"""The watcher against hostile folders: damaged status.json, unwritable outputs, FIFOs, builds
that never end, polling saves. Good ledgers always still build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from test_watch import TIMEOUT, excel_save, ledger_bytes, notice_text

from toolkit import build as build_module
from toolkit.build import build_notice
from toolkit.errors import WatchError
from toolkit.watch import Watcher

DEBOUNCE = 0.3


@pytest.fixture
def folders(tmp_path):
    ledgers, out = tmp_path / "ledgers", tmp_path / "out"
    ledgers.mkdir()
    return ledgers, out


def watcher(folders, **options) -> Watcher:
    settings: dict = {"polling": False, "debounce": DEBOUNCE, "retry_delay": 0.05,
                      "supervise_every": 0.1}
    settings.update(options)
    return Watcher(*folders, **settings)


def report_messages(path: Path) -> list[str]:
    return [r[5] for r in load_workbook(path).active.iter_rows(min_row=3, values_only=True)]


# ---------------------------------------------------------------- status.json (9.2)

@pytest.mark.parametrize("content", [
    '{"ledgers": []}', "garbage {", '[1, 2]', '{"ledgers": {"a.xlsx": 5, "b.xlsx": [1]}}',
    '{"ledgers": {"a.xlsx": {"notice": 7, "notice_time": []}}}', '"text"', "",
    b"\xff\xfe\x00bad".decode("latin-1"),
])
def test_a_hand_edited_status_json_does_not_stop_the_watcher(folders, content):
    ledgers, out = folders
    out.mkdir()
    (out / "status.json").write_text(content, encoding="utf-8")
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    with watcher(folders) as w:
        assert w.wait_builds("a.xlsx", 1, TIMEOUT)
        entry = w.status("a.xlsx")
        assert entry["result"] == "built" and entry["notice"] == str(out / "a.docx")
    data = json.loads((out / "status.json").read_text(encoding="utf-8"))
    assert data["ledgers"]["a.xlsx"]["result"] == "built"


def test_a_damaged_status_json_is_named_in_a_warning(folders):
    _, out = folders
    out.mkdir()
    (out / "status.json").write_text('{"ledgers": []}', encoding="utf-8")
    with watcher(folders):
        pass
    log = (out / "toolkit.log").read_text(encoding="utf-8")
    assert f"{out / 'status.json'} 的内容不是本工具写的格式，将重新建立" in log


def test_a_deleted_ledger_known_from_an_earlier_run_is_still_recorded(folders):
    ledgers, out = folders
    out.mkdir()
    earlier = {"ledgers": {"gone.xlsx": {"result": "built", "notice": str(out / "gone.docx"),
                                         "notice_time": "2024-01-01T00:00:00"}}}
    (out / "status.json").write_text(json.dumps(earlier), encoding="utf-8")
    with watcher(folders) as w:
        (ledgers / "gone.xlsx").write_bytes(ledger_bytes("一"))
        assert w.wait_builds("gone.xlsx", 1, TIMEOUT)
        assert w.status("gone.xlsx")["result"] == "built"


# ---------------------------------------------------------------- unwritable outputs (9.3)

def test_a_log_file_that_cannot_be_written_is_a_clear_error(folders):
    _, out = folders
    (out / "toolkit.log").mkdir(parents=True)  # even root cannot open a folder as a file
    with pytest.raises(WatchError) as caught:
        watcher(folders).start()
    assert str(out / "toolkit.log") in caught.value.message
    assert "无法写入日志文件" in caught.value.message
    assert "同名的文件夹已存在" in caught.value.message  # the reason in Chinese, not strerror


def test_cli_watch_with_an_unwritable_log_exits_2_without_traceback(folders):
    ledgers, out = folders
    (out / "toolkit.log").mkdir(parents=True)
    toolkit = Path(sys.executable).with_name("toolkit")
    proc = subprocess.run([str(toolkit), "watch", str(ledgers), "-o", str(out)],
                          capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT,
                          check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and str(out / "toolkit.log") in proc.stderr


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_a_read_only_output_folder_is_a_clear_error(folders):
    _, out = folders
    out.mkdir()
    out.chmod(0o500)
    try:
        with pytest.raises(WatchError, match="无法写入"):
            watcher(folders).start()
        with pytest.raises(WatchError, match="无法写入"):
            watcher(folders, log_file=False).start()
    finally:
        out.chmod(0o700)


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e400"])
def test_cli_watch_refuses_a_debounce_that_cannot_be_a_delay(folders, value):
    ledgers, out = folders
    toolkit = Path(sys.executable).with_name("toolkit")
    proc = subprocess.run([str(toolkit), "watch", str(ledgers), "-o", str(out),
                           f"--debounce={value}"], capture_output=True, text=True,
                          encoding="utf-8", timeout=TIMEOUT, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "debounce" in proc.stderr


def test_a_notice_write_failure_is_reported_and_the_watcher_goes_on(folders, monkeypatch):
    """The write of the notice raises (as mkstemp in a read-only folder does): the 校验报告 and
    status.json say so, the old notice stays, and the next save builds again."""
    ledgers, out = folders
    ledger = ledgers / "a.xlsx"
    ledger.write_bytes(ledger_bytes("一"))
    real_write = build_module.write_atomic
    broken = threading.Event()

    def write_atomic(target, data, **options):
        if broken.is_set() and Path(target).suffix == ".docx":
            raise PermissionError(13, "Permission denied", str(Path(target).parent / ".~toolkit-x.tmp"))
        return real_write(target, data, **options)

    monkeypatch.setattr(build_module, "write_atomic", write_atomic)
    with watcher(folders) as w:
        assert w.wait_builds("a.xlsx", 1, TIMEOUT)
        good = (out / "a.docx").read_bytes()
        broken.set()
        excel_save(ledger, ledger_bytes("二"))
        assert w.wait_builds("a.xlsx", 2, TIMEOUT)
        entry = w.status("a.xlsx")
        assert entry["result"] != "built" and entry["output_failed"]
        assert "无法写入" in entry["message"] and str(out) in entry["message"]
        assert entry["notice"] == str(out / "a.docx")
        assert (out / "a.docx").read_bytes() == good
        saved = json.loads((out / "status.json").read_text(encoding="utf-8"))
        assert saved["ledgers"]["a.xlsx"]["result_cn"] == "输出失败，原通报保留"
        assert any("无法写入" in m for m in report_messages(out / "a-校验报告.xlsx"))

        broken.clear()
        excel_save(ledger, ledger_bytes("三"))
        assert w.wait_builds("a.xlsx", 3, TIMEOUT)
        assert w.status("a.xlsx")["result"] == "built"
        assert "三进展3" in notice_text(out / "a.docx")
        assert not (out / "a-校验报告.xlsx").exists()


def test_a_builder_that_crashes_is_a_failed_result_not_a_silent_one(folders):
    ledgers, out = folders
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))

    def crashing(ledger, target, **options):
        raise RuntimeError("boom")

    with watcher(folders, builder=crashing) as w:
        assert w.wait_builds("a.xlsx", 1, TIMEOUT)
        entry = w.status("a.xlsx")
        assert entry["result"] == "unusable" and "意外错误" in entry["message"]
    assert any("意外错误" in m for m in report_messages(out / "a-校验报告.xlsx"))


# ---------------------------------------------------------------- starvation (9.5, 9.6)

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_a_ledger_never_blocks_the_good_ones(folders):
    ledgers, out = folders
    for name in ("a.xlsx", "b.xlsx"):
        (ledgers / name).write_bytes(ledger_bytes(name))
    with watcher(folders, workers=1) as w:  # even a single worker is never blocked
        assert w.wait_builds("a.xlsx", 1, TIMEOUT) and w.wait_builds("b.xlsx", 1, TIMEOUT)
        os.mkfifo(ledgers / "x.xlsx")
        assert w.wait_builds("x.xlsx", 1, TIMEOUT)
        excel_save(ledgers / "a.xlsx", ledger_bytes("改过"))
        (ledgers / "c.xlsx").write_bytes(ledger_bytes("新"))
        assert w.wait_builds("a.xlsx", 2, TIMEOUT) and w.wait_builds("c.xlsx", 1, TIMEOUT)
        assert "改过进展3" in notice_text(out / "a.docx")
        entry = w.status("x.xlsx")
        assert entry["result"] == "unusable" and "不是普通文件" in entry["message"]
        started = time.monotonic()
    assert time.monotonic() - started < 10  # stop does not wait on the FIFO
    assert not (out / "x.docx").exists()


def test_a_fifo_present_at_start_is_never_opened(folders):
    ledgers, _ = folders
    os.mkfifo(ledgers / "x.xlsx")
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    with watcher(folders, workers=1) as w:
        assert w.wait_builds("a.xlsx", 1, TIMEOUT)
        assert w.wait_idle(TIMEOUT)


def test_a_build_that_takes_very_long_does_not_starve_the_other_ledgers(folders):
    ledgers, out = folders
    slow_names = {"slow1.xlsx", "slow2.xlsx"}
    release = threading.Event()
    for name in sorted(slow_names) + ["a.xlsx", "b.xlsx"]:
        (ledgers / name).write_bytes(ledger_bytes(name))

    def builder(ledger, target, **options):
        if Path(ledger).name in slow_names:
            release.wait(TIMEOUT)  # a ledger that takes minutes to read
        return build_notice(ledger, target, **options)

    # Two workers, both taken by slow ledgers (they sort first): the stuck-build rule frees one.
    w = watcher(folders, builder=builder, workers=2, stuck_after=0.5)
    w.start()
    try:
        assert w.wait_builds("a.xlsx", 1, TIMEOUT) and w.wait_builds("b.xlsx", 1, TIMEOUT)
        excel_save(ledgers / "a.xlsx", ledger_bytes("第二版"))
        assert w.wait_builds("a.xlsx", 2, TIMEOUT)
        assert "第二版进展3" in notice_text(out / "a.docx")
        assert w.builds("slow1.xlsx") == 0
    finally:
        release.set()
        w.stop()
    assert "生成已超过 0.5 秒仍未结束，其他台账照常处理" in (out / "toolkit.log").read_text(
        encoding="utf-8")


# ---------------------------------------------------------------- polling latency (14.4)

def test_a_polled_save_after_a_quiet_spell_does_not_wait_for_the_debounce(folders):
    """A poll sees an Excel save as the ledger replaced (created/deleted), not as a rename:
    it is still a finished save and is built without paying the debounce."""
    ledgers, out = folders
    ledger = ledgers / "a.xlsx"
    ledger.write_bytes(ledger_bytes("一"))
    with watcher(folders, polling=True, interval=0.1, debounce=60.0) as w:
        assert w.wait_builds("a.xlsx", 1, TIMEOUT)
        time.sleep(0.25)  # more than two polls: the first build's own events are past
        excel_save(ledger, ledger_bytes("第二版"))
        assert w.wait_builds("a.xlsx", 2, TIMEOUT)
        assert "第二版进展3" in notice_text(out / "a.docx")
        assert w.status("a.xlsx")["result"] == "built"  # never "deleted" in between


# ---------------------------------------------------------------- outcomes added by build.py

def test_an_outcome_the_watcher_does_not_know_is_recorded_in_chinese(folders):
    """build.py may add outcomes ("unchanged", "edited kept" …): recorded, never in English,
    and the notice time moves only when a notice was written."""
    import dataclasses

    ledgers, out = folders
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    outcome = {"value": "built"}

    def builder(ledger, target, **options):
        result = build_notice(ledger, target, **options)
        return dataclasses.replace(result, outcome=outcome["value"])

    with watcher(folders, builder=builder) as w:
        assert w.wait_builds("a.xlsx", 1, TIMEOUT)
        first = w.status("a.xlsx")["notice_time"]
        outcome["value"] = "some new outcome"
        excel_save(ledgers / "a.xlsx", ledger_bytes("二"))
        assert w.wait_builds("a.xlsx", 2, TIMEOUT)
        entry = w.status("a.xlsx")
        assert entry["result"] == "some new outcome"
        assert entry["result_cn"] == "已处理（some new outcome）"
        assert entry["notice_time"] is not None and entry["notice_time"] >= first
        assert "二进展3" in notice_text(out / "a.docx")
