"""The .xls, .xlsb, .ods and WPS .et reader: python-calamine -> ``RawSheet``s.

calamine builds every sheet as a dense grid in memory when the workbook is opened (a 5 KB
.xls with one cell at A1 and one at IV65536 costs 500 MB), so before it sees a file the
cells are counted here from the file's own records: the grid each sheet will take must stay
within a fixed allowance plus a multiple of the cells that hold something.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from .read_raw import HEADER_SEARCH_ROWS, MAX_COLUMNS, RawSheet, SheetEntry, TooBig, UnsafeXml
from .safety import ODS, XLS, XLSB, ole_stream

GRID_BASE = 2_000_000  # cells; each is some 32 bytes inside calamine
GRID_RATIO = 8
MAX_GRID = 8_000_000
MAX_RECORDS = 8_000_000  # file records or XML elements walked by the counting pass
# calamine gives every cell its own copy of its text: a long shared string referenced by a
# million cells is a million copies. The text all cells hold together is bounded as in .xlsx.
MAX_TEXT_CHARS = 50_000_000


class CalamineBook:
    """An open .xls/.xlsb/.ods as a ``read_raw.RawBook``."""

    formulas_unverified = False

    def __init__(self, handle: BinaryIO, kind: str) -> None:
        from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

        handle.seek(0)
        data = handle.read()
        _check_extent(data, kind)
        handle.seek(0)
        self._wb = CalamineWorkbook.from_filelike(handle)
        self.sheets = [SheetEntry(m.name, m.visible == SheetVisibleEnum.Visible,
                                  m.typ == SheetTypeEnum.WorkSheet)
                       for m in self._wb.sheets_metadata]
        self._cache: dict[int, RawSheet] = {}

    def head(self, index: int) -> RawSheet:
        sheet = self._load(index, HEADER_SEARCH_ROWS)
        return sheet

    def full(self, index: int) -> RawSheet:
        return self._load(index, None)

    def _load(self, index: int, nrows: int | None) -> RawSheet:
        sheet = self._wb.get_sheet_by_index(index)
        grid = sheet.to_python(skip_empty_area=False, nrows=nrows)
        rows: list[tuple[int, dict[int, object]]] = []
        for r, values in enumerate(grid, start=1):
            cells: dict[int, object] = {c: v for c, v in enumerate(values[:MAX_COLUMNS], start=1) if _kept(v)}
            if cells:
                rows.append((r, cells))
        cut = any(_kept(v) for values in grid for v in values[MAX_COLUMNS:])
        merges = [(c1 + 1, r1 + 1, c2 + 1, r2 + 1)
                  for (r1, c1), (r2, c2) in (sheet.merged_cell_ranges or [])]
        return RawSheet(sheet.name, rows, merges, cut)

    def close(self) -> None:
        self._wb.close()


def _kept(value: object) -> bool:
    return value is not None and not (value.__class__ is str and not value.strip())  # type: ignore[union-attr,unused-ignore]


# ---------------------------------------------------------------- counting the cells first

def _check_extent(data: bytes, kind: str) -> None:
    """Refuse a file whose sheets would make calamine build grids far beyond their content."""
    if kind == XLS:
        stream = ole_stream(data, "Workbook")
        if stream is None:
            stream = ole_stream(data, "Book")
        extents = _biff_extents(stream or b"")
    elif kind == XLSB:
        extents = _zip_extents(data, _xlsb_extents)
    elif kind == ODS:
        extents = _zip_extents(data, _ods_extents)
    else:  # pragma: no cover - the dispatcher only sends these kinds
        raise ValueError(kind)
    total = 0
    for values, rows, cols in extents:
        grid = rows * cols
        total += grid
        if grid > GRID_BASE + GRID_RATIO * values or total > MAX_GRID:
            raise TooBig("工作表范围（行数 × 列数）相对其中的内容")


def _zip_extents(data: bytes, scan) -> list[tuple[int, int, int]]:
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return scan(archive)


# BIFF (.xls, .et): records are (type u16, length u16, body); cell records start with row u16,
# column u16. Blank cells (BLANK, MULBLANK) do not reach calamine's grid.
_BIFF_BOF, _BIFF_EOF = 0x0809, 0x000A
_BIFF_CELLS = {0x00FD, 0x0203, 0x027E, 0x0006, 0x0205, 0x0204, 0x00D6}  # LABELSST, NUMBER, RK …
_BIFF_MULRK, _BIFF_SST, _BIFF_CONTINUE, _BIFF_LABELSST, _BIFF_LABEL = 0x00BD, 0x00FC, 0x003C, 0x00FD, 0x0204


def _biff_extents(stream: bytes) -> list[tuple[int, int, int]]:
    """(cells with a value, rows spanned, columns spanned) of each sheet of a BIFF stream.

    Also adds up the characters of every text cell (a shared string once per cell that shows it).
    """
    extents = []
    values = max_row = max_col = text = 0
    sst: list[int] = []
    offset, records, end = 0, 0, len(stream) - 4
    unpack = struct.unpack_from
    while offset <= end:
        kind, length = unpack("<HH", stream, offset)
        body = offset + 4
        offset = body + length
        records += 1
        if records > MAX_RECORDS:
            raise TooBig("记录数量")
        if kind == _BIFF_SST:
            sst = _sst_lengths(stream, body, length)
            continue
        if kind in _BIFF_CELLS and length >= 4:
            row, col = unpack("<HH", stream, body)
            values += 1
            if kind == _BIFF_LABELSST and length >= 10:
                index = unpack("<I", stream, body + 6)[0]
                text += sst[index] if index < len(sst) else 0
            elif kind == _BIFF_LABEL and length >= 8:
                text += unpack("<H", stream, body + 6)[0]
            if text > MAX_TEXT_CHARS:
                raise TooBig("单元格文字总量")
        elif kind == _BIFF_MULRK and length >= 6:
            row, col = unpack("<HH", stream, body)
            last = unpack("<H", stream, body + length - 2)[0]
            values += max(0, last - col + 1)
            col = max(col, last)
        elif kind == _BIFF_EOF:
            if values:
                extents.append((values, max_row + 1, max_col + 1))
            values = max_row = max_col = 0
            continue
        else:
            continue
        max_row, max_col = max(max_row, row), max(max_col, col)
    if values:
        extents.append((values, max_row + 1, max_col + 1))
    return extents


def _sst_lengths(stream: bytes, body: int, length: int) -> list[int]:
    """The length in characters of each string of the shared string table (SST + CONTINUE).

    MS-XLS 2.4.265 and 2.5.293: a string's header is never split; its characters may run on
    into the next CONTINUE record, which then starts with a fresh flags byte; rich-text runs and
    phonetic data that follow may be split anywhere.
    """
    segments = [stream[body + 8:body + length]]
    offset = body + length
    while offset + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, offset)
        if kind != _BIFF_CONTINUE:
            break
        segments.append(stream[offset + 4:offset + 4 + size])
        offset += 4 + size
    unique = struct.unpack_from("<I", stream, body + 4)[0] if length >= 8 else 0
    lengths: list[int] = []
    seg, pos = 0, 0
    try:
        while len(lengths) < unique and seg < len(segments):
            if pos >= len(segments[seg]):
                seg, pos = seg + 1, 0
                continue
            data = segments[seg]
            cch, flags = struct.unpack_from("<HB", data, pos)
            pos += 3
            runs = struct.unpack_from("<H", data, pos)[0] if flags & 0x08 else 0
            pos += 2 if flags & 0x08 else 0
            ext = struct.unpack_from("<I", data, pos)[0] if flags & 0x04 else 0
            pos += 4 if flags & 0x04 else 0
            width, remaining = 2 if flags & 0x01 else 1, cch
            while True:
                take = min(remaining, (len(segments[seg]) - pos) // width)
                pos += take * width
                remaining -= take
                if not remaining or seg + 1 >= len(segments):
                    break
                seg += 1
                width, pos = (2 if segments[seg][0] & 0x01 else 1), 1
            skip = 4 * runs + ext
            while skip and seg < len(segments):
                step = min(skip, len(segments[seg]) - pos)
                pos += step
                skip -= step
                if skip:
                    seg, pos = seg + 1, 0
            lengths.append(cch)
    except struct.error:
        pass  # a broken table: calamine will say the file is damaged
    return lengths


# XLSB: records are (type varint, length varint, body); BrtRowHdr (0) starts with the row
# u32, cell records (1-11 and 62, 1 being a blank) with the column u32 (MS-XLSB 2.4).
def _xlsb_records(stream: bytes) -> Iterator[tuple[int, int]]:
    offset, end = 0, len(stream)
    while offset < end:
        kind = stream[offset] & 0x7F
        if stream[offset] & 0x80:
            offset += 1
            kind |= (stream[offset] & 0x7F) << 7 if offset < end else 0
        offset += 1
        length = shift = 0
        for _ in range(4):
            if offset >= end:
                return
            byte = stream[offset]
            offset += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        yield kind, offset
        offset += length


def _xlsb_string_lengths(archive: zipfile.ZipFile) -> list[int]:
    """Characters of each shared string (BrtSSTItem: flags u8, then cch u32 and the text)."""
    if "xl/sharedStrings.bin" not in archive.namelist():
        return []
    stream = archive.read("xl/sharedStrings.bin")
    return [struct.unpack_from("<I", stream, body + 1)[0]
            for kind, body in _xlsb_records(stream) if kind == 19 and body + 5 <= len(stream)]


def _xlsb_extents(archive: zipfile.ZipFile) -> list[tuple[int, int, int]]:
    extents = []
    records = text = 0
    sst = _xlsb_string_lengths(archive)
    for info in archive.infolist():
        if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".bin")):
            continue
        stream = archive.read(info)
        values = max_row = max_col = row = 0
        for kind, body in _xlsb_records(stream):
            records += 1
            if records > MAX_RECORDS:
                raise TooBig("记录数量")
            if kind == 0 and body + 4 <= len(stream):
                row = struct.unpack_from("<I", stream, body)[0]
            elif (2 <= kind <= 11 or kind == 62) and body + 4 <= len(stream):  # 62: rich text
                values += 1
                max_row = max(max_row, row)
                max_col = max(max_col, struct.unpack_from("<I", stream, body)[0])
                if kind in (6, 7, 8) and body + 12 <= len(stream):  # BrtCellSt, BrtCellIsst, BrtFmlaString
                    number = struct.unpack_from("<I", stream, body + 8)[0]
                    text += (sst[number] if number < len(sst) else 0) if kind == 7 else number
                    if text > MAX_TEXT_CHARS:
                        raise TooBig("单元格文字总量")
        extents.append((values, max_row + 1, max_col + 1))
    return extents


# ODS: content.xml, where one element can stand for many rows or cells (…-repeated).
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _ods_extents(archive: zipfile.ZipFile) -> list[tuple[int, int, int]]:
    extents: list[tuple[int, int, int]] = []
    values = rows = max_row = max_col = elements = text = 0
    with archive.open("content.xml") as source:
        events = etree.iterparse(source, events=("start", "end"), resolve_entities=False,
                                 no_network=True, load_dtd=False, huge_tree=False)
        for event, element in events:
            elements += 1
            if elements == 1 and element.getroottree().docinfo.doctype:
                raise UnsafeXml()
            if elements > MAX_RECORDS:
                raise TooBig("单元格数量")
            tag = element.tag
            if event == "start":
                if tag == _TABLE + "table":
                    values = rows = max_row = max_col = 0
                continue
            if tag == _TABLE + "table-row":
                repeat = _repeat(element, "number-rows-repeated")
                cols, row_values, row_text = _ods_row(element)
                text += row_text * repeat
                if text > MAX_TEXT_CHARS:
                    raise TooBig("单元格文字总量")
                if row_values:
                    values += row_values * repeat
                    max_row = rows + repeat
                    max_col = max(max_col, cols)
                rows += repeat
                _release(element)
            elif tag == _TABLE + "table":
                extents.append((values, max_row, max_col))
                _release(element)
    return extents


def _release(element) -> None:
    """Free a parsed element and its earlier siblings, so memory stays flat."""
    element.clear(keep_tail=True)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _ods_row(row) -> tuple[int, int, int]:
    """(columns up to the last cell with content, cells with content, their characters)."""
    col = last = count = chars = 0
    for cell in row:
        if not isinstance(cell.tag, str) or not cell.tag.startswith(_TABLE):
            continue
        repeat = _repeat(cell, "number-columns-repeated")
        if cell.get(_OFFICE + "value-type") is not None or len(cell):
            count += repeat
            last = col + repeat
            chars += repeat * sum(len(t) for t in cell.itertext())
        col += repeat
    return last, count, chars


def _repeat(element, name: str) -> int:
    try:
        return max(1, int(element.get(_TABLE + name, "1")))
    except ValueError:
        return 1
