"""Render stage: templates, context, verbatim text, errors. No LibreOffice needed here."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from render_helpers import FULL_META, make_problem, make_report, sample_problems

from toolkit.context import build_context, clean_text, cn_numeral, nest_quotes, split_lines
from toolkit.errors import TemplateError
from toolkit.model import DONE, IN_PROGRESS, KIND_CENTRAL, KIND_STAGE, Counts, Stats
from toolkit.render import TEMPLATE_DIR, render_notice, template_for

ROOT = Path(__file__).resolve().parent.parent
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def open_docx(data: bytes):
    return Document(io.BytesIO(data))


def paragraphs(doc) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in doc.paragraphs]


def texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def signature_of(got: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The last two paragraphs without the leading space that places them (§7.3.5)."""
    return [(style, text.lstrip("\u3000\u2002 ")) for style, text in got[-2:]]


def style_texts(doc, style: str) -> list[str]:
    return [t for s, t in paragraphs(doc) if s == style]


def all_part_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "".join(
            zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".xml")
        )


@pytest.fixture(scope="module")
def report():
    return make_report(sample_problems())


@pytest.fixture(scope="module")
def stage(report):
    return render_notice(report, KIND_STAGE)


@pytest.fixture(scope="module")
def central(report):
    return render_notice(report, KIND_CENTRAL)


@pytest.fixture(scope="module", params=[KIND_STAGE, KIND_CENTRAL])
def rendered(request, stage, central):
    return {KIND_STAGE: stage, KIND_CENTRAL: central}[request.param]


# ---------------------------------------------------------------------------------------------
# Page layout and styles (GB/T 9704-2012)
# ---------------------------------------------------------------------------------------------


def test_page_is_a4_with_gbt9704_margins(rendered):
    sec = open_docx(rendered).sections[0]
    mm = lambda length: length / Mm(1)
    assert round(mm(sec.page_width)) == 210 and round(mm(sec.page_height)) == 297
    assert round(mm(sec.top_margin)) == 37
    assert round(mm(sec.bottom_margin)) == 35
    assert round(mm(sec.left_margin)) == 28
    assert round(mm(sec.right_margin)) == 26
    grid = sec._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines" and grid.get(qn("w:linePitch")) == "578"


def _rpr(style):
    return style.element.find(qn("w:rPr"))


def _ppr(style):
    return style.element.find(qn("w:pPr"))


@pytest.mark.parametrize(
    "name, font, size",
    [
        ("公文正文", "仿宋_GB2312", 32),
        ("公文标题", "方正小标宋简体", 44),
        ("公文一级标题", "黑体", 32),
        ("公文二级标题", "楷体_GB2312", 32),
        ("公文三级标题", "仿宋_GB2312", 32),
        ("公文方面标题", "楷体_GB2312", 32),
        ("公文标签行", "仿宋_GB2312", 32),
        ("公文正文末段", "仿宋_GB2312", 32),
        ("公文署名", "仿宋_GB2312", 32),
        ("公文成文日期", "仿宋_GB2312", 32),
        ("公文页码", "宋体", 28),
    ],
)
def test_named_styles_carry_east_asian_fonts(rendered, name, font, size):
    style = open_docx(rendered).styles[name]
    rpr = _rpr(style)
    fonts = rpr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == font
    assert fonts.get(qn("w:ascii")) == font
    assert rpr.find(qn("w:sz")).get(qn("w:val")) == str(size)


def test_body_style_has_grid_spacing_indent_and_condensing(rendered):
    style = open_docx(rendered).styles["公文正文"]
    spacing = _ppr(style).find(qn("w:spacing"))
    assert spacing.get(qn("w:line")) == "578" and spacing.get(qn("w:lineRule")) == "exact"
    ind = _ppr(style).find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200"
    assert _rpr(style).find(qn("w:spacing")).get(qn("w:val")) == "-6"  # -0.3 pt
    assert _ppr(style).find(qn("w:jc")).get(qn("w:val")) == "both"


