"""The .xlsx (.xlsm) reader: a workbook -> ``RawSheet``s, exactly the values openpyxl reads.

openpyxl opens the workbook in read-only mode for its structure (sheets, styles, the date
system). The cells themselves are parsed here with lxml's C iterparse, in one pass per sheet
that gives the cached values, which cells hold formulas, and the sheet's merged ranges
(read-only worksheets otherwise hide merges). openpyxl's own parsers go through defusedxml's
pure-Python tree builder, which made reading several times slower than the rest of the
pipeline; the lxml parser is set up to be as safe (no DTD loading, no entity expansion, no
network, a DOCTYPE is refused), and the cell values are converted exactly as openpyxl does,
except that Excel's ``_xHHHH_`` escapes are decoded as Excel decodes them (openpyxl does not).
"""

from __future__ import annotations

import re
import warnings
from typing import Any, BinaryIO

from lxml import etree
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601

from .read_raw import (
    HEADER_SEARCH_ROWS,
    MAX_COLUMNS,
    RawSheet,
    SheetEntry,
    TooBig,
    UnsafeXml,
    WorkBudget,
    decode_xstring,
)

# A few hundred kilobytes of zip can inflate to a billion bytes of XML that is all rows, cells
# or text: the safety check bounds the bytes, these (and read_raw.WorkBudget) bound the work and
# memory they cause. Excel itself stops at 1,048,576 rows and 16,384 columns; a 50,000-row
# ledger has about a million cells, seven million characters and under a million distinct texts.
MAX_ROWS = 1_048_576
MAX_CELLS_PER_ROW = 16_384
MAX_CELLS = 4_000_000  # cell elements: 200,000 rows of 20 columns; a 50,000-row ledger has 1 M
# Cells holding a value (a <v>, or an inline <is>): a 50,000-row ledger with 20 filled columns
# has 1,000,000. Each costs a few microseconds in the loop below, so a sheet with more is
# refused before the parse, from a count over its raw XML at C speed (``_prescan_values``).
MAX_VALUE_CELLS = 1_000_000
_VALUE_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:v|is)[\s>]")
_SCAN_CHUNK = 1 << 20
MAX_TEXT_CHARS = 50_000_000  # shared strings, and again the text of the cells kept
MAX_SHARED_STRINGS = 1_500_000
# What a real ledger's XML needs per byte of zip: its cells carry text that compresses a few
# times at most (a 3.8 MB 50,000-row ledger has 0.2 cells per byte, a shared string takes
# dozens of bytes). Bombs are made of repeats that compress a thousandfold: the elements and
# strings a member may hold are bounded by its compressed size, with a floor for small files.
ELEMENTS_BASE, ELEMENTS_PER_BYTE = 200_000, 1.0
STRINGS_BASE, STRINGS_PER_BYTE = 50_000, 0.1
MAX_EMPTY_SHARED_STRINGS = 100_000  # Excel writes none; a bomb of empty <si/> writes millions

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _FORMULA = _NS + "row", _NS + "c", _NS + "v", _NS + "f"
_INLINE, _MERGE, _SHARED_STRING = _NS + "is", _NS + "mergeCell", _NS + "si"
# Everything a hostile file could use to make the parser fetch, expand or balloon is off.
_SAFE_PARSE = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_DIGITS = "0123456789"


def _safe_iterparse(source, tags: tuple[str, ...]):
    """(element) for each end of ``tags``; earlier siblings are freed so memory stays flat."""
    checked = False
    for _, element in etree.iterparse(source, events=("end",), tag=tags, **_SAFE_PARSE):
        if not checked:
            # A DOCTYPE precedes the root, so it is known by the first event.
            info = element.getroottree().docinfo
            if info.doctype or info.internalDTD is not None or info.system_url:
                raise UnsafeXml()
            checked = True
        yield element
        element.clear(keep_tail=True)
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]


def _local(tag: object) -> str | None:
    return tag.rpartition("}")[2] if isinstance(tag, str) else None  # comments have no tag


def _text_content(node) -> str:
    """openpyxl's ``Text.from_tree(node).content``: the plain ``t`` then every run's ``t``."""
    plain = None
    runs = []
    for child in node:
        name = _local(child.tag)
        if name == "t":
            plain = child.text
        elif name == "r":
            run = None
            for part in child:
                if _local(part.tag) == "t":
                    run = part.text
            if run is not None:
                runs.append(run)
    return decode_xstring((plain if plain is not None else "") + "".join(runs))


