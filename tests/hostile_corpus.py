"""A corpus of broken, foreign and hostile ledger files, built by code into a folder.

Each case says what the toolkit must make of it: ``UNUSABLE`` (exit 2, one Chinese line
naming the file), ``ERRORS`` (exit 1, the ledger reads but has errors) or ``OK`` (exit 0,
warnings allowed), and which words or finding codes must show. Used by tests/test_hostile.py;
nothing here needs more than a few megabytes of disk or memory.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from ledger_factory import META, default_rows, row, write_ledger
from openpyxl import Workbook, load_workbook

UNUSABLE, ERRORS, OK = 2, 1, 0
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


@dataclass(frozen=True)
class Case:
    name: str  # also the file's stem
    build: Callable[[Path], Path]
    exit_code: int
    words: tuple[str, ...] = ()  # must appear in the message (UNUSABLE) or the check output
    codes: tuple[str, ...] = ()  # finding codes the check must report (usable files)
    suffix: str = ".xlsx"
    watched: bool = True  # the watcher only takes .xlsx files
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------- zip helpers

def rewrite(path: Path, changes: dict[str, Callable[[bytes], bytes | None]]) -> Path:
    """Copy the zip at ``path`` with some members transformed (None drops the member)."""
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in items:
            if info.filename in changes:
                data = changes[info.filename](data)
            if data is not None:
                dst.writestr(info.filename, data)
    return path


def body(xml: bytes) -> bytes:
    """``xml`` without its XML declaration (openpyxl writes sheets without one)."""
    return re.sub(rb"^\s*<\?xml[^>]*\?>", b"", xml)


def member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def base(path: Path, rows=None, **kw) -> Path:
    return write_ledger(path, rows, **kw)


def inline_sheet(rows: list[list[object]]) -> bytes:
    """A sheet of inline strings and numbers, written by hand (no shared strings)."""
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
    for r, values in enumerate(rows, 1):
        out.append(f'<row r="{r}">')
        for c, value in enumerate(values):
            ref = f"{chr(65 + c)}{r}"
            if value is None:
                continue
            if isinstance(value, (int, float)):
                out.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                out.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>')
        out.append("</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out).encode("utf-8")


# ---------------------------------------------------------------- unusable files

def not_a_zip(path):
    path.write_text("序号,具体问题,整改状态\n1,问题,已完成\n", encoding="utf-8")
    return path


def empty(path):
    path.write_bytes(b"")
    return path


def truncated(path):
    base(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    return path


def legacy_xls(path):
    path.write_bytes(OLE_HEADER + "Workbook".encode("utf-16-le") + b"\x00" * 2048)
    return path


def encrypted(path):
    path.write_bytes(OLE_HEADER + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 2048
                     + "EncryptedPackage".encode("utf-16-le"))
    return path


def declared_bomb(path):
    """One member that declares 1.1 GB, built without ever holding 1 GB (see test_safety)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(b"\0" * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = piece * 1100 + compressor.flush()
    size, name = 1100 << 20, SHEET.encode()
    local = (b"PK\x03\x04" + (20).to_bytes(2, "little") + b"\0\0" + (8).to_bytes(2, "little")
             + b"\0\0\0\0" + b"\0\0\0\0" + len(body).to_bytes(4, "little")
             + size.to_bytes(4, "little") + len(name).to_bytes(2, "little") + b"\0\0" + name)
    central = (b"PK\x01\x02" + (20).to_bytes(2, "little") + (20).to_bytes(2, "little") + b"\0\0"
               + (8).to_bytes(2, "little") + b"\0\0\0\0" + b"\0\0\0\0"
               + len(body).to_bytes(4, "little") + size.to_bytes(4, "little")
               + len(name).to_bytes(2, "little") + b"\0" * 12 + (0).to_bytes(4, "little") + name)
    end = (b"PK\x05\x06" + b"\0\0\0\0" + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
           + len(central).to_bytes(4, "little") + (len(local) + len(body)).to_bytes(4, "little") + b"\0\0")
    path.write_bytes(local + body + central + end)
    return path


def _stream_member(path: Path, name: str, head: bytes, chunk: bytes, repeat: int, tail: bytes) -> Path:
    """Replace member ``name`` by head + chunk * repeat + tail, compressed as it is written."""
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in items:
            if info.filename != name:
                dst.writestr(info.filename, data)
                continue
            with dst.open(name, "w", force_zip64=True) as out:
                out.write(head)
                for _ in range(repeat):
                    out.write(chunk)
                out.write(tail)
    return path


def row_bomb(path):
    """Within the size limit, but 1.5 million rows that all claim to be row 7."""
    base(path)
    head, tail = member(path, SHEET).split(b"</sheetData>")
    return _stream_member(path, SHEET, head, b'<row r="7"/>' * 10_000, 150, b"</sheetData>" + tail)


def wide_row_bomb(path):
    """One row of 100,000 empty cells: more than Excel's 16,384 columns."""
    base(path)
    head, tail = member(path, SHEET).split(b"</sheetData>")
    return _stream_member(path, SHEET, head + b'<row r="20">', b"<c/>" * 10_000, 10,
                          b"</row></sheetData>" + tail)


def empty_strings_bomb(path):
    """Five million empty shared strings in a small file (the 1.27 MB one held 49.9 M)."""
    shared(path)
    head, tail = member(path, STRINGS).split(b"</sst>")
    return _stream_member(path, STRINGS, head, b"<si/>" * 10_000, 500, b"</sst>" + tail)


def empty_cells_bomb(path):
    """19.6 million empty cells in rows below the ledger: nothing to read, all to walk."""
    base(path)
    head, tail = member(path, SHEET).split(b"</sheetData>")
    return _stream_member(path, SHEET, head, b"<row>" + b"<c/>" * 1000 + b"</row>", 19_600,
                          b"</sheetData>" + tail)


def sparse_text_bomb(path):
    """Rows of one short text and ten empty cells: looks like data, is a million elements."""
    base(path)
    head, tail = member(path, SHEET).split(b"</sheetData>")
    chunk = b'<row><c t="inlineStr"><is><t>x</t></is></c>' + b"<c/>" * 10 + b"</row>"
    return _stream_member(path, SHEET, head, chunk, 300_000, b"</sheetData>" + tail)


def dense_text_bomb(path):
    """Rows of fifty short inline texts: every cell holds a value, 25 million of them in 4 MB
    took 17 s to refuse (the reader's loop costs microseconds a cell); 2 million here."""
    base(path)
    head, tail = member(path, SHEET).split(b"</sheetData>")
    chunk = b"<row>" + b'<c t="inlineStr"><is><t>x</t></is></c>' * 50 + b"</row>"
    return _stream_member(path, SHEET, head, chunk, 40_000, b"</sheetData>" + tail)


def xls_sparse_bomb(path):
    """Two cells, A1 and IV65536: calamine would build a 16.7 M-cell grid (500 MB) for them."""
    import xlwt
    from ledger_factory import HEADER

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("整改台账")
    for c, text in enumerate(HEADER):
        sheet.write(0, c, text)
    sheet.write(65535, 255, "远处")
    book.save(str(path))
    return path


def ods_repeat_bomb(path):
    """One text cell repeated over 1,000 columns and a million rows, in a 2 KB file."""
    from format_factory import write_ods_tables
    from ledger_factory import HEADER

    cells = "".join(f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
                    for h in HEADER)
    table = ('<table:table table:name="整改台账"><table:table-row>' + cells + "</table:table-row>"
             '<table:table-row table:number-rows-repeated="1000000"><table:table-cell '
             'table:number-columns-repeated="1000" office:value-type="string"><text:p>x</text:p>'
             "</table:table-cell></table:table-row></table:table>")
    return write_ods_tables(path, [table])


def xls_ledger(path):
    from format_factory import write_xls

    return write_xls(path, title_rows=["标题"], merges=["A1:L1", "B3:B4"])


def ods_ledger(path):
    from format_factory import write_ods

    return write_ods(path, title_rows=["标题"], merges=["A1:L1", "B3:B4"])


def text_bomb(path):
    """A 9,000-character shared string referenced by every cell of 10,000 rows."""
    shared(path)
    head, tail = member(path, SHEET).split(b"</sheetData>")
    strings = member(path, STRINGS)
    index = strings.count(b"<si>")
    strings = strings.replace(b"</sst>", b"<si><t>" + "长".encode() * 9000 + b"</t></si></sst>")
    rewrite(path, {STRINGS: lambda _: strings})
    cells = "".join(f'<c r="{chr(65 + c)}{{r}}" t="s"><v>{index}</v></c>' for c in range(12))
    rows = b"".join(f'<row r="{r}">{cells.format(r=r)}</row>'.encode() for r in range(10, 10_010))
    return _stream_member(path, SHEET, head, rows, 1, b"</sheetData>" + tail)


_BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                   + b"".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
                              for i in range(1, 10))
                   + b"]>")