def test_signature_and_date_styles(rendered):
    styles = open_docx(rendered).styles
    sig = _ppr(styles["公文署名"])
    # left-aligned: the context's leading space puts signature and date on the grid (§7.3.5)
    assert sig.find(qn("w:jc")).get(qn("w:val")) == "left"
    assert sig.find(qn("w:ind")).get(qn("w:firstLine")) == "0"
    assert sig.find(qn("w:spacing")).get(qn("w:before")) == "578"  # one blank line
    assert _ppr(styles["公文成文日期"]).find(qn("w:jc")).get(qn("w:val")) == "left"
    assert _ppr(styles["公文标题"]).find(qn("w:jc")).get(qn("w:val")) == "center"


def test_font_table_names_fallbacks(rendered):
    with zipfile.ZipFile(io.BytesIO(rendered)) as zf:
        fonts = zf.read("word/fontTable.xml").decode("utf-8")
    for font, alt in [("仿宋_GB2312", "FangSong"), ("楷体_GB2312", "KaiTi"),
                      ("方正小标宋简体", "SimSun"), ("黑体", "SimHei")]:
        assert re.search(f'w:name="{font}">\\s*<w:altName w:val="{alt}"/>', fonts), font


def test_formatting_lives_in_styles_not_in_paragraphs(rendered):
    """Every body paragraph names a style; runs carry at most a character style."""
    doc = open_docx(rendered)
    for p in doc.element.body.iter(W + "p"):
        ppr = p.find(W + "pPr")
        assert ppr is not None and ppr.find(W + "pStyle") is not None
        assert [c.tag for c in ppr] == [W + "pStyle"], "direct paragraph formatting"
        for r in p.iter(W + "r"):
            rpr = r.find(W + "rPr")
            if rpr is not None:
                assert [c.tag for c in rpr] == [W + "rStyle"], "direct run formatting"


def test_footer_page_field_odd_right_even_left(rendered):
    doc = open_docx(rendered)
    assert doc.settings.odd_and_even_pages_header_footer
    sec = doc.sections[0]
    for footer, style, align in [(sec.footer, "公文页码", "right"),
                                 (sec.even_page_footer, "公文页码偶数页", "left")]:
        assert not footer.is_linked_to_previous
        (p,) = footer.paragraphs
        assert p.style.name == style
        assert p.text.startswith("— ") and p.text.endswith(" —")
        instr = "".join(t.text for t in p._p.iter(W + "instrText"))
        assert instr.strip() == "PAGE"
        kinds = [f.get(W + "fldCharType") for f in p._p.iter(W + "fldChar")]
        assert kinds == ["begin", "separate", "end"]
        ppr = _ppr(doc.styles[style])
        assert ppr.find(qn("w:jc")).get(qn("w:val")) == align
    ind_odd = _ppr(doc.styles["公文页码"]).find(qn("w:ind"))
    ind_even = _ppr(doc.styles["公文页码偶数页"]).find(qn("w:ind"))
    assert ind_odd.get(qn("w:right")) == "280" and ind_even.get(qn("w:left")) == "280"


def test_committed_templates_match_generator(tmp_path):
    """templates/*.docx are what templates/make_templates.py writes (XML parts compared)."""
    subprocess.run(
        [sys.executable, str(ROOT / "templates" / "make_templates.py"), str(tmp_path)],
        check=True, capture_output=True,
    )
    for kind in (KIND_STAGE, KIND_CENTRAL):
        with zipfile.ZipFile(TEMPLATE_DIR / f"{kind}.docx") as a, \
                zipfile.ZipFile(tmp_path / f"{kind}.docx") as b:
            for name in ("word/document.xml", "word/styles.xml", "word/fontTable.xml",
                         "word/settings.xml"):
                assert a.read(name) == b.read(name), f"{kind}: {name} is stale; rerun the script"


# ---------------------------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------------------------


