"""Every command on every file of the hostile corpus (tests/hostile_corpus.py).

For each file, ``check``, ``stats`` and ``render`` give the right exit code (2 unusable, 1
errors, 0 ok), never a traceback; an unusable file gets one Chinese line naming it; the
ledger is never written and no output changes unless a notice is really built. The reader
stays within a memory bound on each file, and the watcher copes with the whole corpus at once.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tracemalloc
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from hostile_corpus import CASES, ERRORS, OK, UNUSABLE, build_corpus
from typer.testing import CliRunner

import toolkit.read_xlsx
from toolkit.cli import app
from toolkit.errors import UnreadableLedgerError
from toolkit.read import read_ledger
from toolkit.validate import validate

runner = CliRunner()
def _old_notice() -> bytes:
    """A notice the toolkit wrote earlier (it carries the mark, so a new one may replace it)."""
    import io
    import zipfile

    from toolkit.names import NOTICE, mark_package

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types></Types>")
        package.writestr("_rels/.rels", "<Relationships></Relationships>")
        package.writestr("old.txt", "old notice: must stay byte for byte unless a new one is built")
    return mark_package(buffer.getvalue(), NOTICE)


OLD_NOTICE = _old_notice()
CJK = re.compile("[\u4e00-\u9fff]")
BY_NAME = {case.name: case for case in CASES}
# Python's own allocations while reading any corpus file. The biggest real one (5 cells of
# Excel's 32,767-character maximum) needs a few MB; the bombs must not get anywhere near.
READ_MEMORY_BOUND = 64 * 2**20


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("hostile"))


def folder_state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("command", ["check", "stats", "render"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_command_on_hostile_file(corpus, case, command, tmp_path):
    ledger = corpus[case.name]
    ledger_before = ledger.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    notice = out / "通报.docx"
    notice.write_bytes(OLD_NOTICE)
    out_before = folder_state(out)

    args = [command, str(ledger)] + (["-o", str(notice)] if command == "render" else [])
    result = runner.invoke(app, args)

    # No exception escaped the command: a typer.Exit is a SystemExit inside CliRunner.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code == case.exit_code, result.output
    assert ledger.read_bytes() == ledger_before  # the toolkit never writes a ledger

    if case.exit_code == UNUSABLE:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1, result.output
        assert ledger.name in lines[0] and CJK.search(lines[0])
        for word in case.words:
            assert word in lines[0]
    if command == "render" and case.exit_code == OK:
        assert notice.read_bytes() != OLD_NOTICE
        Document(io.BytesIO(notice.read_bytes()))  # a real .docx
    else:
        assert folder_state(out) == out_before


@pytest.mark.parametrize("case", [c for c in CASES if c.exit_code != UNUSABLE], ids=lambda c: c.name)
def test_check_json_reports_the_findings(corpus, case):
    result = runner.invoke(app, ["check", "--json", str(corpus[case.name])])
    assert result.exit_code == case.exit_code
    [entry] = json.loads(result.output)
    assert entry["usable"] and (entry["errors"] > 0) == (case.exit_code == ERRORS)
    codes = {f["code"] for f in entry["findings"]}
    assert set(case.codes) <= codes, codes


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reader_raises_only_its_own_errors_within_a_memory_bound(corpus, case, monkeypatch):
    # Tracing makes each of the row bomb's million empty rows cost ten times more; memory per
    # row is flat, so a lower row limit shows the same peak in a fifth of the rows.
    monkeypatch.setattr(toolkit.read_xlsx, "MAX_ROWS", 200_000)
    tracemalloc.start()
    try:
        try:
            read_ledger(corpus[case.name])
            usable = True
        except UnreadableLedgerError as exc:
            usable = False
            assert corpus[case.name].name in exc.message and "\n" not in exc.message
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert usable == (case.exit_code != UNUSABLE)
    assert peak < READ_MEMORY_BOUND, f"{peak / 2**20:.0f} MB"


# ---------------------------------------------------------------- what the usable files hold

def test_1904_dates_are_the_same_days(corpus):
    ledger = read_ledger(corpus["1904日期"])
    assert [p.deadline for p in ledger.problems] == [date(2024, 9, 30), date(2030, 1, 31)]
    assert ledger.meta.feedback_date == date(2024, 7, 10)


def test_cached_formula_results_are_used_without_warning(corpus):
    ledger = read_ledger(corpus["公式有缓存"])
    assert ledger.problems[0].recovered_wan == Decimal("0.02")
    assert ledger.problems[0].formula_cells == ("L2",)
    assert not [f for f in validate(ledger) if f.code.startswith("formula")]


def test_xlsxwriter_formulas_are_said_to_be_unverified(corpus):
    ledger = read_ledger(corpus["xlsxwriter公式"])
    assert ledger.formulas_unverified
    assert all(p.recovered_wan == 0 for p in ledger.problems)  # xlsxwriter's cached 0
    [warning] = [f for f in validate(ledger) if f.code == "formula_unverified"]
    assert warning.severity == "warning" and "未经校验" in warning.message and "L2" in warning.message


def test_formula_without_cache_names_the_cell(corpus):
    findings = validate(read_ledger(corpus["公式无缓存"]))
    [missing] = [f for f in findings if f.code == "formula_no_cache"]
    assert missing.cell == "L2"


def test_forged_dimension_and_merges_read_only_real_rows(corpus):
    assert len(read_ledger(corpus["伪造尺寸"]).problems) == 5
    assert len(read_ledger(corpus["伪造合并"]).problems) == 5


def test_text_survives_verbatim(corpus):
    problems = read_ledger(corpus["转义控制字符"]).problems
    assert "😀" in problems[0].problem and "\u202e" in problems[0].problem
    assert problems[0].progress.startswith("一是\t制表。\n")
    assert problems[1].problem == "问题乙 <b>&amp;</b> {{ 7*7 }} {% raw %}"
    assert len(read_ledger(corpus["超长单元格"]).problems[0].progress) == 32_767


def test_thousandth_category_heading(corpus, tmp_path):
    notice = tmp_path / "通报.docx"
    assert runner.invoke(app, ["render", str(corpus["一千多个类别"]), "-o", str(notice)]).exit_code == 0
    text = "\n".join(p.text for p in Document(notice).paragraphs)
    assert "第一千二百方面问题：类别1200" in text and "第一千零一方面问题：类别1001" in text


def test_sixteen_thousand_columns_are_cut_and_said_so(corpus):
    ledger = read_ledger(corpus["16384列"])
    assert len(ledger.problems) == 5
    assert any(f.code == "too_many_columns" for f in ledger.findings)


# ---------------------------------------------------------------- the watcher

def test_watcher_builds_the_whole_corpus_and_keeps_old_notices(corpus, tmp_path):
    watch = pytest.importorskip("toolkit.watch")
    from toolkit.build import notice_path_for

    ledgers, out = tmp_path / "ledgers", tmp_path / "out"
    ledgers.mkdir()
    watched = [c for c in CASES if c.watched]
    for case in CASES:
        shutil.copy2(corpus[case.name], ledgers / corpus[case.name].name)
        notice = notice_path_for(ledgers / corpus[case.name].name, out)
        notice.parent.mkdir(exist_ok=True)
        notice.write_bytes(OLD_NOTICE)
    fifo = ledgers / "命名管道.xlsx"  # never opened: it would block the worker for ever
    if hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
    expected = {OK: "built", ERRORS: "invalid", UNUSABLE: "unusable"}
    with watch.Watcher(ledgers, out, polling=False, debounce=0.05, retries=0,
                       log_file=False) as watcher:
        names = [corpus[c.name].name for c in watched]
        assert watcher.wait_until(lambda: all(watcher.builds(n) >= 1 for n in names), 300)
        assert watcher.wait_idle(60)
        for case in watched:
            name = corpus[case.name].name
            entry = watcher.status(name)
            assert entry["result"] == expected[case.exit_code], (name, entry)
            if case.exit_code == UNUSABLE:
                assert name in entry["message"] and "\n" not in entry["message"]
            notice = notice_path_for(ledgers / name, out)
            assert (notice.read_bytes() != OLD_NOTICE) == (case.exit_code == OK), name
        if fifo.exists():
            assert watcher.builds(fifo.name) == 0 and not notice_path_for(fifo, out).exists()
    for case in CASES:  # the watcher never writes a ledger either
        assert (ledgers / corpus[case.name].name).read_bytes() == corpus[case.name].read_bytes()


def test_corpus_files_are_what_they_claim(corpus):
    # Guards the corpus itself: the bombs are small on disk and big inside.
    for name in ("行炸弹", "列炸弹", "文字炸弹", "空共享字符串炸弹", "空单元格炸弹"):
        path = corpus[name]
        with zipfile.ZipFile(path) as z:
            inflated = sum(i.file_size for i in z.infolist())
        assert path.stat().st_size < 2 * 2**20 and inflated > 10 * path.stat().st_size
    assert BY_NAME["旧版"].suffix == ".xls"


# ---------------------------------------------------------------- both render paths

def test_template_with_a_table_streams_it(corpus, tmp_path):
    """Bundled templates stream their body; so does one with a table at the body's level
    (nested tables and grids docxtpl must fix: tests/test_stream_tables.py)."""
    from toolkit.pipeline import analyse
    from toolkit.render import _load_template, render_notice, template_for

    template = tmp_path / "带表格.docx"
    document = Document(template_for("阶段性进展"))
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "{{ summary }}"
    table.cell(0, 1).text = "{{ stats.total }}"
    document.save(template)
    assert _load_template(template_for("阶段性进展")).streamable()
    assert _load_template(template).streamable()

    report = analyse(corpus["伪造尺寸"])
    streamed = Document(io.BytesIO(render_notice(report, kind="阶段性进展")))
    whole = Document(io.BytesIO(render_notice(report, kind="阶段性进展", template=template)))
    assert [p.text for p in whole.paragraphs] == [p.text for p in streamed.paragraphs]
    assert whole.tables[0].cell(0, 0).text == report.stats.summary
    assert whole.tables[0].cell(0, 1).text == str(report.stats.overall.total)


@pytest.mark.parametrize("kind", ["阶段性进展", "集中整改进展"])
@pytest.mark.parametrize("name", ["转义控制字符", "一千多个类别"])  # odd text; many pieces
def test_streamed_body_is_byte_for_byte_the_whole_document_one(corpus, name, kind, monkeypatch):
    from toolkit import render
    from toolkit.pipeline import analyse

    report = analyse(corpus[name])
    streamed = render.render_notice(report, kind=kind)
    monkeypatch.setattr(render.NoticeTemplate, "streamable", lambda self: False)
    whole = render.render_notice(report, kind=kind)
    read = lambda data: zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    assert read(streamed) == read(whole)