def billion_laughs(path):
    base(path)
    return rewrite(path, {SHEET: lambda d: _BILLION_LAUGHS + body(d).replace(
        b"<sheetData>", b"<sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>&lol9;</t></is></c></row>", 1)})


def external_entity(path):
    shared(path)
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return rewrite(path, {STRINGS: lambda d: doctype + body(d).replace(
        b"<t>", b"<t>&xxe;", 1)})


def doctype_after_long_comment(path):
    """A DOCTYPE after 100 kB of comment: past the safety check's prolog window."""
    base(path)
    prolog = b'<?xml version="1.0"?><!--' + b"x" * 100_000 + b'--><!DOCTYPE x [<!ENTITY e "boom">]>'
    return rewrite(path, {SHEET: lambda d: prolog + body(d)})


def doctype_in_strings_after_comment(path):
    shared(path)
    prolog = b'<?xml version="1.0"?><!--' + b"x" * 100_000 + b'--><!DOCTYPE x SYSTEM "http://example.invalid/x.dtd">'
    return rewrite(path, {STRINGS: lambda d: prolog + body(d)})


def docx_renamed(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("_rels/.rels", "<Relationships/>")
    return path


def no_content_types(path):
    base(path)
    return rewrite(path, {"[Content_Types].xml": lambda _: None})


def garbage_sheet_xml(path):
    base(path)
    return rewrite(path, {SHEET: lambda d: d[: len(d) // 2]})


def raw_control_chars(path):
    """Raw control bytes in the XML: not well-formed, Excel itself refuses such a file."""
    shared(path)
    return rewrite(path, {STRINGS: lambda d: d.replace("问题甲".encode(), "问题\x01\x02甲".encode())})


def shared_string_out_of_range(path):
    shared(path)
    return rewrite(path, {SHEET: lambda d: d.replace(b"<v>0</v>", b"<v>99999</v>", 1)})


def sheet_missing(path):
    base(path)
    return rewrite(path, {SHEET: lambda _: None})


def no_header(path):
    wb = Workbook()
    wb.active.append(["甲", "乙", "丙"])
    wb.active.append([1, 2, 3])
    wb.save(path)
    return path


def zip_of_nothing(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    return path


# ---------------------------------------------------------------- usable files

def forged_dimension(path):
    base(path)
    return rewrite(path, {SHEET: lambda d: d.replace(b'<dimension ref="A1:L6"/>',
                                                     b'<dimension ref="A1:XFD1048576"/>')})


def huge_cells(path):
    huge = "长" * 32_767  # Excel's limit for one cell
    rows = [row(i, "类", f"{i}" + huge[: 32_767 - len(str(i))], "已完成", progress=huge,
                measures=huge) for i in range(1, 6)]
    return base(path, rows)


def over_excel_limit_cell(path):
    """A script can write longer cells than Excel allows; still just text."""
    shared(path)
    return rewrite(path, {STRINGS: lambda d: d.replace("问题甲".encode(), "问题甲".encode() * 40_000)})


def sixteen_k_columns(path):
    base(path)
    wb = load_workbook(path)
    ws = wb["整改台账"]
    ws.cell(2, 16_384).value = "最远的一列"
    ws.cell(3, 300).value = "第300列"
    wb.save(path)
    return path


def escaped_control_chars(path):
    """OOXML's _xHHHH_ escapes, tabs, emoji, zero-width and bidi marks: text, read as text."""
    rows = [row(1, "类\u200b", "问题_x0001_甲😀\u202e反向\u202c", "已完成",
                progress="一是\t制表。\n二是\u3000全角空格。\u2028第三行"),
            row(2, "类", "问题乙 <b>&amp;</b> {{ 7*7 }} {% raw %}", "正在整改",
                deadline="2025年12月底前")]
    return base(path, rows)


def formulas_with_cache(path):
    """Formulas whose cached results Excel stored: the values are used."""
    rows = [row(1, "类", "问题甲", "已完成", recovered="=0.01*2"), row(2, "类", "问题乙", "已完成")]
    base(path, rows)
    # As Excel saves it: the result cached, and no request to recalculate on opening.
    return rewrite(path, {
        SHEET: lambda d: d.replace(b"<f>0.01*2</f><v></v>", b"<f>0.01*2</f><v>0.02</v>"),
        "xl/workbook.xml": lambda d: d.replace(b' fullCalcOnLoad="1"', b""),
    })


def formulas_without_cache(path):
    """Formulas written by openpyxl: no cached value at all (formula_no_cache)."""
    rows = [row(1, "类", "问题甲", "已完成", recovered="=0.01*2"), row(2, "类", "问题乙", "已完成")]
    return base(path, rows)


def shared(path: Path, rows=None, *, formulas: bool = False, status_formula: bool = False) -> Path:
    """A ledger written by xlsxwriter: shared strings, and formulas cached as 0 if asked."""
    import xlsxwriter
    from ledger_factory import HEADER

    book = xlsxwriter.Workbook(str(path))
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    ws = book.add_worksheet("整改台账")
    ws.write_row(0, 0, HEADER)
    for i, values in enumerate(rows if rows is not None else default_rows(), start=1):
        for col, value in enumerate(values):
            if isinstance(value, datetime):
                ws.write_datetime(i, col, value, day)
            elif value is not None:
                ws.write(i, col, value)
        if formulas:
            ws.write_formula(i, 11, "=0.01*2")  # cached 0 until Excel recalculates
        if status_formula:
            ws.write_formula(i, 8, '="已完成"')  # cached 0: not a status at all
    meta = book.add_worksheet("通报信息")
    meta.write_row(0, 0, ["项目", "内容"])
    for r, (key, value) in enumerate(META.items(), start=1):
        meta.write_string(r, 0, key)
        if isinstance(value, datetime):
            meta.write_datetime(r, 1, value, day)
        else:
            meta.write_string(r, 1, value)
    book.close()
    return path


def xlsxwriter_formulas(path):
    return shared(path, formulas=True)


def xlsxwriter_status_formula(path):
    return shared(path, formulas=True, status_formula=True)


def date_1904(path):
    """The 1904 date system (old Mac Excel): real dates must still be the same days."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    rows = [row(1, "类", "问题甲", "未完成", deadline=datetime(2024, 9, 30)),
            row(2, "类", "问题乙", "正在整改", deadline=datetime(2030, 1, 31))]
    return write_ledger(path, rows, epoch=CALENDAR_MAC_1904)


def inline_strings_only(path):
    """A sheet written without shared strings (as some export tools do)."""
    from ledger_factory import HEADER

    base(path)
    rows = [HEADER] + [list(r) for r in default_rows()]
    return rewrite(path, {SHEET: lambda _: inline_sheet(rows)})


def utf16_sheet(path):
    base(path)
    return rewrite(path, {SHEET: lambda d: ('<?xml version="1.0" encoding="UTF-16"?>'
                                             + body(d).decode("utf-8")).encode("utf-16")})


def forged_merges(path):
    """A merge over the whole sheet and 20,000 one-cell merges: bounded by the rows that exist."""
    base(path)
    merges = ['<mergeCell ref="A2:XFD1048576"/>'] + [f'<mergeCell ref="M{r}:N{r}"/>' for r in range(2, 20_002)]
    block = f'<mergeCells count="{len(merges)}">{"".join(merges)}</mergeCells>'.encode()
    return rewrite(path, {SHEET: lambda d: d.replace(b"</sheetData>", b"</sheetData>" + block, 1)})


def bad_status_and_amount(path):
    rows = [row(1, "类", "问题甲", "已完城"), row(2, "类", "问题乙", "已完成", recovered="两万"),
            row(3, "类", None, "已完成")]
    return base(path, rows)


def huge_numbers(path):
    """序号 far apart, or not quite digits: the gap check once enumerated every missing one."""
    rows = [row(1, "类", "问题甲", "已完成"), row(999_999_999_999_999, "类", "问题乙", "已完成"),
            row("²", "类", "问题丙", "已完成"), row("9" * 5000, "类", "问题丁", "已完成")]
    return base(path, rows)


def thousand_categories(path):
    """1,200 categories: headings count past 第九百九十九方面 (cn_numeral once stopped there)."""
    return base(path, [row(i, f"类别{i}", f"问题{i}", "已完成") for i in range(1, 1201)])


def only_header(path):
    return base(path, [])


CASES: tuple[Case, ...] = (
    Case("不是zip", not_a_zip, UNUSABLE, ("不是 Excel",)),
    Case("空文件", empty, UNUSABLE, ("空",)),
    Case("保存到一半", truncated, UNUSABLE, ("损坏",)),
    Case("旧版", legacy_xls, UNUSABLE, (".xls",), suffix=".xls"),
    Case("旧版改名", legacy_xls, UNUSABLE, (".xls",)),
    Case("加密", encrypted, UNUSABLE, ("密码",)),
    Case("压缩炸弹", declared_bomb, UNUSABLE, ("压缩炸弹",)),
    Case("行炸弹", row_bomb, UNUSABLE, ("行数",)),
    Case("列炸弹", wide_row_bomb, UNUSABLE, ("单元格数量",)),
    Case("文字炸弹", text_bomb, UNUSABLE, ("文字总量",)),
    Case("空共享字符串炸弹", empty_strings_bomb, UNUSABLE, ("共享字符串", "拒绝读取")),
    Case("空单元格炸弹", empty_cells_bomb, UNUSABLE, ("单元格数量", "拒绝读取")),
    Case("稀疏文字炸弹", sparse_text_bomb, UNUSABLE, ("单元格数量", "拒绝读取")),
    Case("密集文字炸弹", dense_text_bomb, UNUSABLE, ("有内容的单元格数量", "拒绝读取")),
    Case("xls稀疏炸弹", xls_sparse_bomb, UNUSABLE, ("拒绝读取",), suffix=".xls"),
    Case("ods重复炸弹", ods_repeat_bomb, UNUSABLE, ("拒绝读取",), suffix=".ods"),
    Case("十亿笑声", billion_laughs, UNUSABLE, ("DOCTYPE",)),
    Case("外部实体", external_entity, UNUSABLE, ("DOCTYPE",)),
    Case("长注释后的DOCTYPE", doctype_after_long_comment, UNUSABLE, ("DOCTYPE",)),
    Case("共享字符串DOCTYPE", doctype_in_strings_after_comment, UNUSABLE, ("DOCTYPE",)),
    Case("Word改名", docx_renamed, UNUSABLE, ("Word",)),
    Case("缺ContentTypes", no_content_types, UNUSABLE, ("Content_Types",)),
    Case("半截工作表", garbage_sheet_xml, UNUSABLE, ("损坏",)),
    Case("原始控制字符", raw_control_chars, UNUSABLE, ("损坏",)),
    Case("共享字符串越界", shared_string_out_of_range, UNUSABLE, ("损坏",)),
    Case("缺工作表", sheet_missing, UNUSABLE, ("表头",)),
    Case("无表头", no_header, UNUSABLE, ("表头",)),
    Case("空压缩包", zip_of_nothing, UNUSABLE, ("工作簿",)),
    Case("伪造尺寸", forged_dimension, OK),
    Case("超长单元格", huge_cells, OK),
    Case("超出Excel上限的单元格", over_excel_limit_cell, OK),
    Case("16384列", sixteen_k_columns, OK, codes=("too_many_columns",)),
    Case("转义控制字符", escaped_control_chars, OK),
    Case("公式有缓存", formulas_with_cache, OK),
    Case("公式无缓存", formulas_without_cache, OK, codes=("formula_no_cache",)),
    Case("xlsxwriter公式", xlsxwriter_formulas, OK, codes=("formula_unverified",)),
    Case("xlsxwriter状态公式", xlsxwriter_status_formula, ERRORS,
         codes=("formula_unverified", "unknown_status")),
    Case("1904日期", date_1904, OK, codes=("overdue",)),
    Case("仅内联字符串", inline_strings_only, OK),
    Case("UTF16工作表", utf16_sheet, OK),
    Case("伪造合并", forged_merges, OK),
    Case("有错误", bad_status_and_amount, ERRORS, codes=("unknown_status", "bad_amount", "missing_problem")),
    Case("只有表头", only_header, ERRORS, codes=("no_problems",)),  # issue 12.3: no problems is an error
    Case("xls台账", xls_ledger, OK, codes=("overdue",), suffix=".xls"),
    Case("ods台账", ods_ledger, OK, codes=("overdue",), suffix=".ods"),
    Case("序号极大", huge_numbers, OK, codes=("number_gap",)),
    Case("一千多个类别", thousand_categories, OK),
)


def build_corpus(folder: Path) -> dict[str, Path]:
    """Every case's file in ``folder``, by case name."""
    folder.mkdir(parents=True, exist_ok=True)
    return {case.name: case.build(folder / f"{case.name}{case.suffix}") for case in CASES}
