"""Fuzzing the reader with random workbooks (hypothesis).

Random headers among the synonyms of ``normalize.LEDGER_FIELDS`` (spaced, full-width, with
units, unknown ones mixed in), title rows, random merges, random cell types and texts with
control characters, emoji and long strings, an optional meta sheet, written by openpyxl,
xlsxwriter or xlwt (an .xls, read through python-calamine). Whatever comes out, the reader
raises nothing but the toolkit's own errors, and
the counts partition the total. ``TOOLKIT_FUZZ_EXAMPLES`` raises the number of examples for a
longer run; bench/fuzz_reader.py is the coverage-guided (atheris) version.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import date, datetime, time
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from toolkit.context import build_context
from toolkit.count import count
from toolkit.errors import ToolkitError
from toolkit.model import STATUSES
from toolkit.normalize import _STATUS_WORDS, LEDGER_FIELDS
from toolkit.read import META_KEYS, read_ledger
from toolkit.validate import validate

# Enough to catch a regression in the suite (which must stay under 5 minutes on two cores);
# long runs: TOOLKIT_FUZZ_EXAMPLES=5000, or the atheris target in bench/fuzz_reader.py.
EXAMPLES = int(os.environ.get("TOOLKIT_FUZZ_EXAMPLES", "150"))

# Text that hurts: controls (XML-illegal ones included), bidi and zero-width marks, emoji,
# full-width forms, markup and template syntax, Excel's own escapes.
_NASTY = ["\x00", "\x01", "\x08", "\x0b", "\x1f", "\t", "\n", "\r\n", "\r", "\u3000", "\u200b",
          "\u202e", "\ufeff", "\ufffe", "😀", "👨‍👩‍👧", "Ａ１", "&amp;", "<b>", "]]>", "{{ 7*7 }}",
          "{%p if x %}", "_x0001_", "_x005F_x0041_", "=SUM(A1:A2)", "'", '"', "\\", "%s"]
nasty_text = st.lists(
    st.one_of(st.sampled_from(_NASTY), st.text(max_size=12),
              st.sampled_from(["已完成", "正在整改", "未完成", "长期坚持", "是", "否", "2024年9月底前",
                               "9月底前", "2024.9.30", "0.02万元", "200元", "第一方面问题：作风",
                               "一、政治建设", "（一）学习"])),
    max_size=6).map("".join)
long_text = st.integers(1, 40_000).map(lambda n: "长" * n)
cell_value = st.one_of(
    st.none(), nasty_text, st.sampled_from(sorted(_STATUS_WORDS)), long_text,
    st.integers(-10**15, 10**15), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.datetimes(datetime(1900, 3, 1), datetime(9999, 12, 31)),
    st.dates(date(1900, 3, 1), date(9999, 12, 31)), st.times())


def _spellings(word: str) -> st.SearchStrategy[str]:
    full_width = word.translate({ord(c): ord(c) + 0xFEE0 for c in "()"})
    return st.sampled_from([word, " ".join(word), word + "：", f" {word}\u3000", full_width,
                            word + "（万元）", word + "(元)"])


header_cell = st.one_of(
    st.sampled_from(sorted({s for synonyms in LEDGER_FIELDS.values() for s in synonyms}))
    .flatmap(_spellings),
    nasty_text)


@st.composite
def headers(draw) -> list[str]:
    """Mostly a plausible header (distinct known fields, often the required ones), with junk."""
    fields = draw(st.lists(st.sampled_from(sorted(LEDGER_FIELDS)), max_size=12, unique=True))
    if draw(st.integers(0, 4)):  # four times in five: the required columns are there
        fields = list(dict.fromkeys(fields + ["problem", "status"]))
        fields = draw(st.permutations(fields))
    header = [draw(st.sampled_from(LEDGER_FIELDS[f]).flatmap(_spellings)) for f in fields]
    for _ in range(draw(st.integers(0, 2))):
        header.insert(draw(st.integers(0, len(header))), draw(header_cell))
    return header or [draw(header_cell)]


@st.composite
def workbooks(draw):
    header = draw(headers())
    width = len(header)
    titles = draw(st.lists(st.lists(cell_value, max_size=3), max_size=4))
    rows = draw(st.lists(st.lists(cell_value, min_size=0, max_size=width + 2), max_size=14))
    height = len(titles) + 1 + len(rows)
    merges = draw(st.lists(
        st.tuples(st.integers(1, height + 2), st.integers(1, width + 2),
                  st.integers(0, 4), st.integers(0, 4)), max_size=5))
    meta = draw(st.none() | st.lists(
        st.tuples(st.sampled_from(sorted({n for names in META_KEYS.values() for n in names}))
                  | nasty_text, cell_value), max_size=8))
    writer = draw(st.sampled_from(["openpyxl", "xlsxwriter", "xlwt"]))
    sheet_name = draw(st.sampled_from(["整改台账", "Sheet1", "台 账", "通报信息", "x" * 31]))
    return dict(header=header, titles=titles, rows=rows, merges=merges, meta=meta,
                writer=writer, sheet_name=sheet_name)


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _openpyxl_value(value):
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)[:32_767]  # openpyxl refuses to write the rest
    return value


def write_workbook(spec: dict, path: Path) -> None:
    table = [list(r) for r in spec["titles"]] + [spec["header"]] + [list(r) for r in spec["rows"]]
    merges = {(r, c, min(r + h, r + 10), c + w) for r, c, h, w in spec["merges"] if h or w}
    if spec["writer"] == "openpyxl":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = spec["sheet_name"]
        for r, values in enumerate(table, 1):
            for c, value in enumerate(values, 1):
                if value is not None:
                    ws.cell(r, c).value = _openpyxl_value(value)
        taken: set[tuple[int, int]] = set()
        for r1, c1, r2, c2 in sorted(merges):
            cells = {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
            if not cells & taken:  # Excel forbids overlapping merges
                taken |= cells
                ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        if spec["meta"] is not None and spec["sheet_name"] != "通报信息":
            ms = wb.create_sheet("通报信息")
            ms.append(["项目", "内容"])
            for key, value in spec["meta"]:
                ms.append([_openpyxl_value(key), _openpyxl_value(value)])
        wb.save(path)
        return
    if spec["writer"] == "xlwt":
        write_xls_workbook(table, merges, spec, path)
        return
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    ws = book.add_worksheet(spec["sheet_name"])
    for r, values in enumerate(table):
        for c, value in enumerate(values):
            if isinstance(value, (datetime, date, time)):
                ws.write_datetime(r, c, value, day)
            elif value is not None:
                ws.write(r, c, value)  # returns an error code for what Excel cannot hold
    taken = set()
    for r1, c1, r2, c2 in sorted(merges):
        cells = {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        if len(cells) > 1 and not cells & taken:
            taken |= cells
            top_left = table[r1 - 1][c1 - 1] if r1 <= len(table) and c1 <= len(table[r1 - 1]) else None
            ws.merge_range(r1 - 1, c1 - 1, r2 - 1, c2 - 1, None)
            if isinstance(top_left, (str, int, float, bool)):
                ws.write(r1 - 1, c1 - 1, top_left)
    if spec["meta"] is not None and spec["sheet_name"] != "通报信息":
        ms = book.add_worksheet("通报信息")
        ms.write_row(0, 0, ["项目", "内容"])
        for r, (key, value) in enumerate(spec["meta"], 1):
            ms.write(r, 0, key)
            if isinstance(value, (datetime, date, time)):
                ms.write_datetime(r, 1, value, day)
            elif value is not None:
                ms.write(r, 1, value)
    book.close()


def _xlwt_value(value):
    if isinstance(value, str):
        return value[:32_767]  # BIFF's limit for one cell
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # BIFF numbers are doubles
    return value


def write_xls_workbook(table: list[list], merges: set, spec: dict, path: Path) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    day = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm")
    ws = book.add_sheet(spec["sheet_name"])
    taken: set[tuple[int, int]] = set()
    spans = {}
    for r1, c1, r2, c2 in sorted(merges):
        cells = {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        if len(cells) > 1 and not cells & taken:
            taken |= cells
            spans[(r1, c1)] = (r2, c2)
    covered = taken - set(spans)
    for r, values in enumerate(table, 1):
        for c, value in enumerate(values, 1):
            if (r, c) in covered or value is None:
                continue
            style = day if isinstance(value, (datetime, date, time)) else xlwt.Style.default_style
            ws.write(r - 1, c - 1, _xlwt_value(value), style)
    for (r1, c1), (r2, c2) in spans.items():
        ws.merge(r1 - 1, r2 - 1, c1 - 1, c2 - 1)
    if spec["meta"] is not None and spec["sheet_name"] != "通报信息":
        ms = book.add_sheet("通报信息")
        ms.write(0, 0, "项目")
        ms.write(0, 1, "内容")
        for r, (key, value) in enumerate(spec["meta"], 1):
            ms.write(r, 0, _xlwt_value(key))
            if value is not None:
                style = day if isinstance(value, (datetime, date, time)) else xlwt.Style.default_style
                ms.write(r, 1, _xlwt_value(value), style)
    book.save(str(path))


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(workbooks())
def test_reader_raises_only_toolkit_errors_and_counts_partition(spec):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "台账.xlsx"
        write_workbook(spec, path)
        event(f"written by {spec['writer']}")
        try:
            ledger = read_ledger(path)
        except ToolkitError as exc:
            assert path.name in exc.message and "\n" not in exc.message
            event(f"refused: {type(exc).__name__}")
            return
    event(f"read: {'no' if not ledger.problems else 'some'} problems")
    findings = validate(ledger, date(2024, 10, 30))
    stats = count(ledger, date(2024, 10, 30))
    c = stats.overall
    assert c.done + c.in_progress + c.not_done == c.total
    assert c.total == sum(1 for p in ledger.problems if p.status)
    assert all(p.status in STATUSES or (p.status == "" and p.status_state in ("empty", "bad"))
               for p in ledger.problems)
    for groups in (stats.by_category, stats.by_unit):
        assert sum(g.total for _, g in groups) == c.total
        assert all(g.done + g.in_progress + g.not_done == g.total for _, g in groups)
    assert all(f.severity in ("error", "warning", "info") and f.message for f in findings)
    # The notice's context is built from anything the reader accepts, never with a None in it.
    from toolkit.model import Report

    context = build_context(Report(ledger, findings, stats), "集中整改进展")
    assert "None" not in repr([context["title"], context["opening"], context["summary"]])
