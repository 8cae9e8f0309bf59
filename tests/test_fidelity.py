"""Notice fidelity to GB/T 9704-2012 and the published notices, checked in the .docx XML.

版头 and 版记, signature and date (§7.3.5), inline headings, quotes and numbering, Word-safe
style names, the document's own metadata, house-style overrides from 通报信息, PDF fonts.
Layout in LibreOffice's PDF is checked in test_fidelity_pdf.py.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from render_helpers import (
    FULL_META,
    make_problem,
    make_report,
    sample_problems,
    seed_ledger,
)

from toolkit.context import (
    DIGIT_WIDTH,
    build_context,
    inline_items,
    keep_last_line_full,
    nest_quotes,
    signature_layout,
)
from toolkit.model import KIND_CENTRAL, KIND_STAGE
from toolkit.pdf import describe_substitutes, font_substitutes
from toolkit.pipeline import analyse
from toolkit.render import TEMPLATE_DIR, render_notice

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def open_docx(data: bytes):
    return Document(io.BytesIO(data))


def styled(doc) -> list[tuple[str, str]]:
    return [(p.style.style_id, p.text) for p in doc.paragraphs]


def by_style(doc, style_id: str) -> list[str]:
    return [t for s, t in styled(doc) if s == style_id]


def _ppr(style):
    return style.element.find(qn("w:pPr"))


def _rpr(style):
    return style.element.find(qn("w:rPr"))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[tuple[str, bool], bytes]:
    """Both seeds' ledgers, read by the reader and rendered, 版头 off and on."""
    folder = tmp_path_factory.mktemp("seeds")
    out = {}
    for seed, kind in (("000", KIND_STAGE), ("004", KIND_CENTRAL)):
        for letterhead in (False, True):
            path = seed_ledger(folder / f"{seed}-{letterhead}.xlsx", seed, letterhead)
            report = analyse(path)
            assert not [f for f in report.findings if f.code == "unknown_meta_key"]
            out[(seed, letterhead)] = render_notice(report, kind)
    return out


# ---------------------------------------------------------------------------------------------
# 1. 版头 and 版记
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["000", "004"])
def test_no_letterhead_without_doc_number(seeds, seed):
    doc = open_docx(seeds[(seed, False)])
    ids = [s for s, _ in styled(doc)]
    assert ids[0] == "GwTitle"
    assert not [s for s in ids if s.startswith(("GwHeadSpace", "GwHeadMark", "GwDocNumber",
                                                 "GwRecord"))]


@pytest.mark.parametrize("seed", ["000", "004"])
def test_letterhead_with_doc_number(seeds, seed):
    doc = open_docx(seeds[(seed, True)])
    got = styled(doc)
    issuer = "中共攀枝花市文联党组" if seed == "004" else "中共梅州市梅江区文联党组"
    mark_style = "GwHeadMark" if len(issuer) + 2 <= 12 else "GwHeadMarkLong"
    assert [s for s, _ in got[:4]] == ["GwHeadSpace", mark_style, "GwDocNumber", "GwTitle"]
    assert got[1][1] == issuer + "文件"
    assert got[2][1] == "攀文联党〔2024〕12号"
    styles = doc.styles
    mark = styles["公文发文机关标志"]
    assert _rpr(mark).find(qn("w:color")).get(qn("w:val")) == "FF0000"
    assert _rpr(mark).find(qn("w:rFonts")).get(qn("w:eastAsia")) == "方正小标宋简体"
    assert _ppr(mark).find(qn("w:jc")).get(qn("w:val")) == "center"
    number = _ppr(styles["公文发文字号"])
    assert number.find(qn("w:jc")).get(qn("w:val")) == "center"
    assert number.find(qn("w:spacing")).get(qn("w:before")) == str(2 * 578)  # two lines below
    line = number.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert line.get(qn("w:color")) == "FF0000" and line.get(qn("w:val")) == "single"
    # 35 mm from the type area's top edge to the mark
    space = _ppr(styles["公文版头留空"]).find(qn("w:spacing"))
    assert space.get(qn("w:line")) == "1984" and space.get(qn("w:lineRule")) == "exact"


