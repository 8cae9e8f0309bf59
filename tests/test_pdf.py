"""PDF conversion, and the GB/T 9704 grid measured in a real office suite.

Two LibreOffice conversions in all (module-scoped fixtures): a long 阶段性进展 notice whose
pages are measured with ``pdftotext -bbox-layout``, and the sample 集中整改进展 notice.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import stat
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from render_helpers import make_problem, make_report, sample_problems

from toolkit.errors import OutputError, PdfConversionError
from toolkit.model import KIND_CENTRAL, KIND_STAGE
from toolkit.pdf import convert_to_pdf, soffice_available
from toolkit.render import render_notice

PT_PER_MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * PT_PER_MM, 297 * PT_PER_MM
LEFT = 28 * PT_PER_MM  # 79.4 pt
RIGHT = PAGE_W - 26 * PT_PER_MM  # 521.6 pt
TOP = 37 * PT_PER_MM
BOTTOM = PAGE_H - 35 * PT_PER_MM  # 742.7 pt: lower edge of the type area

needs_office = pytest.mark.skipif(
    not (soffice_available() and shutil.which("pdftotext")),
    reason="LibreOffice (soffice) or pdftotext not installed",
)

# Characters without punctuation, so line breaking (避头尾, hanging punctuation) cannot move
# a character and every full line shows the grid.
HANZI = "整改落实工作持续推进机制建设不断完善责任压实到位成效明显巩固提升群众满意度"


def hanzi(n: int, start: int) -> str:
    return "".join(HANZI[(start + 7 * i) % len(HANZI)] for i in range(n))


def long_report():
    problems = [
        make_problem(
            i,
            category=f"测试类别{i % 3 + 1}",
            problem=f"第{i}个具体问题",
            progress="\n".join(hanzi(28 * 5 + 26 + 9, i + j) for j in range(3)),
        )
        for i in range(1, 11)
    ]
    return make_report(problems)


@dataclass
class Line:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def bbox_pages(pdf: Path) -> list[list[Line]]:
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True
    ).stdout.decode("utf-8")
    body = out[out.index("<body>"): out.index("</body>") + len("</body>")]
    root = ET.fromstring(body)
    pages = []
    for page in (e for e in root.iter() if e.tag.endswith("page")):
        lines = []
        for ln in (e for e in page.iter() if e.tag.endswith("line")):
            text = "".join(w.text or "" for w in ln if w.tag.endswith("word"))
            lines.append(Line(*(float(ln.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")), text))
        pages.append(lines)
    return pages


def pdf_text(pdf: Path) -> str:
    """The text without white space and without the page numbers between pages."""
    out = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True)
    return re.sub(r"—\d+—", "", "".join(out.stdout.decode("utf-8").split()))


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory):
    if not (soffice_available() and shutil.which("pdftotext")):
        pytest.skip("LibreOffice (soffice) or pdftotext not installed")
    folder = tmp_path_factory.mktemp("pdf")
    report = long_report()
    docx = folder / "长通报.docx"
    docx.write_bytes(render_notice(report, KIND_STAGE))
    pdf = folder / "长通报.pdf"
    convert_to_pdf(docx, pdf)
    return report, pdf, bbox_pages(pdf)


@pytest.fixture(scope="module")
def central_pdf(tmp_path_factory):
    if not (soffice_available() and shutil.which("pdftotext")):
        pytest.skip("LibreOffice (soffice) or pdftotext not installed")
    folder = tmp_path_factory.mktemp("pdf2")
    report = make_report(sample_problems())
    docx = folder / "集中.docx"
    docx.write_bytes(render_notice(report, KIND_CENTRAL))
    pdf = folder / "集中.pdf"
    convert_to_pdf(docx, pdf)
    return report, pdf


def body_lines(page: list[Line]) -> list[Line]:
    return [ln for ln in page if ln.y1 <= BOTTOM + 2]


def footer_lines(page: list[Line]) -> list[Line]:
    return [ln for ln in page if ln.y0 > BOTTOM]


# ---------------------------------------------------------------------------------------------
# Real conversions
# ---------------------------------------------------------------------------------------------


@needs_office
def test_pdf_has_statistics_sentence(long_pdf, central_pdf):
    for report, pdf in (long_pdf[:2], central_pdf):
        assert pdf.read_bytes().startswith(b"%PDF-")
        text = pdf_text(pdf)
        assert report.stats.summary in text


@needs_office
def test_central_pdf_sections_in_order(central_pdf):
    _, pdf = central_pdf
    text = pdf_text(pdf)
    headings = ["一、党组及主要负责人组织整改落实情况", "二、市委书记点人点事问题整改情况",
                "三、集中整改期内已完成的整改事项", "四、对长期整改任务采取的重要举措和取得的阶段性成效",
                "五、下一步整改工作安排"]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)
    assert text.endswith("中共攀枝花市文联党组2024年12月20日")


@needs_office
def test_grid_22_lines_a_page(long_pdf):
    """A full body page holds 22 lines (21 where keep-with-next moves a heading), 28.9 pt apart."""
    pages = long_pdf[2]
    assert len(pages) >= 5
    # not the title page, nor the last two (the closing paragraph moves to the signature page)
    inner = pages[1:-2]
    counts = [len(body_lines(p)) for p in inner]
    assert all(c in (21, 22) for c in counts), counts
    assert counts.count(22) >= len(inner) // 2, counts
    for page in inner:
        ys = [ln.y0 for ln in body_lines(page)]
        steps = [round(b - a, 1) for a, b in itertools.pairwise(ys)]
        assert all(abs(s - 28.9) < 0.3 for s in steps), steps
        # the first line sits at the top of the type area, the 22nd ends inside it
        assert TOP <= ys[0] <= TOP + 12


@needs_office
def test_grid_28_characters_a_line_from_28mm(long_pdf):
    pages = long_pdf[2]
    full = [ln for p in pages[1:-1] for ln in body_lines(p)
            if abs(ln.x0 - LEFT) < PT_PER_MM and ln.x1 > RIGHT - 16]
    assert len(full) >= 40
    sizes = Counter(len(ln.text) for ln in full)
    assert set(sizes) == {28}, sizes
    # left edge of every full line at 28 mm (within 0.5 mm), right edge inside the type area
    assert all(abs(ln.x0 / PT_PER_MM - 28) < 0.5 for ln in full)
    assert all(ln.x1 <= RIGHT + 1 for ln in full)
    # first lines of paragraphs: indented two characters, 26 characters
    first = [ln for p in pages[1:-1] for ln in body_lines(p)
             if abs(ln.x0 - LEFT - 32) < 1.5 and ln.x1 > RIGHT - 16 and ln.text[0] in HANZI]
    assert first and {len(ln.text) for ln in first} == {26}


@needs_office
def test_page_numbers_odd_right_even_left(long_pdf):
    pages = long_pdf[2]
    for number, page in enumerate(pages, 1):
        (foot,) = footer_lines(page)
        assert foot.text.replace(" ", "") == f"—{number}—"
        if number % 2:
            assert abs(foot.x1 - (RIGHT - 14)) < 2, foot  # one 4号 character in from the right
        else:
            assert abs(foot.x0 - (LEFT + 14)) < 2, foot
        # about 7 mm below the type area (the dash is mid-height in the line)
        middle = (foot.y0 + foot.y1) / 2
        assert 5 <= (middle - BOTTOM) / PT_PER_MM <= 9


# ---------------------------------------------------------------------------------------------
# Failure paths (no LibreOffice needed)
# ---------------------------------------------------------------------------------------------


def _fake_soffice(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "soffice"
    exe.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return exe


@pytest.fixture
def docx(tmp_path):
    path = tmp_path / "通报.docx"
    path.write_bytes(render_notice(make_report([make_problem(1)]), KIND_STAGE))
    return path


def test_missing_libreoffice_is_a_clear_error(tmp_path, docx, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert not soffice_available()
    with pytest.raises(PdfConversionError, match="未找到 LibreOffice"):
        convert_to_pdf(docx, tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


def test_missing_docx(tmp_path, monkeypatch):
    _fake_soffice(tmp_path / "bin", "exit 0")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(PdfConversionError, match="没有.docx"):
        convert_to_pdf(tmp_path / "没有.docx", tmp_path / "out.pdf")


def test_converter_that_writes_nothing(tmp_path, docx, monkeypatch):
    _fake_soffice(tmp_path / "bin", "echo boom >&2; exit 0")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(PdfConversionError, match="转换失败"):
        convert_to_pdf(docx, tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


def test_timeout_kills_the_converter(tmp_path, docx, monkeypatch):
    marker = tmp_path / "still-running"
    _fake_soffice(tmp_path / "bin", f"sleep 30; touch '{marker}'")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    started = time.monotonic()
    with pytest.raises(PdfConversionError, match="超时"):
        convert_to_pdf(docx, tmp_path / "out.pdf", timeout=1)
    assert time.monotonic() - started < 10


def _fake_good_soffice(tmp_path: Path) -> None:
    # Writes a tiny "PDF" named after the input into --outdir, as soffice does.
    _fake_soffice(
        tmp_path / "bin",
        'for a; do case "$prev" in --outdir) out="$a";; esac; prev="$a"; last="$a"; done\n'
        'name=$(basename "$last" .docx)\n'
        'printf "%%PDF-1.4 fake %s" "$HOME" > "$out/$name.pdf"',
    )


def test_pdf_replaces_target_atomically(tmp_path, docx, monkeypatch):
    _fake_good_soffice(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    target_dir = tmp_path / "输出"
    target_dir.mkdir()
    target = target_dir / "通报.pdf"
    earlier_pdf_of_ours(docx, target)
    convert_to_pdf(docx, target)
    assert target.read_bytes().startswith(b"%PDF-1.4 fake")
    assert sorted(p.name for p in target_dir.iterdir()) == ["通报.docx", "通报.pdf"]  # no temp file


def test_unwritable_target_is_output_error(tmp_path, docx, monkeypatch):
    if os.geteuid() == 0:
        # root ignores permissions: make the target's parent a file instead
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("x")
        target = blocker / "sub" / "通报.pdf"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = ro / "通报.pdf"
    _fake_good_soffice(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(OutputError):
        convert_to_pdf(docx, target)


def earlier_pdf_of_ours(docx, target):
    """A PDF an earlier build made beside its notice: only such a PDF may be replaced."""
    import io
    import zipfile

    from docx import Document

    from toolkit.names import NOTICE, mark_package

    data = docx.read_bytes()
    if not zipfile.is_zipfile(io.BytesIO(data)):  # a stand-in notice: make a real one
        buffer = io.BytesIO()
        Document().save(buffer)
        data = buffer.getvalue()
    target.with_suffix(".docx").write_bytes(mark_package(data, NOTICE))
    target.write_bytes(b"%PDF-1.4 old\n/Producer (LibreOffice 7.4)\n%%EOF\n")
