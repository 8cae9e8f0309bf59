"""The watcher, driven by real watchdog observers (inotify and polling) in a temp folder.

Waits are bounded (``TIMEOUT``) and end on a build, never on a sleep. "Nothing else was built"
is checked with a barrier (new ledgers saved and their first builds awaited, see ``barrier``).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from docx import Document
from ledger_factory import row, write_ledger
from openpyxl import load_workbook
from watchdog.observers.polling import PollingObserver

from toolkit import watch
from toolkit.build import build_notice
from toolkit.count import counts_to_dict
from toolkit.errors import ToolkitError
from toolkit.pipeline import analyse
from toolkit.watch import Watcher, mount_of, network_filesystem, parse_mounts

DEBOUNCE = 0.3
TIMEOUT = 30.0  # bound for one build on a slow CI machine; passing runs take a fraction


# ---------------------------------------------------------------- helpers

def ledger_bytes(tag: str, n: int = 5, status: str = "已完成", deadline: str = "2024年9月底前") -> bytes:
    """A small ledger whose progress cells carry ``tag``; no errors, no warnings."""
    rows = [row(i, "类别甲", f"问题{i}", status if i == 3 else "已完成", progress=f"{tag}进展{i}",
                deadline=deadline if i == 3 else "2024年9月底前") for i in range(1, n + 1)]
    buffer = io.BytesIO()
    write_ledger(buffer, rows)
    return buffer.getvalue()


def excel_save(path: Path, data: bytes) -> None:
    """Excel's save: a temp file with a random name and no extension, delete, rename onto it."""
    temp = path.with_name(secrets.token_hex(4).upper())
    temp.write_bytes(data)
    path.unlink(missing_ok=True)
    os.rename(temp, path)


def notice_text(path: Path) -> str:
    return "\n".join(p.text for p in Document(str(path)).paragraphs)


