"""PDF conversion as a process: LibreOffice's whole process group is killed and its temporary
folder removed on every way out (error, timeout, KeyboardInterrupt, cancellation, stop of the
watcher, a second stop signal); the PDF is written with the one atomic write (same mode as the
.docx); TOOLKIT_SOFFICE points at soffice. Fake converters (shell scripts): no LibreOffice."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_pdf import earlier_pdf_of_ours
from test_watch import TIMEOUT, eventually, ledger_bytes

from toolkit.atomic import write_atomic
from toolkit.errors import PdfConversionError
from toolkit.pdf import SOFFICE_ENV, cancel_conversions, convert_to_pdf, find_soffice
from toolkit.watch import Watcher

pytestmark = pytest.mark.skipif(os.name != "posix", reason="fake converters are shell scripts")

# Writes a tiny "PDF" named after the input into --outdir, as soffice does.
GOOD = ('for a; do case "$prev" in --outdir) out="$a";; esac; prev="$a"; last="$a"; done\n'
        'name=${last##*/}; name=${name%.docx}\n'
        'printf "%%PDF-1.4 fake" > "$out/$name.pdf"')
# Starts a child that outlives it unless its process group is killed (soffice.bin under
# oosplash), records both pids, and hangs.
HANGS = ('sleep 120 &\n'
         'echo $! >> "$FAKE_PIDS"\n'
         'echo $$ >> "$FAKE_PIDS"\n'
         'touch "$FAKE_PIDS.started"\n'
         'wait')


def fake_soffice(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "soffice"
    exe.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return exe


def alive(pid: int) -> bool:
    """Running and not a zombie (an orphan's zombie waits for init: it is dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A private temp folder (to see what conversions leave) and a pid file for fakes."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    monkeypatch.setenv("FAKE_PIDS", str(tmp_path / "pids"))
    monkeypatch.delenv(SOFFICE_ENV, raising=False)

    def install(body: str) -> Path:
        exe = fake_soffice(tmp_path / "bin", body)
        monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
        return exe

    install.temp = temp
    install.pids = lambda: [int(x) for x in (tmp_path / "pids").read_text().split()]
    install.started = tmp_path / "pids.started"
    return install


@pytest.fixture
def docx(tmp_path):
    path = tmp_path / "通报.docx"
    write_atomic(path, b"PK fake docx")  # mode as for every output
    return path


def leftovers(temp: Path) -> list[str]:
    return sorted(p.name for p in temp.iterdir() if p.name.startswith("toolkit-pdf-"))


# ---------------------------------------------------------------- mode and atomic write (9.4)

def test_the_pdf_gets_the_same_mode_as_the_docx(env, docx, tmp_path):
    env(GOOD)
    old_umask = os.umask(0o022)
    try:
        out = tmp_path / "out"
        notice = write_atomic(out / "通报.docx", b"PK")
        convert_to_pdf(docx, out / "通报.pdf")
    finally:
        os.umask(old_umask)
    mode = stat.S_IMODE((out / "通报.pdf").stat().st_mode)
    assert mode == stat.S_IMODE(notice.stat().st_mode) == 0o644
    assert sorted(p.name for p in out.iterdir()) == ["通报.docx", "通报.pdf"]  # no temp file
    assert leftovers(env.temp) == []


def test_a_replaced_pdf_keeps_its_mode(env, docx, tmp_path):
    env(GOOD)
    target = tmp_path / "通报.pdf"
    earlier_pdf_of_ours(docx, target)
    target.chmod(0o664)
    convert_to_pdf(docx, target)
    assert target.read_bytes().startswith(b"%PDF-1.4 fake")
    assert stat.S_IMODE(target.stat().st_mode) == 0o664


# ---------------------------------------------------------------- every way out (9.8)

def test_a_failed_conversion_leaves_no_temporary_folder(env, docx, tmp_path):
    env("echo boom >&2; exit 3")
    with pytest.raises(PdfConversionError, match="退出码 3"):
        convert_to_pdf(docx, tmp_path / "a.pdf")
    assert leftovers(env.temp) == []


def test_a_timeout_kills_the_whole_process_group(env, docx, tmp_path):
    env(HANGS)
    with pytest.raises(PdfConversionError, match="超时"):
        convert_to_pdf(docx, tmp_path / "a.pdf", timeout=1)
    pids = env.pids()
    assert len(pids) == 2
    assert eventually(lambda: not any(alive(p) for p in pids), 10)
    assert leftovers(env.temp) == []


def test_keyboard_interrupt_kills_the_group_and_removes_the_folder(env, docx, tmp_path):
    env(HANGS)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        with pytest.raises(KeyboardInterrupt):
            convert_to_pdf(docx, tmp_path / "a.pdf", timeout=60)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    pids = env.pids()
    assert eventually(lambda: not any(alive(p) for p in pids), 10)
    assert leftovers(env.temp) == []
    assert not (tmp_path / "a.pdf").exists()


def test_cancel_conversions_ends_a_running_conversion(env, docx, tmp_path):
    env(HANGS)
    caught: list[BaseException] = []

    def convert():
        try:
            convert_to_pdf(docx, tmp_path / "a.pdf", timeout=60)
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=convert)
    thread.start()
    assert eventually(env.started.exists, TIMEOUT)
    started = time.monotonic()
    assert cancel_conversions() == 1
    thread.join(TIMEOUT)
    assert not thread.is_alive() and time.monotonic() - started < 10
    assert isinstance(caught[0], PdfConversionError) and "已取消" in caught[0].message
    assert eventually(lambda: not any(alive(p) for p in env.pids()), 10)
    assert leftovers(env.temp) == []
    assert cancel_conversions() == 0


