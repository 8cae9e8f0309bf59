"""The 版记 (GB/T 9704 §7.4) at the foot of the last page, measured in LibreOffice's PDF.

The 版记 is a floating table anchored after the date (templates/make_templates.py,
record_table): its last line sits on the lower edge of the type area of the page of the
signature and date, whether the notice is one page long or ends near the foot of a page, and
it never overlaps the date: when the page has no room, signature, date and 版记 move on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from render_helpers import FULL_META, make_problem, make_report
from test_fidelity_pdf import _have_tools
from test_pdf import BOTTOM, LEFT, RIGHT, Line, bbox_pages, body_lines

from toolkit.model import KIND_STAGE
from toolkit.pdf import convert_to_pdf
from toolkit.render import render_notice

pytestmark = pytest.mark.skipif(not _have_tools(), reason="LibreOffice or poppler not installed")

LINE = 28.9  # the body's line pitch in points
ISSUER = FULL_META["issuer"]
RECORD = dict(cc="市委巡察办，市委第一巡察组", printer="市文联办公室", print_date="2024-12-20")


def _convert(folder: Path, name: str, progress_lines: int, record: bool) -> list[list[Line]]:
    """A one-problem notice whose body ends with ``progress_lines`` one-line paragraphs (none:
    no 整改过程)."""
    meta = dict(FULL_META, organisation=(), long_term_measures=(), next_steps=(),
                phone=None, address=None, email=None, **(RECORD if record else {}))
    progress = "\n".join(f"第{i + 1}项整改措施已落实。" for i in range(progress_lines))
    report = make_report([make_problem(1, progress=progress)], meta)
    docx = folder / f"{name}.docx"
    docx.write_bytes(render_notice(report, KIND_STAGE))
    pdf = docx.with_suffix(".pdf")
    convert_to_pdf(docx, pdf)
    return bbox_pages(pdf)


def _find(pages: list[list[Line]], text: str) -> tuple[int, Line]:
    hits = [(p, ln) for p, page in enumerate(pages) for ln in body_lines(page)
            if ln.text.replace(" ", "") == text]
    assert hits, text
    return hits[-1]


def _date(pages: list[list[Line]]) -> tuple[int, Line]:
    return _find(pages, "2024年12月20日")


def _assert_record_at_the_foot(pages: list[list[Line]]) -> None:
    last = len(pages) - 1
    page_cc, cc = _find(pages, "抄送：市委巡察办，市委第一巡察组。")
    page_printer, printer = _find(pages, "市文联办公室")
    page_printed, printed = _find(pages, "2024年12月20日印发")
    assert page_cc == page_printer == page_printed == last
    # the last line of the 版记 on the lower edge of the type area (its thick line just below)
    assert BOTTOM - 6 <= printed.y1 <= BOTTOM + 1, (printed, BOTTOM)
    assert abs(printer.y0 - printed.y0) < 1 and printer.y0 - cc.y0 < 1.5 * LINE
    assert abs(cc.x0 - (LEFT + 14)) < 3 and abs(printer.x0 - (LEFT + 14)) < 3  # one 4号 char in
    assert abs(printed.x1 - (RIGHT - 14)) < 3
    # signature and date on the same page, above the 版记, never overlapping it
    page_sig, sig = _find(pages, ISSUER)
    page_date, date = _date(pages)
    assert page_sig == page_date == last
    assert sig.y1 < date.y0 and date.y1 + LINE / 2 < cc.y0


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("record")


def test_record_at_the_foot_of_a_one_page_notice(folder):
    pages = _convert(folder, "short", 0, record=True)
    assert len(pages) == 1
    _assert_record_at_the_foot(pages)
    # Until the 版记 floated, it followed the date two lines below it, here 4 lines above the foot.
    _, date = _date(pages)
    _, printed = _find(pages, "2024年12月20日印发")
    assert printed.y0 - date.y1 > 4 * LINE


@pytest.fixture(scope="module")
def base(folder) -> list[list[Line]]:
    """The notice with one progress line and no 版记."""
    return _convert(folder, "base", 1, record=False)


@pytest.mark.parametrize("below", [0, 3, 4])
def test_record_at_the_foot_when_the_date_ends_near_the_bottom(folder, base, below):
    """The body grows until, without a 版记, the date would end ``below`` lines above the last
    line of its page (the line grid is exact: 22 lines of 28.9 pt)."""
    _, date = _date(base)
    extra = int((BOTTOM - date.y1) // LINE) - below
    assert extra >= 0
    pages = _convert(folder, f"record{below}", 1 + extra, record=True)
    _assert_record_at_the_foot(pages)
    if below >= 4:  # room for a blank line and the 版记's two lines: the same page
        assert len(pages) == len(base)
    else:  # no room: signature and date move to the next page with the 版记
        assert len(pages) == len(base) + 1
