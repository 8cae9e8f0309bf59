"""Generate the two notice templates (通报模板) in this folder.

    python templates/make_templates.py          # writes 阶段性进展.docx and 集中整改进展.docx

The templates are ordinary Word documents holding docxtpl (Jinja2) placeholders. Their layout
follows GB/T 9704-2012 《党政机关公文格式》 (see shared/spec/notice.md):

* A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (type area 156 x 225 mm);
* 22 lines a page: exact line spacing 28.9 pt (578 twips), plus a line grid of the same pitch
  so Word's page setup shows "每页 22 行";
* 28 characters a line: a 16 pt character is wider than 156 mm / 28, so the body styles carry
  a condensed character spacing of -0.3 pt (16 - 0.3 = 15.7 pt; 28 x 15.7 = 439.6 pt fits in
  the 442.2 pt line, 29 characters do not);
* every piece of formatting lives in a named paragraph style (公文标题, 公文正文, 公文一级标题 ...; the
  公文 prefix keeps them apart from the localised names of Word's built-in Title and Normal), with the
  East Asian font set through ``w:rFonts w:eastAsia``;
* a clean base: python-docx's default styles, numbering and math font are dropped, the theme
  names Times New Roman and the styles' Chinese fonts (script Hans, language zh-CN), and the
  font table lists exactly the fonts in use, each with charset and fallback (``w:altName``);
* 版记 (§7.4) in a floating table at the foot of the page of the signature and date;
* page number ``— N —`` as a PAGE field, 4号 宋体, odd pages right and even pages left, one
  character in (``w:evenAndOddHeaders`` with a separate even-page footer).

The paragraph text is written by this script only; run it again after changing it and commit
both the script and the two .docx files. Clerks may restyle the generated files in Word/WPS.
"""

from __future__ import annotations

import copy
import sys
from datetime import datetime, timezone
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.parts.hdrftr import FooterPart
from docx.shared import Mm, Twips
from lxml import etree

HERE = Path(__file__).resolve().parent

KIND_STAGE = "阶段性进展"
KIND_CENTRAL = "集中整改进展"

# ---------------------------------------------------------------------------------------------
# Fonts and measures
# ---------------------------------------------------------------------------------------------

FANGSONG = "仿宋_GB2312"
KAITI = "楷体_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
HEITI = "黑体"
SONGTI = "宋体"

LATIN = "Times New Roman"  # the theme's Latin font (Latin text itself is set in the CJK fonts)
MONO = "Courier New"  # the template directives' style only

# font name -> (altName fallback or "", panose, charset, family, pitch); charset 86 = GB2312
FONT_TABLE = {
    FANGSONG: ("FangSong", "02010609030101010101", "86", "roman", "variable"),
    KAITI: ("KaiTi", "02010609030101010101", "86", "roman", "variable"),
    XIAOBIAOSONG: ("SimSun", "02000000000000000000", "86", "roman", "variable"),
    HEITI: ("SimHei", "02010609060101010101", "86", "swiss", "variable"),
    SONGTI: ("SimSun", "02010600030101010101", "86", "roman", "variable"),
    LATIN: ("", "02020603050405020304", "00", "roman", "variable"),
    MONO: ("", "02070309020205020404", "00", "modern", "fixed"),
}

# The theme's heading (major) and body (minor) fonts: Latin, then East Asian (script Hans).
THEME_FONTS = {"majorFont": (LATIN, XIAOBIAOSONG), "minorFont": (LATIN, FANGSONG)}

# python-docx's default template brings some 150 styles (Heading 1 in Calibri, List Bullet
# with Symbol numbering ...); a template keeps only these and its own.
BUILTIN_STYLES = ("Normal", "DefaultParagraphFont", "TableNormal", "NoList", "TableGrid",
                  "Header", "HeaderChar", "Footer", "FooterChar")

LINE = 578  # exact line pitch in twips: 28.9 pt, 22 lines in the 225 mm type area
BODY_SZ = 32  # half-points: 16 pt = 3号
TITLE_SZ = 44  # 22 pt = 2号
PAGE_SZ = 28  # 14 pt = 4号
CONDENSE = -6  # twentieths of a point: -0.3 pt
CHAR = 320  # one 16 pt character in twips
FOOTER_MM = 25  # footer distance: puts the page number's dashes about 7 mm below the type area
PAGE_CHAR = 280  # one 14 pt character in twips
TYPE_WIDTH = 8844  # 156 mm in twips
LEFT_MARGIN = 1587  # 28 mm in twips
RED = "FF0000"
MARK_SZ = 72  # 发文机关标志: 36 pt (小初), twelve characters fill the line
MARK_LONG_SZ = 52  # 26 pt (一号) for longer marks
RED_LINE_SZ = 12  # eighths of a point: 1.5 pt
THICK = 8  # 版记 first and last separator: 1 pt (0.35 mm)
THIN = 6  # 版记 middle separator: 0.75 pt (0.25 mm)
HEAD_SPACE = 1984  # 35 mm from the top of the type area to the mark (下行文)
HEAD_SPACE_UP = 4535  # 80 mm (上行文, with 签发人)

# ---------------------------------------------------------------------------------------------
# Styles: (name, style id, type, based on, next, pPr xml, rPr xml)
# ---------------------------------------------------------------------------------------------


def rfonts(font: str) -> str:
    return (
        f'<w:rFonts w:ascii="{font}" w:eastAsia="{font}" w:hAnsi="{font}" '
        f'w:cs="{font}" w:hint="eastAsia"/>'
    )