def test_stage_structure_in_order(stage, report):
    doc = open_docx(stage)
    got = paragraphs(doc)
    assert got[0] == ("公文标题", "中共攀枝花市文联党组\n关于巡察整改阶段性进展情况的通报")
    assert got[1][1] == (
        "根据市委统一部署，2024年4月10日至2024年5月11日，市委第一巡察组对市文联党组开展了巡察。"
        "2024年7月10日，市委第一巡察组向市文联党组反馈了巡察工作情况。"
        "按照党务公开原则和巡察工作有关要求，现将巡察整改阶段性进展情况予以公布。"
    )
    assert style_texts(doc, "公文一级标题") == [
        "一、扛牢政治责任，切实抓好巡察整改工作",
        "二、坚持对账销号，确保巡察整改工作取得实效",
        "三、对长期整改任务采取的重要举措",  # 长期整改举措: rendered, never dropped
        "四、下一步工作安排",
    ]
    assert style_texts(doc, "公文方面标题") == [
        "第一方面问题：落实上级决策部署不到位，推进文艺发展举措不够有力",
        "第二方面问题：聚焦群众身边腐败问题和不正之风",
        "第三方面问题：基层党组织建设薄弱",
    ]
    # a line break keeps the last line of a wrapped heading from holding one character
    assert style_texts(doc, "公文二级标题") == [
        "（一）学习贯彻习近平总书记关于文艺工作的重要论述\n有差距",
        "（二）改革推进不力",
    ]
    assert [x.replace("\n", "") for x in style_texts(doc, "公文三级标题")] == [
        f"{i}．对“{p.problem}”的整改进展情况"
        for i, p in enumerate(report.ledger.problems, 1)
    ]
    t = texts(doc)
    i = t.index("1．对“区文联党组政治意识不够强，站位不够高。”的整改进展情况")
    assert t[i + 1: i + 5] == ["整改状态：已完成。", "整改过程：", "一是第1个问题的整改进展。",
                               "二是继续推进。"]
    assert "整改状态：正在整改（长期坚持）。" in t
    assert t.index(report.stats.summary) == t.index("二、坚持对账销号，确保巡察整改工作取得实效") + 1
    assert signature_of(got) == [("公文署名", "中共攀枝花市文联党组"), ("公文成文日期", "2024年12月20日")]
    long_term = t[t.index("三、对长期整改任务采取的重要举措"): t.index("四、下一步工作安排")]
    assert long_term[1:] == ["坚持把理论学习作为长期任务，常态化开展专题学习。"]
    # organisation / next steps: one paragraph per line, blank lines dropped
    for line in ("第一时间召开巡察整改部署会安排整改工作。", "成立巡察整改工作领导小组。",
                 "持续深入学习习近平总书记关于巡视工作重要讲话精神。"):
        assert ("公文正文", line) in got
    # the last body paragraph stays on the signature's page
    assert got[-3] == ("公文正文末段", "对已完成的整改任务，适时组织“回头看”，巩固整改成果。")
    assert "" not in t[1:]


