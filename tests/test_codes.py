"""Finding codes: one documented enum, equal to the strings check --json has always written."""

import json
import re
from pathlib import Path

from ledger_factory import row, write_ledger
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.codes import Code
from toolkit.model import Finding

DOC = Path(__file__).resolve().parents[1] / "docs" / "findings.md"


def documented_codes() -> list[str]:
    return re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(encoding="utf-8"), re.MULTILINE)


def test_every_code_is_documented_once_and_nothing_else():
    documented = documented_codes()
    assert len(documented) == len(set(documented))
    assert set(documented) == {c.value for c in Code}


def test_codes_are_plain_strings_in_findings_and_json():
    f = Finding(code=Code.OVERDUE, severity="warning", sheet="s", cell="A1", column="", value="",
                message="m")
    assert type(f.code) is str and f.code == "overdue" and f == Finding(
        code="overdue", severity="warning", sheet="s", cell="A1", column="", value="", message="m")
    assert {f.code} == {"overdue"} and f"{Code.OVERDUE}" == "overdue"
    assert json.dumps(f.to_dict())  # no enum left for json


def test_every_code_check_reports_is_a_member(tmp_path):
    rows = [row(1, "类", "问题甲", "已完城"), row(1, "类", None, "已完成"),
            row(3, "类", "问题甲", "正在整改", deadline="尽快", recovered="很多"),
            row(5, "类", "问题丁", "长期坚持", long_term="也许")]
    result = CliRunner().invoke(app, ["check", str(write_ledger(tmp_path / "a.xlsx", rows)), "--json"])
    codes = {f["code"] for f in json.loads(result.output)[0]["findings"]}
    assert len(codes) >= 6
    assert codes <= {c.value for c in Code}
