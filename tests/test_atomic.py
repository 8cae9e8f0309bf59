"""Atomic output and the one guard every writer goes through (issues 9.1, 9.3)."""

from __future__ import annotations

import errno
import io
import os
import zipfile
from pathlib import Path

import pytest
from ledger_factory import write_ledger
from typer.testing import CliRunner

from toolkit import atomic
from toolkit.atomic import TEMP_PREFIX, write_atomic
from toolkit.cli import app
from toolkit.errors import OutputError, OutputLockedError
from toolkit.names import (
    NOTICE,
    STATS,
    NotOursError,
    check_replaceable,
    is_toolkit_output,
    mark_of,
    mark_package,
)

runner = CliRunner()


def package(**parts: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="x"></Types>')
        z.writestr("_rels/.rels", '<Relationships xmlns="y"></Relationships>')
        for name, text in parts.items():
            z.writestr(name.replace("__", "/").replace("_xml", ".xml"), text)
    return buffer.getvalue()


def test_new_file_is_written_whole_and_readable(tmp_path):
    target = write_atomic(tmp_path / "a" / "b.docx", b"data")
    assert target.read_bytes() == b"data"
    assert os.stat(target).st_mode & 0o444 == 0o444  # not mkstemp's private 0600
    assert [p.name for p in target.parent.iterdir()] == ["b.docx"]


def test_mark_survives_and_is_found_cheaply(tmp_path):
    data = mark_package(package(word__document_xml="<w/>"), NOTICE)
    (tmp_path / "n.docx").write_bytes(data)
    assert mark_of(tmp_path / "n.docx") == NOTICE
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        names = z.namelist()
        assert len(names) == len(set(names))  # replaced parts are not listed twice
        assert "docProps/custom.xml" in z.read("[Content_Types].xml").decode()
        assert "custom-properties" in z.read("_rels/.rels").decode()


def test_mark_added_to_existing_custom_properties():
    custom = ('<Properties xmlns="p" xmlns:vt="v"><property fmtid="{X}" pid="2" name="Other">'
              "<vt:lpwstr>keep</vt:lpwstr></property></Properties>")
    data = mark_package(package(docProps__custom_xml=custom), STATS)
    text = zipfile.ZipFile(io.BytesIO(data)).read("docProps/custom.xml").decode()
    assert 'name="Other"' in text and 'pid="3" name="ToolkitOutput"' in text


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04broken", b"%PDF-1.4 x"])
def test_foreign_files_are_not_ours(tmp_path, content):
    path = tmp_path / "x.docx"
    path.write_bytes(content)
    assert not is_toolkit_output(path)
    with pytest.raises(NotOursError, match="x.docx"):
        write_atomic(path, b"new")
    assert path.read_bytes() == content


def test_ledger_is_never_replaced(tmp_path):
    ledger = write_ledger(tmp_path / "b.xlsx")
    before = ledger.read_bytes()
    with pytest.raises(NotOursError, match="b.xlsx.*台账"):
        write_atomic(ledger, b"new")
    assert ledger.read_bytes() == before


def test_our_file_may_be_replaced(tmp_path):
    path = tmp_path / "n.docx"
    path.write_bytes(mark_package(package(), NOTICE))
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"


def test_bookkeeping_files_may_be_replaced(tmp_path):
    (tmp_path / "status.json").write_text("{}")
    write_atomic(tmp_path / "status.json", b"[]")
    check_replaceable(tmp_path / ".history" / "a" / "x.json")


def test_directory_and_fifo_are_refused(tmp_path):
    (tmp_path / "d.docx").mkdir()
    with pytest.raises(NotOursError, match="文件夹"):
        write_atomic(tmp_path / "d.docx", b"x")
    os.mkfifo(tmp_path / "f.docx")
    with pytest.raises(NotOursError, match="普通文件"):
        write_atomic(tmp_path / "f.docx", b"x")


def test_mkstemp_failure_is_an_output_error(tmp_path, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", no_space)
    with pytest.raises(OutputError, match="out.docx.*磁盘空间已满"):
        write_atomic(tmp_path / "out.docx", b"x")


def test_write_failure_leaves_no_temp_and_names_the_file(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OutputError, match="磁盘空间已满") as caught:
        write_atomic(tmp_path / "s.xlsx", b"x")
    assert caught.value.path == tmp_path / "s.xlsx"
    assert list(tmp_path.iterdir()) == []


def test_read_only_folder_is_not_reported_as_locked(tmp_path, monkeypatch):
    real = atomic.tempfile.mkstemp

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    with pytest.raises(OutputError) as caught:
        write_atomic(tmp_path / "n.docx", b"x")
    assert not isinstance(caught.value, OutputLockedError) and "没有权限" in caught.value.message
    monkeypatch.setattr(atomic.tempfile, "mkstemp", real)


def test_locked_target_is_reported_as_locked(tmp_path, monkeypatch):
    def locked(src, dst):
        raise PermissionError(errno.EACCES, "locked")

    monkeypatch.setattr(atomic.os, "replace", locked)
    with pytest.raises(OutputLockedError):
        write_atomic(tmp_path / "n.docx", b"x")
    assert [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)] == []


def test_proc_path_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="x.docx"):
        write_atomic(Path("/proc/x.docx"), b"x")