def test_central_structure_in_order(central, report):
    doc = open_docx(central)
    got = paragraphs(doc)
    assert got[0] == ("公文标题", "中共攀枝花市文联党组\n关于巡察集中整改进展情况的通报")
    assert got[1][1].endswith("现将反馈意见集中整改进展情况予以公布。")
    assert style_texts(doc, "公文一级标题") == [
        "一、党组及主要负责人组织整改落实情况",
        "二、市委书记点人点事问题整改情况",
        "三、集中整改期内已完成的整改事项",
        "四、对长期整改任务采取的重要举措和取得的阶段性成效",
        "五、下一步整改工作安排",
    ]
    t = texts(doc)
    sec = {h: t.index(h) for h in style_texts(doc, "公文一级标题")}
    flagged = t[sec["二、市委书记点人点事问题整改情况"]: sec["三、集中整改期内已完成的整改事项"]]
    assert flagged[1:] == [
        "1．区文联党组政治意识不够强，站位不够高。",
        "整改措施：第1个问题的整改措施。",
        "整改进展：一是第1个问题的整改进展。",
        "二是继续推进。",
        "整改时限：2024年9月底前。",
        "整改状态：已完成。",
    ]
    completed = t[sec["三、集中整改期内已完成的整改事项"]: sec["四、对长期整改任务采取的重要举措和取得的阶段性成效"]]
    assert completed[1] == report.stats.summary
    numbered = [x for x in completed if re.match(r"\d+．", x)]
    assert numbered == [f"{i}．{p.problem}" for i, p in enumerate(report.ledger.problems, 1)]
    assert "整改时限：2024 年 12 月底前完成整改。" in completed  # written as in the cell
    assert "整改时限：长期坚持。" in completed
    long_term = t[sec["四、对长期整改任务采取的重要举措和取得的阶段性成效"]: sec["五、下一步整改工作安排"]]
    assert [x for x in long_term if re.match(r"\d+．", x)] == [
        "1．党组对文联工作前瞻性谋划不足。", "2．党内谈心谈话不规范，针对性不强。"]
    # 长期整改举措 opens the section, apart from the long-term items
    assert long_term[1] == "坚持把理论学习作为长期任务，常态化开展专题学习。"
    assert got[-3][0] == "公文联系方式"  # left-aligned, kept with the signature
    assert ("公文正文", "对已完成的整改任务，适时组织“回头看”，巩固整改成果。") in got
    assert t[-3] == (
        "欢迎广大干部群众对巡察整改落实情况进行监督。如有意见建议，请及时向我们反映。"
        "联系方式：0812—5503651；邮政地址：攀枝花市东区公园路6号；电子邮箱：391024768@qq.com。"
    )
    assert signature_of(got) == [("公文署名", "中共攀枝花市文联党组"), ("公文成文日期", "2024年12月20日")]


def test_flagged_section_left_out_and_sections_renumbered():
    problems = [make_problem(i, category="某方面") for i in (1, 2)]
    doc = open_docx(render_notice(make_report(problems), KIND_CENTRAL))
    assert style_texts(doc, "公文一级标题") == [
        "一、党组及主要负责人组织整改落实情况",
        "二、集中整改期内已完成的整改事项",
        "三、对长期整改任务采取的重要举措和取得的阶段性成效",  # 长期整改举措 only
        "四、下一步整改工作安排",
    ]
    assert not any("点人点事" in t for t in texts(doc))


def test_empty_sections_leave_out_their_headings():
    meta = dict(FULL_META, organisation=(), next_steps=("", "  \n "), long_term_measures=())
    problems = [make_problem(1, category="某方面")]
    stage = open_docx(render_notice(make_report(problems, meta), KIND_STAGE))
    assert style_texts(stage, "公文一级标题") == ["一、坚持对账销号，确保巡察整改工作取得实效"]
    central = open_docx(render_notice(make_report(problems, meta), KIND_CENTRAL))
    assert style_texts(central, "公文一级标题") == ["一、集中整改期内已完成的整改事项"]
    for doc in (stage, central):
        assert "" not in texts(doc)[1:]


def test_missing_meta_leaves_no_placeholder():
    problems = [make_problem(1), make_problem(2, status=IN_PROGRESS, status_text="整改中")]
    report = make_report(problems, meta={})
    for kind in (KIND_STAGE, KIND_CENTRAL):
        data = render_notice(report, kind)
        doc = open_docx(data)
        body = "\n".join(texts(doc))
        for bad in ("None", "{{", "}}", "{%", "%}", "年月日", "根据，", "，，"):
            assert bad not in body, (kind, bad)
        assert "{{" not in all_part_xml(data) and "{%" not in all_part_xml(data)
        assert texts(doc)[0] == ("关于巡察整改阶段性进展情况的通报" if kind == KIND_STAGE
                                 else "关于巡察集中整改进展情况的通报")
        assert texts(doc)[1] == (
            "巡察组对我单位党组开展了巡察。巡察组向我单位党组反馈了巡察工作情况。"
            "按照党务公开原则和巡察工作有关要求，"
            + ("现将巡察整改阶段性进展情况予以公布。" if kind == KIND_STAGE
               else "现将反馈意见集中整改进展情况予以公布。")
        )
        styles = {s for s, _ in paragraphs(doc)}
        assert "公文署名" not in styles and "公文成文日期" not in styles
        assert not any(t.startswith("欢迎广大干部群众") for t in texts(doc))


