"""通报类型 (issue 9.11): one reading of the cell, shared by ``check`` and ``render``."""

from __future__ import annotations

import io

import pytest
from docx import Document
from ledger_factory import META, write_ledger
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.normalize import KindReading, parse_kind

runner = CliRunner()
KIND_CELL = "通报信息!B11"  # the 10th key of META, under the 项目/内容 header


@pytest.mark.parametrize("value, expected", [
    (None, None),
    ("", None),
    ("  ", None),
    ("集中整改进展", KindReading("集中整改进展", True)),
    (" 阶段性进展\u3000", KindReading("阶段性进展", True)),
    ("集中整改", KindReading("集中整改进展", False)),
    ("集中整改进展情况", KindReading("集中整改进展", False)),
    ("阶段性进展情况", KindReading("阶段性进展", False)),
    ("阶段性整改", KindReading("阶段性进展", False)),
    ("专项", KindReading(None, False)),
    ("集中阶段", KindReading(None, False)),  # names both: never guessed
    (2024, KindReading(None, False)),
])
def test_parse_kind(value, expected):
    assert parse_kind(value) == expected


def _ledger(tmp_path, kind):
    return write_ledger(tmp_path / "台账.xlsx", meta=dict(META, 通报类型=kind))


@pytest.mark.parametrize("value, kind, title", [
    ("集中整改", "集中整改进展", "关于巡察集中整改进展情况的通报"),
    ("阶段性进展情况", "阶段性进展", "关于巡察整改阶段性进展情况的通报"),
])
def test_check_and_render_agree_on_a_near_form(tmp_path, value, kind, title):
    ledger = _ledger(tmp_path, value)
    check = runner.invoke(app, ["check", str(ledger)])
    assert check.exit_code == 0, check.output
    assert f"“{value}”按“{kind}”处理" in check.output and "B11" in check.output
    out = tmp_path / "通报.docx"
    result = runner.invoke(app, ["render", str(ledger), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = "".join(p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs[:3])
    assert title in text


def test_check_and_render_agree_on_an_unknown_kind(tmp_path):
    ledger = _ledger(tmp_path, "专项")
    check = runner.invoke(app, ["check", str(ledger)])
    assert check.exit_code == 1 and "通报类型“专项”无法识别" in check.output and "B11" in check.output
    out = tmp_path / "通报.docx"
    result = runner.invoke(app, ["render", str(ledger), "-o", str(out)])
    assert result.exit_code == 1 and "台账.xlsx" in result.output
    assert "通报类型“专项”无法识别" in result.output and "B11" in result.output
    assert not out.exists()


def test_render_notice_names_file_and_cell_for_an_unknown_kind():
    from render_helpers import make_problem, make_report

    from toolkit.errors import ToolkitError
    from toolkit.render import render_notice

    report = make_report([make_problem(1)], dict(kind="专项"))
    with pytest.raises(ToolkitError, match="通报类型“专项”无法识别"):
        render_notice(report)