def test_issuer_mark_key_and_long_mark(tmp_path):
    meta = dict(FULL_META, doc_number="某〔2024〕1号", issuer_mark="中共攀枝花市文学艺术界联合会党组文件")
    doc = open_docx(render_notice(make_report(sample_problems(), meta), KIND_STAGE))
    assert styled(doc)[1] == ("GwHeadMarkLong", "中共攀枝花市文学艺术界联合会党组文件")
    size = _rpr(doc.styles["公文发文机关标志长"]).find(qn("w:sz")).get(qn("w:val"))
    assert int(size) < int(_rpr(doc.styles["公文发文机关标志"]).find(qn("w:sz")).get(qn("w:val")))


def test_signer_lays_out_upward_letterhead():
    meta = dict(FULL_META, doc_number="攀文联党〔2024〕12号", signer="张三")
    doc = open_docx(render_notice(make_report(sample_problems(), meta), KIND_CENTRAL))
    got = styled(doc)
    assert got[0][0] == "GwHeadSpaceUp"  # 80 mm for 上行文
    assert _ppr(doc.styles["公文版头留空上行文"]).find(qn("w:spacing")).get(qn("w:line")) == "4535"
    assert got[2] == ("GwDocNumberUp", "攀文联党〔2024〕12号\t签发人：张三")
    para = doc.paragraphs[2]._p
    runs = para.findall(qn("w:r"))
    assert runs[-1].find(qn("w:rPr")).find(qn("w:rStyle")).get(qn("w:val")) == "GwSignerName"
    assert _rpr(doc.styles["公文签发人姓名"]).find(qn("w:rFonts")).get(qn("w:eastAsia")) == "楷体_GB2312"
    up = _ppr(doc.styles["公文发文字号上行文"])
    assert up.find(qn("w:ind")).get(qn("w:left")) == "320"  # one character in
    assert up.find(qn("w:tabs")).find(qn("w:tab")).get(qn("w:val")) == "right"


def record_of(doc) -> tuple[list[tuple[str, str]], object]:
    """The 版记: (style id, text) of the paragraphs in the floating table, and the table."""
    tables = doc.element.body.findall(qn("w:tbl"))
    assert len(tables) == 1
    table = tables[0]
    rows = [(p.find(qn("w:pPr")).find(qn("w:pStyle")).get(qn("w:val")),
             "".join("\t" if n.tag == qn("w:tab") else n.text or ""
                     for n in p.iter(qn("w:t"), qn("w:tab"))))
            for p in table.iter(qn("w:p"))]
    return rows, table


def _border(table, side: str):
    return table.find(qn("w:tblPr")).find(qn("w:tblBorders")).find(qn(f"w:{side}"))


@pytest.mark.parametrize("seed", ["000", "004"])
def test_record_floats_at_the_foot_of_the_page_of_the_date(seeds, seed):
    doc = open_docx(seeds[(seed, True)])
    got = styled(doc)
    # the table is anchored in the paragraph after the date, which the date keeps with
    assert [s for s, _ in got[-2:]] == ["GwDate", "GwRecordAnchor"]
    assert _ppr(doc.styles["公文成文日期"]).find(qn("w:keepNext")) is not None
    rows, table = record_of(doc)
    assert rows == [("GwRecordCc", "抄送：市委巡察办，市委第一巡察组。"),
                    ("GwRecordPrint", "中共攀枝花市文联党组办公室\t2024年12月20日印发")]
    anchor = table.getnext()
    assert anchor.find(qn("w:pPr")).find(qn("w:pStyle")).get(qn("w:val")) == "GwRecordAnchor"
    pos = table.find(qn("w:tblPr")).find(qn("w:tblpPr"))
    assert pos.get(qn("w:vertAnchor")) == "margin" and pos.get(qn("w:tblpYSpec")) == "bottom"
    assert pos.get(qn("w:horzAnchor")) == "page" and pos.get(qn("w:tblpX")) == "1587"  # 28 mm
    assert pos.get(qn("w:topFromText")) == "578"  # a line at least between date and 版记
    assert table.find(qn("w:tblPr")).find(qn("w:tblW")).get(qn("w:w")) == "8844"  # type area
    assert _border(table, "top").get(qn("w:sz")) == "8"  # thick first line (0.35 mm)
    assert _border(table, "insideH").get(qn("w:sz")) == "6"  # thin middle line (0.25 mm)
    assert _border(table, "bottom").get(qn("w:sz")) == "8"  # thick last line
    assert all(tr.find(qn("w:trPr")).find(qn("w:cantSplit")) is not None
               for tr in table.findall(qn("w:tr")))
    record = doc.styles["公文版记"]
    assert _rpr(record).find(qn("w:sz")).get(qn("w:val")) == "28"  # 4号
    assert _rpr(record).find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
    ind = _ppr(record).find(qn("w:ind"))
    assert ind.get(qn("w:left")) == ind.get(qn("w:right")) == "280"  # one 4号 character in