def test_partial_meta_opening_and_contact():
    meta = dict(unit="市文联党组", group="市委第二巡察组", end_date=date(2024, 5, 1),
                feedback_date=date(2024, 7, 9), email="a@b.cn", issue_date=date(2025, 1, 5))
    report = make_report([make_problem(1)], meta)
    ctx = build_context(report, KIND_CENTRAL)
    assert ctx["opening"] == (
        "2024年5月1日，市委第二巡察组对市文联党组开展了巡察。2024年7月9日，市委第二巡察组向"
        "市文联党组反馈了巡察工作情况。按照党务公开原则和巡察工作有关要求，"
        "现将反馈意见集中整改进展情况予以公布。"
    )
    assert ctx["contact"].endswith("请及时向我们反映。电子邮箱：a@b.cn。")
    assert ctx["issue_date"] == "2025年1月5日"
    assert ctx["flagged_by"] == "市委书记"


def test_kind_defaults_to_meta_then_stage():
    problems = [make_problem(1)]
    central = make_report(problems, dict(FULL_META, kind=KIND_CENTRAL))
    assert texts(open_docx(render_notice(central)))[0].endswith("关于巡察集中整改进展情况的通报")
    stage = make_report(problems, dict(FULL_META, kind=None))
    assert texts(open_docx(render_notice(stage)))[0].endswith("关于巡察整改阶段性进展情况的通报")
    # an explicit kind wins over the meta sheet
    assert texts(open_docx(render_notice(central, KIND_STAGE)))[0].endswith("阶段性进展情况的通报")


# ---------------------------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------------------------


def test_numbers_come_only_from_stats():
    """The counts shown are report.stats, even when they disagree with the rows."""
    problems = [make_problem(1)]
    report = make_report(problems)
    odd = Counts(total=37, done=16, in_progress=20, not_done=1, long_term=4,
                 recovered_wan=Decimal("0.0200"))
    sentence = "截至2024年10月30日，巡察反馈的37个具体问题，已完成整改16个，正在整改20个，未完成1个。"
    report = type(report)(report.ledger, (), Stats(date(2024, 10, 30), odd, (), (), sentence))
    ctx = build_context(report, KIND_STAGE)
    assert ctx["stats"]["total"] == 37 and ctx["stats"]["done"] == 16
    assert ctx["stats"]["recovered"] == "0.02"
    assert ctx["stats"]["completion_rate"] == "43.2%"
    assert ctx["summary"] == sentence
    assert sentence in texts(open_docx(render_notice(report, KIND_STAGE)))


def test_context_has_no_none():
    def walk(value, path="ctx"):
        assert value is not None, path
        if isinstance(value, Mapping):  # a dict, or a problem's read-only view (context.ProblemView)
            for k, v in value.items():
                walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        else:
            assert isinstance(value, (str, int, bool)), (path, type(value))

    for meta in (FULL_META, {}):
        for kind in (KIND_STAGE, KIND_CENTRAL):
            walk(build_context(make_report(sample_problems(), meta), kind))


def test_category_and_subcategory_headings():
    problems = [
        make_problem(1, category="第三方面问题：已有编号", subcategory="（二）已有子编号"),
        make_problem(2, category="无编号类别", subcategory="子类甲"),
        make_problem(3, category="无编号类别", subcategory="子类乙"),
        make_problem(4, category="无编号类别", subcategory=""),
        make_problem(5, category=""),
        make_problem(6, category="第三方面问题：已有编号", subcategory="（二）已有子编号"),
    ]
    ctx = build_context(make_report(problems), KIND_STAGE)
    cats = ctx["categories"]
    assert [c["heading"] for c in cats] == ["第三方面问题：已有编号", "第二方面问题：无编号类别", ""]
    assert [s["heading"] for s in cats[1]["subcategories"]] == ["（一）子类甲", "（二）子类乙", ""]
    assert [s["heading"] for s in cats[0]["subcategories"]] == ["（二）已有子编号"]
    # grouped, then numbered 1．2．… in the order the notice shows them
    assert [(p["label"], p["seq"]) for p in ctx["problems"]] == [
        ("1．", 1), ("2．", 6), ("3．", 2), ("4．", 3), ("5．", 4), ("6．", 5)]
    assert all(p["label"].endswith("\uff0e") for p in ctx["problems"])


