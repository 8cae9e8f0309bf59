"""The ledger annex (issue 15.8): the 整改台账 as a landscape GB/T 9704 table, from the same
ledger, through ``render --kind 台账附件`` and ``build --annex``."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from docx import Document
from ledger_factory import row, write_ledger
from typer.testing import CliRunner

from toolkit.annex import ANNEX_KIND, annex_path_for, render_annex
from toolkit.cli import _shown, app
from toolkit.pdf import convert_to_pdf, soffice_available
from toolkit.pipeline import analyse
from toolkit.render import TEMPLATE_DIR

ROOT = Path(__file__).resolve().parent.parent
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
HEADERS = ["序号", "问题", "整改措施", "责任领导/部门", "时限", "进展", "状态"]
runner = CliRunner()


def _cell_text(tc) -> str:
    out = []
    for node in tc.iter(f"{W}t", f"{W}br"):
        out.append("\n" if node.tag == f"{W}br" else node.text or "")
    return "".join(out)


def _rows(data: bytes):
    doc = Document(io.BytesIO(data))
    table = doc.element.body.find(f"{W}tbl")
    return doc, table.findall(f"{W}tr")


def test_committed_annex_matches_generator(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "templates" / "make_annex.py"), str(tmp_path)],
                   check=True, capture_output=True)
    with zipfile.ZipFile(TEMPLATE_DIR / f"{ANNEX_KIND}.docx") as a, \
            zipfile.ZipFile(tmp_path / f"{ANNEX_KIND}.docx") as b:
        for name in ("word/document.xml", "word/styles.xml", "word/footer1.xml"):
            assert a.read(name) == b.read(name), f"{name} is stale; rerun templates/make_annex.py"


def test_annex_is_a_landscape_table_of_the_ledger(tmp_path):
    hostile = "A&B <c> {{ 7*7 }}\n第二行"
    ledger = write_ledger(tmp_path / "台账.xlsx", [
        row(1, "政治建设不到位", hostile, "已完成", leader="李书记", unit="办公室"),
        row(2, "政治建设不到位", "问题乙", "正在整改", progress="", unit=""),
        row(3, "财务管理不规范", "问题丙", "未完成", deadline="2024年9月30日"),
    ])
    data = render_annex(analyse(ledger))
    doc, rows = _rows(data)
    size = doc.element.body.find(f"{W}sectPr").find(f"{W}pgSz")
    assert size.get(f"{W}orient") == "landscape"
    assert int(size.get(f"{W}w")) > int(size.get(f"{W}h"))  # 297 x 210 mm
    texts = [p.text for p in doc.paragraphs]
    assert texts[:3] == ["附件", "市文联巡察整改台账", "（截至2024年10月30日）"]
    # header + 2 category rows + 3 problems; no row left over from the {%tr %} tags
    assert len(rows) == 6
    assert [_cell_text(tc) for tc in rows[0].findall(f"{W}tc")] == HEADERS
    assert rows[0].find(f"{W}trPr/{W}tblHeader") is not None
    assert all(r.find(f"{W}trPr/{W}cantSplit") is not None for r in rows)
    assert all(r.find(f"{W}trPr/{W}tblHeader") is None for r in rows[1:])
    assert _cell_text(rows[1]) == "第一方面问题：政治建设不到位"
    first = [_cell_text(tc) for tc in rows[2].findall(f"{W}tc")]
    assert first == ["1", hostile, "措施", "李书记\n办公室", "2024年9月底前",
                     "一是做了。\n二是也做了。", "已完成"]
    second = [_cell_text(tc) for tc in rows[3].findall(f"{W}tc")]
    assert second[3] == "张书记" and second[5] == "" and second[6] == "正在整改"
    assert _cell_text(rows[4]) == "第二方面问题：财务管理不规范"
    assert doc.core_properties.title == "市文联巡察整改台账"


def test_render_notice_dispatches_the_annex_kind(tmp_path):
    ledger = write_ledger(tmp_path / "台账.xlsx")
    report = analyse(ledger)
    _, rows = _rows(render_annex(report))
    assert len(rows) == 1 + 2 + 5


def test_cli_render_annex(tmp_path):
    ledger = write_ledger(tmp_path / "台账.xlsx")
    out = tmp_path / "out" / "附件.docx"
    result = runner.invoke(app, ["render", str(ledger), "--kind", ANNEX_KIND, "-o", str(out)])
    assert result.exit_code == 0, result.output
    _, rows = _rows(out.read_bytes())
    assert len(rows) == 8
    # not a notice: no history snapshot, no statistics workbook
    assert sorted(p.name for p in out.parent.iterdir()) == ["附件.docx"]


def test_cli_build_annex_beside_each_notice(tmp_path):
    folder = tmp_path / "ledgers"
    folder.mkdir()
    write_ledger(folder / "甲单位.xlsx")
    write_ledger(folder / "乙单位.xlsx")
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(folder), "-o", str(out), "--annex"])
    assert result.exit_code == 0, result.output
    for stem in ("甲单位", "乙单位"):
        annex = out / f"{stem}-附件.docx"
        assert annex == annex_path_for(out / f"{stem}.docx") and annex.is_file()
        assert f"已生成台账附件：{_shown(annex)}" in result.output
        assert (out / f"{stem}.docx").is_file()
    plain = runner.invoke(app, ["build", str(folder), "-o", str(tmp_path / "plain")])
    assert plain.exit_code == 0 and not list((tmp_path / "plain").glob("*-附件.docx"))


def test_cli_build_annex_failure_is_exit_2(tmp_path, monkeypatch):
    from toolkit import annex

    folder = tmp_path / "ledgers"
    folder.mkdir()
    write_ledger(folder / "甲单位.xlsx")
    broken = tmp_path / "坏附件模板.docx"
    broken.write_bytes(b"not a zip")
    monkeypatch.setattr(annex, "render_annex", lambda report: _render_with(report, broken))
    result = runner.invoke(app, ["build", str(folder), "-o", str(tmp_path / "out"), "--annex"])
    assert result.exit_code == 2
    assert "台账附件未能生成" in result.output and "坏附件模板.docx" in result.output
    assert (tmp_path / "out" / "甲单位.docx").is_file()


def _render_with(report, template):
    from toolkit.annex import annex_context
    from toolkit.render import render_context, render_limits

    return render_context(annex_context(report), template, render_limits(report), subject="x")


@pytest.mark.skipif(not (soffice_available() and shutil.which("pdftotext")),
                    reason="LibreOffice (soffice) or pdftotext not installed")
def test_pdf_repeats_the_header_and_keeps_rows_whole(tmp_path):
    rows = [row(i, f"类别{i // 12}", f"问题{i}起。" + "某单位存在某方面的问题，表现为若干情形。" * (1 + i % 4),
                "已完成", measures="一是完善制度。\n二是加强监督。" * (1 + i % 2),
                progress="已完成整改，形成长效机制。" * (i % 5) + f"\n进展{i}止")
            for i in range(1, 31)]
    ledger = write_ledger(tmp_path / "台账.xlsx", rows)
    docx = tmp_path / "附件.docx"
    docx.write_bytes(render_annex(analyse(ledger)))
    pdf = tmp_path / "附件.pdf"
    convert_to_pdf(docx, pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = [p.replace(" ", "") for p in text.split("\f") if p.strip()]
    assert len(pages) >= 3
    for page in pages:
        assert "整改措施" in page and "责任领导/部门" in page  # the header row on every page
    for i in range(1, 31):
        start = [n for n, page in enumerate(pages) if f"问题{i}起" in page]
        end = [n for n, page in enumerate(pages) if f"进展{i}止" in page]
        assert len(start) == 1 and start == end, (i, start, end)  # a row on one page only


def test_table_fast_path_equals_docxtpls_path(tmp_path, monkeypatch):
    """The annex's table needs no grid fix: it skips docxtpl's fix_tables, same bytes."""
    import toolkit.docx_template as dt

    report = analyse(write_ledger(tmp_path / "台账.xlsx"))
    fast = render_annex(report)
    monkeypatch.setattr(dt, "_grids_fit", lambda tree: False)
    slow = render_annex(report)
    read = lambda data: zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    assert read(fast) == read(slow)


def test_grids_fit():
    from docx import Document as New

    from toolkit.docx_template import _grids_fit

    doc = New()
    doc.add_table(rows=2, cols=3)
    assert _grids_fit(doc.element)
    grid = doc.element.body.find(f"{W}tbl/{W}tblGrid")
    grid.remove(grid[-1])  # a row now has more cells than the grid has columns
    assert not _grids_fit(doc.element)