BODY_PPR = (
    '<w:widowControl w:val="0"/>'
    '<w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/>'
    f'<w:spacing w:before="0" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
    f'<w:ind w:firstLineChars="200" w:firstLine="{2 * CHAR}"/>'
    '<w:jc w:val="both"/>'
)


def body_rpr(font: str, bold: bool = False) -> str:
    b = "<w:b/><w:bCs/>" if bold else '<w:b w:val="0"/><w:bCs w:val="0"/>'
    return (
        rfonts(font) + b + '<w:color w:val="000000"/>'
        f'<w:spacing w:val="{CONDENSE}"/><w:kern w:val="0"/>'
        f'<w:sz w:val="{BODY_SZ}"/><w:szCs w:val="{BODY_SZ}"/>'
    )


STYLES = [
    # name, id, based on, next, pPr, rPr
    ("公文正文", "GwBody", "Normal", "GwBody", BODY_PPR, body_rpr(FANGSONG)),
    (
        "公文标题",
        "GwTitle",
        "Normal",
        "GwBody",
        # snapToGrid off: the 22 pt lines keep the exact 28.9 pt pitch instead of taking two
        # grid lines each in LibreOffice.
        '<w:keepNext/><w:keepLines/><w:widowControl w:val="0"/>'
        '<w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/><w:snapToGrid w:val="0"/>'
        f'<w:spacing w:before="0" w:after="{LINE}" w:line="{LINE}" w:lineRule="exact"/>'
        '<w:ind w:firstLineChars="0" w:firstLine="0"/><w:jc w:val="center"/>'
        '<w:outlineLvl w:val="0"/>',
        rfonts(XIAOBIAOSONG) + '<w:b w:val="0"/><w:bCs w:val="0"/><w:color w:val="000000"/>'
        '<w:spacing w:val="0"/><w:kern w:val="0"/>'
        f'<w:sz w:val="{TITLE_SZ}"/><w:szCs w:val="{TITLE_SZ}"/>',
    ),
    (
        "公文一级标题",
        "GwHeading1",
        "GwBody",
        "GwBody",
        '<w:keepNext/><w:outlineLvl w:val="1"/>',
        body_rpr(HEITI),
    ),
    (
        "公文方面标题",
        "GwCategory",
        "GwBody",
        "GwBody",
        '<w:keepNext/><w:outlineLvl w:val="2"/>',
        body_rpr(KAITI, bold=True),
    ),
    (
        "公文二级标题",
        "GwHeading2",
        "GwBody",
        "GwBody",
        '<w:keepNext/><w:outlineLvl w:val="3"/>',
        body_rpr(KAITI),
    ),
    (
        "公文三级标题",
        "GwHeading3",
        "GwBody",
        "GwBody",
        # Keep with next, but not the lines together: a long problem heading may still break
        # across pages, only its last line goes with the paragraph after it.
        '<w:keepNext/><w:outlineLvl w:val="4"/>',
        body_rpr(FANGSONG),
    ),
    (
        "公文标签行",
        "GwLabelLine",
        "GwBody",
        "GwBody",
        "<w:keepNext/>",
        body_rpr(FANGSONG),
    ),
    (
        # The last body paragraph: kept on the page of the signature, so that the signature
        # and the date never stand alone on a page.
        "公文正文末段",
        "GwBodyLast",
        "GwBody",
        "GwSignature",
        "<w:keepNext/>",
        body_rpr(FANGSONG),
    ),
    (
        # Signature and date (GB/T 9704 §7.3.5) start where the context's leading space
        # (signature_pad / date_pad, on the 28-character grid) puts them: left-aligned, so the
        # date's first character is exactly two characters right of the signature's.
        "公文署名",
        "GwSignature",
        "GwBody",
        "GwDate",
        f'<w:keepNext/><w:spacing w:before="{LINE}" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
        '<w:ind w:left="0" w:right="0" w:firstLineChars="0" w:firstLine="0"/>'
        '<w:jc w:val="left"/>',
        body_rpr(FANGSONG),
    ),
    (
        "公文成文日期",
        "GwDate",
        "GwBody",
        "GwBody",
        # keep-with-next: a 版记 after the date stays on its page (no effect when last)
        '<w:keepNext/><w:ind w:left="0" w:right="0" w:firstLineChars="0" w:firstLine="0"/>'
        '<w:jc w:val="left"/>',
        body_rpr(FANGSONG),
    ),
    (
        # A date longer than the signature allows: right-indented two characters.
        "公文成文日期右空二字",
        "GwDateRight2",
        "GwDate",
        "GwBody",
        f'<w:ind w:left="0" w:right="{2 * CHAR}" w:firstLineChars="0" w:firstLine="0"/>'
        '<w:jc w:val="right"/>',
        "",
    ),
    (
        # With a seal (印章: 是): the date right-indented four characters.
        "公文成文日期右空四字",
        "GwDateRight4",
        "GwDate",
        "GwBody",
        f'<w:ind w:left="0" w:right="{4 * CHAR}" w:firstLineChars="0" w:firstLine="0"/>'
        '<w:jc w:val="right"/>',
        "",
    ),
    (
        # The contact paragraph: left-aligned, so a line before a long e-mail address or
        # telephone number is not stretched character by character.
        "公文联系方式",
        "GwContact",
        "GwBody",
        "GwSignature",
        '<w:keepNext/><w:jc w:val="left"/>',
        body_rpr(FANGSONG),
    ),
    (
        # 版头 (§7.2): blank space above the 发文机关标志, 35 mm (下行文) or 80 mm (上行文).
        "公文版头留空",
        "GwHeadSpace",
        "Normal",
        "GwHeadMark",
        '<w:snapToGrid w:val="0"/>'
        f'<w:spacing w:before="0" w:after="0" w:line="{HEAD_SPACE}" w:lineRule="exact"/>'
        '<w:ind w:firstLine="0"/>',
        '<w:sz w:val="2"/><w:szCs w:val="2"/>',
    ),
    (
        "公文版头留空上行文",
        "GwHeadSpaceUp",
        "GwHeadSpace",
        "GwHeadMark",
        f'<w:spacing w:before="0" w:after="0" w:line="{HEAD_SPACE_UP}" w:lineRule="exact"/>',
        "",
    ),
    (
        "公文发文机关标志",
        "GwHeadMark",
        "Normal",
        "GwDocNumber",
        '<w:keepNext/><w:snapToGrid w:val="0"/>'
        '<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>'
        '<w:ind w:firstLine="0"/><w:jc w:val="center"/>',
        rfonts(XIAOBIAOSONG) + f'<w:color w:val="{RED}"/><w:spacing w:val="0"/><w:kern w:val="0"/>'
        f'<w:sz w:val="{MARK_SZ}"/><w:szCs w:val="{MARK_SZ}"/>',
    ),
    (
        "公文发文机关标志长",
        "GwHeadMarkLong",
        "GwHeadMark",
        "GwDocNumber",
        "",
        f'<w:sz w:val="{MARK_LONG_SZ}"/><w:szCs w:val="{MARK_LONG_SZ}"/>',
    ),
    (
        # 发文字号 two lines below the mark, centred; the red separator line 4 mm below it,
        # the title two lines below the line.
        "公文发文字号",
        "GwDocNumber",
        "Normal",
        "GwTitle",
        '<w:keepNext/>'
        f'<w:pBdr><w:bottom w:val="single" w:sz="{RED_LINE_SZ}" w:space="11" w:color="{RED}"/></w:pBdr>'
        '<w:snapToGrid w:val="0"/>'
        f'<w:spacing w:before="{2 * LINE}" w:after="{2 * LINE}" w:line="{LINE}" w:lineRule="exact"/>'
        '<w:ind w:firstLine="0"/><w:jc w:val="center"/>',
        body_rpr(FANGSONG).replace(f'<w:spacing w:val="{CONDENSE}"/>', '<w:spacing w:val="0"/>'),
    ),
    (
        # 上行文: 发文字号 one character in from the left, 签发人 one character in from the right.
        "公文发文字号上行文",
        "GwDocNumberUp",
        "GwDocNumber",
        "GwTitle",
        f'<w:tabs><w:tab w:val="right" w:pos="{TYPE_WIDTH - CHAR}"/></w:tabs>'
        f'<w:ind w:left="{CHAR}" w:firstLine="0"/><w:jc w:val="left"/>',
        "",
    ),
    (
        # 版记 (§7.4): 4号 仿宋 in the cells of the floating 版记 table (see record_table), one
        # character in from both ends of the separator lines.
        "公文版记",
        "GwRecord",
        "Normal",
        "GwRecord",
        '<w:keepNext/><w:keepLines/>'
        f'<w:tabs><w:tab w:val="right" w:pos="{TYPE_WIDTH - PAGE_CHAR}"/></w:tabs>'
        f'<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
        f'<w:ind w:left="{PAGE_CHAR}" w:right="{PAGE_CHAR}" w:firstLine="0"/>'
        '<w:jc w:val="left"/>',
        rfonts(FANGSONG) + '<w:color w:val="000000"/><w:spacing w:val="0"/><w:kern w:val="0"/>'
        f'<w:sz w:val="{PAGE_SZ}"/><w:szCs w:val="{PAGE_SZ}"/>',
    ),
    (
        # 抄送: a second line aligns with the first character after the colon.
        "公文版记抄送",
        "GwRecordCc",
        "GwRecord",
        "GwRecordPrint",
        f'<w:ind w:left="{4 * PAGE_CHAR}" w:right="{PAGE_CHAR}" w:hanging="{3 * PAGE_CHAR}"/>',
        "",
    ),
    (
        # 印发机关 left, 印发日期 right (a right tab at the cell's right edge)
        "公文版记印发",
        "GwRecordPrint",
        "GwRecord",
        "GwRecordPrint",
        "",
        "",
    ),
    (
        # The paragraph the floating 版记 table is anchored in: one twip high, after the date,
        # which keeps with it, so the 版记 is on the page of the signature and date.
        "公文版记锚点",
        "GwRecordAnchor",
        "Normal",
        "GwBody",
        '<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>'
        '<w:ind w:firstLine="0"/>',
        rfonts(FANGSONG) + '<w:sz w:val="2"/><w:szCs w:val="2"/>',
    ),
    (
        # The paragraph that ends the body's section when the 版记 goes to a page of its own
        # (``record_next_page``, see record_page_break): as many exact lines as the 版记 takes
        # below the date ({{ record_space }}), never split, so the date stays where it was.
        "公文版记留空",
        "GwRecordSpace",
        "Normal",
        "GwBody",
        f'<w:keepLines/><w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="{LINE}" '
        'w:lineRule="exact"/><w:ind w:firstLine="0"/>',
        rfonts(FANGSONG) + f'<w:sz w:val="{BODY_SZ}"/><w:szCs w:val="{BODY_SZ}"/>',
    ),
    (
        # The first paragraph of the 版记's own section: one twip high.
        "公文版记分节",
        "GwRecordBreak",
        "Normal",
        "GwBody",
        '<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>'
        '<w:ind w:firstLine="0"/>',
        rfonts(FANGSONG) + '<w:sz w:val="2"/><w:szCs w:val="2"/>',
    ),
    (
        "公文页码",
        "GwPageNumber",
        "Normal",
        "GwPageNumber",
        '<w:widowControl w:val="0"/>'
        '<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>'
        f'<w:ind w:left="0" w:right="{PAGE_CHAR}" w:firstLine="0"/><w:jc w:val="right"/>',
        rfonts(SONGTI) + '<w:color w:val="000000"/><w:spacing w:val="0"/>'
        f'<w:sz w:val="{PAGE_SZ}"/><w:szCs w:val="{PAGE_SZ}"/>',
    ),
    (
        "公文页码偶数页",
        "GwPageNumberEven",
        "GwPageNumber",
        "GwPageNumberEven",
        f'<w:ind w:left="{PAGE_CHAR}" w:right="0" w:firstLine="0"/><w:jc w:val="left"/>',
        "",
    ),
    (
        "模板指令",
        "GwDirective",
        "Normal",
        "GwDirective",
        '<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>'
        '<w:ind w:firstLine="0"/><w:jc w:val="left"/>',
        '<w:rFonts w:ascii="Courier New" w:hAnsi="Courier New" w:eastAsia="宋体" w:cs="Courier New"/>'
        '<w:color w:val="7F7F7F"/><w:spacing w:val="0"/><w:sz w:val="20"/><w:szCs w:val="20"/>',
    ),
]