def test_record_without_cc_has_both_thick_lines():
    meta = dict(FULL_META, printer="市文联办公室", print_date="2024-12-21")
    doc = open_docx(render_notice(make_report(sample_problems(), meta), KIND_STAGE))
    rows, table = record_of(doc)
    assert rows == [("GwRecordPrint", "市文联办公室\t2024年12月21日印发")]
    assert len(table.findall(qn("w:tr"))) == 1  # the table's top and bottom borders: both thick
    assert _border(table, "top").get(qn("w:sz")) == _border(table, "bottom").get(qn("w:sz")) == "8"


def test_no_record_table_without_record_keys():
    doc = open_docx(render_notice(make_report(sample_problems(), FULL_META), KIND_CENTRAL))
    assert doc.element.body.findall(qn("w:tbl")) == []
    assert styled(doc)[-1][0] == "GwDate"


# ---------------------------------------------------------------------------------------------
# 2. Signature and date (§7.3.5)
# ---------------------------------------------------------------------------------------------


def test_signature_layout_without_seal():
    lay = signature_layout("中共攀枝花市文联党组", "2024年12月20日", False)
    assert lay["signature_start"] == 28 - 2 - 10  # right-indented two characters
    assert lay["date_start"] == lay["signature_start"] + 2
    assert lay["date_style"] == "left"
    assert lay["signature_pad"] == "\u3000" * 16 and lay["date_pad"] == "\u3000" * 18


def test_long_date_moves_signature_left_of_it():
    lay = signature_layout("市文联党组", "2024年12月20日", False)
    assert lay["date_style"] == "right2"  # the date is right-indented two characters
    assert lay["date_start"] == pytest.approx(28 - 2 - (3 + 8 * DIGIT_WIDTH), abs=0.25)
    assert lay["signature_start"] == lay["date_start"] - 2


def test_seal_centres_signature_over_date():
    lay = signature_layout("中共攀枝花市文联党组", "2024年12月20日", True)
    assert lay["date_style"] == "right4"
    date_centre = 28 - 4 - 7.8 / 2
    assert lay["signature_start"] + 10 / 2 == pytest.approx(date_centre, abs=0.5)


@pytest.mark.parametrize("seed", ["000", "004"])
def test_signature_paragraphs_carry_their_place(seeds, seed):
    doc = open_docx(seeds[(seed, False)])
    sig, date = [p for p in doc.paragraphs if p.style.style_id in ("GwSignature", "GwDate")]
    n = len(sig.text.lstrip("\u3000"))
    assert len(sig.text) - n == 28 - 2 - n
    assert date.text == "\u3000" * (28 - n) + date.text.lstrip("\u3000")
    assert "年0" not in date.text and "月0" not in date.text


