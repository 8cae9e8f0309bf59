"""Notice fidelity measured in LibreOffice's PDF (``pdftotext -bbox-layout``, ``pdffonts``).

Three conversions (module-scoped): the 004 seed as published (no 版头), the 004 seed with
版头, 签发人, seal and 版记, and the 000 seed with 版头 and 版记.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from render_helpers import seed_ledger
from test_pdf import BOTTOM, LEFT, PT_PER_MM, RIGHT, TOP, Line, bbox_pages, body_lines

from toolkit.model import KIND_CENTRAL, KIND_STAGE
from toolkit.pdf import convert_to_pdf, font_substitutes, soffice_available
from toolkit.pipeline import analyse
from toolkit.render import render_notice

CHAR = 15.7  # a condensed 3号 character on the grid, in points
HEADING_STYLES = ("GwHeading1", "GwCategory", "GwHeading2", "GwHeading3")


def _have_tools() -> bool:
    return bool(soffice_available() and shutil.which("pdftotext") and shutil.which("pdffonts"))


pytestmark = pytest.mark.skipif(not _have_tools(), reason="LibreOffice or poppler not installed")


class Converted:
    def __init__(self, folder: Path, name: str, seed: str, kind: str, letterhead: bool, **extra):
        ledger = seed_ledger(folder / f"{name}.xlsx", seed, letterhead, **extra)
        data = render_notice(analyse(ledger), kind)
        self.docx = folder / f"{name}.docx"
        self.docx.write_bytes(data)
        self.pdf = folder / f"{name}.pdf"
        convert_to_pdf(self.docx, self.pdf)
        self.pages = bbox_pages(self.pdf)
        self.paragraphs = [(p.style.style_id, p.text) for p in Document(io.BytesIO(data)).paragraphs]

    def lines_of(self, text: str, start: tuple[int, int] = (0, 0)) -> list[tuple[int, int, Line]]:
        """The PDF lines (page, index, line) that make up the paragraph ``text``, searched from
        ``start`` on; white space and line breaks ignored."""
        want = "".join(text.split())
        flat = [(p, i, ln) for p, page in enumerate(self.pages)
                for i, ln in enumerate(body_lines(page)) if (p, i) >= start]
        for k in range(len(flat)):
            got, j = "", k
            while j < len(flat) and len(got) < len(want):
                got += "".join(flat[j][2].text.split())
                j += 1
            if got == want:
                return flat[k:j]
        raise AssertionError(f"paragraph not found in the PDF: {text[:40]}")

    def fonts(self) -> str:
        return subprocess.run(["pdffonts", str(self.pdf)], capture_output=True,
                              check=True).stdout.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def plain_004(tmp_path_factory):
    return Converted(tmp_path_factory.mktemp("f1"), "004", "004", KIND_CENTRAL, False)


@pytest.fixture(scope="module")
def sealed_004(tmp_path_factory):
    return Converted(tmp_path_factory.mktemp("f2"), "004lh", "004", KIND_CENTRAL, True,
                     签发人="张三", 印章="是")


@pytest.fixture(scope="module")
def headed_000(tmp_path_factory):
    return Converted(tmp_path_factory.mktemp("f3"), "000lh", "000", KIND_STAGE, True)


def _signature(doc: Converted) -> tuple[Line, Line]:
    last = body_lines(doc.pages[-1])
    issuer = next(t for s, t in doc.paragraphs if s == "GwSignature").strip("\u3000\u2002 ")
    i = next(i for i, ln in enumerate(last) if ln.text.replace(" ", "") == issuer)
    return last[i], last[i + 1]


@pytest.mark.parametrize("name", ["plain_004", "headed_000"])
def test_signature_and_date_without_seal(request, name):
    doc = request.getfixturevalue(name)
    sig, date = _signature(doc)
    # signature right-indented two characters on the 28-character grid
    assert abs(sig.x1 - (LEFT + 26 * CHAR)) < 3, sig
    assert RIGHT - sig.x1 > 1.7 * CHAR
    # the date on the next line, its first character two characters right of the signature's
    assert abs(date.x0 - (sig.x0 + 2 * CHAR)) < 2, (sig, date)
    assert abs(date.y0 - sig.y0 - 28.9) < 0.5
    assert date.text.replace(" ", "") in ("2024年12月20日", "2024年7月5日")
    assert date.x1 <= RIGHT - 1.5 * CHAR  # never closer than two characters to the edge


@pytest.fixture(scope="module")
def short_issuer_004(tmp_path_factory):
    # A signature shorter than the date: the date is right-indented two characters and the
    # signature moves left so that the date still starts two characters right of it.
    return Converted(tmp_path_factory.mktemp("f4"), "004short", "004", KIND_CENTRAL, False, 发文机关="某党组")


def test_a_date_longer_than_the_signature_moves_the_signature(short_issuer_004):
    sig, date = _signature(short_issuer_004)
    assert abs(date.x1 - (RIGHT - 2 * CHAR)) < CHAR / 2, (sig, date)
    assert abs(date.x0 - (sig.x0 + 2 * CHAR)) < CHAR / 3, (sig, date)


def test_seal_date_right_indented_four_with_signature_centred(sealed_004):
    sig, date = _signature(sealed_004)
    assert abs(date.x1 - (RIGHT - 4 * 16)) < 3, date
    centre_sig, centre_date = (sig.x0 + sig.x1) / 2, (date.x0 + date.x1) / 2
    assert abs(centre_sig - centre_date) < CHAR / 2, (sig, date)


@pytest.mark.parametrize("name", ["plain_004", "headed_000"])
def test_headings_never_end_a_page_nor_hold_one_character(request, name):
    doc = request.getfixturevalue(name)
    last_on_page = {p: len(body_lines(page)) - 1 for p, page in enumerate(doc.pages)}
    start = (0, 0)
    checked = 0
    for style, text in doc.paragraphs:
        if style not in HEADING_STYLES:
            continue
        lines = doc.lines_of(text, start)
        page, index, _ = lines[-1]
        start = (page, index + 1)
        assert index != last_on_page[page] or page == len(doc.pages) - 1, text
        for _, _, ln in lines:
            assert len(ln.text.replace(" ", "")) > 1, (text, ln)
        checked += 1
    assert checked >= 5


def test_contact_line_is_not_stretched(plain_004):
    contact = next(t for s, t in plain_004.paragraphs if s == "GwContact")
    lines = plain_004.lines_of(contact)
    assert len(lines) >= 3
    for _, _, ln in lines:
        # a stretched line falls apart into one "word" a character
        words = ln.text.split()
        assert len(words) <= 6, ln.text
    # lines start at the left edge (the first indented two characters)
    assert abs(lines[0][2].x0 - (LEFT + 32)) < 2
    assert all(abs(ln.x0 - LEFT) < 1 for _, _, ln in lines[1:])


def test_letterhead_geometry(headed_000):
    first = body_lines(headed_000.pages[0])
    mark, number = first[0], first[1]
    assert mark.text.replace(" ", "") == "中共梅州市梅江区文联党组文件"
    centre = (LEFT + RIGHT) / 2
    assert abs((mark.x0 + mark.x1) / 2 - centre) < 3
    # 35 mm from the type area's top to the mark (its glyphs' top within a few millimetres)
    assert 30 <= (mark.y0 - TOP) / PT_PER_MM <= 40, mark
    assert number.text.replace(" ", "") == "攀文联党〔2024〕12号"
    assert abs((number.x0 + number.x1) / 2 - centre) < 3
    assert number.y0 - mark.y1 > 2 * 28.9 - 12  # two lines below the mark
    title = first[2]
    assert title.text.replace(" ", "").startswith("中共梅州市梅江区文联党组")
    assert title.y0 - number.y1 > 2 * 28.9  # the red line and two blank lines between
    assert _red_rows(headed_000.pdf, number.y1, title.y0)


def _red_rows(pdf: Path, y_from: float, y_to: float) -> bool:
    """A red horizontal line across the type area between ``y_from`` and ``y_to`` (points)."""
    dpi = 36
    raw = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", str(pdf)],
                         capture_output=True, check=True).stdout
    fields, pos = [], 0
    while len(fields) < 4:  # P6 header: magic, width, height, maxval
        while raw[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not raw[end:end + 1].isspace():
            end += 1
        fields.append(raw[pos:end])
        pos = end
    width, height = int(fields[1]), int(fields[2])
    pixels = raw[pos + 1:]
    scale = dpi / 72
    for y in range(int(y_from * scale), min(height, int(y_to * scale) + 1)):
        row = pixels[y * width * 3:(y + 1) * width * 3]
        red = sum(1 for x in range(width)
                  if row[3 * x] > 180 and row[3 * x + 1] < 100 and row[3 * x + 2] < 100)
        if red > 0.6 * (RIGHT - LEFT) * scale:
            return True
    return False


def test_upward_letterhead_has_signer_on_the_number_line(sealed_004):
    first = body_lines(sealed_004.pages[0])
    number = next(ln for ln in first if "12号" in ln.text)
    signer = next(ln for ln in first if "签发人" in ln.text)
    assert abs(signer.y0 - number.y0) < 1  # on one line
    assert signer.text.replace(" ", "").endswith("签发人：张三")
    assert abs(number.x0 - (LEFT + 16)) < 3  # one character in from the left
    assert abs(signer.x1 - (RIGHT - 16)) < 3  # the name one character in from the right
    assert (number.y0 - TOP) / PT_PER_MM > 80  # 上行文: 80 mm above the mark


@pytest.mark.parametrize("name", ["sealed_004", "headed_000"])
def test_record_at_the_foot_of_the_last_page_below_the_date(request, name):
    doc = request.getfixturevalue(name)
    last = body_lines(doc.pages[-1])
    texts = [ln.text.replace(" ", "") for ln in last]
    cc = next(ln for ln, t in zip(last, texts) if t.startswith("抄送："))
    printed = next(ln for ln, t in zip(last, texts) if t.endswith("印发"))
    printer = next(ln for ln, t in zip(last, texts) if t == "中共攀枝花市文联党组办公室")
    _, date = _signature(doc)
    assert date.y1 < cc.y0 < printed.y0 and abs(printed.y0 - printer.y0) < 1
    assert printed.y0 - cc.y0 < 2 * 28.9  # the next line
    assert abs(cc.x0 - (LEFT + 14)) < 3  # one 4号 character in
    assert abs(printer.x0 - (LEFT + 14)) < 3 and abs(printed.x1 - (RIGHT - 14)) < 3
    assert BOTTOM - 6 <= printed.y1 <= BOTTOM + 2  # at the foot of the last page


def test_pdf_fonts_kai_and_bold_serif(headed_000):
    fonts = headed_000.fonts()
    subs = {s.font: s.substitute for s in font_substitutes()}
    if subs.get("楷体_GB2312", "").startswith("AR PL UKai"):
        assert "UKai" in fonts  # the 楷体 headings and lead-ins use the Kai face
    if subs.get("方正小标宋简体", "").startswith("Noto Serif CJK"):
        assert "NotoSerifCJK" in fonts and "Bold" in fonts