CHAR_STYLES = [
    ("公文标签", "GwLabel", "<w:b/><w:bCs/>"),
    # The lead-in （一）…。 of a free-text paragraph: 楷体, like a 二级标题 (GB/T 9704 §7.3.3).
    ("公文段首标题", "GwInlineHeading", rfonts(KAITI)),
    ("公文签发人姓名", "GwSignerName", rfonts(KAITI)),
]

STYLE_IDS = {name: sid for name, sid, *_ in STYLES}

# ---------------------------------------------------------------------------------------------
# The document skeleton
# ---------------------------------------------------------------------------------------------


def _set_doc_defaults(styles_el) -> None:
    old = styles_el.find(qn("w:docDefaults"))
    new = parse_xml(
        f"<w:docDefaults {nsdecls('w')}>"
        "<w:rPrDefault><w:rPr>"
        + rfonts(FANGSONG)
        + f'<w:kern w:val="0"/><w:sz w:val="{BODY_SZ}"/><w:szCs w:val="{BODY_SZ}"/>'
        '<w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/>'
        "</w:rPr></w:rPrDefault>"
        "<w:pPrDefault><w:pPr>"
        f'<w:spacing w:before="0" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
        '<w:jc w:val="both"/>'
        "</w:pPr></w:pPrDefault>"
        "</w:docDefaults>"
    )
    if old is not None:
        old.addprevious(new)
        styles_el.remove(old)
    else:
        styles_el.insert(0, new)


