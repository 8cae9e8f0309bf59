"""Generate the third bundled template, the ledger annex (台账附件), in this folder.

    python templates/make_annex.py          # writes 台账附件.docx

Offices attach the 整改台账 itself to the report they send upward. The annex is a landscape
A4 page set out as GB/T 9704-2012 sets out an attachment and a table:

* landscape A4 (297 x 210 mm), margins top 28, bottom 26, left 37, right 35 mm: the notice's
  156 x 225 mm type area turned on its side (225 mm wide);
* ``附件`` at the top left in 3号黑体 (§8.1: the attachment mark), the title centred in 2号
  方正小标宋, the cut-off date below it in 3号楷体;
* one table of seven columns (序号, 问题, 整改措施, 责任领导/部门, 时限, 进展, 状态) in 小四仿宋
  with single rules; the header row is in 黑体, repeats at the top of every page
  (``w:tblHeader``), and no row is split across pages (``w:cantSplit``);
* one category row (spanning the table) before the problems of each 问题类别;
* page number ``— N —`` in 4号宋体 at the bottom centre.

The placeholders are documented in docs/templates.md (section "台账附件"). Run the script
again after changing it and commit both the script and 台账附件.docx.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_templates import (  # noqa: E402 - after the sys.path line above
    FANGSONG,
    HEITI,
    KAITI,
    SONGTI,
    XIAOBIAOSONG,
    _clean_package,
    clean_base,
    finish,
    rfonts,
)

ANNEX_KIND = "台账附件"

TYPE_WIDTH_MM = 225  # 297 - 37 - 35
# (header, width in mm, Jinja of the cell, alignment)
COLUMNS = [
    ("序号", 12, "{{ problem.no }}", "center"),
    ("问题", 44, "{{ problem.text }}", "left"),
    ("整改措施", 44, "{{ problem.measures }}", "left"),
    ("责任领导/部门", 31, "{{ problem.responsible }}", "center"),
    ("时限", 22, "{{ problem.deadline }}", "center"),
    ("进展", 50, "{{ problem.progress }}", "left"),
    ("状态", 22, "{{ problem.status_label }}", "center"),
]
assert sum(width for _, width, _, _ in COLUMNS) == TYPE_WIDTH_MM

TITLE_SZ, MARK_SZ, CELL_SZ, PAGE_SZ = 44, 32, 24, 28  # half-points: 2号, 3号, 小四, 4号

# name, style id, pPr, rPr
STYLES = [
    ("附件标识", "FjMark", '<w:spacing w:before="0" w:after="0" w:line="578" w:lineRule="exact"/>'
     '<w:jc w:val="left"/>', rfonts(HEITI) + f'<w:sz w:val="{MARK_SZ}"/><w:szCs w:val="{MARK_SZ}"/>'),
    ("附件标题", "FjTitle", '<w:keepNext/><w:spacing w:before="0" w:after="0" w:line="700" w:lineRule="exact"/>'
     '<w:jc w:val="center"/>',
     rfonts(XIAOBIAOSONG) + f'<w:sz w:val="{TITLE_SZ}"/><w:szCs w:val="{TITLE_SZ}"/>'),
    ("附件日期", "FjDate", '<w:keepNext/><w:spacing w:before="0" w:after="200" w:line="578" w:lineRule="exact"/>'
     '<w:jc w:val="center"/>', rfonts(KAITI) + f'<w:sz w:val="{MARK_SZ}"/><w:szCs w:val="{MARK_SZ}"/>'),
    ("附件表头", "FjHead", '<w:spacing w:before="40" w:after="40" w:line="300" w:lineRule="atLeast"/>'
     '<w:jc w:val="center"/>', rfonts(HEITI) + f'<w:sz w:val="{CELL_SZ}"/><w:szCs w:val="{CELL_SZ}"/>'),
    ("附件表格", "FjCell", '<w:spacing w:before="40" w:after="40" w:line="300" w:lineRule="atLeast"/>'
     '<w:jc w:val="both"/>', rfonts(FANGSONG) + f'<w:sz w:val="{CELL_SZ}"/><w:szCs w:val="{CELL_SZ}"/>'),
    ("附件类别", "FjCategory", '<w:keepNext/><w:spacing w:before="40" w:after="40" w:line="300" '
     'w:lineRule="atLeast"/><w:jc w:val="left"/>',
     rfonts(HEITI) + f'<w:sz w:val="{CELL_SZ}"/><w:szCs w:val="{CELL_SZ}"/>'),
    ("附件页码", "FjPage", '<w:jc w:val="center"/>',
     rfonts(SONGTI) + f'<w:sz w:val="{PAGE_SZ}"/><w:szCs w:val="{PAGE_SZ}"/>'),
    ("附件指令", "FjTag", '<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>',
     rfonts(FANGSONG) + '<w:sz w:val="2"/><w:szCs w:val="2"/>'),
]
STYLE_IDS = {name: sid for name, sid, _, _ in STYLES}


def _x(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _twips(mm: float) -> int:
    return round(mm * 1440 / 25.4)


def _paragraph(style: str, text: str = "", jc: str | None = None) -> str:
    ppr = f'<w:pStyle w:val="{STYLE_IDS[style]}"/>' + (f'<w:jc w:val="{jc}"/>' if jc else "")
    run = f'<w:r><w:t xml:space="preserve">{_x(text)}</w:t></w:r>' if text else ""
    return f"<w:p><w:pPr>{ppr}</w:pPr>{run}</w:p>"


def _cell(width_mm: float, content: str, span: int = 1) -> str:
    span_xml = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
    return (f'<w:tc><w:tcPr><w:tcW w:w="{_twips(width_mm)}" w:type="dxa"/>{span_xml}'
            '<w:vAlign w:val="center"/></w:tcPr>' + content + "</w:tc>")


def _row(cells: str, *, header: bool = False) -> str:
    # cantSplit: a row never breaks across pages; tblHeader: repeated on every page.
    trpr = "<w:cantSplit/>" + ("<w:tblHeader/>" if header else "")
    return f"<w:tr><w:trPr>{trpr}</w:trPr>{cells}</w:tr>"


def _tag_row(statement: str) -> str:
    """A row docxtpl replaces by ``{% statement %}`` (``{%tr … %}``)."""
    return _row(_cell(TYPE_WIDTH_MM, _paragraph("附件指令", "{%tr " + statement + " %}"),
                      span=len(COLUMNS)))


def _table() -> str:
    borders = "".join(f'<w:{side} w:val="single" w:sz="6" w:space="0" w:color="000000"/>'
                      for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    grid = "".join(f'<w:gridCol w:w="{_twips(w)}"/>' for _, w, _, _ in COLUMNS)
    head = _row("".join(_cell(w, _paragraph("附件表头", h)) for h, w, _, _ in COLUMNS), header=True)
    category = _row(_cell(TYPE_WIDTH_MM, _paragraph("附件类别", "{{ category.heading }}"),
                          span=len(COLUMNS)))
    problem = _row("".join(_cell(w, _paragraph("附件表格", jinja, jc)) for _, w, jinja, jc in COLUMNS))
    rows = [head,
            _tag_row("for category in categories"),
            _tag_row("if category.heading"), category, _tag_row("endif"),
            _tag_row("for problem in category.problems"), problem, _tag_row("endfor"),
            _tag_row("endfor")]
    return (f"<w:tbl {nsdecls('w')}><w:tblPr>"
            f'<w:tblW w:w="{_twips(TYPE_WIDTH_MM)}" w:type="dxa"/><w:jc w:val="center"/>'
            f"<w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type=\"fixed\"/>"
            '<w:tblCellMar><w:left w:w="85" w:type="dxa"/><w:right w:w="85" w:type="dxa"/>'
            "</w:tblCellMar><w:tblLook w:val=\"04A0\" w:firstRow=\"1\" w:noVBand=\"1\"/></w:tblPr>"
            f"<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>")


def _add_styles(doc) -> None:
    styles = doc.styles
    for name, sid, ppr, rpr in STYLES:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.style_id = sid
        el = style.element
        for child in list(el):
            if child.tag != qn("w:name"):
                el.remove(child)
        body = ('<w:basedOn w:val="Normal"/><w:uiPriority w:val="1"/><w:qFormat/>'
                f'<w:pPr><w:widowControl w:val="0"/>{ppr}</w:pPr>'
                f'<w:rPr>{rpr}<w:color w:val="000000"/><w:kern w:val="0"/></w:rPr>')
        for child in list(parse_xml(f"<w:style {nsdecls('w')}>{body}</w:style>")):
            el.append(child)


def _page_setup(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin, section.bottom_margin = Mm(28), Mm(26)
    section.left_margin, section.right_margin = Mm(37), Mm(35)
    section.header_distance, section.footer_distance = Mm(12), Mm(12)
    footer = section.footer._element
    for p in footer.findall(qn("w:p")):
        footer.remove(p)
    footer.append(parse_xml(
        f"<w:p {nsdecls('w')}><w:pPr><w:pStyle w:val=\"FjPage\"/></w:pPr>"
        '<w:r><w:t xml:space="preserve">— </w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        '<w:r><w:t xml:space="preserve"> —</w:t></w:r></w:p>'))


def build_annex():
    doc = Document()
    body = doc.element.body
    for p in body.findall(qn("w:p")):
        body.remove(p)
    clean_base(doc)
    _add_styles(doc)
    _page_setup(doc)
    _clean_package(doc)
    props = doc.core_properties
    props.title = "巡察整改台账附件模板"
    props.author = props.last_modified_by = props.comments = props.keywords = props.category = ""
    props.subject = "巡察整改台账（附件）模板"
    props.revision = 1
    sect = body.find(qn("w:sectPr"))
    parts = [
        _paragraph("附件标识", "{{ annex_mark }}"),
        _paragraph("附件标题", "{{ annex_title }}"),
        _paragraph("附件指令", "{%p if as_of %}"),
        _paragraph("附件日期", "（截至{{ as_of }}）"),
        _paragraph("附件指令", "{%p endif %}"),
    ]
    for xml in parts:
        sect.addprevious(parse_xml(xml.replace("<w:p>", f"<w:p {nsdecls('w')}>", 1)))
    sect.addprevious(parse_xml(_table()))
    # Word needs a paragraph after a table that ends the body; make it one line high.
    sect.addprevious(parse_xml(_paragraph("附件指令").replace("<w:p>", f"<w:p {nsdecls('w')}>", 1)))
    return doc


def main(argv: list[str] | None = None) -> int:
    out = Path(argv[0]) if argv else HERE
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{ANNEX_KIND}.docx"
    finish(build_annex()).save(path)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