def test_seal_key_uses_the_right_aligned_date():
    meta = dict(FULL_META, seal="是")
    doc = open_docx(render_notice(make_report(sample_problems(), meta), KIND_STAGE))
    assert styled(doc)[-1] == ("GwDateRight4", "2024年12月20日")
    ind = _ppr(doc.styles["公文成文日期右空四字"]).find(qn("w:ind"))
    assert ind.get(qn("w:right")) == str(4 * 320)


# ---------------------------------------------------------------------------------------------
# 3. Inline headings in free text; 长期整改举措
# ---------------------------------------------------------------------------------------------


def test_inline_items_split_the_lead_in():
    items = inline_items(["（一）迅速部署，有序推进。区文联党组高度重视。", "一是持续抓好整改。",
                          "（二）没有句号的长段落" + "字" * 60])
    assert items[0]["lead"] == "（一）迅速部署，有序推进。"
    assert items[0]["rest"] == "区文联党组高度重视。"
    assert items[1]["lead"] == "" and items[1]["rest"] == "一是持续抓好整改。"
    assert items[2]["lead"] == ""


@pytest.mark.parametrize("seed", ["000", "004"])
def test_inline_heading_is_a_kaiti_character_style(seeds, seed):
    doc = open_docx(seeds[(seed, False)])
    leads = []
    for p in doc.paragraphs:
        for r in p._p.findall(qn("w:r")):
            rpr = r.find(qn("w:rPr"))
            style = rpr.find(qn("w:rStyle")) if rpr is not None else None
            text = "".join(t.text or "" for t in r.findall(qn("w:t")))
            if style is not None and style.get(qn("w:val")) == "GwInlineHeading" and text:
                leads.append((p.style.style_id, text, p.text))
    assert leads and all(s in ("GwBody", "GwBodyLast") for s, _, _ in leads)
    if seed == "000":
        assert [t for _, t, _ in leads][:2] == ["（一）迅速部署，有序推进。", "（二）加强领导，统一认识。"]
        assert "一是持续抓好整改。坚持目标不变、标准不降、力度不减。" in [p.text for p in doc.paragraphs]
    for _, lead, whole in leads:
        assert whole.startswith(lead) and len(whole) > len(lead)
    fonts = _rpr(doc.styles["公文段首标题"]).find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "楷体_GB2312"


def test_stage_renders_long_term_measures_in_their_own_section(seeds):
    doc = open_docx(seeds[("000", False)])
    headings = by_style(doc, "GwHeading1")
    assert headings[2] == "三、对长期整改任务采取的重要举措"
    texts = [p.text for p in doc.paragraphs]
    i = texts.index(headings[2])
    assert texts[i + 1] == "（一）坚持常态长效。对需要长期坚持的整改事项，建立台账，定期督办。"


def test_central_long_term_measures_open_section_four(seeds):
    doc = open_docx(seeds[("004", False)])
    texts = [p.text for p in doc.paragraphs]
    i = texts.index("四、对长期整改任务采取的重要举措和取得的阶段性成效")
    assert texts[i + 1] == "坚持把理论学习作为长期任务，常态化开展专题学习，建立健全长效机制。"
    assert texts[i + 2].startswith("1．")


# ---------------------------------------------------------------------------------------------
# 4. Quotes, numbering, headings that keep with the next paragraph, the contact line
# ---------------------------------------------------------------------------------------------


def test_nested_quotes_in_stage_heading(seeds):
    doc = open_docx(seeds[("000", False)])
    heading = "".join(by_style(doc, "GwHeading3")).replace("\n", "")
    assert "2.对“党组对文联工作前瞻性谋划不足，未将‘审计发现问题整改’纳入‘三重一大’事项研究。”" in heading
    assert nest_quotes("将“审计”纳入") == "将‘审计’纳入"
    assert nest_quotes("将“落实‘三重一大’制度”纳入") == "将‘落实“三重一大”制度’纳入"


@pytest.mark.parametrize("name", ["（二）基层党组织建设薄弱", "二、基层党组织建设薄弱",
                                  "(2)基层党组织建设薄弱", "2．基层党组织建设薄弱"])