def _define_style(styles, name: str, kind, style_id: str, body: str) -> None:
    """Add a style whose definition (all but its name) is the given WordprocessingML."""
    style = styles.add_style(name, kind)
    style.style_id = style_id
    el = style.element
    for child in list(el):
        if child.tag != qn("w:name"):
            el.remove(child)
    for child in list(parse_xml(f"<w:style {nsdecls('w')}>{body}</w:style>")):
        el.append(child)


def _add_styles(doc) -> None:
    styles = doc.styles
    _set_doc_defaults(styles.element)
    for name, sid, based, nxt, ppr, rpr in STYLES:
        _define_style(styles, name, WD_STYLE_TYPE.PARAGRAPH, sid,
                      f'<w:basedOn w:val="{based}"/><w:next w:val="{nxt}"/>'
                      '<w:uiPriority w:val="1"/><w:qFormat/>'
                      f"<w:pPr>{ppr}</w:pPr>" + (f"<w:rPr>{rpr}</w:rPr>" if rpr else ""))
    for name, sid, rpr in CHAR_STYLES:
        _define_style(styles, name, WD_STYLE_TYPE.CHARACTER, sid,
                      '<w:basedOn w:val="DefaultParagraphFont"/><w:uiPriority w:val="1"/>'
                      f"<w:qFormat/><w:rPr>{rpr}</w:rPr>")


def _related_part(doc, reltype: str):
    return next(rel.target_part for rel in doc.part.rels.values() if rel.reltype == reltype)


def _set_blob(part, root) -> None:
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def fonts_in_use(doc) -> set[str]:
    """Every font a WordprocessingML part of ``doc`` names in ``w:rFonts``, and the theme's."""
    names = {font for pair in THEME_FONTS.values() for font in pair}
    font_table = _related_part(doc, RT.FONT_TABLE)
    for part in doc.part.package.iter_parts():
        if part is font_table or "wordprocessingml" not in part.content_type:
            continue
        root = etree.fromstring(part.blob)
        for fonts in root.iter(qn("w:rFonts")):
            names.update(v for a in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs")
                         if (v := fonts.get(qn(a))))
    return names