def eventually(predicate, timeout: float = TIMEOUT) -> bool:
    """For states no build announces (a thread dying): check until true, bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def barrier(w: Watcher, folder: Path) -> None:
    """Return once every event from before the call has been handled.

    A ledger saved now is reported after everything before it, so once it is built every
    earlier event has reached the queue; ``wait_idle`` then waits for the queue to empty (other
    workers may still be building, or a ledger may wait for its debounce). A poll reports its
    changes in one batch, not in the order they happened, so the first new ledger may share a
    batch with the last save; the second one comes after it.
    """
    for _ in range(2):
        name = f"zz-{secrets.token_hex(3)}.xlsx"
        (folder / name).write_bytes(ledger_bytes("barrier"))
        assert w.wait_builds(name, 1, TIMEOUT)
    assert w.wait_idle(TIMEOUT)


@pytest.fixture
def folders(tmp_path):
    ledgers, out = tmp_path / "ledgers", tmp_path / "out"
    ledgers.mkdir()
    return ledgers, out


@pytest.fixture(params=["native", "polling"])
def make_watcher(request, folders):
    made = []

    def make(**options):
        settings = dict(polling=request.param == "polling", interval=0.1, debounce=DEBOUNCE,
                        retry_delay=0.05, supervise_every=0.1)
        settings.update(options)
        w = Watcher(*folders, **settings)
        w.start()
        made.append(w)
        return w

    make.mode = request.param
    yield make
    for w in made:
        w.stop()


# ---------------------------------------------------------------- saves

def test_excel_save_rebuilds_once_with_the_new_content(make_watcher, folders):
    ledgers, out = folders
    ledger = ledgers / "某单位台账.xlsx"
    ledger.write_bytes(ledger_bytes("第一版"))
    w = make_watcher()
    if make_watcher.mode == "polling":
        assert isinstance(w.observer, PollingObserver)
    else:
        assert not isinstance(w.observer, PollingObserver)
    assert w.wait_builds(ledger.name, 1, TIMEOUT)
    notice = out / "某单位台账.docx"
    assert "第一版进展3" in notice_text(notice)

    excel_save(ledger, ledger_bytes("第二版"))
    assert w.wait_builds(ledger.name, 2, TIMEOUT)
    barrier(w, ledgers)
    assert w.builds(ledger.name) == 2
    text = notice_text(notice)
    assert "第二版进展3" in text and "第一版" not in text
    assert not (out / "某单位台账-校验报告.xlsx").exists()

    status = json.loads((out / "status.json").read_text(encoding="utf-8"))
    entry = status["ledgers"][ledger.name]
    assert entry["result"] == "built" and entry["notice"] == str(notice)
    assert entry["counts"] == counts_to_dict(analyse(ledger).stats.overall)
    assert entry["time"] and entry["notice_time"]
    log = (out / "toolkit.log").read_text(encoding="utf-8")
    # A poll between the temp file and the rename sees a move; otherwise a delete and a create.
    seen = "改名/移入" if make_watcher.mode == "native" else ("改名/移入", "新建")
    assert any(f"某单位台账.xlsx：{what}" in log for what in seen)
    assert log.count("某单位台账.xlsx：已生成通报 某单位台账.docx") == 2
    assert not list(out.glob(".~toolkit-*"))


def test_a_finished_save_after_a_quiet_spell_does_not_wait_for_the_debounce(folders):
    ledgers, out = folders
    ledger = ledgers / "a.xlsx"
    ledger.write_bytes(ledger_bytes("一"))
    # With a debounce far longer than the wait below, only the leading edge can build in time.
    with Watcher(ledgers, out, polling=False, debounce=120.0) as w:
        assert w.wait_builds("a.xlsx", 1, TIMEOUT)
        excel_save(ledger, ledger_bytes("二"))
        assert w.wait_builds("a.xlsx", 2, TIMEOUT)
        assert "二进展3" in notice_text(out / "a.docx")


def test_a_burst_of_saves_builds_a_few_times_and_ends_on_the_last(make_watcher, folders):
    ledgers, out = folders
    ledger = ledgers / "台账.xlsx"
    ledger.write_bytes(ledger_bytes("v0"))
    versions = [ledger_bytes(f"v{i}", n=5 + i // 10) for i in range(1, 51)]
    w = make_watcher()
    assert w.wait_builds(ledger.name, 1, TIMEOUT)

    start = time.monotonic()
    for i, data in enumerate(versions):
        excel_save(ledger, data)
        time.sleep(max(0.0, start + (i + 1) * 0.04 - time.monotonic()))  # the clerk's pace: 50 in 2 s
    barrier(w, ledgers)

    assert 1 <= w.builds(ledger.name) - 1 <= 3
    final = analyse(ledger)
    text = notice_text(out / "台账.docx")
    assert "v50进展10" in text and final.stats.summary in text
    assert "巡察反馈的10个具体问题" in final.stats.summary
    assert w.status(ledger.name)["counts"] == counts_to_dict(final.stats.overall)


def test_bad_saves_keep_the_last_notice_and_the_report_says_why(make_watcher, folders):
    ledgers, out = folders
    ledger = ledgers / "a.xlsx"
    notice, report = out / "a.docx", out / "a-校验报告.xlsx"
    ledger.write_bytes(ledger_bytes("好的"))
    w = make_watcher()
    assert w.wait_builds("a.xlsx", 1, TIMEOUT)
    good = notice.read_bytes()
    assert not report.exists()

    # Half a workbook: what a reader sees of an interrupted save.
    data = ledger_bytes("坏的")
    excel_save(ledger, data[: len(data) // 2])
    assert w.wait_builds("a.xlsx", 2, TIMEOUT)
    assert notice.read_bytes() == good
    rows = list(load_workbook(report).active.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 1 and rows[0][2] == "错误" and "损坏" in rows[0][5]
    assert w.status("a.xlsx")["result"] == "unusable"

    # A status no one accepts: an error naming the cell.
    excel_save(ledger, ledger_bytes("错的", status="进行了"))
    assert w.wait_builds("a.xlsx", 3, TIMEOUT)
    assert notice.read_bytes() == good
    rows = list(load_workbook(report).active.iter_rows(min_row=3, values_only=True))
    assert [(r[1], r[2], r[4]) for r in rows if r[2] == "错误"] == [("I4", "错误", "进行了")]
    assert w.status("a.xlsx")["result"] == "invalid"

    # Fixed but with a warning: the notice is built, the report keeps only the warning.
    excel_save(ledger, ledger_bytes("有警告", status="未完成"))
    assert w.wait_builds("a.xlsx", 4, TIMEOUT)
    assert "有警告进展3" in notice_text(notice)
    rows = list(load_workbook(report).active.iter_rows(min_row=3, values_only=True))
    assert rows and {r[2] for r in rows} == {"警告"}

    # Clean: the report goes away.
    excel_save(ledger, ledger_bytes("改好了"))
    assert w.wait_builds("a.xlsx", 5, TIMEOUT)
    assert "改好了进展3" in notice_text(notice)
    assert not report.exists()
    assert w.status("a.xlsx")["result"] == "built"


def test_lock_owner_and_temp_files_never_build_and_are_never_read(make_watcher, folders):
    ledgers, out = folders
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    read = []

    def recording_build(ledger, target, **options):
        read.append(Path(ledger).name)
        return build_notice(ledger, target, **options)

    w = make_watcher(builder=recording_build)
    assert w.wait_builds("a.xlsx", 1, TIMEOUT)
    junk = ["~$a.xlsx", ".~lock.a.xlsx#", "a.xlsx.tmp", "~WRL0001.tmp", "A1B2C3D4", "a.docx",
            ".~toolkit-x.tmp"]
    for name in junk:
        (ledgers / name).write_bytes(b"not a workbook")
    for name in junk:
        with (ledgers / name).open("ab") as handle:
            handle.write(b" more")
    os.rename(ledgers / "A1B2C3D4", ledgers / "B2C3D4E5")
    for name in junk[:-1]:
        (ledgers / name).unlink(missing_ok=True)
    barrier(w, ledgers)
    assert [n for n in read if not n.startswith("zz-")] == ["a.xlsx"]
    assert w.builds("a.xlsx") == 1
    assert sorted(p.name for p in out.glob("*-校验报告.xlsx")) == []


def test_a_deleted_ledger_keeps_its_notice(make_watcher, folders):
    ledgers, out = folders
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    w = make_watcher()
    assert w.wait_builds("a.xlsx", 1, TIMEOUT)
    before = (out / "a.docx").read_bytes()
    (ledgers / "a.xlsx").unlink()
    assert w.wait_builds("a.xlsx", 2, TIMEOUT)
    assert (out / "a.docx").read_bytes() == before
    entry = w.status("a.xlsx")
    assert entry["result"] == "deleted" and entry["notice"] == str(out / "a.docx")
    assert entry["counts"]["total"] == 5  # what the kept notice says


# ---------------------------------------------------------------- supervision

def test_a_dead_emitter_or_observer_is_restarted_and_no_save_is_lost(make_watcher, folders):
    ledgers, out = folders
    ledger = ledgers / "a.xlsx"
    ledger.write_bytes(ledger_bytes("一"))
    w = make_watcher()
    assert w.wait_builds("a.xlsx", 1, TIMEOUT)

    for emitter in list(w.observer.emitters):
        emitter.stop()
    assert w.wait_until(lambda: w.restarts >= 1, TIMEOUT)

    dead = w.observer
    dead.stop()
    excel_save(ledger, ledger_bytes("二"))  # saved while nobody may be watching
    assert w.wait_until(lambda: w.restarts >= 2, TIMEOUT)
    assert w.observer is not dead and w.healthy
    assert w.wait_builds("a.xlsx", 2, TIMEOUT)
    assert "二进展3" in notice_text(out / "a.docx")
    assert "正在重启" in (out / "toolkit.log").read_text(encoding="utf-8")


def test_polling_survives_a_share_that_drops_and_comes_back(folders, tmp_path):
    ledgers, out = folders
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    with Watcher(ledgers, out, polling=True, interval=0.1, debounce=DEBOUNCE,
                 supervise_every=0.1) as w:
        assert w.wait_builds("a.xlsx", 1, TIMEOUT)
        away = tmp_path / "unreachable"
        ledgers.rename(away)  # the share drops: the folder is gone for the poller
        assert eventually(lambda: not any(e.is_alive() for e in w.observer.emitters))
        excel_save(away / "a.xlsx", ledger_bytes("断线期间"))
        away.rename(ledgers)
        assert w.wait_builds("a.xlsx", 2, TIMEOUT)
        assert w.restarts >= 1
        assert "断线期间进展3" in notice_text(out / "a.docx")


def test_a_folder_deleted_and_made_again_is_watched_again(folders, tmp_path):
    ledgers, out = folders
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    with Watcher(ledgers, out, polling=False, debounce=DEBOUNCE, supervise_every=0.1) as w:
        assert w.wait_builds("a.xlsx", 1, TIMEOUT)
        ledgers.rename(tmp_path / "old")  # inotify keeps following the old folder
        ledgers.mkdir()
        (ledgers / "b.xlsx").write_bytes(ledger_bytes("新文件夹"))
        assert w.wait_builds("b.xlsx", 1, TIMEOUT)
        assert w.restarts >= 1
        assert "新文件夹进展3" in notice_text(out / "b.docx")


# ---------------------------------------------------------------- network file systems

FAKE_MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
//fileserver/台账 /mnt/share cifs rw,vers=3.0 0 0
/dev/sdb1 /mnt/share/local ext4 rw 0 0
fileserver:/export /mnt/nfs\\040share nfs4 rw 0 0
/dev/sdc1 /mnt/share2 ext4 rw 0 0
"""


