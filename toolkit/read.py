"""Read stage: a ledger workbook -> ``model.Ledger``.

openpyxl opens the workbook in read-only mode for its structure (sheets, styles, the date
system). The cells themselves are parsed here with lxml's C iterparse, in one pass per sheet
that gives the cached values, which cells hold formulas, and the sheet's merged ranges
(read-only worksheets otherwise hide merges). openpyxl's own parsers go through defusedxml's
pure-Python tree builder, which made reading several times slower than the rest of the
pipeline; the lxml parser is set up to be as safe (no DTD loading, no entity expansion, no
network, a DOCTYPE is refused), and the cell values are converted exactly as openpyxl does.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601

from . import normalize as nz
from .errors import NoHeaderError, ToolkitError, UnreadableLedgerError, UnsafeXmlError
from .model import ERROR, INFO, WARNING, Finding, Ledger, Meta, Problem
from .safety import check_workbook_file

HEADER_SEARCH_ROWS = 10
MIN_HEADER_FIELDS = 3
# Real ledgers have a few dozen columns; a forged sheet with 16,384 must not cost 16,384 cells
# per row. Cells to the right of this are ignored (and said so).
MAX_COLUMNS = 256
META_SHEET_NAMES = ("通报信息", "基本信息", "通报设置")
# A few hundred kilobytes of zip can inflate to a billion bytes of XML that is all rows, cells
# or text: the safety check bounds the bytes, these bound the work and memory they cause. Excel
# itself stops at 1,048,576 rows and 16,384 columns; a 50,000-row ledger has about a million
# cells and seven million characters of text.
MAX_ROWS = 1_048_576
MAX_CELLS_PER_ROW = 16_384
MAX_CELLS = 20_000_000
MAX_TEXT_CHARS = 50_000_000  # shared strings, and again the text of the cells kept

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _FORMULA = _NS + "row", _NS + "c", _NS + "v", _NS + "f"
_INLINE, _MERGE, _SHARED_STRING = _NS + "is", _NS + "mergeCell", _NS + "si"
# Everything a hostile file could use to make the parser fetch, expand or balloon is off.
_SAFE_PARSE = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_DIGITS = "0123456789"


class _UnsafeXml(Exception):
    """A DOCTYPE in a sheet or the shared strings (turned into UnsafeXmlError by the caller)."""


class _TooBig(Exception):
    """More rows, cells or text than any real ledger (turned into UnreadableLedgerError)."""


_MISSING = object()


@dataclass
class _RawSheet:
    """A sheet's non-empty cells. Values are kept bare (no object per cell): on a big ledger
    a wrapper per cell cost more memory than the values themselves."""

    title: str
    rows: list[tuple[int, dict[int, object]]]  # (row number, column number -> value)
    merges: list[tuple[int, int, int, int]]  # (min_col, min_row, max_col, max_row)
    columns_cut: bool
    formulas: dict[int, dict[int, bool]]  # row -> column -> has a cached value (formula cells)


def _safe_iterparse(source, tags: tuple[str, ...]):
    """(element) for each end of ``tags``; earlier siblings are freed so memory stays flat."""
    checked = False
    for _, element in etree.iterparse(source, events=("end",), tag=tags, **_SAFE_PARSE):
        if not checked:
            # A DOCTYPE precedes the root, so it is known by the first event.
            info = element.getroottree().docinfo
            if info.doctype or info.internalDTD is not None or info.system_url:
                raise _UnsafeXml()
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
    return (plain if plain is not None else "") + "".join(runs)


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
        chars = 0
        with self.archive.open(ct.PartName[1:]) as src:
            for si in _safe_iterparse(src, (_SHARED_STRING,)):
                text = _text_content(si).replace("x005F_", "")
                chars += len(text) + 1  # an empty string still costs a slot
                if chars > MAX_TEXT_CHARS:
                    raise _TooBig("共享字符串的文字总量")
                strings.append(text)
        self.shared_strings = strings


def _cast_number(text: str):
    # openpyxl's rule: a decimal point or exponent makes a float, anything else an int.
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


def _read_sheet(ws, wb, stop_after_header_search: bool = False) -> _RawSheet:
    # Read-only worksheets keep the archive member path and shared strings privately; the
    # workbook attributes used are stable across openpyxl 3.1.x (pinned in pyproject).
    shared = ws._shared_strings
    epoch, date_formats, timedelta_formats = wb.epoch, wb._date_formats, wb._timedelta_formats
    columns: dict[str, int] = {}  # column letters -> number, most sheets use a few dozen
    rows: list[tuple[int, dict[int, object]]] = []
    formulas: dict[int, dict[int, bool]] = {}
    merges: list[tuple[int, int, int, int]] = []
    columns_cut = False
    row_number = row_elements = cell_elements = text_chars = 0
    with warnings.catch_warnings(), ws._get_source() as source:
        warnings.simplefilter("ignore")
        for element in _safe_iterparse(source, (_ROW, _MERGE)):
            if element.tag == _MERGE:
                try:
                    merges.append(range_boundaries(element.get("ref")))
                except (ValueError, TypeError):
                    pass
                continue
            row_elements += 1
            if row_elements > MAX_ROWS:
                raise _TooBig("行数")
            cells_here = len(element)
            cell_elements += cells_here
            if cells_here > MAX_CELLS_PER_ROW or cell_elements > MAX_CELLS:
                raise _TooBig("单元格数量")
            # Row and column numbering as openpyxl's WorkSheetParser.parse_row/parse_cell.
            r = element.get("r")
            if r is not None:
                try:
                    row_number = int(r)
                except ValueError:
                    number = float(r)
                    if not number.is_integer():
                        raise ValueError(f"{r} is not a valid row number") from None
                    row_number = int(number)
            else:
                row_number += 1
            # Counting elements too: forged rows that all claim r="7" must not be read to the end.
            if stop_after_header_search and (row_number > HEADER_SEARCH_ROWS
                                             or row_elements > HEADER_SEARCH_ROWS):
                break
            if not cells_here:
                continue
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
                text = formula = inline = None
                for child in cell:
                    tag = child.tag
                    if tag == _VALUE:
                        if text is None:  # the first <v>, as openpyxl's findtext()
                            text = child.text or ""
                    elif tag == _FORMULA:
                        formula = True
                    elif tag == _INLINE:
                        if inline is None:
                            inline = child
                if text is None and formula is None and inline is None:
                    continue  # formatted but empty: by far the most common cell
                kind = cell.get("t", "n")
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
                                    value = from_excel(value, epoch,
                                                       timedelta=style in timedelta_formats)
                                except (OverflowError, ValueError):
                                    value = "#VALUE!"  # openpyxl: a date out of range
                        elif kind == "s":
                            value = shared[int(value)]
                        elif kind == "b":
                            value = bool(int(value))
                        elif kind == "d":
                            value = from_ISO8601(value)
                if column > MAX_COLUMNS:
                    if value not in (None, ""):
                        columns_cut = True
                    continue
                if value is None and not formula:
                    continue
                if isinstance(value, str):
                    if not formula and not value.strip():
                        continue
                    text_chars += len(value)
                    if text_chars > MAX_TEXT_CHARS:  # one long shared string used a million times
                        raise _TooBig("单元格文字总量")
                values[column] = value
                if formula:
                    formulas.setdefault(row_number, {})[column] = bool(text)
            if values:
                rows.append((row_number, values))
    return _RawSheet(ws.title, rows, merges, columns_cut, formulas)


def read_ledger(path: Path | str) -> Ledger:
    """Read and normalise a ledger. Raises an ``UnreadableLedgerError`` subclass when unusable."""
    path = Path(path)
    check_workbook_file(path)
    try:
        return _read_checked(path)
    except ToolkitError:
        raise
    except _UnsafeXml as exc:
        raise UnsafeXmlError(path, "含有 DOCTYPE/实体声明，出于安全原因拒绝读取") from exc
    except _TooBig as exc:
        raise UnreadableLedgerError(
            path, f"{exc.args[0]}远超任何真实台账（疑似压缩炸弹或被篡改的文件），拒绝读取") from exc
    except Exception as exc:  # a foreign file can break openpyxl in many ways
        name = type(exc).__name__
        # openpyxl re-raises defusedxml's refusal (a ValueError) as a plain ValueError.
        if any("Forbidden" in n or "DTD" in n or "Entities" in n for n in _chain_names(exc)):
            raise UnsafeXmlError(path, "含有 DOCTYPE/实体声明，出于安全原因拒绝读取") from exc
        raise UnreadableLedgerError(
            path, f"文件已损坏或不是有效的 Excel 工作簿，无法读取（{name}）") from exc


def _chain_names(exc: BaseException) -> list[str]:
    names, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        names.append(type(exc).__name__)
        exc = exc.__cause__ or exc.__context__
    return names


def _read_checked(path: Path) -> Ledger:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = _Reader(path, read_only=True, data_only=True, keep_links=False)
        reader.read()
        wb = reader.wb
    try:
        formulas_unverified = reader.full_calc_on_load
        meta_ws = next((ws for ws in wb.worksheets if nz.squash(ws.title) in META_SHEET_NAMES), None)
        meta_findings: list[Finding] = []
        meta = _read_meta(_read_sheet(meta_ws, wb), meta_findings) if meta_ws is not None else Meta()
        for ws in wb.worksheets:
            if ws is meta_ws or not hasattr(ws, "_get_source"):
                continue  # chartsheets have no cells
            head = _read_sheet(ws, wb, stop_after_header_search=True)
            if _find_header(head.rows) is None:
                continue
            sheet = _read_sheet(ws, wb)
            return _build_ledger(path, sheet, meta, meta_findings, formulas_unverified)
    finally:
        wb.close()
    raise NoHeaderError(
        path, "找不到表头：前 10 行中没有一行含有至少 3 个可识别的列名（如 具体问题、整改状态、责任部门）")


def _find_header(rows: list[tuple[int, dict[int, object]]]) -> tuple[int, dict[int, str]] | None:
    """The first of the first 10 rows naming at least three known columns."""
    for row_number, cells in rows:
        if row_number > HEADER_SEARCH_ROWS:
            break
        known = {col: nz.match_header(value).field for col, value in cells.items()}
        if sum(1 for f in known.values() if f) >= MIN_HEADER_FIELDS:
            return row_number, {col: nz.cell_text(value) for col, value in cells.items()}
    return None


_SECTION_PREFIX = re.compile(r"^第[一二三四五六七八九十百零〇\d]+(?:个)?方面(?:问题)?[：:、.．\s]*")
_ORDINAL_PREFIX = re.compile(r"^[一二三四五六七八九十百]+[、.．]\s*")
_SUB_PREFIX = re.compile(r"^[（(][一二三四五六七八九十百\d]+[）)]\s*")


def clean_category(text: str) -> str:
    """``第一方面问题：落实…`` or ``一、落实…`` -> ``落实…`` (the notice numbers them itself)."""
    return _ORDINAL_PREFIX.sub("", _SECTION_PREFIX.sub("", text.strip())).strip()


def clean_subcategory(text: str) -> str:
    return _SUB_PREFIX.sub("", text.strip()).strip()


def _build_ledger(path: Path, sheet: _RawSheet, meta: Meta, meta_findings: list[Finding],
                  formulas_unverified: bool) -> Ledger:
    found = _find_header(sheet.rows)
    assert found is not None  # checked by the caller on the same rows
    header_row, header_cells = found
    findings: list[Finding] = list(meta_findings)
    title = sheet.title

    columns: dict[str, int] = {}
    units: dict[str, str] = {}
    extras: dict[int, str] = {}
    for col in sorted(header_cells):
        text = header_cells[col]
        match = nz.match_header(text)
        letter = get_column_letter(col)
        if match.field and match.field not in columns:
            columns[match.field] = col
            units[match.field] = match.unit
        elif text:
            extras[col] = text
            why = "与前面的列重复" if match.field else "不是台账的标准列"
            findings.append(Finding(
                "extra_column", INFO, title, f"{letter}{header_row}", text, text,
                f"列“{text}”{why}，按附加列保留，不参与统计"))
    for required in nz.REQUIRED_FIELDS:
        if required not in columns:
            findings.append(Finding(
                "missing_column", ERROR, title,
                f"{get_column_letter(1)}{header_row}", nz.CANONICAL_HEADERS[required], "",
                f"表头中没有“{nz.CANONICAL_HEADERS[required]}”列"))
    if sheet.columns_cut:
        findings.append(Finding(
            "too_many_columns", WARNING, title, "", "", "",
            f"第 {MAX_COLUMNS} 列以后的内容已忽略"))

    # Merged ranges below the header: the top-left value applies to every cell of the range.
    fill: dict[int, dict[int, object]] = {}  # row -> column -> the merge's top-left value
    horizontal_merge_rows: set[int] = set()
    rows = sheet.rows
    row_index = {row_number: i for i, (row_number, _) in enumerate(rows)}
    table_cols = sorted(set(columns.values()) | set(extras))
    table_col_set = set(table_cols)
    first_col, last_col = table_cols[0], table_cols[-1]
    for min_col, min_row, max_col, max_row in sheet.merges:
        if max_row <= header_row:
            continue
        if max_col - min_col + 1 >= max(2, (last_col - first_col + 1) // 2):
            horizontal_merge_rows.add(min_row)
        top_left = rows[row_index[min_row]][1].get(min_col, _MISSING) if min_row in row_index else _MISSING
        if top_left is _MISSING:
            continue
        # Bounded by the rows that exist, so a forged merge over a million rows costs nothing.
        for row_number in _rows_in(row_index, min_row, max_row):
            row_fill = fill.setdefault(row_number, {})
            for col in range(min_col, min(max_col, MAX_COLUMNS) + 1):
                if (row_number, col) != (min_row, min_col):
                    row_fill[col] = top_left

    # Per-row work is the bulk of reading a big ledger: column letters are computed once, each
    # cell's text once, and the value rules once per distinct value (they repeat a lot).
    letters = {col: get_column_letter(col) for col in columns.values()}
    field_cols = list(columns.items())
    substantive_fields = [f for f in columns if f not in ("number", "category", "subcategory")]
    reference = meta.feedback_date
    recovered_unit = units.get("recovered", "")
    parse_status = _memo(nz.parse_status)
    parse_flag = _memo(nz.parse_flag)
    parse_deadline = _memo(lambda v: nz.parse_deadline(v, reference))
    parse_done = _memo(lambda v: nz.parse_deadline(v).day)
    parse_amount = _memo(lambda v: nz.parse_amount(v, recovered_unit))

    problems: list[Problem] = []
    category = subcategory = ""
    row_letters = {f: letters[col] for f, col in field_cols}
    for i, (row_number, raw) in enumerate(rows):
        rows[i] = None  # consumed: a big ledger's raw cells go as its problems come
        if row_number <= header_row:
            continue
        cells = raw
        row_fill = fill.get(row_number)
        if row_fill:
            cells = dict(raw)
            for col, c in row_fill.items():
                if col in table_col_set and col not in cells:
                    cells[col] = c
        own = {col: c for col, c in raw.items() if first_col <= col <= last_col}
        section = _section_text(own, row_number in horizontal_merge_rows, first_col)
        if section is not None:
            if _SUB_PREFIX.match(section):
                subcategory = clean_subcategory(section)
            else:
                category, subcategory = clean_category(section), ""
            continue

        values: dict[str, object] = {}
        texts: dict[str, str] = {}
        for field, col in field_cols:
            v = cells.get(col)
            values[field], texts[field] = v, _cell_text(v)
        value, text = values.get, texts.get

        if not any(texts[f] for f in substantive_fields) and not any(
                nz.cell_text(v) for col, v in cells.items() if col in extras):
            continue  # blank or formatted-empty row, or only a running number

        cell_refs = CellRefs(row_letters, row_number)
        # A category cell left blank (merged down or not) continues the category above it.
        if text("category"):
            category = clean_category(text("category"))
        row_category = category
        row_subcategory = clean_subcategory(text("subcategory")) if text("subcategory") else subcategory

        status = parse_status(value("status"))
        long_term_flag = parse_flag(value("long_term"))
        flagged_flag = parse_flag(value("flagged"))
        deadline = parse_deadline(value("deadline"))
        done_raw = value("done_date")
        done_date = parse_done(done_raw) if done_raw not in (None, "") else None
        recovered_text = text("recovered", "")
        recovered = parse_amount(value("recovered")) if "recovered" in columns else None
        formula_cells: tuple[str, ...] = ()
        row_formulas = sheet.formulas.get(row_number)
        if row_formulas:
            formula_cells = tuple(f"{get_column_letter(col)}{row_number}" for col in sorted(row_formulas))
            for col, cached in sorted(row_formulas.items()):
                if not cached:
                    findings.append(Finding(
                        "formula_no_cache", WARNING, title, f"{get_column_letter(col)}{row_number}",
                        header_cells.get(col, ""), "",
                        "公式没有缓存的计算结果（文件可能由不计算公式的工具生成），按空值处理；"
                        "请在 Excel/WPS 中打开并保存一次"))
        problems.append(Problem(
            row=row_number,
            seq=len(problems) + 1,
            number=text("number", ""),
            category=row_category,
            subcategory=row_subcategory,
            problem=text("problem", ""),
            measures=text("measures", ""),
            leader=text("leader", ""),
            unit=text("unit", ""),
            deadline_text=text("deadline", ""),
            deadline=deadline.day,
            deadline_state=deadline.state,
            progress=text("progress", ""),
            status_text=text("status", ""),
            status=status.status,
            status_state=status.state,
            long_term=bool(long_term_flag) or status.state == "legacy_long_term",
            flagged=bool(flagged_flag),
            done_date=done_date,
            done_date_text=text("done_date", ""),
            recovered_text=recovered_text,
            recovered_wan=recovered,
            evidence=text("evidence", ""),
            remarks=text("remarks", ""),
            extras=tuple((header, nz.cell_text(cells[col])) for col, header in extras.items()
                         if col in cells),
            cells=cell_refs,
            formula_cells=formula_cells,
        ))
        if long_term_flag is None:
            findings.append(Finding(
                "bad_flag", WARNING, title, cell_refs["long_term"], headers_text(header_cells, columns, "long_term"),
                text("long_term"), f"“{text('long_term')}”不是 是/否，按“否”处理"))
        if flagged_flag is None:
            findings.append(Finding(
                "bad_flag", WARNING, title, cell_refs["flagged"], headers_text(header_cells, columns, "flagged"),
                text("flagged"), f"“{text('flagged')}”不是 是/否，按“否”处理"))

    return Ledger(
        path=path,
        sheet=title,
        header_row=header_row,
        columns={f: get_column_letter(c) for f, c in columns.items()},
        headers={f: header_cells[c] for f, c in columns.items()},
        problems=tuple(problems),
        meta=meta,
        findings=tuple(findings),
        formulas_unverified=formulas_unverified,
    )


def headers_text(header_cells: dict[int, str], columns: dict[str, int], field: str) -> str:
    col = columns.get(field)
    return header_cells.get(col, "") if col is not None else ""


def _cell_text(value: object) -> str:
    # nz.cell_text, with its commonest case (a str without carriage returns) inline.
    if value.__class__ is str and "\r" not in value:
        return value.strip()
    return nz.cell_text(value)


def _memo(parse):
    """``parse`` remembered per distinct cell value (typed: True and 1 are different cells)."""
    table: dict[tuple[type, object], object] = {}

    def call(value):
        key = (value.__class__, value)
        try:
            return table[key]
        except KeyError:
            result = table[key] = parse(value)
            return result
        except TypeError:  # unhashable: never produced by the reader, but stay correct
            return parse(value)
    return call


class CellRefs(Mapping):
    """``Problem.cells`` of one row: field -> cell reference ("I12"), made on access.

    A dict of fifteen fresh strings per problem was the largest part of a big ledger in
    memory; this holds the ledger's shared field -> column letter map and the row number.
    """

    __slots__ = ("_letters", "_row")

    def __init__(self, letters: dict[str, str], row: int):
        self._letters, self._row = letters, row

    def __getitem__(self, field: str) -> str:
        return f"{self._letters[field]}{self._row}"

    def __iter__(self):
        return iter(self._letters)

    def __len__(self) -> int:
        return len(self._letters)

    def __repr__(self) -> str:
        return repr(dict(self))


def _rows_in(row_index: dict[int, int], min_row: int, max_row: int) -> list[int]:
    if max_row - min_row < len(row_index):
        return list(range(min_row, max_row + 1))
    return [r for r in row_index if min_row <= r <= max_row]


def _section_text(own: dict[int, object], merged_across: bool, first_col: int) -> str | None:
    """The text of a section row (``第一方面问题：…``, ``一、…``), or None for other rows."""
    if len(own) != 1:
        return None
    (col, value), = own.items()
    text = nz.cell_text(value)
    if not text or re.fullmatch(r"[\d.\s]+", text):
        return None
    if merged_across or col == first_col:
        return text
    return None


# ---------------------------------------------------------------- meta sheet

META_KEYS, META_LABELS = nz.META_KEYS, nz.META_LABELS  # defined with the other value rules
_META_INDEX = {nz.squash(name): key for key, names in META_KEYS.items() for name in names}
_DATE_KEYS = ("start_date", "end_date", "feedback_date", "as_of", "issue_date")
_PARAGRAPH_KEYS = ("organisation", "long_term_measures", "next_steps")


def _read_meta(sheet: _RawSheet, findings: list[Finding]) -> Meta:
    key_col, value_col, start = 1, 2, 0
    for row_number, cells in sheet.rows[:HEADER_SEARCH_ROWS]:
        names = {col: nz.squash(nz.cell_text(value)) for col, value in cells.items()}
        key_cols = [c for c, n in names.items() if n == "项目"]
        value_cols = [c for c, n in names.items() if n == "内容"]
        if key_cols and value_cols:
            key_col, value_col, start = key_cols[0], value_cols[0], row_number
            break
    values: dict[str, object] = {}
    cells_of: dict[str, str] = {}
    for row_number, cells in sheet.rows:
        if row_number <= start or key_col not in cells:
            continue
        label = nz.cell_text(cells[key_col])
        key = _META_INDEX.get(nz.squash(label).rstrip(":"))
        ref = f"{get_column_letter(value_col)}{row_number}"
        if key is None:
            if label:
                findings.append(Finding(
                    "unknown_meta_key", INFO, sheet.title, f"{get_column_letter(key_col)}{row_number}",
                    "项目", label, f"“{label}”不是通报信息的已知项目，已忽略"))
            continue
        raw = cells.get(value_col)
        if not nz.cell_text(raw):
            continue
        if key in values:
            findings.append(Finding(
                "duplicate_meta_key", WARNING, sheet.title, ref, "内容", label,
                f"“{label}”重复填写，使用第一次出现的值"))
            continue
        values[key], cells_of[key] = raw, ref

    fields: dict[str, object] = {}
    for key, raw_value in values.items():
        if key in _DATE_KEYS:
            day = nz.parse_day(raw_value)
            if day is None:
                findings.append(Finding(
                    "bad_meta_date", WARNING, sheet.title, cells_of[key], "内容", nz.cell_text(raw_value),
                    f"{META_LABELS[key]}“{nz.cell_text(raw_value)}”不是可识别的日期（如 2024年10月30日），已忽略"))
                continue
            fields[key] = day
        elif key in _PARAGRAPH_KEYS:
            fields[key] = tuple(line.strip() for line in nz.cell_text(raw_value).split("\n") if line.strip())
        else:
            fields[key] = nz.cell_text(raw_value)
    return Meta(sheet=sheet.title, cells=cells_of, **fields)


