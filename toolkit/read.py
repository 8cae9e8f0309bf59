"""Read stage: a ledger workbook -> ``model.Ledger``.

openpyxl opens the workbook in read-only mode (fast, streaming); its own sheet parser is
driven directly so that one pass over each sheet gives the cached values, which cells hold
formulas, and the sheet's merged ranges (read-only worksheets otherwise hide merges).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

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


@dataclass(frozen=True)
class RawCell:
    value: object
    formula: bool = False
    cached: bool = True  # a formula cell has a cached value


@dataclass
class _RawSheet:
    title: str
    rows: list[tuple[int, dict[int, RawCell]]]  # (row number, column number -> cell)
    merges: list[tuple[int, int, int, int]]  # (min_col, min_row, max_col, max_row)
    columns_cut: bool


class _SheetParser(WorkSheetParser):
    """openpyxl's parser, reporting formula cells and whether they carry a cached value."""

    def parse_cell(self, element):  # noqa: D102 - same contract as the parent
        cell = super().parse_cell(element)
        if element.find(FORMULA_TAG) is not None:
            cell["formula"] = True
            cell["cached"] = bool(element.findtext(VALUE_TAG))
        return cell


def _read_sheet(ws, wb, stop_after_header_search: bool = False) -> _RawSheet:
    # Read-only worksheets keep the archive member path and shared strings privately; the
    # parser contract is stable across openpyxl 3.1.x (pinned in pyproject).
    parser = _SheetParser(
        ws._get_source(),
        ws._shared_strings,
        data_only=True,
        epoch=wb.epoch,
        date_formats=wb._date_formats,
        timedelta_formats=wb._timedelta_formats,
    )
    rows: list[tuple[int, dict[int, RawCell]]] = []
    columns_cut = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row_number, cells in parser.parse():
            if stop_after_header_search and row_number > HEADER_SEARCH_ROWS:
                break
            values: dict[int, RawCell] = {}
            for cell in cells:
                column = cell["column"]
                if column > MAX_COLUMNS:
                    if cell["value"] not in (None, ""):
                        columns_cut = True
                    continue
                value = cell["value"]
                formula = cell.get("formula", False)
                if value is None and not formula:
                    continue
                if isinstance(value, str) and not value.strip() and not formula:
                    continue
                values[column] = RawCell(value, formula, cell.get("cached", True))
            if values:
                rows.append((row_number, values))
    merges: list[tuple[int, int, int, int]] = []
    if parser.merged_cells is not None:
        for merged in parser.merged_cells.mergeCell:
            try:
                merges.append(range_boundaries(merged.ref))
            except (ValueError, TypeError):
                continue
    return _RawSheet(ws.title, rows, merges, columns_cut)


def read_ledger(path: Path | str) -> Ledger:
    """Read and normalise a ledger. Raises an ``UnreadableLedgerError`` subclass when unusable."""
    path = Path(path)
    check_workbook_file(path)
    try:
        return _read_checked(path)
    except ToolkitError:
        raise
    except Exception as exc:  # a foreign file can break openpyxl in many ways
        name = type(exc).__name__
        if "Forbidden" in name or "DTD" in name or "Entities" in name:
            raise UnsafeXmlError(path, "含有 DOCTYPE/实体声明，出于安全原因拒绝读取") from exc
        raise UnreadableLedgerError(
            path, f"文件已损坏或不是有效的 Excel 工作簿，无法读取（{name}）") from exc


def _read_checked(path: Path) -> Ledger:
    from openpyxl import load_workbook  # heavy import, deferred so the CLI starts fast

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        calc = getattr(wb, "calculation", None)
        formulas_unverified = bool(calc is not None and getattr(calc, "fullCalcOnLoad", False))
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