class _Reader(ExcelReader):
    """openpyxl's workbook reader with the shared strings parsed by lxml (same strings)."""

    full_calc_on_load = False

    def read_workbook(self):
        super().read_workbook()
        # openpyxl fills in fullCalcOnLoad=True where the attribute is absent, as it is in every
        # file Excel saves; only the attribute itself says the writer asked for recalculation.
        root = etree.fromstring(self.archive.read(self.parser.workbook_part_name),
                                parser=etree.XMLParser(**_SAFE_PARSE))
        calc = root.find(_NS + "calcPr")
        self.full_calc_on_load = (calc is not None
                                  and calc.get("fullCalcOnLoad", "").strip() in ("1", "true"))

    def read_strings(self):
        if self.rich_text:  # pragma: no cover - never asked for by this module
            return super().read_strings()
        ct = self.package.find("application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sharedStrings+xml")
        if ct is None:
            return
        strings: list[str] = []
        chars = empty = 0
        member = ct.PartName[1:]
        limit = min(MAX_SHARED_STRINGS,
                    STRINGS_BASE + STRINGS_PER_BYTE * self.archive.getinfo(member).compress_size)
        with self.archive.open(member) as src:
            for si in _safe_iterparse(src, (_SHARED_STRING,)):
                text = _text_content(si)
                chars += len(text) + 1  # an empty string still costs a slot
                if not text:
                    empty += 1
                    if empty > MAX_EMPTY_SHARED_STRINGS:
                        raise TooBig("共享字符串中的空字符串数量")
                if chars > MAX_TEXT_CHARS:
                    raise TooBig("共享字符串的文字总量")
                if len(strings) >= limit:
                    raise TooBig("共享字符串数量（相对文件大小）")
                strings.append(text)
        self.shared_strings = strings


def _cast_number(text: str):
    # openpyxl's rule: a decimal point or exponent makes a float, anything else an int.
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


class XlsxBook:
    """An open .xlsx as a ``read_raw.RawBook``."""

    def __init__(self, source: BinaryIO) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = _Reader(source, read_only=True, data_only=True, keep_links=False)
            reader.read()
        self._wb = reader.wb
        self.formulas_unverified = reader.full_calc_on_load
        self._worksheets = list(self._wb.worksheets)
        self.sheets = [SheetEntry(ws.title, getattr(ws, "sheet_state", "visible") == "visible",
                                  hasattr(ws, "_get_source")) for ws in self._worksheets]

    def head(self, index: int) -> RawSheet:
        return _read_sheet(self._worksheets[index], self._wb, stop_after_header_search=True)

    def full(self, index: int) -> RawSheet:
        return _read_sheet(self._worksheets[index], self._wb)

    def close(self) -> None:
        self._wb.close()


class _SheetState:
    """What one pass over a sheet's XML accumulates (kept apart to keep the loop readable)."""

    __slots__ = (
        "budget",
        "cell_elements",
        "columns_cut",
        "formulas",
        "max_elements",
        "merges",
        "row_elements",
        "rows",
        "text_chars",
        "value_cells",
    )

    def __init__(self, max_elements: float) -> None:
        self.max_elements = max_elements
        self.rows: list[tuple[int, dict[int, object]]] = []
        self.formulas: dict[int, dict[int, bool]] = {}
        self.merges: list[tuple[int, int, int, int]] = []
        self.columns_cut = False
        self.row_elements = self.cell_elements = self.text_chars = self.value_cells = 0
        self.budget = WorkBudget(extra=max_elements - ELEMENTS_BASE)


def _prescan_values(ws) -> None:
    """Refuse a sheet with more value cells than ``MAX_VALUE_CELLS`` before parsing it: a few
    milliseconds a megabyte of XML, where the parse costs seconds a million cells."""
    count, carry = 0, b""
    with ws._get_source() as source:
        while chunk := source.read(_SCAN_CHUNK):
            data = carry + chunk
            cut = max(0, len(data) - 64)  # a tag cut at the chunk's end is counted next time
            count += sum(1 for _ in _VALUE_TAG.finditer(data, 0, cut))
            carry = data[cut:]
            if count > MAX_VALUE_CELLS:
                raise TooBig("有内容的单元格数量")