def test_numbered_category_not_doubled(name):
    report = make_report([make_problem(1, category="政治建设"), make_problem(2, category=name)])
    ctx = build_context(report, KIND_STAGE)
    assert [c["heading"] for c in ctx["categories"]] == [
        "第一方面问题：政治建设", "第二方面问题：基层党组织建设薄弱"]


def test_numbered_subcategory_not_doubled():
    report = make_report([make_problem(1, category="甲", subcategory="一、选人用人不规范")])
    assert build_context(report, KIND_STAGE)["categories"][0]["subcategories"][0]["heading"] == \
        "（一）选人用人不规范"


@pytest.mark.parametrize("style_id", ["GwHeading1", "GwCategory", "GwHeading2", "GwHeading3"])
def test_headings_keep_with_next(seeds, style_id):
    doc = open_docx(seeds[("000", False)])
    style = next(s for s in doc.styles if s.style_id == style_id)
    assert _ppr(style).find(qn("w:keepNext")) is not None


def test_no_heading_line_holds_a_single_character():
    # 27 characters after a two-character indent: the last would stand alone
    heading = "（一）学习贯彻习近平总书记关于文艺工作的重要论述有差距"
    broken = keep_last_line_full(heading)
    first, last = broken.split("\n")
    assert first + last == heading and len(last) >= 2 and len(first) <= 26
    assert keep_last_line_full("（二）改革推进不力") == "（二）改革推进不力"
    # a comma close to the end is preferred
    with_comma = keep_last_line_full("一、以高度的政治自觉和强烈的责任担当，切实抓紧抓好巡察整改工作啊")
    assert "\n" not in with_comma or with_comma.split("\n")[1] != "啊"
    # never a line starting with closing punctuation
    text = "字" * 25 + "，" + "。"
    assert all(not part.startswith(("，", "。")) for part in keep_last_line_full(text).split("\n"))


def test_contact_paragraph_is_not_justified(seeds):
    doc = open_docx(seeds[("004", False)])
    contact = [p for p in doc.paragraphs if p.style.style_id == "GwContact"]
    assert len(contact) == 1 and "panzhihua-wenlian.gov.cn" in contact[0].text
    assert _ppr(doc.styles["公文联系方式"]).find(qn("w:jc")).get(qn("w:val")) == "left"
    assert _ppr(doc.styles["公文联系方式"]).find(qn("w:keepNext")) is not None


# ---------------------------------------------------------------------------------------------
# 5. Word-safe style names
# ---------------------------------------------------------------------------------------------

# Localised names of Word's built-in styles in Chinese Word/WPS a custom style must not take.
BUILTIN_CN = {"正文", "标题", "标题 1", "标题 2", "标题 3", "副标题", "页脚", "页眉", "默认段落字体",
              "标题1", "标题2", "标题3"}


@pytest.mark.parametrize("kind", [KIND_STAGE, KIND_CENTRAL])
def test_custom_styles_cannot_collide_with_builtin_names(kind):
    doc = Document(str(TEMPLATE_DIR / f"{kind}.docx"))
    custom = [s for s in doc.styles if s.style_id.startswith("Gw")]
    assert len(custom) >= 20
    for style in custom:
        assert style.name not in BUILTIN_CN
        assert style.name.startswith("公文") or style.name == "模板指令", style.name


@pytest.mark.parametrize("kind", [KIND_STAGE, KIND_CENTRAL])
def test_every_text_style_sets_an_east_asian_font(kind):
    doc = Document(str(TEMPLATE_DIR / f"{kind}.docx"))
    by_id = {s.style_id: s for s in doc.styles}

    def east_asian(style) -> str | None:
        while style is not None:
            rpr = _rpr(style)
            fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
            if fonts is not None and fonts.get(qn("w:eastAsia")):
                return fonts.get(qn("w:eastAsia"))
            style = style.base_style
        return None

    for sid, style in by_id.items():
        if sid.startswith("Gw") and sid not in ("GwLabel", "GwHeadSpace", "GwHeadSpaceUp"):
            assert east_asian(style), sid
    with zipfile.ZipFile(TEMPLATE_DIR / f"{kind}.docx") as zf:
        table = zf.read("word/fontTable.xml").decode("utf-8")
    for font, alt in (("仿宋_GB2312", "FangSong"), ("楷体_GB2312", "KaiTi"), ("方正小标宋简体", "SimSun")):
        assert f'w:name="{font}"><w:altName w:val="{alt}"/>' in table