def _font_table(doc) -> None:
    """The font table lists exactly the fonts the document uses, each with its charset and
    fallback (``w:altName``), none of the default template's (Cambria, ＭＳ 明朝 ...)."""
    used = fonts_in_use(doc)
    unknown = used - FONT_TABLE.keys()
    if unknown:
        raise ValueError(f"fonts missing from FONT_TABLE: {sorted(unknown)}")
    part = _related_part(doc, RT.FONT_TABLE)
    root = etree.fromstring(part.blob)
    for font in root.findall(qn("w:font")):
        root.remove(font)
    for name, (alt, panose, charset, family, pitch) in FONT_TABLE.items():
        if name not in used:
            continue
        alt_xml = f'<w:altName w:val="{alt}"/>' if alt else ""
        root.append(parse_xml(
            f'<w:font {nsdecls("w")} w:name="{name}">{alt_xml}<w:panose1 w:val="{panose}"/>'
            f'<w:charset w:val="{charset}"/><w:family w:val="{family}"/>'
            f'<w:pitch w:val="{pitch}"/></w:font>'))
    _set_blob(part, root)


def _theme(doc) -> None:
    """The theme's fonts: Times New Roman for Latin, 方正小标宋简体 (headings) and 仿宋_GB2312
    (body) for Chinese, instead of the default template's Calibri/Cambria and Japanese fonts."""
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    part = _related_part(doc, RT.THEME)
    root = etree.fromstring(part.blob)
    scheme = root.find(f"{{{a}}}themeElements/{{{a}}}fontScheme")
    fonts = "".join(
        f'<a:{kind}><a:latin typeface="{latin}"/><a:ea typeface="{east}"/>'
        f'<a:cs typeface="{latin}"/><a:font script="Hans" typeface="{east}"/></a:{kind}>'
        for kind, (latin, east) in THEME_FONTS.items())
    scheme.getparent().replace(scheme, etree.fromstring(
        f'<a:fontScheme xmlns:a="{a}" name="公文">{fonts}</a:fontScheme>'))
    _set_blob(part, root)


def _prune_styles(doc) -> None:
    root = doc.styles.element
    for style in root.findall(qn("w:style")):
        if style.get(qn("w:styleId")) not in BUILTIN_STYLES:
            root.remove(style)


def clean_base(doc) -> None:
    """What python-docx's default template leaves in a new document and a template must not
    carry: its styles (before ours are added), list numbering (Symbol bullets), the math
    font (Cambria Math) in the settings and the theme's fonts; the theme's East Asian
    language is zh-CN. The font table is written by
    ``finish`` once the document is complete."""
    _prune_styles(doc)
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype == RT.NUMBERING:
            doc.part.rels.pop(rid)
    settings = doc.settings.element
    math = settings.find(qn("m:mathPr"))
    if math is not None:
        settings.remove(math)
    # the theme's East Asian fonts are the Simplified Chinese ones (script Hans)
    settings.find(qn("w:themeFontLang")).set(qn("w:eastAsia"), "zh-CN")
    _theme(doc)


def finish(doc):
    """The last step of a template: its font table, from the fonts it uses."""
    _font_table(doc)
    return doc


def _settings(doc) -> None:
    doc.settings.odd_and_even_pages_header_footer = True
    el = doc.settings.element
    csc = el.find(qn("w:characterSpacingControl"))
    if csc is not None:
        csc.set(qn("w:val"), "doNotCompress")


# The body's last section (the only one, unless the 版记 has a page of its own) shows its page
# number unless the 版记 went to the next even page: GB/T 9704 §7.5 numbers neither the 版记
# page nor a blank page before it. The condition wraps the runs, so the footer keeps its
# paragraph either way (a footer without one is not valid WordprocessingML).
PAGE_NUMBER_IF = "{% if not record_next_page %}"
PAGE_NUMBER_ENDIF = "{% endif %}"


def _page_number_paragraph(style_id: str, conditional: bool = False):
    start, end = (PAGE_NUMBER_IF, PAGE_NUMBER_ENDIF) if conditional else ("", "")
    return parse_xml(
        f"<w:p {nsdecls('w')}>"
        f'<w:pPr><w:pStyle w:val="{style_id}"/></w:pPr>'
        f'<w:r><w:t xml:space="preserve">{start}— </w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        "<w:r><w:t>1</w:t></w:r>"
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        f'<w:r><w:t xml:space="preserve"> —{end}</w:t></w:r>'
        "</w:p>"
    )


def _footer(footer, style_id: str, conditional: bool = False) -> None:
    footer.is_linked_to_previous = False
    el = footer._element
    for p in el.findall(qn("w:p")):
        el.remove(p)
    el.append(_page_number_paragraph(style_id, conditional))


def _page_setup(doc) -> None:
    sec = doc.sections[0]
    sec.page_width = Mm(210)
    sec.page_height = Mm(297)
    sec.top_margin = Mm(37)
    sec.bottom_margin = Mm(35)
    sec.left_margin = Twips(LEFT_MARGIN)
    sec.right_margin = Mm(26)
    sec.header_distance = Mm(15)
    # The 4号 page number sits with its dash about 7 mm below the type area.
    sec.footer_distance = Mm(FOOTER_MM)
    sec.gutter = 0
    sectPr = sec._sectPr
    grid = sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = parse_xml(f"<w:docGrid {nsdecls('w')}/>")
        sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE))
    for attr in ("w:charSpace",):
        if grid.get(qn(attr)) is not None:
            del grid.attrib[qn(attr)]
    _footer(sec.footer, "GwPageNumber", conditional=True)
    _footer(sec.even_page_footer, "GwPageNumberEven", conditional=True)



TEMPLATE_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)  # fixed: the generator is repeatable
APP_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<Template>Normal.dotm</Template><Application>toolkit</Application><DocSecurity>0</DocSecurity>"
    "</Properties>"
)