def test_dates_without_leading_zeros():
    meta = dict(FULL_META, start_date=date(2024, 1, 5), issue_date=date(2024, 3, 9))
    ctx = build_context(make_report([make_problem(1, deadline_text="", deadline=date(2024, 2, 1))], meta),
                        KIND_CENTRAL)
    assert ctx["start_date"] == "2024年1月5日" and ctx["issue_date"] == "2024年3月9日"
    assert ctx["problems"][0]["deadline"] == "2024年2月1日"


def test_long_title_puts_issuer_on_its_own_line():
    short = build_context(make_report([make_problem(1)], dict(FULL_META, issuer="文联党组")),
                          KIND_STAGE)
    assert short["title_lines"] == ["文联党组关于巡察整改阶段性进展情况的通报"]
    long = build_context(make_report([make_problem(1)]), KIND_STAGE)
    assert long["title_lines"] == ["中共攀枝花市文联党组", "关于巡察整改阶段性进展情况的通报"]


def test_cn_numeral():
    assert [cn_numeral(n) for n in (1, 9, 10, 11, 19, 20, 21, 99, 100, 101, 110, 120)] == [
        "一", "九", "十", "十一", "十九", "二十", "二十一", "九十九", "一百", "一百零一",
        "一百一十", "一百二十"]


def test_split_lines():
    assert split_lines("一是。\r\n\r\n  二是。 \n\u3000三是。\r四是。\u2028五是。") == [
        "一是。", "二是。", "三是。", "四是。", "五是。"]
    assert split_lines("") == [] and split_lines(None) == []


# ---------------------------------------------------------------------------------------------
# Verbatim text
# ---------------------------------------------------------------------------------------------

HOSTILE = [
    "A&B 整改 & 落实",
    "<b>加粗</b> a > b < c",
    "“引号” \"double\" 'single' &amp; &lt;",
    "{{ 7*7 }} 与 {% if true %}是{% endif %} 及 {# 注释 #}",
    "{_{ 残留 }_} {_% 与 %_}",
    "{%p if x %} {{r y }} {%tr for %}",
    "制表\t符",
    "]]> <![CDATA[ x ]]> <?xml?> <!-- c -->",
]


@pytest.fixture(scope="module")
def hostile_docs():
    problems = [
        make_problem(i + 1, problem=text, measures=text, progress=text, category="甲&乙<丙>",
                     subcategory="{{ sub }}", deadline_text="{{ d }}&")
        for i, text in enumerate(HOSTILE)
    ]
    meta = dict(FULL_META, issuer="中共A&B<党组>", organisation=("{{ organisation }}&<x>",))
    report = make_report(problems, meta, summary="截至{{ as_of }}，共&lt;5&gt;个问题。")
    return {k: open_docx(render_notice(report, k)) for k in (KIND_STAGE, KIND_CENTRAL)}


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_printed_literally(hostile_docs, text):
    stage = texts(hostile_docs[KIND_STAGE])
    central = texts(hostile_docs[KIND_CENTRAL])
    # the problem's own quotation marks nest inside the heading's “” (GB/T 9704: ‘’ inside “”)
    assert f"对“{nest_quotes(text)}”的整改进展情况" in "".join(stage).replace("\n", "")
    assert text in stage  # progress line
    assert f"整改措施：{text}" in central
    assert f"整改进展：{text}" in central


def test_hostile_meta_category_and_summary(hostile_docs):
    for doc in hostile_docs.values():
        t = texts(doc)
        assert "截至{{ as_of }}，共&lt;5&gt;个问题。" in t
        assert "{{ organisation }}&<x>" in t
        assert t[-2].lstrip("\u3000\u2002 ") == "中共A&B<党组>"
        assert "第一方面问题：甲&乙<丙>" in t
        assert "（一）{{ sub }}" in t
    assert "整改时限：{{ d }}&。" in texts(hostile_docs[KIND_CENTRAL])