def test_mounts_longest_prefix_wins():
    mounts = parse_mounts(FAKE_MOUNTS)
    assert ("/mnt/nfs share", "nfs4") in mounts
    assert mount_of("/mnt/share/巡察/台账", mounts) == ("/mnt/share", "cifs")
    assert mount_of("/mnt/share/local/x", mounts) == ("/mnt/share/local", "ext4")
    assert mount_of("/mnt/share2/x", mounts) == ("/mnt/share2", "ext4")  # not /mnt/share
    assert mount_of("/home/clerk", mounts) == ("/", "ext4")
    assert network_filesystem("/mnt/share/巡察", FAKE_MOUNTS) == "cifs"
    assert network_filesystem("/mnt/nfs share/a", FAKE_MOUNTS) == "nfs4"
    assert network_filesystem("/mnt/share/local", FAKE_MOUNTS) is None
    assert network_filesystem("/mnt/share2", FAKE_MOUNTS) is None
    # A later mount over the same point hides the earlier one.
    overmounted = "a /srv ext4 rw 0 0\nb /srv fuse.sshfs rw 0 0\n"
    assert network_filesystem("/srv/x", overmounted) == "fuse.sshfs"


def test_a_folder_on_a_network_share_is_polled_automatically(folders, tmp_path, monkeypatch):
    ledgers, out = folders
    mounts = tmp_path / "mounts"
    real = os.path.realpath(ledgers)
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\n//srv/share {real} smb3 rw 0 0\n", encoding="utf-8")
    monkeypatch.setattr(watch, "MOUNTS_FILE", mounts)
    with Watcher(ledgers, out, debounce=DEBOUNCE) as w:
        assert w.polling and isinstance(w.observer, PollingObserver)
    assert "网络文件系统（smb3），自动改用轮询" in (out / "toolkit.log").read_text(encoding="utf-8")

    mounts.write_text("/dev/sda1 / ext4 rw 0 0\n", encoding="utf-8")
    with Watcher(ledgers, out, debounce=DEBOUNCE) as w:
        assert not w.polling and not isinstance(w.observer, PollingObserver)


