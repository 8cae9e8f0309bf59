"""A ledger sheet's cells -> ``model.Ledger``: column mapping, merged-cell fill, rows -> problems.

Works on ``read_raw.RawSheet``, so every workbook format goes through the same rules and gives
the same findings and cell references.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils.cell import get_column_letter

from . import normalize as nz
from .codes import Code
from .model import ERROR, INFO, WARNING, Finding, Ledger, Meta, Problem
from .read_raw import HEADER_SEARCH_ROWS, MAX_COLUMNS, RawSheet, Rows

MIN_HEADER_FIELDS = 3
_MISSING = object()


def find_header(rows: Rows) -> tuple[int, dict[int, str]] | None:
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
# A heading is a short line; a cell longer than this is a problem's text, whatever its column.
_MAX_SECTION_CHARS = 80


def clean_category(text: str) -> str:
    """``第一方面问题：落实…`` or ``一、落实…`` -> ``落实…`` (the notice numbers them itself)."""
    return _ORDINAL_PREFIX.sub("", _SECTION_PREFIX.sub("", text.strip())).strip()


def clean_subcategory(text: str) -> str:
    return _SUB_PREFIX.sub("", text.strip()).strip()


# ---------------------------------------------------------------- column mapping

@dataclass
class ColumnMap:
    header_row: int
    header_cells: dict[int, str]  # column -> header text as written
    columns: dict[str, int] = field(default_factory=dict)  # field -> column
    units: dict[str, str] = field(default_factory=dict)  # field -> bracketed unit
    extras: dict[int, str] = field(default_factory=dict)  # column -> unknown header text

    def header(self, name: str) -> str:
        col = self.columns.get(name)
        return self.header_cells.get(col, "") if col is not None else ""


def map_columns(sheet: RawSheet, findings: list[Finding]) -> ColumnMap:
    """Which column holds which field; unknown headers kept as extras, missing ones reported."""
    found = find_header(sheet.rows)
    assert found is not None  # checked by the caller on the same rows
    mapping = ColumnMap(*found)
    header_row, title = mapping.header_row, sheet.title
    for col in sorted(mapping.header_cells):
        text = mapping.header_cells[col]
        match = nz.match_header(text)
        if match.field and match.field not in mapping.columns:
            mapping.columns[match.field] = col
            mapping.units[match.field] = match.unit
        elif text:
            mapping.extras[col] = text
            why = "与前面的列重复" if match.field else "不是台账的标准列"
            findings.append(Finding(
                code=Code.EXTRA_COLUMN, severity=INFO, sheet=title, cell=f"{get_column_letter(col)}{header_row}",
                column=text, value=text, message=f"列“{text}”{why}，按附加列保留，不参与统计"))
    for required in nz.REQUIRED_FIELDS:
        if required not in mapping.columns:
            findings.append(_missing_column(mapping, title, required))
    if sheet.columns_cut:
        findings.append(Finding(
            code=Code.TOO_MANY_COLUMNS, severity=WARNING, sheet=title, cell="", column="", value="",
            message=f"第 {MAX_COLUMNS} 列以后的内容已忽略"))
    return mapping


def _missing_column(mapping: ColumnMap, title: str, required: str) -> Finding:
    """One error for a required column: the headers found, and the one it was most likely."""
    name = nz.CANONICAL_HEADERS[required]
    found = [text for _, text in sorted(mapping.header_cells.items()) if text]
    guess, guess_col = _closest_header(mapping, required)
    cell = f"{get_column_letter(guess_col or min(mapping.header_cells, default=1))}{mapping.header_row}"
    message = f"表头中没有“{name}”列（找到的表头：{'、'.join(found)}）"
    if guess:
        message += f"；是否是“{guess}”？请把该列表头改为“{name}”"
    return Finding(
        code=Code.MISSING_COLUMN, severity=ERROR, sheet=title, cell=cell, column=name, value=guess, message=message,
        hint=guess)


def _closest_header(mapping: ColumnMap, required: str) -> tuple[str, int | None]:
    best, best_col, best_score = "", None, 0.0
    synonyms = [nz.squash(s) for s in nz.LEDGER_FIELDS[required]]
    for col, text in mapping.extras.items():
        key = nz.squash(text)
        score = max(difflib.SequenceMatcher(None, key, s).ratio() for s in synonyms)
        if score > best_score:
            best, best_col, best_score = text, col, score
    return (best, best_col) if best_score >= 0.4 else ("", None)


# ---------------------------------------------------------------- merged cells

def merged_fill(sheet: RawSheet, mapping: ColumnMap, table_cols: list[int]
                ) -> tuple[dict[int, dict[int, object]], set[int]]:
    """Merged ranges below the header: the top-left value applies to every cell of the range.

    Returns row -> column -> value to fill in, and the rows merged across the table.
    """
    fill: dict[int, dict[int, object]] = {}
    across: set[int] = set()
    rows = sheet.rows
    row_index = {row_number: i for i, (row_number, _) in enumerate(rows)}
    first_col, last_col = table_cols[0], table_cols[-1]
    for min_col, min_row, max_col, max_row in sheet.merges:
        if max_row <= mapping.header_row:
            continue
        if max_col - min_col + 1 >= max(2, (last_col - first_col + 1) // 2):
            across.add(min_row)
        top_left = rows[row_index[min_row]][1].get(min_col, _MISSING) if min_row in row_index else _MISSING
        if top_left is _MISSING:
            continue
        # Bounded by the rows that exist, so a forged merge over a million rows costs nothing.
        for row_number in _rows_in(row_index, min_row, max_row):
            row_fill = fill.setdefault(row_number, {})
            for col in range(min_col, min(max_col, MAX_COLUMNS) + 1):
                if (row_number, col) != (min_row, min_col):
                    row_fill[col] = top_left
    return fill, across


def _rows_in(row_index: dict[int, int], min_row: int, max_row: int) -> list[int]:
    if max_row - min_row < len(row_index):
        return list(range(min_row, max_row + 1))
    return [r for r in row_index if min_row <= r <= max_row]


def section_text(own: dict[int, object], merged_across: bool, first_col: int,
                 mapping: ColumnMap) -> str | None:
    """The text of a section row (``第一方面问题：…``, ``一、…``), or None for other rows.

    Recognised by shape: one category-like cell, merged across the table or in its first
    column, nothing in the status column, and never the problem column unless merged across
    (a new row with only its problem typed so far is a problem, not a heading).
    """
    if len(own) != 1:
        return None
    (col, value), = own.items()
    text = nz.cell_text(value)
    if not text or re.fullmatch(r"[\d.\s]+", text):
        return None
    if col == mapping.columns.get("status"):
        return None
    if merged_across:
        return text
    if col != first_col or col == mapping.columns.get("problem"):
        return None
    return text if len(text) <= _MAX_SECTION_CHARS or _SECTION_PREFIX.match(text) else None


# ---------------------------------------------------------------- rows -> problems

def build_ledger(path: Path, sheet: RawSheet, meta: Meta, meta_findings: list[Finding],
                 formulas_unverified: bool) -> Ledger:
    findings: list[Finding] = list(meta_findings)
    mapping = map_columns(sheet, findings)
    problems = _problems(sheet, mapping, meta, findings)
    return Ledger(
        path=path,
        sheet=sheet.title,
        header_row=mapping.header_row,
        columns={f: get_column_letter(c) for f, c in mapping.columns.items()},
        headers={f: mapping.header_cells[c] for f, c in mapping.columns.items()},
        problems=tuple(problems),
        meta=meta,
        findings=tuple(findings),
        formulas_unverified=formulas_unverified,
    )


class _Parsers:
    """The value rules, each remembered per distinct cell value (values repeat a lot)."""

    def __init__(self, meta: Meta, mapping: ColumnMap) -> None:
        reference = meta.feedback_date
        recovered_unit = mapping.units.get("recovered", "")
        self.status = _memo(nz.parse_status)
        self.flag = _memo(nz.parse_flag)
        self.deadline = _memo(lambda v: nz.parse_deadline(v, reference))
        self.done = _memo(lambda v: nz.parse_deadline(v).day)
        self.amount = _memo(lambda v: nz.parse_amount(v, recovered_unit))


def _problems(sheet: RawSheet, mapping: ColumnMap, meta: Meta, findings: list[Finding]) -> list[Problem]:
    # The per-row loop is the bulk of reading a big ledger: column letters are computed once,
    # each cell's text once, and the value rules once per distinct value.
    columns, extras, header_row = mapping.columns, mapping.extras, mapping.header_row
    table_cols = sorted(set(columns.values()) | set(extras))
    table_col_set = set(table_cols)
    first_col, last_col = table_cols[0], table_cols[-1]
    fill, across = merged_fill(sheet, mapping, table_cols)
    field_cols = list(columns.items())
    substantive = [f for f in columns if f not in ("number", "category", "subcategory")]
    row_letters = {f: get_column_letter(col) for f, col in field_cols}
    parsers = _Parsers(meta, mapping)
    problems: list[Problem] = []
    category = subcategory = ""
    rows = sheet.rows
    for i, (row_number, raw) in enumerate(rows):
        rows[i] = None  # type: ignore[call-overload]  # consumed: raw cells go as problems come
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
        section = section_text(own, row_number in across, first_col, mapping)
        if section is not None:
            if _SUB_PREFIX.match(section):
                subcategory = clean_subcategory(section)
            else:
                category, subcategory = clean_category(section), ""
            continue
        texts = {field: _cell_text(cells.get(col)) for field, col in field_cols}
        if not any(texts[f] for f in substantive) and not any(
                nz.cell_text(v) for col, v in cells.items() if col in extras):
            continue  # blank or formatted-empty row, or only a running number
        if texts.get("category"):
            category = clean_category(texts["category"])  # a blank one continues the one above
        row_subcategory = clean_subcategory(texts["subcategory"]) if texts.get("subcategory") else subcategory
        problems.append(_problem(sheet, mapping, cells, texts, row_number, len(problems) + 1,
                                 category, row_subcategory, parsers, row_letters, findings))
    return problems


def _problem(sheet: RawSheet, mapping: ColumnMap, cells: dict[int, object], texts: dict[str, str],
             row_number: int, seq: int, category: str, subcategory: str, parsers: _Parsers,
             row_letters: dict[str, str], findings: list[Finding]) -> Problem:
    columns = mapping.columns
    value = {field: cells.get(col) for field, col in columns.items()}.get
    text = texts.get
    status = parsers.status(value("status"))
    long_term_flag = parsers.flag(value("long_term"))
    flagged_flag = parsers.flag(value("flagged"))
    deadline = parsers.deadline(value("deadline"))
    done_raw = value("done_date")
    cell_refs = CellRefs(row_letters, row_number)
    formula_cells = _formula_cells(sheet, mapping, row_number, findings)
    if long_term_flag is None:
        findings.append(_bad_flag(sheet.title, cell_refs, mapping, "long_term", text("long_term", "")))
    if flagged_flag is None:
        findings.append(_bad_flag(sheet.title, cell_refs, mapping, "flagged", text("flagged", "")))
    return Problem(
        row=row_number, seq=seq, number=text("number", ""), category=category,
        subcategory=subcategory, problem=text("problem", ""), measures=text("measures", ""),
        leader=text("leader", ""), unit=text("unit", ""), deadline_text=text("deadline", ""),
        deadline=deadline.day, deadline_state=deadline.state, progress=text("progress", ""),
        status_text=text("status", ""), status=status.status, status_state=status.state,
        long_term=bool(long_term_flag) or status.state == "legacy_long_term",
        flagged=bool(flagged_flag),
        done_date=parsers.done(done_raw) if done_raw not in (None, "") else None,
        done_date_text=text("done_date", ""),
        recovered_text=text("recovered", ""),
        recovered_wan=parsers.amount(value("recovered")) if "recovered" in columns else None,
        evidence=text("evidence", ""), remarks=text("remarks", ""),
        extras=tuple((header, nz.cell_text(cells[col])) for col, header in mapping.extras.items()
                     if col in cells),
        cells=cell_refs,  # type: ignore[arg-type]  # a read-only mapping, see CellRefs
        formula_cells=formula_cells,
    )


def _bad_flag(title: str, cell_refs: CellRefs, mapping: ColumnMap, name: str, text: str) -> Finding:
    return Finding(
        code=Code.BAD_FLAG, severity=WARNING, sheet=title, cell=cell_refs[name], column=mapping.header(name),
        value=text, message=f"“{text}”不是 是/否，按“否”处理")


def _formula_cells(sheet: RawSheet, mapping: ColumnMap, row_number: int,
                   findings: list[Finding]) -> tuple[str, ...]:
    row_formulas = sheet.formulas.get(row_number)
    if not row_formulas:
        return ()
    for col, cached in sorted(row_formulas.items()):
        if not cached:
            findings.append(Finding(
                code=Code.FORMULA_NO_CACHE, severity=WARNING, sheet=sheet.title,
                cell=f"{get_column_letter(col)}{row_number}", column=mapping.header_cells.get(col, ""), value="",
                message="公式没有缓存的计算结果（文件可能由不计算公式的工具生成），按空值处理；"
                "请在 Excel/WPS 中打开并保存一次"))
    return tuple(f"{get_column_letter(col)}{row_number}" for col in sorted(row_formulas))


def _cell_text(value: object) -> str:
    # nz.cell_text, with its commonest case (a str without carriage returns) inline.
    if value.__class__ is str and "\r" not in value:  # type: ignore[operator,unused-ignore]
        return value.strip()  # type: ignore[union-attr,unused-ignore]
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
        except TypeError:  # unhashable: never produced by the readers, but stay correct
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