def test_control_characters_removed_text_kept():
    raw = "前\x00文\x01字\x08后\x0b续\x0c行\x1f尾\ufffe\uffff\ud800完。"
    doc = open_docx(render_notice(make_report([make_problem(1, progress=raw)]), KIND_STAGE))
    t = texts(doc)
    # \x0b and \x0c are line breaks in office text: they split the cell into paragraphs
    assert t[t.index("整改过程：") + 1: t.index("整改过程：") + 4] == ["前文字后", "续", "行尾完。"]
    assert clean_text(raw) == "前文字后续行尾完。"


def test_long_cell_survives_whole():
    chunk = "巡察整改&落实<到位>{{x}}"
    long_text = (chunk * (30000 // len(chunk) + 1))[:30000]
    assert len(long_text) == 30000
    report = make_report([make_problem(1, problem=long_text, progress=long_text)])
    stage = texts(open_docx(render_notice(report, KIND_STAGE)))
    assert f"1．对“{long_text}”的整改进展情况" in stage
    assert long_text in stage
    central = texts(open_docx(render_notice(report, KIND_CENTRAL)))
    assert f"1．{long_text}" in central and f"整改进展：{long_text}" in central


def test_multiline_cell_one_paragraph_per_line():
    progress = "一是学习。\n\n二是整改&落实。\r\n   \n三是<巩固>。\n"
    doc = open_docx(render_notice(make_report([make_problem(1, progress=progress)]), KIND_STAGE))
    t = texts(doc)
    i = t.index("整改过程：")
    assert t[i + 1: i + 4] == ["一是学习。", "二是整改&落实。", "三是<巩固>。"]


def test_plain_docxtpl_would_lose_text_after_ampersand(tmp_path):
    """The failure this module guards against: docxtpl without autoescape drops text."""
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(template_for(KIND_STAGE))
    ctx = build_context(make_report([make_problem(1, progress="甲&乙丙丁")]), KIND_STAGE)
    tpl.render(ctx)  # no autoescape, no finalize
    out = tmp_path / "plain.docx"
    tpl.save(out)
    assert "甲&乙丙丁" not in texts(Document(out))
    ours = texts(open_docx(render_notice(make_report([make_problem(1, progress="甲&乙丙丁")]),
                                         KIND_STAGE)))
    assert "甲&乙丙丁" in ours


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=60))
def test_any_text_reaches_the_document(text):
    report = make_report([make_problem(1, progress=text)])
    t = texts(open_docx(render_notice(report, KIND_STAGE)))
    i = next(k for k, x in enumerate(t) if x.startswith("整改状态："))
    expected = split_lines(text)
    got = t[i + 2: i + 2 + len(expected)] if expected else []
    assert got == expected


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def _custom_template(tmp_path: Path, *lines: str) -> Path:
    from docx import Document as New

    doc = New()
    for line in lines:
        doc.add_paragraph(line)
    path = tmp_path / "自定义模板.docx"
    doc.save(path)
    return path


def test_custom_template_is_used(tmp_path):
    path = _custom_template(tmp_path, "{{ title_lines[0] }}", "{{ summary }}",
                            "{%p for problem in problems %}",
                            "{{ problem.label }}{{ problem.text }}（{{ problem.unit }}）",
                            "{%p endfor %}")
    report = make_report(sample_problems())
    t = texts(open_docx(render_notice(report, template=path)))
    assert t[0] == "中共攀枝花市文联党组"
    assert t[1] == report.stats.summary
    assert t[2] == "1．区文联党组政治意识不够强，站位不够高。（办公室）"


def test_unknown_placeholder_names_it(tmp_path):
    path = _custom_template(tmp_path, "{{ title }}", "{{ 整改负责人 }} {{ unknown_key }}")
    with pytest.raises(TemplateError) as err:
        render_notice(make_report([make_problem(1)]), template=path)
    assert "unknown_key" in str(err.value) and "整改负责人" in str(err.value)
    assert "自定义模板.docx" in str(err.value)
    assert err.value.path == path