# ---------------------------------------------------------------------------------------------
# 6. The document's own metadata
# ---------------------------------------------------------------------------------------------


def test_core_properties_of_the_notice(seeds):
    before = datetime.now(timezone.utc) - timedelta(minutes=30)
    data = seeds[("004", False)]
    props = open_docx(data).core_properties
    assert props.title == "中共攀枝花市文联党组关于巡察集中整改进展情况的通报"  # the title, not its layout
    assert props.author == props.last_modified_by == "中共攀枝花市文联党组"
    created = props.created.replace(tzinfo=timezone.utc) if props.created.tzinfo is None \
        else props.created
    assert created >= before and props.modified == props.created
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        app = zf.read("docProps/app.xml").decode("utf-8")
        rels = zf.read("_rels/.rels").decode("utf-8")
    assert not [n for n in names if "thumbnail" in n.lower()]
    assert "thumbnail" not in rels and "Macintosh" not in app


def test_drafter_is_the_author():
    meta = dict(FULL_META, drafter="李四")
    props = open_docx(render_notice(make_report(sample_problems(), meta), KIND_STAGE)).core_properties
    assert props.author == props.last_modified_by == "李四"


def test_thumbnail_of_a_clerks_template_is_dropped(tmp_path):
    # A template saved by Word often carries a thumbnail of its first page.
    source = TEMPLATE_DIR / f"{KIND_STAGE}.docx"
    target = tmp_path / "带缩略图.docx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "_rels/.rels":
                data = data.replace(b"</Relationships>", (
                    b'<Relationship Id="rIdThumb" Type="http://schemas.openxmlformats.org/package/'
                    b'2006/relationships/metadata/thumbnail" Target="docProps/thumbnail.jpeg"/>'
                    b"</Relationships>"))
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>",
                                    b'<Default Extension="jpeg" ContentType="image/jpeg"/></Types>')
            zout.writestr(item, data)
        zout.writestr("docProps/thumbnail.jpeg", b"\xff\xd8\xff\xd9")
    data = render_notice(make_report(sample_problems()), KIND_STAGE, template=target)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "docProps/thumbnail.jpeg" not in zf.namelist()


@pytest.mark.parametrize("kind", [KIND_STAGE, KIND_CENTRAL])
def test_templates_are_built_from_a_clean_base(kind):
    with zipfile.ZipFile(TEMPLATE_DIR / f"{kind}.docx") as zf:
        names = zf.namelist()
        core = zf.read("docProps/core.xml").decode("utf-8")
        app = zf.read("docProps/app.xml").decode("utf-8")
    assert not [n for n in names if "thumbnail" in n.lower()]
    assert "2013-12-23" not in core and "Macintosh" not in app
    assert not [n for n in names if "stylesWithEffects" in n or n.startswith("customXml")]


# ---------------------------------------------------------------------------------------------
# 9. Headings, title and numbering from 通报信息
# ---------------------------------------------------------------------------------------------


def test_heading_overrides_and_number_format_from_the_meta_sheet(seeds):
    doc = open_docx(seeds[("000", False)])
    assert by_style(doc, "GwHeading1") == [
        "一、以高度的政治自觉和强烈的责任担当，切实抓紧抓好巡察整改工作",
        "二、坚持对账销号，确保巡察整改工作取得实效",
        "三、对长期整改任务采取的重要举措",
        "四、注重标本兼治，不断巩固拓展巡察整改成果。",
    ]
    assert by_style(doc, "GwHeading3")[0] == "1.对“区文联党组政治意识不够强，站位不够高。”的整改进展情况"


