"""The ledger factory's ledgers in the other formats a clerk saves: .xls (xlwt) and .ods (by hand).

Same arguments as ``ledger_factory.write_ledger``, so a test can write one ledger in every
format and compare what the reader makes of each.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from ledger_factory import HEADER, META, default_rows
from openpyxl.utils.cell import range_boundaries


def _table(rows, header, title_rows, meta_rows=None):
    table = [[t] for t in title_rows] + [list(header or HEADER)]
    table += [list(r) for r in (rows if rows is not None else default_rows())]
    return table


def write_xls(path: Path, rows=None, *, header=None, meta=META, title_rows=(), merges=(),
              sheet_title="整改台账", hidden_first: str | None = None) -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    day = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    if hidden_first:
        hidden = book.add_sheet(hidden_first)
        for c, text in enumerate(header or HEADER):
            hidden.write(0, c, text)
        hidden.write(1, 2, "隐藏表中的旧问题")
        hidden.visibility = 1
    sheet = book.add_sheet(sheet_title)
    table = _table(rows, header, title_rows)
    merged = {}
    for ref in merges:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        merged[(min_row - 1, min_col - 1)] = (max_row - 1, max_col - 1)
    covered = {(r, c) for (r0, c0), (r1, c1) in merged.items()
               for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)} - set(merged)
    for r, values in enumerate(table):
        for c, value in enumerate(values):
            if (r, c) in covered:
                continue
            if (r, c) in merged:
                r1, c1 = merged[(r, c)]
                sheet.write_merge(r, r1, c, c1, value if value is not None else "")
            elif isinstance(value, (datetime, date)):
                sheet.write(r, c, value, day)
            elif value is not None:
                sheet.write(r, c, value)
    if meta is not None:
        info = book.add_sheet("通报信息")
        info.write(0, 0, "项目")
        info.write(0, 1, "内容")
        for r, (key, value) in enumerate(meta.items(), start=1):
            info.write(r, 0, key)
            info.write(r, 1, value, day) if isinstance(value, (datetime, date)) else info.write(r, 1, value)
    book.save(str(path))
    return path


_ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"')


def _ods_cell(value, span: str = "") -> str:
    if value is None or value == "":
        return f"<table:table-cell{span}/>"
    if isinstance(value, bool):
        return f'<table:table-cell{span} office:value-type="boolean" office:boolean-value="{str(value).lower()}"/>'
    if isinstance(value, (int, float)):
        return (f'<table:table-cell{span} office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    if isinstance(value, (datetime, date)):
        return (f'<table:table-cell{span} office:value-type="date" office:date-value="{value:%Y-%m-%d}">'
                f'<text:p>{value:%Y-%m-%d}</text:p></table:table-cell>')
    lines = "".join(f"<text:p>{escape(line)}</text:p>" for line in str(value).split("\n"))
    return f'<table:table-cell{span} office:value-type="string">{lines}</table:table-cell>'


def ods_table(name: str, table, merges=()) -> str:
    spans, covered = {}, set()
    for ref in merges:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        spans[(min_row - 1, min_col - 1)] = (max_row - min_row + 1, max_col - min_col + 1)
        covered |= {(r, c) for r in range(min_row - 1, max_row) for c in range(min_col - 1, max_col)}
    out = [f'<table:table table:name="{escape(name)}">']
    width = max(len(r) for r in table)
    for r, values in enumerate(table):
        out.append("<table:table-row>")
        for c in range(width):
            value = values[c] if c < len(values) else None
            if (r, c) in spans:
                rows, cols = spans[(r, c)]
                span = f' table:number-rows-spanned="{rows}" table:number-columns-spanned="{cols}"'
                out.append(_ods_cell(value, span))
            elif (r, c) in covered:
                out.append("<table:covered-table-cell/>")
            else:
                out.append(_ods_cell(value))
        out.append("</table:table-row>")
    out.append("</table:table>")
    return "".join(out)


def write_ods_tables(path: Path, tables: list[str]) -> Path:
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS}>'
               f'<office:body><office:spreadsheet>{"".join(tables)}</office:spreadsheet>'
               "</office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def write_ods(path: Path, rows=None, *, header=None, meta=META, title_rows=(), merges=(),
              sheet_title="整改台账") -> Path:
    tables = [ods_table(sheet_title, _table(rows, header, title_rows), merges)]
    if meta is not None:
        tables.append(ods_table("通报信息", [["项目", "内容"]] + [[k, v] for k, v in meta.items()]))
    return write_ods_tables(path, tables)