def test_unknown_attribute_names_it(tmp_path):
    path = _custom_template(tmp_path, "{%p for problem in problems %}",
                            "{{ problem.no_such_field }}", "{%p endfor %}")
    with pytest.raises(TemplateError) as err:
        render_notice(make_report([make_problem(1)]), template=path)
    assert "no_such_field" in str(err.value)
    assert err.value.__cause__ is not None


def test_syntax_error_is_template_error(tmp_path):
    path = _custom_template(tmp_path, "{% if title %}没有结束")
    with pytest.raises(TemplateError, match="模板"):
        render_notice(make_report([make_problem(1)]), template=path)


def test_sandbox_blocks_unsafe_access(tmp_path):
    path = _custom_template(tmp_path, "{{ title.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateError):
        render_notice(make_report([make_problem(1)]), template=path)


def test_missing_template_names_the_file(tmp_path):
    missing = tmp_path / "没有这个模板.docx"
    with pytest.raises(TemplateError) as err:
        render_notice(make_report([make_problem(1)]), template=missing)
    assert "没有这个模板.docx" in str(err.value)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_broken_template_names_the_file(tmp_path, content):
    broken = tmp_path / "坏模板.docx"
    broken.write_bytes(content)
    with pytest.raises(TemplateError) as err:
        render_notice(make_report([make_problem(1)]), template=broken)
    assert "坏模板.docx" in str(err.value)


def test_zip_without_document_is_template_error(tmp_path):
    path = tmp_path / "空壳.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(TemplateError, match="空壳.docx"):
        render_notice(make_report([make_problem(1)]), template=path)


def test_unknown_kind():
    with pytest.raises(TemplateError, match="未知的通报类型“专项”"):
        render_notice(make_report([make_problem(1)]), kind="专项")
    with pytest.raises(TemplateError):
        template_for("专项")
    with pytest.raises(TemplateError):
        build_context(make_report([make_problem(1)]), "专项")


def test_template_for_bundled_kinds():
    for kind in (KIND_STAGE, KIND_CENTRAL):
        assert template_for(kind) == TEMPLATE_DIR / f"{kind}.docx"
        assert template_for(kind).is_file()


def test_status_text_fallback_and_done():
    ctx = build_context(make_report([make_problem(1, status="", status_text="  基本完成。 ")]),
                        KIND_STAGE)
    assert ctx["problems"][0]["status"] == "基本完成"
    ctx = build_context(make_report([make_problem(1, status=DONE)]), KIND_STAGE)
    assert ctx["problems"][0]["status_label"] == "已完成"


# Element order required by the WordprocessingML schema (Word rejects files that break it).
PPR_ORDER = ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl",
             "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens",
             "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN",
             "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing",
             "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment",
             "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"]
RPR_ORDER = ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike",
             "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish",
             "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs", "highlight",
             "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em", "lang",
             "eastAsianLayout", "specVanish", "oMath"]
STYLE_ORDER = ["name", "aliases", "basedOn", "next", "link", "autoRedefine", "hidden",
               "uiPriority", "semiHidden", "unhideWhenUsed", "qFormat", "locked", "personal",
               "personalCompose", "personalReply", "rsid", "pPr", "rPr", "tblPr", "trPr", "tcPr",
               "tblStylePr"]


def _in_schema_order(element, order):
    names = [c.tag.split("}")[1] for c in element]
    return names == sorted(names, key=order.index)


def test_style_xml_follows_schema_order(rendered):
    styles = open_docx(rendered).styles.element
    for el in styles.iter(W + "style", W + "docDefaults"):
        if el.tag == W + "style":
            assert _in_schema_order(el, STYLE_ORDER), el.get(W + "styleId")
        for ppr in el.iter(W + "pPr"):
            assert _in_schema_order(ppr, PPR_ORDER), el.get(W + "styleId")
        for rpr in el.iter(W + "rPr"):
            assert _in_schema_order(rpr, RPR_ORDER), el.get(W + "styleId")