def test_title_override_and_every_heading_key(tmp_path):
    path = seed_ledger(
        tmp_path / "台账.xlsx", "004",
        标题="中共攀枝花市文联党组\n关于市委第一巡察组巡察反馈意见集中整改进展情况的通报",
        整改组织情况标题="一、提高政治站位", 点人点事标题="市委书记点人点事问题整改",
        已完成整改事项标题="已完成的整改事项", 长期整改标题="长期整改任务", 下一步工作安排标题="下一步打算",
        序号格式="（1）")
    report = analyse(path)
    assert not [f for f in report.findings if f.code == "unknown_meta_key"]
    doc = open_docx(render_notice(report, KIND_CENTRAL))
    assert doc.paragraphs[0].text == (
        "中共攀枝花市文联党组\n关于市委第一巡察组巡察反馈意见集中整改进展情况的通报")
    assert by_style(doc, "GwHeading1") == ["一、提高政治站位", "二、市委书记点人点事问题整改",
                                           "三、已完成的整改事项", "四、长期整改任务", "五、下一步打算"]
    assert [t for t in by_style(doc, "GwBody") if t.startswith("（1）")]
    assert open_docx(render_notice(report, KIND_CENTRAL)).core_properties.title.startswith(
        "中共攀枝花市文联党组关于市委第一巡察组")


def test_defaults_without_overrides():
    ctx = build_context(make_report(sample_problems()), KIND_STAGE)
    assert ctx["headings"]["organisation"] == "一、扛牢政治责任，切实抓好巡察整改工作"
    assert ctx["problems"][0]["label"] == "1．"
    assert ctx["title_lines"] == ["中共攀枝花市文联党组", "关于巡察整改阶段性进展情况的通报"]


# ---------------------------------------------------------------------------------------------
# 7. PDF fonts: substitutes in Simplified Chinese
# ---------------------------------------------------------------------------------------------


def test_font_substitutes_prefer_sc_kai_and_bold_serif():
    installed = {"Noto Serif CJK SC", "Noto Serif CJK JP", "Noto Sans CJK SC", "AR PL UKai CN"}
    subs = {s.font: s for s in font_substitutes(installed)}
    assert subs["仿宋_GB2312"].substitute == "Noto Serif CJK SC"
    assert subs["楷体_GB2312"].substitute == "AR PL UKai CN"
    assert subs["方正小标宋简体"].substitute == "Noto Serif CJK SC" and subs["方正小标宋简体"].bold
    assert subs["黑体"].substitute == "Noto Sans CJK SC"
    note = describe_substitutes(list(subs.values()))
    assert "楷体_GB2312→AR PL UKai CN" in note and "方正小标宋简体→Noto Serif CJK SC（加粗）" in note
    # without a Kai face 楷体 falls back to the serif; an installed official font is kept
    subs = {s.font: s for s in font_substitutes({"Noto Serif CJK SC", "仿宋_GB2312"})}
    assert subs["楷体_GB2312"].substitute == "Noto Serif CJK SC" and "仿宋_GB2312" not in subs
    assert describe_substitutes([]) == ""


@pytest.mark.skipif(not shutil.which("fc-match"), reason="fontconfig not installed")
def test_fontconfig_rules_give_the_sc_face(tmp_path):
    from toolkit.pdf import _fontconfig_file

    conf = _fontconfig_file(tmp_path)
    if conf is None:
        pytest.skip("no system fontconfig file")
    subs = {s.font: s.substitute for s in font_substitutes()}
    if "仿宋_GB2312" not in subs:
        pytest.skip("no CJK substitute installed")
    env = {"FONTCONFIG_FILE": str(conf), "PATH": "/usr/bin:/bin"}

    def match(pattern: str) -> str:
        return subprocess.run(["fc-match", "-f", "%{family}|%{weight}|%{lang}", pattern],
                              capture_output=True, env=env, check=True).stdout.decode()

    # asked for in Japanese, the 公文 font still gets the SC family
    family, weight, _ = match("仿宋_GB2312:lang=ja").split("|", 2)
    assert subs["仿宋_GB2312"] in family.split(",")
    assert "JP" not in family.split(",")[0]
    family, weight, _ = match("方正小标宋简体").split("|", 2)
    assert subs["方正小标宋简体"] in family.split(",") and int(weight) >= 200  # bold
    family = match("楷体_GB2312").split("|", 1)[0]
    assert subs["楷体_GB2312"] in family.split(",")