def _clean_package(doc) -> None:
    """python-docx's default package, without what its own template brings along: the blank
    thumbnail and the "Microsoft Macintosh Word" application properties."""
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rid)
        elif rel.reltype == RT.EXTENDED_PROPERTIES:
            rel.target_part._blob = APP_XML.encode("utf-8")
    # Word 2010's duplicate style sheet and an empty custom XML item: not needed, and the
    # duplicate would keep the default template's styles next to ours.
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith(("/stylesWithEffects", "/customXml")):
            doc.part.rels.pop(rid)


def new_document(title: str):
    doc = Document()
    body = doc.element.body
    for p in body.findall(qn("w:p")):
        body.remove(p)
    clean_base(doc)
    _add_styles(doc)
    _settings(doc)
    _page_setup(doc)
    _clean_package(doc)
    props = doc.core_properties
    props.title = title
    props.author = ""
    props.last_modified_by = ""
    props.created = TEMPLATE_DATE
    props.modified = TEMPLATE_DATE
    props.last_printed = TEMPLATE_DATE
    props.comments = ""
    props.subject = "巡察整改进展情况的通报模板"
    props.keywords = ""
    props.category = ""
    props.revision = 1
    return doc


# ---------------------------------------------------------------------------------------------
# Writing template paragraphs
# ---------------------------------------------------------------------------------------------


class Writer:
    """Appends paragraphs to the body, before the final sectPr."""

    def __init__(self, doc):
        self.doc = doc
        self.body = doc.element.body
        self.sectPr = self.body.find(qn("w:sectPr"))

    def _append(self, p) -> None:
        self.sectPr.addprevious(p)

    def para(self, style: str, *runs: str | tuple[str, str]) -> None:
        """A paragraph of style ``style``; a run is text, (character style name, text), or
        TAB."""
        sid = STYLE_IDS[style]
        xml = [f"<w:p {nsdecls('w')}><w:pPr><w:pStyle w:val=\"{sid}\"/></w:pPr>"]
        for run in runs:
            if run is TAB:
                xml.append("<w:r><w:tab/></w:r>")
                continue
            if isinstance(run, tuple):
                cstyle, text = run
                csid = dict((n, i) for n, i, _ in CHAR_STYLES)[cstyle]
                rpr = f'<w:rPr><w:rStyle w:val="{csid}"/></w:rPr>'
            else:
                rpr, text = "", run
            xml.append(f'<w:r>{rpr}<w:t xml:space="preserve">{_x(text)}</w:t></w:r>')
        xml.append("</w:p>")
        self._append(parse_xml("".join(xml)))

    def tag(self, statement: str) -> None:
        """A control paragraph ``{%p statement %}``; docxtpl removes the whole paragraph."""
        self.para("模板指令", "{%p " + statement + " %}")

    def blank(self, style: str = "公文正文") -> None:
        self.para(style)

    def raw(self, xml: str) -> None:
        """Any body element (a table) given as WordprocessingML with its namespaces."""
        self._append(parse_xml(xml))


TAB = ("tab",)  # a tab run in Writer.para


