"""The 版记 on an even last page in the PDF (GB/T 9704 §7.4), unnumbered when it has a page of
its own (§7.5): toolkit/even_page.py, measured in LibreOffice's PDF.

Six conversions with LibreOffice in all: a 阶段性进展 notice of six problems (three pages,
the date on page 3: converted twice), one of five (two pages: converted once), the six from a
template without the switch (converted once), and one whose date the 版记 had pushed onto
page 3 (converted twice).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from docx import Document
from ledger_factory import META, row, write_ledger
from render_helpers import FULL_META, make_problem, make_report
from test_fidelity_pdf import _have_tools
from test_pdf import BOTTOM, Line, bbox_pages, body_lines, footer_lines

import toolkit.pdf
from toolkit import even_page
from toolkit.archive import sha256_of, written_state
from toolkit.build import BUILT, UNCHANGED, build_notice
from toolkit.context import build_context
from toolkit.errors import OutputLockedError
from toolkit.model import KIND_STAGE
from toolkit.names import NOTICE, history_root, mark_package
from toolkit.render import render_notice, template_for

needs_office = pytest.mark.skipif(not _have_tools(), reason="LibreOffice or poppler not installed")

RECORD = {"抄送": "市委巡察办，市委第一巡察组", "印发机关": "中共某某市文联党组办公室",
          "印发日期": "2024-12-20"}
# No free-text sections: the signature, date and 版记 of five problems end page 2, of six
# page 3.
SHORT_META = {k: v for k, v in META.items()
              if k not in ("整改组织情况", "长期整改举措", "下一步工作安排", "联系电话", "通讯地址", "电子邮箱")}
SHORT_META["通报类型"] = KIND_STAGE
PRINTED = "2024年12月20日印发"
DATE = "2024年12月20日"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _ledger(folder: Path, problems: int) -> Path:
    rows = [row(i, "政治建设不到位", f"问题{i}", "已完成") for i in range(1, problems + 1)]
    return write_ledger(folder / f"台账{problems}.xlsx", rows, meta=dict(SHORT_META, **RECORD))


@pytest.fixture
def conversions(monkeypatch) -> list[int]:
    """The page counts of the PDFs LibreOffice made, one per conversion."""
    calls: list[int] = []
    convert = toolkit.pdf.convert_to_pdf

    def counted(docx, pdf, *args, **kwargs):
        convert(docx, pdf, *args, **kwargs)
        calls.append(even_page.pdf_page_count(Path(pdf).read_bytes()) or 0)

    monkeypatch.setattr(toolkit.pdf, "convert_to_pdf", counted)
    return calls


def _page_of(pages: list[list[Line]], text: str) -> tuple[int, Line]:
    hits = [(p, ln) for p, page in enumerate(pages) for ln in body_lines(page)
            if ln.text.replace(" ", "") == text]
    assert len(hits) == 1, (text, hits)
    return hits[0]


def _page_number(page: list[Line]) -> str | None:
    numbers = [ln.text.replace(" ", "") for ln in footer_lines(page)]
    assert len(numbers) <= 1, numbers
    return numbers[0] if numbers else None


def _section_breaks(docx: Path) -> int:
    """Paragraphs ending a section (a w:sectPr inside a paragraph's properties)."""
    with zipfile.ZipFile(docx) as package:
        return package.read("word/document.xml").count(b"<w:pPr><w:pStyle w:val=\"GwRecordSpace\"/><w:sectPr")


def _without_switch(folder: Path) -> Path:
    """The bundled 阶段性进展 template as it was before the switch: no section break before
    the 版记, footers with unconditional page numbers."""
    source = template_for(KIND_STAGE)
    target = folder / "旧模板.docx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info).decode("utf-8") if info.filename.endswith(".xml") else old.read(info)
            if info.filename == "word/document.xml":
                start = data.index("{%p if record_next_page %}")
                start = max(data.rfind("<w:p>", 0, start), data.rfind("<w:p ", 0, start))
                end = data.index("{%p endif %}", start)
                end = data.index("</w:p>", end) + len("</w:p>")
                data = data[:start] + data[end:]
            if info.filename.startswith("word/footer"):
                data = data.replace("{% if not record_next_page %}", "").replace("{% endif %}", "")
            if isinstance(data, str):
                data = data.encode("utf-8")
            new.writestr(info, data)
    assert not even_page.template_has_switch(target)
    return target


# ---------------------------------------------------------------- without LibreOffice


def test_pdf_page_count():
    pdf = (b"%PDF-1.6\n1 0 obj\n<</Type/Page/Parent 3 0 R>>\nendobj\n2 0 obj\n<</Type /Page\n"
           b"/Parent 3 0 R>>\nendobj\n3 0 obj\n<</Type/Pages/Kids[1 0 R 2 0 R]/Count 2>>\nendobj\n"
           b"4 0 obj\n<</Count 0/Title(x)>>\nendobj\n")
    assert even_page.pdf_page_count(pdf) == 2
    assert even_page.pdf_page_count(b"%PDF-1.7 compressed object streams only") is None


def test_bundled_templates_have_the_switch(tmp_path):
    for kind in ("阶段性进展", "集中整改进展"):
        assert even_page.template_has_switch(template_for(kind))
    broken = tmp_path / "坏.docx"
    broken.write_bytes(b"not a zip")
    assert not even_page.template_has_switch(broken)
    assert not even_page.template_has_switch(tmp_path / "没有.docx")


def test_the_switch_moves_the_record_into_a_section_of_its_own(tmp_path):
    report = make_report([make_problem(1)], dict(FULL_META, cc="市委巡察办", printer="办公室"))
    for moved in (False, True):
        docx = tmp_path / f"{moved}.docx"
        docx.write_bytes(render_notice(report, record_next_page=moved))
        assert _section_breaks(docx) == int(moved)
        sections = Document(str(docx)).sections
        assert len(sections) == 1 + moved
        # the body's section keeps its page numbers; a 版记 section of its own has none
        for number, section in enumerate(sections):
            for footer in (section.footer, section.even_page_footer):
                assert not footer.is_linked_to_previous
                (p,) = footer.paragraphs
                fields = "".join(t.text for t in p._p.iter(W + "instrText"))
                numbered = number == 0
                assert (fields.strip() == "PAGE") is numbered
                assert (p.text.startswith("— ") and p.text.endswith(" —")) is numbered
                assert p.text == "" or numbered
    # no 版记: the switch does nothing
    plain = make_report([make_problem(1)], FULL_META)
    assert b"GwRecordBreak" not in _body(render_notice(plain, record_next_page=True))


def _body(data: bytes) -> bytes:
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return package.read("word/document.xml")


def test_second_pdf_still_odd_keeps_the_first_version(tmp_path, monkeypatch):
    """When the date moves back a page once the 版记 leaves it, the 版记 would be alone on an
    odd page: the first version stays, with a note, and nothing is written."""
    report = make_report([make_problem(1)], dict(FULL_META, cc="市委巡察办"))
    data = mark_package(render_notice(report), NOTICE)
    docx, pdf = tmp_path / "通报.docx", tmp_path / "通报.pdf"
    docx.write_bytes(data)
    pdf.write_bytes(b"%PDF-1.6 <</Type/Page>> <</Type/Page>> <</Type/Page>>")
    before = pdf.read_bytes()
    monkeypatch.setattr(even_page, "_converted",
                        lambda _docx, _data: b"%PDF-1.6 " + b"<</Type/Page>>" * 3)
    placed = even_page.record_on_even_page(report, None, None, docx, pdf, data)
    assert placed.data == data and not placed.moved
    assert placed.note and "第 3 页" in placed.note
    assert docx.read_bytes() == data and pdf.read_bytes() == before


def test_pdf_that_cannot_be_replaced_puts_the_first_docx_back(tmp_path, monkeypatch):
    """The new PDF cannot replace the old one (open in a viewer): the .docx goes back to the
    first version, so the two beside each other still agree."""
    report = make_report([make_problem(1)], dict(FULL_META, cc="市委巡察办"))
    data = mark_package(render_notice(report), NOTICE)
    docx, pdf = tmp_path / "通报.docx", tmp_path / "通报.pdf"
    docx.write_bytes(data)
    pdf.write_bytes(b"%PDF-1.6 <</Type/Page>>")
    monkeypatch.setattr(even_page, "_converted",
                        lambda _docx, _data: b"%PDF-1.6 " + b"<</Type/Page>>" * 2)
    write = even_page.write_atomic

    def locked(target, payload, *args, **kwargs):
        if Path(target).suffix == ".pdf":
            raise OutputLockedError(target, "文件被占用")
        return write(target, payload, *args, **kwargs)

    monkeypatch.setattr(even_page, "write_atomic", locked)
    with pytest.raises(OutputLockedError):
        even_page.record_on_even_page(report, None, None, docx, pdf, data)
    assert docx.read_bytes() == data
    assert pdf.read_bytes() == b"%PDF-1.6 <</Type/Page>>"


@pytest.mark.parametrize(("cc", "printer", "lines"), [
    ("市委巡察办", "办公室", 3),  # blank line, 抄送, 印发
    ("", "办公室", 2),
    ("市委巡察办", "", 2),
    ("甲" * 25, "办公室", 3),  # 抄送：+ 25 + 。 = 29 characters: one line
    ("甲" * 26, "办公室", 4),  # 30: the 抄送 wraps
    ("甲" * 51, "办公室", 4),  # 29 + 26
    ("甲" * 52, "办公室", 5),
    ("ab" * 25, "办公室", 3),  # Latin letters count half
])
def test_record_space_is_the_records_height_in_lines(cc, printer, lines):
    report = make_report([make_problem(1)], dict(FULL_META, cc=cc, printer=printer))
    context = build_context(report, KIND_STAGE)
    assert context["record_space"] == "\n" * (lines - 1)


def test_no_record_no_second_render(tmp_path, monkeypatch):
    report = make_report([make_problem(1)], FULL_META)
    monkeypatch.setattr(even_page, "_converted", lambda *_: pytest.fail("converted again"))
    pdf = tmp_path / "通报.pdf"
    pdf.write_bytes(b"%PDF-1.6 <</Type/Page>>")
    placed = even_page.record_on_even_page(report, None, None, tmp_path / "通报.docx", pdf, b"x")
    assert placed == even_page.EvenPage(b"x")


# ---------------------------------------------------------------- LibreOffice


@needs_office
def test_date_on_an_odd_page_record_on_the_next_even_page(tmp_path, conversions):
    target = tmp_path / "out" / "通报.docx"
    result = build_notice(_ledger(tmp_path, 6), target, pdf=True)
    assert result.outcome == BUILT and result.pdf is not None
    assert conversions == [3, 4]  # the first PDF ended on page 3
    assert any("版记已另起第 4 页" in note for note in result.notes), result.notes
    pages = bbox_pages(result.pdf)
    assert len(pages) == 4
    date_page, _ = _page_of(pages, DATE)
    assert date_page == 2
    assert [_page_number(p) for p in pages[:3]] == ["—1—", "—2—", "—3—"]
    # the 版记 alone at the foot of page 4, its last line on the lower edge of the type area
    for text in ("抄送：市委巡察办，市委第一巡察组。", "中共某某市文联党组办公室", PRINTED):
        assert _page_of(pages, text)[0] == 3
    _, printed = _page_of(pages, PRINTED)
    assert BOTTOM - 6 <= printed.y1 <= BOTTOM + 1, (printed, BOTTOM)
    assert len(pages[3]) == 3
    assert _page_number(pages[3]) is None  # §7.5: the 版记 page has no number
    # the .docx beside the PDF is the one it was made from, and the one the history knows
    assert _section_breaks(target) == 1
    state = written_state(history_root(target.parent), target, target)
    assert state and state["sha256"] == sha256_of(target)
    again = build_notice(_ledger(tmp_path, 6), target, pdf=True)
    assert again.outcome == UNCHANGED and not again.notes


@needs_office
def test_date_on_an_even_page_keeps_the_record_there(tmp_path, conversions):
    target = tmp_path / "out" / "通报.docx"
    result = build_notice(_ledger(tmp_path, 5), target, pdf=True, records=False)
    assert result.outcome == BUILT and result.pdf is not None
    assert conversions == [2]
    pages = bbox_pages(result.pdf)
    assert len(pages) == 2
    assert _page_of(pages, DATE)[0] == _page_of(pages, PRINTED)[0] == 1
    assert _page_number(pages[1]) == "—2—" and _page_number(pages[0]) == "—1—"
    assert _section_breaks(target) == 0


@needs_office
def test_a_template_without_the_switch_is_converted_once(tmp_path, conversions):
    template = _without_switch(tmp_path)
    target = tmp_path / "out" / "通报.docx"
    result = build_notice(_ledger(tmp_path, 6), target, template=template, pdf=True,
                          records=False)
    assert result.outcome == BUILT and result.pdf is not None
    assert conversions == [3]
    pages = bbox_pages(result.pdf)
    assert _page_of(pages, DATE)[0] == _page_of(pages, PRINTED)[0] == 2
    assert _page_number(pages[2]) == "—3—"


@needs_office
def test_date_pushed_by_the_record_stays_on_its_page(tmp_path, conversions):
    """Five problems and a sixth of one progress line: page 2 holds the signature and date but
    not the 版记 as well, so all three went to page 3. The paragraph that ends the section
    keeps the 版记's room free below the date, so the date stays on page 3 (rather than going
    back to page 2 and leaving the 版记 alone on an odd page 3)."""
    rows = [row(i, "政治建设不到位", f"问题{i}", "已完成") for i in range(1, 6)]
    rows.append(row(6, "政治建设不到位", "问题6", "已完成", progress="做了。"))
    ledger = write_ledger(tmp_path / "台账.xlsx", rows, meta=dict(SHORT_META, **RECORD))
    target = tmp_path / "out" / "通报.docx"
    result = build_notice(ledger, target, pdf=True, records=False)
    assert result.outcome == BUILT and result.pdf is not None
    assert conversions == [3, 4]
    pages = bbox_pages(result.pdf)
    assert _page_of(pages, DATE)[0] == 2 and _page_of(pages, PRINTED)[0] == 3
    assert [_page_number(p) for p in pages] == ["—1—", "—2—", "—3—", None]
    assert _section_breaks(target) == 1