def test_fonts_missing_entirely_still_allow_the_config(tmp_path):
    assert font_substitutes(set()) == []
    from toolkit.pdf import _font_config_xml

    xml = _font_config_xml("/etc/fonts/fonts.conf", font_substitutes({"Noto Serif CJK SC"}))
    assert "<string>zh-cn</string>" in xml and "Noto Serif CJK SC" in xml


def test_build_says_which_font_substitutes_the_pdf_used(tmp_path, monkeypatch):
    import toolkit.pdf as pdf_module
    from toolkit.build import build_notice
    from toolkit.pdf import FontSubstitute

    def fake_convert(docx, target, timeout=120):
        Path(target).write_bytes(b"%PDF-1.4 fake")

    monkeypatch.setattr(pdf_module, "convert_to_pdf", fake_convert)
    monkeypatch.setattr(pdf_module, "font_substitutes", lambda installed=None: [
        FontSubstitute("仿宋_GB2312", "Noto Serif CJK SC", False),
        FontSubstitute("楷体_GB2312", "AR PL UKai CN", False)])
    ledger = seed_ledger(tmp_path / "台账.xlsx", "004")
    result = build_notice(ledger, tmp_path / "out" / "通报.docx", pdf=True, records=False)
    assert result.pdf is not None and result.pdf.read_bytes().startswith(b"%PDF-")
    assert ("本机未安装公文字体，PDF 中使用替代字体：仿宋_GB2312→Noto Serif CJK SC，"
            "楷体_GB2312→AR PL UKai CN") in result.notes


def test_title_from_meta_never_ends_with_a_lone_character():
    # 21 characters of 2号 on a 20-character line
    meta = dict(FULL_META, title="中共某市文联党组关于巡察整改进展情况的通报")
    assert len(meta["title"]) == 21
    ctx = build_context(make_report(sample_problems(), meta), KIND_STAGE)
    lines = "\n".join(ctx["title_lines"]).split("\n")
    assert "".join(lines) == meta["title"]
    assert all(len(line) >= 2 for line in lines) and all(len(line) <= 20 for line in lines)


def test_letterhead_and_record_text_reaches_the_document_verbatim():
    hostile = "A&B<{{ x }}>〔2024〕{% if %}"
    meta = dict(FULL_META, doc_number=hostile, issuer_mark=hostile + "文件", signer=hostile,
                cc=hostile, printer=hostile, print_date="明天")
    doc = open_docx(render_notice(make_report(sample_problems(), meta), KIND_CENTRAL))
    texts = [p.text for p in doc.paragraphs]
    assert texts[1] == hostile + "文件"
    assert texts[2] == f"{hostile}\t签发人：{hostile}"
    rows, _ = record_of(doc)
    assert [t for _, t in rows] == [f"抄送：{hostile}。", f"{hostile}\t明天印发"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="一二三四五六七八九十，。、“”（）ab1", min_size=0, max_size=90),
       st.sampled_from([0, 2]))
def test_keep_last_line_full_only_adds_breaks(text, indent):
    from toolkit.context import _wrap_widths

    out = keep_last_line_full(text, indent)
    assert out.replace("\n", "") == text
    assert out.count("\n") <= 1
    if "\n" in out:
        _, last = out.split("\n")
        assert _wrap_widths(last, 28, 28)[-1] > 1 or len(_wrap_widths(last, 28, 28)) == 1
        assert not last.startswith(tuple("，。、”）"))