def _x(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def lines(w: Writer, var: str, style: str = "公文正文", label: str | None = None) -> None:
    """One paragraph per item of the list ``var``; ``label`` (bold) before the first one."""
    w.tag(f"for line in {var}")
    if label:
        w.para(style, ("公文标签", "{% if loop.first %}" + label + "{% endif %}"), "{{ line }}")
    else:
        w.para(style, "{{ line }}")
    w.tag("endfor")


def free_text(w: Writer, var: str, last_condition: str | None = None) -> None:
    """One paragraph per item of ``var`` (a list of {lead, rest}): a lead-in ``（一）…。`` in
    the 楷体 character style, the rest as body text. With ``last_condition``, the paragraph
    for which it holds is 公文正文末段 (kept with the signature)."""
    runs = (("公文段首标题", "{{ item.lead }}"), "{{ item.rest }}")
    w.tag(f"for item in {var}")
    if last_condition:
        w.tag(f"if {last_condition}")
        w.para("公文正文末段", *runs)
        w.tag("else")
    w.para("公文正文", *runs)
    if last_condition:
        w.tag("endif")
    w.tag("endfor")


def heading1(w: Writer, key: str) -> None:
    w.para("公文一级标题", "{{ headings." + key + " }}")


def letterhead(w: Writer) -> None:
    """版头 (GB/T 9704 §7.2), only when the ledger gives a 发文字号."""
    w.tag("if letterhead")
    w.tag("if signer")
    w.para("公文版头留空上行文")
    w.tag("else")
    w.para("公文版头留空")
    w.tag("endif")
    w.tag("if issuer_mark_long")
    w.para("公文发文机关标志长", "{{ issuer_mark }}")
    w.tag("else")
    w.para("公文发文机关标志", "{{ issuer_mark }}")
    w.tag("endif")
    w.tag("if signer")
    w.para("公文发文字号上行文", "{{ doc_number }}", TAB, "签发人：",
           ("公文签发人姓名", "{{ signer }}"))
    w.tag("else")
    w.para("公文发文字号", "{{ doc_number }}")
    w.tag("endif")
    w.tag("endif")


def common_head(w: Writer) -> None:
    letterhead(w)
    w.para("公文标题", "{{ title }}")
    w.para("公文正文", "{{ opening }}")


def signature(w: Writer) -> None:
    w.tag("if issuer")
    w.para("公文署名", "{{ signature_pad }}{{ issuer }}")
    w.tag("endif")
    w.tag("if issue_date")
    w.tag('if date_style == "right4"')
    w.para("公文成文日期右空四字", "{{ issue_date }}")
    w.tag('elif date_style == "right2"')
    w.para("公文成文日期右空二字", "{{ issue_date }}")
    w.tag("else")
    w.para("公文成文日期", "{{ date_pad }}{{ issue_date }}")
    w.tag("endif")
    w.tag("endif")
    record(w)


def _record_row(style: str, *runs: str | tuple[str, ...]) -> str:
    cells = []
    for run in runs:
        cells.append("<w:r><w:tab/></w:r>" if run is TAB
                     else f'<w:r><w:t xml:space="preserve">{_x(str(run))}</w:t></w:r>')
    return (
        '<w:tr><w:trPr><w:cantSplit/></w:trPr><w:tc>'
        f'<w:tcPr><w:tcW w:w="{TYPE_WIDTH}" w:type="dxa"/></w:tcPr>'
        f'<w:p><w:pPr><w:pStyle w:val="{STYLE_IDS[style]}"/></w:pPr>{"".join(cells)}</w:p>'
        "</w:tc></w:tr>"
    )


def _record_tag_row(statement: str) -> str:
    """A row docxtpl replaces by ``{% statement %}`` (``{%tr … %}``)."""
    return (
        f'<w:tr><w:tc><w:tcPr><w:tcW w:w="{TYPE_WIDTH}" w:type="dxa"/></w:tcPr>'
        f'<w:p><w:pPr><w:pStyle w:val="{STYLE_IDS["模板指令"]}"/></w:pPr>'
        f'<w:r><w:t xml:space="preserve">{{%tr {statement} %}}</w:t></w:r></w:p></w:tc></w:tr>'
    )


def record_table() -> str:
    """The 版记 (GB/T 9704 §7.4) as a floating table at the foot of the last page.

    ``w:tblpYSpec="bottom"`` against the margin puts the table's lower edge on the lower edge of
    the type area of the page of its anchor paragraph (the one after it, kept with the date);
    text wraps above it (``w:topFromText``: at least one line between the date and the first
    separator), so when the page has no room the signature, date and 版记 move on together
    and never overlap. The horizontal position is relative to the page (the left margin):
    LibreOffice turns a full-width floating table into an inline one unless it is placed
    against the page edge. The separator lines are the table's borders, as wide as the type
    area: thick above and below, thin between 抄送 and 印发机关 (0.35 / 0.25 mm). The cells have
    no margins (Word and LibreOffice would place the table's edge differently by them); the
    paragraph indents put the text one character in."""
    borders = (
        f'<w:top w:val="single" w:sz="{THICK}" w:space="0" w:color="000000"/>'
        '<w:left w:val="nil"/>'
        f'<w:bottom w:val="single" w:sz="{THICK}" w:space="0" w:color="000000"/>'
        '<w:right w:val="nil"/>'
        f'<w:insideH w:val="single" w:sz="{THIN}" w:space="0" w:color="000000"/>'
        '<w:insideV w:val="nil"/>'
    )
    rows = [
        _record_tag_row("if cc"),
        _record_row("公文版记抄送", "抄送：{{ cc }}。"),
        _record_tag_row("endif"),
        _record_tag_row("if printer or print_date"),
        _record_row("公文版记印发", "{{ printer }}", TAB, "{{ print_date }}"),
        _record_tag_row("endif"),
    ]
    return (
        f"<w:tbl {nsdecls('w')}><w:tblPr>"
        f'<w:tblpPr w:leftFromText="0" w:rightFromText="0" w:topFromText="{LINE}" '
        'w:bottomFromText="0" w:vertAnchor="margin" w:horzAnchor="page" '
        f'w:tblpX="{LEFT_MARGIN}" w:tblpYSpec="bottom"/>'
        '<w:tblOverlap w:val="never"/>'
        f'<w:tblW w:w="{TYPE_WIDTH}" w:type="dxa"/>'
        f"<w:tblBorders>{borders}</w:tblBorders>"
        '<w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="0" w:type="dxa"/>'
        '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" '
        'w:lastColumn="0" w:noHBand="1" w:noVBand="1"/>'
        f'</w:tblPr><w:tblGrid><w:gridCol w:w="{TYPE_WIDTH}"/></w:tblGrid>{"".join(rows)}</w:tbl>'
    )


def record_page_break(w: Writer) -> None:
    """The paragraph that, with ``record_next_page``, ends the body's section after the date,
    so the 版记 (anchored after it) starts a section of its own on the next even page.

    It is as high as the 版记 with its blank line above (``record_space``: line breaks), so
    the signature and date stay on the page where LibreOffice put them with the 版记: when
    the 版记 had pushed them onto that page, they would otherwise go back a page, and the 版记
    on a page of its own would again be odd.

    The body's sectPr then governs the 版记's page only and its footers hide their page
    numbers (``PAGE_NUMBER_IF``); this paragraph's sectPr, a copy of the body's, keeps the
    numbers of every page before, through footers of its own. The toolkit sets
    ``record_next_page`` when LibreOffice put the 版记 on an odd page (toolkit/even_page.py).
    The section starts on the next page, not "even page": LibreOffice 7 turns ``evenPage``
    into a left-only page style with a shorter footer area, which moves the 版记 below the
    type area (and, on a one-section notice, shifts the first page).
    """
    doc = w.doc
    body_sectPr = copy.deepcopy(w.sectPr)
    for ref in body_sectPr.findall(qn("w:footerReference")):
        body_sectPr.remove(ref)
    start = body_sectPr.find(qn("w:type"))
    if start is not None:
        body_sectPr.remove(start)
    refs = []
    for kind, style_id in (("default", "GwPageNumber"), ("even", "GwPageNumberEven")):
        part = FooterPart.new(doc.part.package)
        for p in part.element.findall(qn("w:p")):  # python-docx's empty Footer paragraph
            part.element.remove(p)
        part.element.append(_page_number_paragraph(style_id))
        rid = doc.part.relate_to(part, RT.FOOTER)
        refs.append(parse_xml(f'<w:footerReference {nsdecls("w", "r")} w:type="{kind}" r:id="{rid}"/>'))
    for ref in reversed(refs):
        body_sectPr.insert(0, ref)
    p = parse_xml(f"<w:p {nsdecls('w')}><w:pPr><w:pStyle w:val=\"{STYLE_IDS['公文版记留空']}\"/>"
                  '</w:pPr><w:r><w:t xml:space="preserve">{{ record_space }}</w:t></w:r></w:p>')
    p.find(qn("w:pPr")).append(body_sectPr)
    w.tag("if record_next_page")
    w._append(p)
    # LibreOffice starts the new page style at the first paragraph of the section; it drops
    # the empty paragraph above and cannot start a page at a floating table.
    w.para("公文版记分节")
    w.tag("endif")


def record(w: Writer) -> None:
    """版记 (GB/T 9704 §7.4) at the foot of the page of the signature and date: a floating
    table anchored in a one-twip paragraph after the date; with ``record_next_page``, at the
    foot of the next even page (record_page_break)."""
    w.tag("if record")
    record_page_break(w)
    w.raw(record_table())
    w.para("公文版记锚点")
    w.tag("endif")


def categories(w: Writer, problem_block) -> None:
    w.tag("for category in categories")
    w.tag("if category.heading")
    w.para("公文方面标题", "{{ category.heading }}")
    w.tag("endif")
    w.tag("for sub in category.subcategories")
    w.tag("if sub.heading")
    w.para("公文二级标题", "{{ sub.heading }}")
    w.tag("endif")
    w.tag("for problem in sub.problems")
    problem_block(w)
    w.tag("endfor")
    w.tag("endfor")
    w.tag("endfor")


# --- 阶段性进展 --------------------------------------------------------------------------------


def stage_problem(w: Writer) -> None:
    w.tag("for line in problem.heading_lines")
    w.para("公文三级标题", "{{ line }}")
    w.tag("endfor")
    w.para("公文正文", ("公文标签", "整改状态："), "{{ problem.status_label }}。")
    w.tag("if problem.progress_lines")
    w.para("公文标签行", ("公文标签", "整改过程："))
    lines(w, "problem.progress_lines")
    w.tag("endif")


def build_stage():
    doc = new_document("巡察整改阶段性进展情况的通报（模板）")
    w = Writer(doc)
    common_head(w)
    w.tag("if organisation")
    heading1(w, "organisation")
    free_text(w, "organisation_items")
    w.tag("endif")
    heading1(w, "progress")
    w.tag("if summary")
    w.para("公文正文", "{{ summary }}")
    w.tag("endif")
    categories(w, stage_problem)
    w.tag("if long_term_measures")
    heading1(w, "long_term")
    free_text(w, "long_term_measures_items", "loop.last and not next_steps")
    w.tag("endif")
    w.tag("if next_steps")
    heading1(w, "next_steps")
    free_text(w, "next_steps_items", "loop.last")
    w.tag("endif")
    signature(w)
    return doc


# --- 集中整改进展 ------------------------------------------------------------------------------


def central_problem(w: Writer) -> None:
    w.tag("for line in problem.lines")
    w.para("公文正文", "{% if loop.first %}{{ problem.label }}{% endif %}{{ line }}")
    w.tag("endfor")
    lines(w, "problem.measures_lines", label="整改措施：")
    lines(w, "problem.progress_lines", label="整改进展：")
    w.tag("if problem.deadline")
    w.para("公文正文", ("公文标签", "整改时限："), "{{ problem.deadline }}。")
    w.tag("endif")
    w.para("公文正文", ("公文标签", "整改状态："), "{{ problem.status_label }}。")


def build_central():
    doc = new_document("巡察集中整改进展情况的通报（模板）")
    w = Writer(doc)
    common_head(w)
    w.tag("if organisation")
    heading1(w, "organisation")
    free_text(w, "organisation_items")
    w.tag("endif")
    w.tag("if flagged")
    heading1(w, "flagged")
    w.tag("for problem in flagged")
    central_problem(w)
    w.tag("endfor")
    w.tag("endif")
    heading1(w, "completed")
    w.tag("if summary")
    w.para("公文正文", "{{ summary }}")
    w.tag("endif")
    categories(w, central_problem)
    w.tag("if long_term or long_term_measures")
    heading1(w, "long_term")
    # The 长期整改举措 paragraphs open the section, before the long-term items, so that they
    # do not read as part of the last item.
    free_text(w, "long_term_measures_items",
              "loop.last and not long_term and not next_steps and not contact")
    w.tag("for problem in long_term")
    central_problem(w)
    w.tag("endfor")
    w.tag("endif")
    w.tag("if next_steps")
    heading1(w, "next_steps")
    free_text(w, "next_steps_items", "loop.last and not contact")
    w.tag("endif")
    w.tag("if contact")
    w.para("公文联系方式", "{{ contact }}")
    w.tag("endif")
    signature(w)
    return doc


BUILDERS = {KIND_STAGE: build_stage, KIND_CENTRAL: build_central}


def main(argv: list[str] | None = None) -> int:
    out = Path(argv[0]) if argv else HERE
    out.mkdir(parents=True, exist_ok=True)
    for kind, build in BUILDERS.items():
        path = out / f"{kind}.docx"
        finish(build()).save(path)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
