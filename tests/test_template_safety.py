"""Hostile templates (issue 9.7): every template fault is a TemplateError naming the
template (and the failing placeholder where known), exit 2 through the CLI, never a
traceback, a hang, a memory blow-up or a notice silently cut short.

The corpus is built in code: each case is a list of paragraph texts for a fresh .docx.
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
from pathlib import Path

import pytest
from docx import Document
from ledger_factory import write_ledger
from render_helpers import make_report, sample_problems
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.errors import TemplateError
from toolkit.render import render_context, render_notice
from toolkit.template_guard import RenderLimits, unbalanced_tags

runner = CliRunner()

# (id, paragraphs, words the message must contain)
HOSTILE = [
    ("include", ["{% include 'x.docx' %}"], ["include"]),
    ("import", ["{% import 'x' as m %}"], ["import"]),
    ("from-import", ["{% from 'x' import y %}"], ["import"]),
    ("extends", ["{% extends 'base' %}"], ["extends"]),
    ("zero-division", ["{{ title }}", "{{ 1/0 }}"], ["{{ 1/0 }}", "除以了零"]),
    ("type-error", ["{{ title + 1 }}"], ["{{ title + 1 }}", "TypeError"]),
    ("recursive-macro", ["{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"], ["递归"]),
    ("recursive-loop", ["{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}"], ["递归"]),
    ("branching-recursion", ["{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}"
                             "{% endmacro %}{{ f(60) }}"], ["运算次数"]),
    ("nested-loops-30", ["{% for i in [1] %}" * 30 + "x" + "{% endfor %}" * 30], ["嵌套层数"]),
    ("nested-ifs-100", ["{% if true %}" * 100 + "x" + "{% endif %}" * 100], ["嵌套层数"]),
    ("string-times-huge", ["{{ 'a'*2000000000 }}"], ["过大", "{{ 'a'*2000000000 }}"]),
    ("list-times-huge", ["{{ [1]*10**9 }}"], ["过大"]),
    ("nested-range", ["{% for i in range(100000) %}{% for j in range(100000) %}"
                      "{% endfor %}{% endfor %}"], ["循环次数"]),
    ("nested-data-loops", ["{% for p in problems %}{% for q in problems %}"
                           "{% for r in range(100000) %}{% endfor %}{% endfor %}{% endfor %}"],
     ["循环次数"]),
    ("range-huge", ["{{ range(10**9)|list }}"], ["range"]),
    ("center-huge", ["{{ 'a'.center(2000000000) }}"], ["center"]),
    ("center-filter", ["{{ 'a'|center(10**9) }}"], ["center"]),
    ("indent-filter", ["{{ 'a'|indent(10**9) }}"], ["indent"]),
    ("printf-width", ["{{ '%2000000000d' % 1 }}"], ["格式宽度"]),
    ("format-filter-width", ["{{ '%999999999s'|format('a') }}"], ["格式宽度"]),
    ("str-format-width", ["{{ '{:2000000000}'.format(1) }}"], ["格式宽度"]),
    ("expandtabs", ["{{ ('\\t'*1000).expandtabs(10**7) }}"], ["expandtabs"]),
    ("replace-growth", ["{{ ('a'*1000)|replace('a', 'a'*100000) }}"], ["replace"]),
    ("join-growth", ["{{ ','.join(['a'*100000]*1000) }}"], ["join"]),
    ("doubling-namespace", ["{% set ns = namespace(s='ab') %}{% for i in range(60) %}"
                            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"], ["过大"]),
    ("squaring-namespace", ["{% set ns = namespace(n=2) %}{% for i in range(40) %}"
                            "{% set ns.n = ns.n * ns.n %}{% endfor %}{{ ns.n }}"], ["数字过大"]),
    ("power", ["{{ 7**(10**8) }}"], ["数字过大"]),
    ("lipsum", ["{{ lipsum(1000000) }}"], ["lipsum"]),
    ("join-generator", ["{{ (['a'*100000]*1000)|map('upper')|join }}"], ["join"]),
    ("str-join-generator", ["{{ ''.join((['a']*10)|map('upper')) }}"], ["str.join"]),
    ("sum-of-lists", ["{{ ([[1]*30000]*30000)|sum(start=[]) }}"], ["sum"]),
    ("dunder", ["{{ title.__class__.__mro__ }}"], ["不允许"]),
    ("mutation", ["{{ problems.append(1) }}"], ["不允许"]),
    ("syntax", ["{% if title %}没有结束"], ["语法"]),
    ("typo-open-tag", ["{{ title }}", "{{ opening }", "{{ summary }}"], ["{{ opening }", "}}"]),
    ("typo-stray-close", ["{ { opening }}"], ["}}"]),
    ("typo-open-block", ["{% if title %", "x", "{% endif %}"], ["{% if title %", "%}"]),
    ("safe-markup", ["{{ '</w:t></w:r>'|safe }}"], ["不允许使用 |safe"]),
    ("filter-block-control-char", ["{% filter replace('a', '\\x01') %}a{% endfilter %}"],
     ["不是有效的 Word 文档"]),
    ("raw-then-safe", ["{% raw %}{{ x }}{% endraw %}{{ '<w:p>'|safe }}"], ["不允许使用 |safe"]),
    ("urlize-html", ["{{ 'see http://example.com'|urlize }}"], ["不允许使用 |urlize"]),
    ("deep-nesting", ["{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"], ["模板"]),
    ("many-ifs", ["{% if true %}" * 3000 + "x" + "{% endif %}" * 3000], ["模板"]),
]


def _template(tmp_path: Path, paragraphs: list[str], name: str = "坏模板.docx") -> Path:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    path = tmp_path / name
    doc.save(path)
    return path


@pytest.fixture(scope="module")
def report():
    return make_report(sample_problems())


@pytest.mark.parametrize("case", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_template_is_a_template_error(tmp_path, report, case):
    _, paragraphs, words = case
    path = _template(tmp_path, paragraphs)
    started = time.monotonic()
    with pytest.raises(TemplateError) as err:
        render_notice(report, template=path)
    assert time.monotonic() - started < 30  # bounded (the budget stops it; no wall-clock goal)
    message = str(err.value)
    assert message.startswith("坏模板.docx："), message
    assert err.value.path == path
    for word in words:
        assert word in message, message


def test_lone_surrogate_does_not_cut_the_notice(tmp_path, report):
    path = _template(tmp_path, ["{{ title_lines[0] }}", "{{ '\\ud800' }}前后{{ '\\x01' }}文字",
                                "{{ summary }}", "结尾段"])
    doc = Document(io.BytesIO(render_notice(report, template=path)))
    texts = [p.text for p in doc.paragraphs]
    assert texts == ["中共攀枝花市文联党组", "前后文字", report.stats.summary, "结尾段"]


def test_harmless_jinja_still_works(tmp_path, report):
    path = _template(tmp_path, [
        "{% for i in range(3) %}{{ loop.cycle('甲', '乙') }}{% endfor %}",
        "{{ problems|map(attribute='no')|join('、') }}",
        "{{ '%05.1f'|format(3.14159) }}{{ '{:>6}'.format('右') }}",
        "{% set ns = namespace(n=0) %}{% for p in problems %}{% set ns.n = ns.n + 1 %}"
        "{% endfor %}{{ ns.n }}",
        "{% raw %}{{ 原样 }}{% endraw %}",
        "{{ '{' }}{{ '}' }}",
    ])
    texts = [p.text for p in Document(io.BytesIO(render_notice(report, template=path))).paragraphs]
    assert texts == ["甲乙甲", "1、2、3、4、5", "003.1     右", "5", "{{ 原样 }}", "{}"]


def _tight(**changes) -> RenderLimits:
    values = dict(seconds=60.0, output_chars=10**8, value_size=10**8, iterations=10**9)
    values.update(changes)
    return RenderLimits(**values)


def _context(report):
    from toolkit.context import build_context

    return build_context(report, "阶段性进展")


def test_render_deadline_stops_a_long_render(tmp_path, report):
    path = _template(tmp_path, ["{% for i in range(100000) %}{% for j in range(100000) %}"
                                "{% endfor %}{% endfor %}"])
    started = time.monotonic()
    with pytest.raises(TemplateError, match="生成时间超过"):
        render_context(_context(report), path, _tight(seconds=0.5), subject="x")
    assert time.monotonic() - started < 20


def test_output_size_is_capped_while_streaming(tmp_path, report):
    path = _template(tmp_path, ["{% for i in range(100000) %}", "{{ opening }}", "{% endfor %}"])
    with pytest.raises(TemplateError, match="生成的通报超过"):
        render_context(_context(report), path, _tight(output_chars=2_000_000), subject="x")


def test_output_size_is_capped_on_the_whole_document_path(tmp_path, report):
    doc = Document()
    doc.add_table(rows=1, cols=1).cell(0, 0).text = "表格"  # a table: docxtpl's whole path
    doc.add_paragraph("{% for i in range(100000) %}{{ opening }}{% endfor %}")
    path = tmp_path / "表格模板.docx"
    doc.save(path)
    with pytest.raises(TemplateError, match="生成的通报超过"):
        render_context(_context(report), path, _tight(output_chars=2_000_000), subject="x")


def test_broken_xml_on_the_whole_document_path_is_an_error(tmp_path, report):
    doc = Document()
    doc.add_paragraph("前 {% if false %}")
    doc.add_table(rows=1, cols=1).cell(0, 0).text = "中 {% endif %} 后"
    doc.add_paragraph("结尾")
    path = tmp_path / "跨表格.docx"
    doc.save(path)
    with pytest.raises(TemplateError, match="跨表格.docx.*不是有效的 Word 文档"):
        render_notice(report, template=path)


def _rewrite(path: Path, target: Path, member: str, data: bytes) -> Path:
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info, data if info.filename == member else source.read(info))
    return target


def test_malformed_document_xml(tmp_path, report):
    good = _template(tmp_path, ["{{ title }}"], "好.docx")
    bad = _rewrite(good, tmp_path / "坏正文.docx", "word/document.xml", b"<w:document><w:body>")
    with pytest.raises(TemplateError, match="坏正文.docx"):
        render_notice(report, template=bad)


def test_doctype_in_template_is_refused(tmp_path, report):
    good = _template(tmp_path, ["{{ title }}"], "好.docx")
    with zipfile.ZipFile(good) as zf:
        xml = zf.read("word/document.xml")
    xml = xml.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>', 1)
    bad = _rewrite(good, tmp_path / "实体.docx", "word/document.xml", xml)
    with pytest.raises(TemplateError, match="实体.docx.*DOCTYPE"):
        render_notice(report, template=bad)


def test_zip_bomb_template_is_refused_before_inflating(tmp_path, report):
    good = _template(tmp_path, ["{{ title }}"], "好.docx")
    data = bytearray(good.read_bytes())
    # Declare 4 GB uncompressed for the first member in the central directory: exactly
    # what a zip bomb declares (zipfile never inflates past the declared size).
    at = data.index(b"PK\x01\x02")
    data[at + 24: at + 28] = struct.pack("<I", 0xFFFFFFF0)
    bomb = tmp_path / "炸弹.docx"
    bomb.write_bytes(bytes(data))
    with pytest.raises(TemplateError, match="炸弹.docx.*压缩炸弹"):
        render_notice(report, template=bomb)


def test_oversized_xml_part_is_refused(tmp_path, report):
    good = _template(tmp_path, ["{{ title }}"], "好.docx")
    with zipfile.ZipFile(good) as zf:
        xml = zf.read("word/document.xml")
    padded = xml.replace(b"<w:body>", b"<w:body>" + b"<!-- pad -->" * (2 * 2**20), 1)
    big = _rewrite(good, tmp_path / "巨大.docx", "word/document.xml", padded)
    with pytest.raises(TemplateError, match="巨大.docx.*过大"):
        render_notice(report, template=big)


def test_header_tag_typo_names_the_part(tmp_path, report):
    doc = Document()
    doc.add_paragraph("{{ title }}")
    doc.sections[0].header.paragraphs[0].text = "{{ issuer }"
    path = tmp_path / "页眉.docx"
    doc.save(path)
    with pytest.raises(TemplateError, match=r"页眉.docx.*header.*\{\{ issuer \}"):
        render_notice(report, template=path)


def test_unbalanced_tags_ignores_whole_tags():
    from docx import Document as New

    doc = New()
    for text in ("{{ a }}{% if b %}{# c #}", "{%p endif %}", "纯文本 {", "{{ d }} }",
                 "注释可跨段 {# 开始", "{{ 注释里不检查", "结束 #} 之后 {{ e }}"):
        doc.add_paragraph(text)
    assert unbalanced_tags(doc.element) is None
    doc.add_paragraph("{# 注释 #} {{ f ")
    assert "第 8 段" in unbalanced_tags(doc.element)


def test_comment_spanning_paragraphs_renders(tmp_path, report):
    path = _template(tmp_path, ["开头{# 注释掉", "这一段", "#}结尾"])
    texts = [p.text for p in Document(io.BytesIO(render_notice(report, template=path))).paragraphs]
    assert texts == ["开头结尾"]


def test_bundled_templates_pass_the_checks(report):
    from toolkit.render import template_for

    for kind in ("阶段性进展", "集中整改进展"):
        assert render_notice(report, kind=kind, template=template_for(kind))[:2] == b"PK"


def test_cli_hostile_template_exit_2_one_line(tmp_path):
    ledger = write_ledger(tmp_path / "台账.xlsx")
    out = tmp_path / "通报.docx"
    for i, (_, paragraphs, _) in enumerate(HOSTILE[:12]):
        path = _template(tmp_path, paragraphs, f"模板{i}.docx")
        result = runner.invoke(app, ["render", str(ledger), "-o", str(out), "--template", str(path)])
        assert result.exit_code == 2, result.output
        assert f"模板{i}.docx：" in result.output
        assert "Traceback" not in result.output and not out.exists()


@pytest.mark.parametrize("filter_name", ["safe", "urlize", "xmlattr"])
def test_filters_that_make_markup_are_refused(tmp_path, report, filter_name):
    path = _template(tmp_path, [f"{{{{ opening|{filter_name} }}}}"])
    with pytest.raises(TemplateError, match=f"坏模板.docx.*不允许使用 \\|{filter_name}"):
        render_notice(report, template=path)


def test_remote_resource_in_template_is_refused(tmp_path, report):
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    doc = Document()
    doc.add_paragraph("{{ title }}")
    doc.part.relate_to("http://example.invalid/track.png", RT.IMAGE, is_external=True)
    path = tmp_path / "外链.docx"
    doc.save(path)
    with pytest.raises(TemplateError, match="外链.docx.*外部资源.*example.invalid"):
        render_notice(report, template=path)


def test_external_hyperlink_is_allowed(tmp_path, report):
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    doc = Document()
    doc.add_paragraph("{{ title }}")
    doc.part.relate_to("mailto:test@example.com", RT.HYPERLINK, is_external=True)
    path = tmp_path / "超链接.docx"
    doc.save(path)
    assert render_notice(report, template=path)[:2] == b"PK"


@pytest.mark.parametrize("field", [
    '<w:fldSimple w:instr=\' DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/c calc" \'/>',
    '<w:r><w:instrText> INCLUDE</w:instrText></w:r><w:r><w:instrText>PICTURE "http://x/y.png" \\d</w:instrText></w:r>',
])
def test_fields_that_fetch_or_run_are_refused(tmp_path, report, field):
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    doc = Document()
    doc.add_paragraph("{{ title }}")
    doc.element.body.insert(0, parse_xml(f"<w:p {nsdecls('w')}>{field}</w:p>"))
    path = tmp_path / "域.docx"
    doc.save(path)
    with pytest.raises(TemplateError, match="域.docx.*域（(DDEAUTO|INCLUDEPICTURE)）"):
        render_notice(report, template=path)


def test_typo_in_a_bundled_template_dropped_into_the_folder(tmp_path, report):
    """The reported case: ``{{ opening }`` in the real template silently lost the opening."""
    from toolkit.render import template_for

    source = template_for("阶段性进展")
    with zipfile.ZipFile(source) as zf:
        xml = zf.read("word/document.xml")
    assert xml.count(b"{{ opening }}") == 1
    broken = _rewrite(source, tmp_path / "阶段性进展.docx", "word/document.xml",
                      xml.replace(b"{{ opening }}", b"{{ opening }"))
    with pytest.raises(TemplateError, match=r"阶段性进展.docx：模板第 \d+ 段的“\{\{ opening \}”缺少结束标记"):
        render_notice(report, template=broken)


def test_template_that_is_not_a_regular_file(tmp_path, report):
    import os

    fifo = tmp_path / "管道.docx"
    os.mkfifo(fifo)
    folder = tmp_path / "文件夹.docx"
    folder.mkdir()
    for path in (fifo, folder):
        with pytest.raises(TemplateError, match=f"{path.name}：模板不是普通文件"):
            render_notice(report, template=path)
