"""Broken, foreign and hostile files are refused with one Chinese line naming the file."""

import zipfile
import zlib

import pytest
from ledger_factory import write_ledger

from toolkit.errors import (
    EncryptedWorkbookError,
    LegacyFormatError,
    NotAWorkbookError,
    UnreadableLedgerError,
    UnsafeXmlError,
    ZipBombError,
)
from toolkit.read import read_ledger

OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def rewrite_member(path, member, transform):
    """Copy the zip at ``path`` with one member's bytes transformed."""
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in items:
            if info.filename == member:
                data = transform(data)
            if data is not None:
                dst.writestr(info.filename, data)
    return path


def assert_refused(path, error_type, *words):
    with pytest.raises(error_type) as info:
        read_ledger(path)
    message = info.value.message
    assert path.name in message and "\n" not in message
    for word in words:
        assert word in message
    return info.value


def test_missing_file(tmp_path):
    assert_refused(tmp_path / "无.xlsx", NotAWorkbookError, "不存在")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert_refused(path, NotAWorkbookError, "空")


def test_not_a_zip(tmp_path):
    path = tmp_path / "text.xlsx"
    path.write_text("序号,具体问题\n1,问题", encoding="utf-8")
    assert_refused(path, NotAWorkbookError)


def test_truncated_file(tmp_path):
    path = write_ledger(tmp_path / "cut.xlsx")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert_refused(path, NotAWorkbookError, "损坏")


def test_legacy_xls(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(OLE_HEADER + "Workbook".encode("utf-16-le") + b"\x00" * 1024)
    assert_refused(path, LegacyFormatError, ".xls")


def test_password_protected_workbook(tmp_path):
    path = tmp_path / "secret.xlsx"
    path.write_bytes(OLE_HEADER + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 1024)
    assert_refused(path, EncryptedWorkbookError, "密码")


def test_zip_bomb_is_refused_from_the_central_directory(tmp_path):
    path = tmp_path / "bomb.xlsx"
    # After a full flush the compressor forgets its history, so every 1 MB chunk of zeros
    # deflates to the same bytes: a real 1.1 GB stream without compressing 1.1 GB.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(b"\0" * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = piece * 1100 + compressor.flush()
    size = 1100 << 20
    crc = 0  # never checked: the archive must be refused before anything is inflated
    # Hand-assembled so that the test does not need 1 GB of memory either.
    name = b"xl/worksheets/sheet1.xml"
    local = (b"PK\x03\x04" + (20).to_bytes(2, "little") + b"\0\0" + (8).to_bytes(2, "little")
             + b"\0\0\0\0" + crc.to_bytes(4, "little") + len(body).to_bytes(4, "little")
             + size.to_bytes(4, "little") + len(name).to_bytes(2, "little") + b"\0\0" + name)
    central = (b"PK\x01\x02" + (20).to_bytes(2, "little") + (20).to_bytes(2, "little") + b"\0\0"
               + (8).to_bytes(2, "little") + b"\0\0\0\0" + crc.to_bytes(4, "little")
               + len(body).to_bytes(4, "little") + size.to_bytes(4, "little")
               + len(name).to_bytes(2, "little") + b"\0" * 12 + (0).to_bytes(4, "little") + name)
    offset = len(local) + len(body)
    end = (b"PK\x05\x06" + b"\0\0\0\0" + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
           + len(central).to_bytes(4, "little") + offset.to_bytes(4, "little") + b"\0\0")
    path.write_bytes(local + body + central + end)
    assert path.stat().st_size < 3 << 20
    assert_refused(path, ZipBombError, "压缩炸弹")


def test_xml_with_entities_is_refused(tmp_path):
    path = write_ledger(tmp_path / "xxe.xlsx")
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    rewrite_member(path, "xl/worksheets/sheet1.xml",
                   lambda data: doctype + data.split(b"?>", 1)[-1])
    assert_refused(path, UnsafeXmlError, "DOCTYPE")


def test_word_document_renamed(tmp_path):
    path = tmp_path / "notice.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    assert_refused(path, NotAWorkbookError, "Word")


def test_zip_without_content_types(tmp_path):
    path = write_ledger(tmp_path / "bare.xlsx")
    rewrite_member(path, "[Content_Types].xml", lambda data: None)
    assert_refused(path, NotAWorkbookError, "Content_Types")


def test_zip_with_garbage_workbook_xml(tmp_path):
    path = write_ledger(tmp_path / "garbage.xlsx")
    rewrite_member(path, "xl/workbook.xml", lambda data: b"<not really xml")
    assert_refused(path, UnreadableLedgerError)


def test_forged_dimension_does_not_pad_rows(tmp_path):
    path = write_ledger(tmp_path / "dim.xlsx")
    rewrite_member(path, "xl/worksheets/sheet1.xml",
                   lambda data: data.replace(b'<dimension ref="A1:L6"/>',
                                             b'<dimension ref="A1:XFD1048576"/>'))
    assert b"XFD1048576" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert len(read_ledger(path).problems) == 5


def test_sixteen_thousand_columns(tmp_path):
    from openpyxl import load_workbook

    path = write_ledger(tmp_path / "wide.xlsx")
    wb = load_workbook(path)
    wb["整改台账"].cell(2, 16384).value = "far away"
    wb.save(path)
    ledger = read_ledger(path)
    assert len(ledger.problems) == 5
    assert any(f.code == "too_many_columns" for f in ledger.findings)


def test_directory_is_refused(tmp_path):
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    assert_refused(folder, NotAWorkbookError)


def test_huge_and_control_character_cells_are_read_verbatim(tmp_path):
    from ledger_factory import row
    huge = "长" * 30000
    rows = [row(1, "类", huge, "已完成", progress="甲\t乙 & <b>{{ 7*7 }}</b>")]
    p = read_ledger(write_ledger(tmp_path / "big.xlsx", rows)).problems[0]
    assert p.problem == huge and p.progress == "甲\t乙 & <b>{{ 7*7 }}</b>"




def test_utf16_xml_with_doctype_is_refused(tmp_path):
    path = write_ledger(tmp_path / "utf16.xlsx")
    doctype = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "x">]>'
    rewrite_member(path, "xl/worksheets/sheet1.xml",
                   lambda data: (doctype + data.decode("utf-8").split("?>", 1)[-1]).encode("utf-16-le"))
    assert_refused(path, UnsafeXmlError, "DOCTYPE")


# ---------------------------------------------------------------- not regular files (issue 9.5)

@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs on this system")
def test_fifo_named_like_a_ledger_never_blocks(tmp_path):
    import os
    import threading

    fifo = tmp_path / "x.xlsx"
    os.mkfifo(fifo)
    outcome = []

    def attempt():
        try:
            read_ledger(fifo)
        except UnreadableLedgerError as exc:
            outcome.append(exc.message)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader so the test process can end
        open(fifo, "wb").close()
    assert outcome and "x.xlsx" in outcome[0] and "命名管道" in outcome[0]


def test_device_named_like_a_ledger_is_refused(tmp_path):
    import os

    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    link = tmp_path / "台账.xlsx"
    link.symlink_to("/dev/null")
    assert_refused(link, NotAWorkbookError, "设备")


def test_real_xls_is_read_and_fake_ole_is_called_broken(tmp_path):
    from format_factory import write_xls

    assert len(read_ledger(write_xls(tmp_path / "真.xls")).problems) == 5
    fake = tmp_path / "假.xls"
    fake.write_bytes(OLE_HEADER + "Workbook".encode("utf-16-le") + b"\x00" * 1024)
    assert_refused(fake, LegacyFormatError, ".xls", "损坏")