# ---------------------------------------------------------------- start and stop

def test_stale_temp_files_of_ours_are_removed_at_start(folders):
    ledgers, out = folders
    out.mkdir()
    stale, fresh = out / ".~toolkit-abc123.tmp", out / ".~toolkit-def456.tmp"
    for path in (stale, fresh):
        path.write_bytes(b"half a notice")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    with Watcher(ledgers, out, debounce=DEBOUNCE):
        assert not stale.exists()
        assert fresh.exists()  # may belong to a `toolkit build` running right now


def test_stop_lets_the_current_build_finish_and_leaves_no_temp_file(folders):
    ledgers, out = folders
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    started, release = threading.Event(), threading.Event()

    def slow_build(ledger, target, **options):
        started.set()
        release.wait(TIMEOUT)
        return build_notice(ledger, target, **options)

    w = Watcher(ledgers, out, debounce=DEBOUNCE, builder=slow_build)
    w.start()
    assert started.wait(TIMEOUT)
    w.request_stop()  # the stop arrives while the build is running
    release.set()
    w.stop()
    assert (out / "a.docx").exists()
    assert w.status("a.xlsx")["result"] == "built"
    assert not list(out.glob(".~toolkit-*"))
    assert not w.healthy


def test_our_own_workbooks_in_the_ledger_folder_never_build(folders):
    ledgers, _ = folders
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一", status="未完成"))  # a warning: a report
    with Watcher(ledgers, ledgers, debounce=DEBOUNCE) as w:
        assert w.wait_builds("a.xlsx", 1, TIMEOUT)
        assert (ledgers / "a-校验报告.xlsx").exists() and (ledgers / "a.docx").exists()
        barrier(w, ledgers)
        assert w.builds("a.xlsx") == 1
        assert [p.name for p in ledgers.glob("*-校验报告-校验报告.xlsx")] == []
        assert w.builds("a-校验报告.xlsx") == 0 and w.builds("a-统计.xlsx") == 0


