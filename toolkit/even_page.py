"""The 版记 on an even last page in the PDF (GB/T 9704 §7.4, §7.5).

The bundled templates put the 版记 at the foot of the page of the signature and date. The
standard wants it on the last page and that page even (封四), the 版记 page unnumbered when it
follows a blank page. Which page the date lands on is decided by the office suite that lays
the document out, so the choice is made on LibreOffice's PDF, never on the .docx alone: when
the PDF ends on an odd page, the notice is rendered again with ``record_next_page`` (the
template then ends the body's section after the date and puts the 版记 alone at the foot of
the next page, under footers without page numbers) and converted again. The .docx beside
the PDF is always the one the PDF was made from.

The paragraph that ends the section is as high as the 版记 was (``record_space``), so the
signature and date stay on their page even when it was the 版记 that pushed them there. A
template without the switch (a clerk's own, made before it existed) is left as it is: no second
render. One extra render and conversion at most; when the second PDF does not end on an even
page either (the 版记's height misjudged), the first version stays, with a note.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_atomic
from .errors import PdfConversionError, ToolkitError, os_reason
from .files import open_regular
from .model import Report
from .names import NOTICE, mark_package

SWITCH = "record_next_page"  # the template context key (templates/make_templates.py)

# A page object of the PDF (LibreOffice writes them uncompressed); not /Pages, the tree nodes.
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


@dataclass(frozen=True)
class EvenPage:
    """What ``record_on_even_page`` did: the notice's bytes now on disk, and a note."""

    data: bytes
    moved: bool = False  # rendered again: the 版记 went to the next (even) page
    note: str | None = None


def pdf_page_count(data: bytes) -> int | None:
    """The number of pages of a PDF written by LibreOffice; None when they cannot be counted
    (page objects inside compressed object streams)."""
    return len(_PAGE_OBJECT.findall(data)) or None


def template_has_switch(template: Path) -> bool:
    """The template's body mentions ``record_next_page`` (the bundled ones do)."""
    try:
        with open_regular(template) as handle, zipfile.ZipFile(handle) as package:
            return SWITCH.encode() in package.read("word/document.xml")
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError):
        return False


def record_on_even_page(report: Report, kind: str | None, template: Path | None,
                        docx: Path, pdf: Path, data: bytes) -> EvenPage:
    """After ``docx`` (holding ``data``) was converted to ``pdf``: when the notice has a 版记,
    its template the switch, and the PDF an odd number of pages, render it again with the
    版记 on the next page, convert that, and replace both files (the .docx first) when the new
    PDF has an even number of pages. Raises the ``ToolkitError`` of a failed render,
    conversion or write; the files on disk are then the first version (the .docx is put
    back when the new PDF cannot replace the old one)."""
    from .context import has_record
    from .render import render_notice, resolve_kind, template_for

    if not has_record(report.ledger.meta):
        return EvenPage(data)
    path = Path(template) if template is not None else template_for(resolve_kind(report, kind))
    if not template_has_switch(path):
        return EvenPage(data)
    try:
        count = pdf_page_count(pdf.read_bytes())
    except OSError:  # gone already: nothing to measure
        return EvenPage(data)
    if count is None or count % 2 == 0:
        return EvenPage(data)
    moved = mark_package(render_notice(report, kind, template, record_next_page=True), NOTICE)
    pdf_data = _converted(docx, moved)
    pages = pdf_page_count(pdf_data) or 1
    if pages % 2:
        return EvenPage(data, note=f"{pdf.name} 的版记在第 {count} 页（奇数页）；移到下一页后仍不是偶数页，"
                                   "已保留原排版，需要双面印刷成册时请在 Word 中调整")
    write_atomic(docx, moved)
    try:
        write_atomic(pdf, pdf_data)
    except ToolkitError:  # a PDF open in a viewer: the .docx goes back to match the old PDF
        write_atomic(docx, data)
        raise
    return EvenPage(moved, moved=True,
                    note=f"{pdf.name} 的落款在第 {count} 页（奇数页），版记已另起第 {pages} 页"
                         f"（偶数页，不编页码），{docx.name} 同样调整")


def _converted(docx: Path, data: bytes) -> bytes:
    """The PDF of the .docx ``data`` (converted beside nothing: in a temporary folder)."""
    from .pdf import convert_to_pdf

    try:
        work = Path(tempfile.mkdtemp(prefix="toolkit-even-"))
    except OSError as exc:
        raise PdfConversionError(docx, f"无法创建临时文件夹（{os_reason(exc)}），未生成 PDF") from exc
    try:
        source = work / "notice.docx"
        try:
            source.write_bytes(data)
        except OSError as exc:
            raise PdfConversionError(docx, f"转换 PDF 时无法写入临时文件夹 {work}"
                                           f"（{os_reason(exc)}）") from exc
        target = work / "notice.pdf"
        convert_to_pdf(source, target)
        return target.read_bytes()
    finally:
        shutil.rmtree(work, ignore_errors=True)