def _read_sheet(ws, wb, stop_after_header_search: bool = False) -> RawSheet:
    # Read-only worksheets keep the archive member path and shared strings privately; the
    # workbook attributes used are stable across openpyxl 3.1.x (pinned in pyproject).
    try:
        packed = ws.parent._archive.getinfo(ws._worksheet_path).compress_size
    except (AttributeError, KeyError):
        packed = MAX_CELLS
    if not stop_after_header_search:
        _prescan_values(ws)
    state = _SheetState(ELEMENTS_BASE + ELEMENTS_PER_BYTE * packed)
    row_number = 0
    with warnings.catch_warnings(), ws._get_source() as source:
        warnings.simplefilter("ignore")
        for element in _safe_iterparse(source, (_ROW, _MERGE)):
            if element.tag == _MERGE:
                try:
                    first_col, first_row, last_col, last_row = range_boundaries(element.get("ref"))
                except (ValueError, TypeError):
                    continue
                # A merge of whole rows or columns (no bound) merges no cells of a ledger.
                if first_col and first_row and last_col and last_row:
                    state.merges.append((first_col, first_row, last_col, last_row))
                continue
            row_number = _row_number(element, row_number)
            state.row_elements += 1
            if state.row_elements > MAX_ROWS:
                raise TooBig("行数")
            # Counting elements too: forged rows that all claim r="7" must not be read to the end.
            if stop_after_header_search and (row_number > HEADER_SEARCH_ROWS
                                             or state.row_elements > HEADER_SEARCH_ROWS):
                break
            _read_row(element, row_number, ws._shared_strings, wb, state)
    return RawSheet(ws.title, state.rows, state.merges, state.columns_cut, state.formulas)


def _row_number(element, previous: int) -> int:
    # Row numbering as openpyxl's WorkSheetParser.parse_row.
    r = element.get("r")
    if r is None:
        return previous + 1
    try:
        return int(r)
    except ValueError:
        number = float(r)
        if not number.is_integer():
            raise ValueError(f"{r} is not a valid row number") from None
        return int(number)


_COLUMNS: dict[str, int] = {}  # column letters -> number; at most 16,384 entries ever


def _read_row(element, row_number: int, shared: list[str], wb, state: _SheetState) -> None:
    # The hot loop of reading a big ledger, one function on purpose: a call per cell (value
    # conversion apart) cost more than the parse itself; locals are bound once per row.
    cells_here = len(element)
    state.cell_elements += cells_here
    if cells_here > MAX_CELLS_PER_ROW or state.cell_elements > MAX_CELLS:
        raise TooBig("单元格数量")
    if state.cell_elements + state.row_elements > state.max_elements:
        raise TooBig("单元格数量（相对文件大小）")
    if not cells_here:
        state.budget.add_rows(1, 0)
        return
    epoch, date_formats, timedelta_formats = wb.epoch, wb._date_formats, wb._timedelta_formats
    columns = _COLUMNS
    column = 0
    values: dict[int, object] = {}
    for cell in element:
        if cell.tag != _CELL:
            continue
        coordinate = cell.get("r")
        if coordinate:
            letters = coordinate.rstrip(_DIGITS)
            column = columns.get(letters, 0)
            if not column:
                column = coordinate_to_tuple(coordinate)[1]  # validates the reference
                columns[letters] = column
        else:
            column += 1
        # One walk over the children: lxml's find()/findtext() cost more than the parse.
        text: str | None = None
        formula = False
        inline = None
        for child in cell:
            tag = child.tag
            if tag == _VALUE:
                if text is None:  # the first <v>, as openpyxl's findtext()
                    text = child.text or ""
            elif tag == _FORMULA:
                formula = True
            elif tag == _INLINE and inline is None:
                inline = child
        if text is None and not formula and inline is None:
            continue  # formatted but empty: by far the most common cell
        kind = cell.get("t", "n")
        value: Any
        if kind == "inlineStr":
            value = _text_content(inline) if inline is not None else None
        else:
            value = text or None
            if value is not None:
                if kind == "n":
                    value = _cast_number(value)
                    style = cell.get("s")
                    style = int(style) if style else 0
                    if style in date_formats:
                        try:
                            value = from_excel(value, epoch, timedelta=style in timedelta_formats)
                        except (OverflowError, ValueError):
                            value = "#VALUE!"  # openpyxl: a date out of range
                elif kind == "s":
                    value = shared[int(value)]
                elif kind == "b":
                    value = bool(int(value))
                elif kind == "d":
                    value = from_ISO8601(value)
                elif kind == "str":
                    value = decode_xstring(value)
        if column > MAX_COLUMNS:
            if value not in (None, ""):
                state.columns_cut = True
            continue
        if value is None and not formula:
            continue
        if isinstance(value, str):
            if not formula and not value.strip():
                continue
            state.text_chars += len(value)
            if state.text_chars > MAX_TEXT_CHARS:  # one long shared string used a million times
                raise TooBig("单元格文字总量")
        values[column] = value
        if formula:
            state.formulas.setdefault(row_number, {})[column] = bool(text)
    state.budget.add_cells(cells_here - len(values), len(values))
    state.value_cells += len(values)
    if state.value_cells > MAX_VALUE_CELLS:
        raise TooBig("有内容的单元格数量")
    if values:
        state.rows.append((row_number, values))
        state.budget.add_rows(0, 1)
    else:
        state.budget.add_rows(1, 0)