def _find_header(rows: list[tuple[int, dict[int, RawCell]]]) -> tuple[int, dict[int, str]] | None:
    """The first of the first 10 rows naming at least three known columns."""
    for row_number, cells in rows:
        if row_number > HEADER_SEARCH_ROWS:
            break
        known = {col: nz.match_header(c.value).field for col, c in cells.items()}
        if sum(1 for f in known.values() if f) >= MIN_HEADER_FIELDS:
            return row_number, {col: nz.cell_text(c.value) for col, c in cells.items()}
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
    fill: dict[tuple[int, int], RawCell] = {}
    horizontal_merge_rows: set[int] = set()
    cells_by_row = dict(sheet.rows)
    table_cols = sorted(set(columns.values()) | set(extras))
    first_col, last_col = table_cols[0], table_cols[-1]
    for min_col, min_row, max_col, max_row in sheet.merges:
        if max_row <= header_row:
            continue
        if max_col - min_col + 1 >= max(2, (last_col - first_col + 1) // 2):
            horizontal_merge_rows.add(min_row)
        top_left = cells_by_row.get(min_row, {}).get(min_col)
        if top_left is None:
            continue
        # Bounded by the rows that exist, so a forged merge over a million rows costs nothing.
        for row_number in _rows_in(cells_by_row, min_row, max_row):
            for col in range(min_col, min(max_col, MAX_COLUMNS) + 1):
                if (row_number, col) != (min_row, min_col):
                    fill[(row_number, col)] = top_left

    problems: list[Problem] = []
    category = subcategory = ""
    reference = meta.feedback_date
    for row_number, raw in sheet.rows:
        if row_number <= header_row:
            continue
        cells = dict(raw)
        for col in table_cols:
            if (row_number, col) in fill and col not in cells:
                cells[col] = fill[(row_number, col)]
        own = {col: c for col, c in raw.items() if first_col <= col <= last_col}
        section = _section_text(own, row_number in horizontal_merge_rows, first_col)
        if section is not None:
            if _SUB_PREFIX.match(section):
                subcategory = clean_subcategory(section)
            else:
                category, subcategory = clean_category(section), ""
            continue

        def text(field: str) -> str:
            col = columns.get(field)
            return nz.cell_text(cells[col].value) if col is not None and col in cells else ""

        def value(field: str) -> object:
            col = columns.get(field)
            return cells[col].value if col is not None and col in cells else None

        substantive = [f for f in columns if f not in ("number", "category", "subcategory")
                       and text(f)]
        if not substantive and not any(text_ for col, c in cells.items() if col in extras
                                       for text_ in [nz.cell_text(c.value)]):
            continue  # blank or formatted-empty row, or only a running number

        cell_refs = {f: f"{get_column_letter(col)}{row_number}" for f, col in columns.items()}
        # A category cell left blank (merged down or not) continues the category above it.
        if text("category"):
            category = clean_category(text("category"))
        row_category = category
        row_subcategory = clean_subcategory(text("subcategory")) if text("subcategory") else subcategory

        status = nz.parse_status(value("status"))
        long_term_flag = nz.parse_flag(value("long_term"))
        deadline = nz.parse_deadline(value("deadline"), reference)
        done_raw = value("done_date")
        done_date = nz.parse_deadline(done_raw).day if done_raw not in (None, "") else None
        recovered_text = text("recovered")
        recovered = nz.parse_amount(value("recovered"), units.get("recovered", "")) \
            if "recovered" in columns else None
        formula_cells = tuple(
            f"{get_column_letter(col)}{row_number}" for col, c in sorted(raw.items()) if c.formula)
        for col, c in sorted(raw.items()):
            if c.formula and not c.cached:
                findings.append(Finding(
                    "formula_no_cache", WARNING, title, f"{get_column_letter(col)}{row_number}",
                    header_cells.get(col, ""), "",
                    "公式没有缓存的计算结果（文件可能由不计算公式的工具生成），按空值处理；"
                    "请在 Excel/WPS 中打开并保存一次"))
        problems.append(Problem(
            row=row_number,
            seq=len(problems) + 1,
            number=text("number"),
            category=row_category,
            subcategory=row_subcategory,
            problem=text("problem"),
            measures=text("measures"),
            leader=text("leader"),
            unit=text("unit"),
            deadline_text=text("deadline"),
            deadline=deadline.day,
            deadline_state=deadline.state,
            progress=text("progress"),
            status_text=text("status"),
            status=status.status,
            status_state=status.state,
            long_term=bool(long_term_flag) or status.state == "legacy_long_term",
            flagged=bool(nz.parse_flag(value("flagged"))),
            done_date=done_date,
            done_date_text=text("done_date"),
            recovered_text=recovered_text,
            recovered_wan=recovered,
            evidence=text("evidence"),
            remarks=text("remarks"),
            extras=tuple((header, nz.cell_text(cells[col].value)) for col, header in extras.items()
                         if col in cells),
            cells=cell_refs,
            formula_cells=formula_cells,
        ))
        if long_term_flag is None:
            findings.append(Finding(
                "bad_flag", WARNING, title, cell_refs["long_term"], headers_text(header_cells, columns, "long_term"),
                text("long_term"), f"“{text('long_term')}”不是 是/否，按“否”处理"))
        if nz.parse_flag(value("flagged")) is None:
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


def _rows_in(cells_by_row: dict[int, dict], min_row: int, max_row: int) -> list[int]:
    if max_row - min_row < len(cells_by_row):
        return list(range(min_row, max_row + 1))
    return [r for r in cells_by_row if min_row <= r <= max_row]


def _section_text(own: dict[int, RawCell], merged_across: bool, first_col: int) -> str | None:
    """The text of a section row (``第一方面问题：…``, ``一、…``), or None for other rows."""
    if len(own) != 1:
        return None
    (col, cell), = own.items()
    text = nz.cell_text(cell.value)
    if not text or re.fullmatch(r"[\d.\s]+", text):
        return None
    if merged_across or col == first_col:
        return text
    return None


# ---------------------------------------------------------------- meta sheet

META_KEYS: dict[str, tuple[str, ...]] = {
    "issuer": ("发文机关", "发文单位", "署名"),
    "unit": ("被巡察单位", "单位名称", "被巡察党组织"),
    "basis": ("部署依据", "巡察部署"),
    "group": ("巡察组",),
    "start_date": ("巡察开始日期",),
    "end_date": ("巡察结束日期",),
    "feedback_date": ("反馈日期",),
    "as_of": ("统计截止日期", "截止日期", "截至日期"),
    "issue_date": ("成文日期", "通报日期", "落款日期"),
    "kind": ("通报类型",),
    "organisation": ("整改组织情况",),
    "long_term_measures": ("长期整改举措",),
    "next_steps": ("下一步工作安排",),
    "phone": ("联系电话",),
    "address": ("通讯地址", "邮政地址"),
    "email": ("电子邮箱", "邮箱"),
}
META_LABELS = {key: names[0] for key, names in META_KEYS.items()}
_META_INDEX = {nz.squash(name): key for key, names in META_KEYS.items() for name in names}
_DATE_KEYS = ("start_date", "end_date", "feedback_date", "as_of", "issue_date")
_PARAGRAPH_KEYS = ("organisation", "long_term_measures", "next_steps")


def _read_meta(sheet: _RawSheet, findings: list[Finding]) -> Meta:
    key_col, value_col, start = 1, 2, 0
    for row_number, cells in sheet.rows[:HEADER_SEARCH_ROWS]:
        names = {col: nz.squash(nz.cell_text(c.value)) for col, c in cells.items()}
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
        label = nz.cell_text(cells[key_col].value)
        key = _META_INDEX.get(nz.squash(label).rstrip(":"))
        ref = f"{get_column_letter(value_col)}{row_number}"
        if key is None:
            if label:
                findings.append(Finding(
                    "unknown_meta_key", INFO, sheet.title, f"{get_column_letter(key_col)}{row_number}",
                    "项目", label, f"“{label}”不是通报信息的已知项目，已忽略"))
            continue
        raw = cells.get(value_col)
        if raw is None or not nz.cell_text(raw.value):
            continue
        if key in values:
            findings.append(Finding(
                "duplicate_meta_key", WARNING, sheet.title, ref, "内容", label,
                f"“{label}”重复填写，使用第一次出现的值"))
            continue
        values[key], cells_of[key] = raw.value, ref

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


