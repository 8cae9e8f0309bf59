"""Streaming the body of a template with a table at the body's level (the notices' 版记).

The streamed body is cut after a ``</w:p>`` outside any table, and is byte for byte what
docxtpl's whole-document path writes; a table whose grid docxtpl's fix_tables would change
sends the notice down the whole-document path.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from hypothesis import example, given, settings
from hypothesis import strategies as st
from render_helpers import FULL_META, make_report, sample_problems

from toolkit import docx_template, render
from toolkit.docx_template import _body_level_cut
from toolkit.model import KIND_CENTRAL, KIND_STAGE

RECORD = dict(cc="市委巡察办，市委第一巡察组", printer="市文联办公室", print_date="2024-12-20")


def _body(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")


def _both_paths(monkeypatch, **kw) -> tuple[bytes, bytes]:
    streamed = render.render_notice(**kw)
    with monkeypatch.context() as m:
        m.setattr(render.NoticeTemplate, "streamable", lambda self: False)
        whole = render.render_notice(**kw)
    return streamed, whole


def test_cut_never_falls_inside_a_table():
    p, table = "<w:p><w:r><w:t>a</w:t></w:r></w:p>", "<w:tbl><w:tblPr/><w:tr><w:tc>"
    assert _body_level_cut(p + p) == 2 * len(p)
    assert _body_level_cut(p + table + p) == len(p)  # before the open table
    assert _body_level_cut(table + p) == 0  # nothing to cut yet
    closed = p + table + p + "</w:tc></w:tr></w:tbl>" + p
    assert _body_level_cut(closed) == len(closed)


@pytest.mark.parametrize("kind", [KIND_STAGE, KIND_CENTRAL])
def test_record_table_streams_byte_for_byte(monkeypatch, kind):
    """The bundled templates stream with their 版记 table; with a piece cut after every
    paragraph the table is never split, and the body equals the whole-document one."""
    report = make_report(sample_problems(), dict(FULL_META, **RECORD))
    assert render._load_template(render.template_for(kind)).streamable()
    monkeypatch.setattr(docx_template, "_STREAM_CHUNK", 1)
    streamed, whole = _both_paths(monkeypatch, report=report, kind=kind)
    assert b"<w:tblpPr" in _body(streamed)
    assert _body(streamed) == _body(whole)


def _template_with(tmp_path, name: str, xml: str):
    document = Document(render.template_for(KIND_STAGE))
    body = document.element.body
    body.find(f"{{{docx_template._W_NS}}}sectPr").addprevious(parse_xml(xml))
    path = tmp_path / name
    document.save(path)
    return path


def test_nested_table_takes_the_whole_document_path(tmp_path):
    cell = "<w:tc><w:p><w:r><w:t>{{ unit }}</w:t></w:r></w:p></w:tc>"
    inner = f"<w:tbl><w:tblGrid><w:gridCol w:w='2000'/></w:tblGrid><w:tr>{cell}</w:tr></w:tbl>"
    xml = (f"<w:tbl {nsdecls('w')}><w:tblGrid><w:gridCol w:w='4000'/></w:tblGrid>"
           f"<w:tr><w:tc>{inner}<w:p/></w:tc></w:tr></w:tbl>")
    path = _template_with(tmp_path, "嵌套表格.docx", xml)
    assert not render._load_template(path).streamable()


def test_table_grid_docxtpl_must_fix_is_rendered_whole(monkeypatch, tmp_path):
    """Two cells in a one-column grid: docxtpl's fix_tables widens the grid, so the streamed
    attempt gives way to the whole-document path and the output is docxtpl's."""
    cell = "<w:tc><w:p><w:r><w:t>{{ unit }}</w:t></w:r></w:p></w:tc>"
    xml = (f"<w:tbl {nsdecls('w')}><w:tblGrid><w:gridCol w:w='4000'/></w:tblGrid>"
           f"<w:tr>{cell}{cell}</w:tr></w:tbl>")
    path = _template_with(tmp_path, "表格列数不符.docx", xml)
    assert render._load_template(path).streamable()
    report = make_report(sample_problems())
    streamed, whole = _both_paths(monkeypatch, report=report, kind=KIND_STAGE, template=path)
    assert _body(streamed) == _body(whole)
    assert _body(whole).count(b"<w:gridCol") == 2  # fixed by docxtpl


_TOKENS = ("<w:p>", '<w:p w:x="1">', '<w:p w:x="\t">', "</w:p>", "<w:pPr>", "</w:pPr>", "<w:r>",
           "<w:t>", "</w:t>", "x", "\n", "\t", "\a", "\f", "<w:p", ">", " ", "</w:p", "<w:p/>",
           "<w:p\t>", "<w:pa>")


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=30))
@example(["<w:p", " ", "</w:p>", "\t", "</w:p>"])  # the opener swallows a "</w:p>"
@example(["<w:p>", "\n", "<w:p>", "x", "</w:p>", "\t", "<w:p>", "</w:p>"])
def test_listing_paragraphs_are_those_the_paragraph_pattern_finds(tokens):
    # Malformed markup included (an opener holding "</w:p>", openers never closed): the spans
    # must be exactly those the whole-text pattern gives, or the rewritten notice differs.
    xml = "".join(tokens)
    want = [(m.start(), m.end()) for m in docx_template._PARAGRAPH.finditer(xml)
            if docx_template._LISTING_CHARS.search(m.group(0))]
    assert docx_template._listing_paragraphs(xml) == want


def test_resolve_listing_is_docxtpls():
    from docxtpl import DocxTemplate

    run = '<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r>'
    paragraphs = [f"<w:p><w:pPr><w:jc/></w:pPr>{run.format(text)}</w:p>"
                  for text in ("甲", "乙\n丙", "丁", "a\tb", "\f戊", "己\a庚", "辛") * 50]
    xml = "<w:body>\n" + "\n".join(paragraphs) + "\n<w:sectPr/>\n</w:body>"
    template = docx_template.NoticeTemplate.__new__(docx_template.NoticeTemplate)
    assert template.resolve_listing(xml) == DocxTemplate.resolve_listing(template, xml)