def test_a_missing_folder_cannot_be_watched(tmp_path):
    with pytest.raises(ToolkitError, match="台账文件夹不存在"):
        Watcher(tmp_path / "nowhere", tmp_path / "out").start()


def test_cli_watch_builds_then_stops_on_sigterm(folders):
    ledgers, out = folders
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    toolkit = Path(sys.executable).with_name("toolkit")
    command = [str(toolkit), "watch", str(ledgers), "-o", str(out), "--debounce", "0.2"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8")
    try:
        status = out / "status.json"
        assert eventually(lambda: status.exists()
                          and "a.xlsx" in status.read_text(encoding="utf-8"))
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "a.xlsx：已生成通报 a.docx" in stderr
    assert "已停止监视" in stderr + stdout
    assert not list(out.glob(".~toolkit-*"))


# ---------------------------------------------------------------- what a clerk must see (11.3, 12.3)

def test_a_ledger_open_in_excel_is_logged_and_recorded(folders, make_watcher, caplog):
    ledgers, out = folders
    (ledgers / "~$台账.xlsx").write_bytes(b"\x00owner")  # Excel's owner file while it is open
    (ledgers / "台账.xlsx").write_bytes(ledger_bytes("a"))
    w = make_watcher()
    with caplog.at_level("WARNING", logger="toolkit.watch"):
        assert w.wait_builds("台账.xlsx", 1, TIMEOUT)
        assert w.wait_idle(TIMEOUT)
    status = json.loads((out / "status.json").read_text(encoding="utf-8"))["ledgers"]["台账.xlsx"]
    assert any("正在被编辑" in line and "Excel" in line for line in status["important"]), status
    assert any("正在被编辑" in r.getMessage() for r in caplog.records)
    assert status["missing"] == []  # the factory's 通报信息 is complete


def test_a_notice_lacking_what_makes_it_official_says_so(folders, make_watcher, caplog):
    from ledger_factory import META

    ledgers, out = folders
    meta = {k: v for k, v in META.items() if k not in ("发文机关", "成文日期")}
    write_ledger(ledgers / "台账.xlsx", meta=meta)
    w = make_watcher()
    with caplog.at_level("WARNING", logger="toolkit.watch"):
        assert w.wait_builds("台账.xlsx", 1, TIMEOUT)
        assert w.wait_idle(TIMEOUT)
    status = json.loads((out / "status.json").read_text(encoding="utf-8"))["ledgers"]["台账.xlsx"]
    assert status["missing"] == ["发文机关", "成文日期"], status
    assert any("缺少发文机关、成文日期" in r.getMessage() for r in caplog.records)


def test_an_older_ledger_of_the_same_name_never_replaces_the_notice(folders, make_watcher, caplog):
    from format_factory import write_xls

    ledgers, out = folders
    write_xls(ledgers / "台账.xls", [row(i, "类", f"新问题{i}", "已完成") for i in range(1, 4)])
    w = make_watcher()
    assert w.wait_builds("台账.xls", 1, TIMEOUT)
    assert "新问题1" in notice_text(out / "台账.docx")
    stale = folders[0].parent / "stale.xlsx"
    stale.write_bytes(ledger_bytes("旧"))
    os.utime(stale, (1_600_000_000, 1_600_000_000))  # saved long before the .xls
    with caplog.at_level("WARNING", logger="toolkit.watch"):
        os.rename(stale, ledgers / "台账.xlsx")
        barrier(w, ledgers)
    assert w.builds("台账.xlsx") == 0
    assert "新问题1" in notice_text(out / "台账.docx")  # still the newer ledger's notice
    assert any("同名" in r.getMessage() and "台账.xlsx 未读取" in r.getMessage() for r in caplog.records)