# ---------------------------------------------------------------- finding soffice (12.7)

def test_toolkit_soffice_points_at_a_converter_off_the_path(env, docx, tmp_path, monkeypatch):
    exe = fake_soffice(tmp_path / "LibreOffice" / "program", GOOD)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv(SOFFICE_ENV, str(exe))
    assert find_soffice() == str(exe)
    convert_to_pdf(docx, tmp_path / "a.pdf")
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF-")
    monkeypatch.setenv(SOFFICE_ENV, str(exe.parent))  # the program folder will do too
    assert find_soffice() == str(exe)


def test_a_wrong_toolkit_soffice_is_named_in_the_error(env, docx, tmp_path, monkeypatch):
    env(GOOD)  # a converter on PATH does not silently replace the one asked for
    wrong = tmp_path / "没有" / "soffice.exe"
    monkeypatch.setenv(SOFFICE_ENV, str(wrong))
    assert find_soffice() is None
    with pytest.raises(PdfConversionError) as caught:
        convert_to_pdf(docx, tmp_path / "a.pdf")
    assert SOFFICE_ENV in caught.value.message and str(wrong) in caught.value.message


# ---------------------------------------------------------------- the watcher's stop (9.8)

def test_stopping_the_watcher_kills_a_running_conversion(env, tmp_path):
    env(HANGS)
    ledgers, out = tmp_path / "ledgers", tmp_path / "out"
    ledgers.mkdir()
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    w = Watcher(ledgers, out, polling=False, debounce=0.2, pdf=True, stop_timeout=60)
    w.start()
    try:
        assert eventually(env.started.exists, TIMEOUT)
    finally:
        started = time.monotonic()
        w.stop()
    assert time.monotonic() - started < 15  # not the 60 s stop timeout nor the 120 s one
    assert eventually(lambda: not any(alive(p) for p in env.pids()), 10)
    assert leftovers(env.temp) == []
    assert (out / "a.docx").exists() and not (out / "a.pdf").exists()
    log = (out / "toolkit.log").read_text(encoding="utf-8")
    assert "已停止监视" in log


def test_cli_watch_pdf_stopped_twice_still_logs_the_stop(env, tmp_path):
    env(HANGS)
    ledgers, out = tmp_path / "ledgers", tmp_path / "out"
    ledgers.mkdir()
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    toolkit = Path(sys.executable).with_name("toolkit")
    proc = subprocess.Popen([str(toolkit), "watch", str(ledgers), "-o", str(out), "--pdf",
                             "--debounce", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8", env=dict(os.environ))
    try:
        assert eventually(env.started.exists, TIMEOUT)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)  # the impatient second signal
        _, stderr = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # 0, or killed by the second SIGTERM when it lands after the stop, while the interpreter
    # is already shutting down (Python has restored the default handler by then).
    assert proc.returncode in (0, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr
    assert "已停止监视" in stderr
    assert eventually(lambda: not any(alive(p) for p in env.pids()), 10)
    assert leftovers(env.temp) == []


def test_a_second_interrupt_while_stop_waits_still_logs_the_stop(env, tmp_path):
    """The stop waits for a long build; an impatient second signal (KeyboardInterrupt) ends
    the wait at once, and "已停止" is still logged."""
    ledgers, out = tmp_path / "ledgers", tmp_path / "out"
    ledgers.mkdir()
    (ledgers / "a.xlsx").write_bytes(ledger_bytes("一"))
    started, release = threading.Event(), threading.Event()

    def slow_build(ledger, target, **options):
        started.set()
        release.wait(TIMEOUT)
        raise RuntimeError("abandoned")

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    w = Watcher(ledgers, out, polling=False, debounce=0.2, builder=slow_build, stop_timeout=60)
    w.start()
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        assert started.wait(TIMEOUT)
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        began = time.monotonic()
        w.stop()
        assert time.monotonic() - began < 10
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        release.set()
    log = (out / "toolkit.log").read_text(encoding="utf-8")
    assert "再次收到停止信号" in log and "已停止监视" in log