def test_no_overwrite_refuses_existing(tmp_path):
    (tmp_path / "a.xlsx").write_bytes(b"mine")
    with pytest.raises(OutputError, match="已存在"):
        write_atomic(tmp_path / "a.xlsx", b"x", overwrite=False)
    assert (tmp_path / "a.xlsx").read_bytes() == b"mine"


# ---------------------------------------------------------------- through the CLI

def test_summary_refuses_to_overwrite_a_ledger(tmp_path):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    write_ledger(ledgers / "a.xlsx")
    target = write_ledger(ledgers / "b.xlsx")
    before = target.read_bytes()
    result = runner.invoke(app, ["summary", str(ledgers), "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert "b.xlsx" in result.output and "Traceback" not in result.output
    assert target.read_bytes() == before


def test_summary_in_ledger_folder_is_not_read_back(tmp_path):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    write_ledger(ledgers / "a.xlsx")
    target = ledgers / "汇总表.xlsx"
    first = runner.invoke(app, ["summary", str(ledgers), "-o", str(target)])
    assert first.exit_code == 0, first.output
    assert is_toolkit_output(target)
    again = runner.invoke(app, ["summary", str(ledgers), "-o", str(target)])
    assert again.exit_code == 0, again.output  # ours: replaced, and not rolled up as a unit
    from toolkit.build import find_ledgers
    assert find_ledgers(ledgers) == [ledgers / "a.xlsx"]


def test_render_refuses_a_foreign_docx(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx")
    mine = tmp_path / "我的文档.docx"
    mine.write_bytes(package(word__document_xml="<w/>"))
    before = mine.read_bytes()
    result = runner.invoke(app, ["render", str(ledger), "-o", str(mine)])
    assert result.exit_code == 2 and "我的文档.docx" in result.output
    assert mine.read_bytes() == before


def test_render_to_proc_exits_2(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx")
    result = runner.invoke(app, ["render", str(ledger), "-o", "/proc/x.docx"])
    assert result.exit_code == 2, result.output
    assert "x.docx" in result.output and "Traceback" not in result.output


def test_init_into_unwritable_folder_exits_2(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    result = runner.invoke(app, ["init", str(tmp_path / "新台账.xlsx")])
    assert result.exit_code == 2 and "新台账.xlsx" in result.output


# ---------------------------------------------------------------- outputs of earlier versions, PDFs

def test_unmarked_outputs_of_earlier_versions_may_be_replaced(tmp_path):
    import xlsxwriter

    notice = tmp_path / "a.docx"
    notice.write_bytes(package(word__document_xml="<w/>"))
    with pytest.raises(NotOursError):
        check_replaceable(notice)
    (tmp_path / ".history" / "a").mkdir(parents=True)
    (tmp_path / ".history" / "a" / "20241101-090000-000000.json").write_text("{}")
    check_replaceable(notice)  # its history says the toolkit wrote it
    stats = tmp_path / "a-统计.xlsx"
    book = xlsxwriter.Workbook(str(stats))
    book.add_worksheet("总览").write_string(0, 0, "x")
    book.close()
    check_replaceable(stats)
    other = tmp_path / "b-统计.xlsx"
    book = xlsxwriter.Workbook(str(other))
    book.add_worksheet("我的表").write_string(0, 0, "x")
    book.close()
    with pytest.raises(NotOursError):
        check_replaceable(other)


def test_pdf_is_ours_when_made_by_libreoffice_from_our_notice(tmp_path):
    pdf = tmp_path / "a.pdf"
    info = "LibreOffice 7.4".encode("utf-16-be").hex().upper()
    pdf.write_bytes(b"%PDF-1.6\n1 0 obj\n<</Producer<FEFF" + info.encode() + b">>>\nendobj\n%%EOF\n")
    assert not is_toolkit_output(pdf)  # no notice beside it
    (tmp_path / "a.docx").write_bytes(mark_package(package(), NOTICE))
    assert mark_of(pdf) == "pdf"
    mine = tmp_path / "b.pdf"
    mine.write_bytes(b"%PDF-1.4\n<</Producer(Acrobat)>>\n%%EOF\n")
    (tmp_path / "b.docx").write_bytes(mark_package(package(), NOTICE))
    assert not is_toolkit_output(mine)


def test_summary_into_unwritable_folder_exits_2(tmp_path, monkeypatch):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    write_ledger(ledgers / "a.xlsx")

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    result = runner.invoke(app, ["summary", str(ledgers), "-o", str(tmp_path / "out" / "汇总.xlsx")])
    assert result.exit_code == 2 and "汇总.xlsx" in result.output and "Traceback" not in result.output
