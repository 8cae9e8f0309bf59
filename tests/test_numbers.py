"""Issue 9.13: every rate and amount shown is 四舍五入; amounts are bounded; --json is strict."""

import io
import json
import math
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_factory import row, write_ledger
from openpyxl import load_workbook
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.count import stats_to_dict, summary_sentence
from toolkit.jsonsafe import json_safe, to_json
from toolkit.model import Counts, format_percent, percent, round_amount, round_half_up
from toolkit.normalize import (
    MAX_AMOUNT_WAN,
    amount_out_of_range,
    format_wan,
    parse_amount,
)
from toolkit.pipeline import analyse
from toolkit.rollup import rollup, table_rows

TODAY = date(2024, 10, 30)
runner = CliRunner()


def strict_loads(text: str):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def one_of_sixteen_done(tmp_path: Path) -> Path:
    rows = [row(1, "类", "问题一", "已完成")]
    rows += [row(i, "类", f"问题{i}", "正在整改", deadline="2025年12月底前") for i in range(2, 17)]
    return write_ledger(tmp_path / "十六.xlsx", rows)


# ---------------------------------------------------------------- rounding

def test_one_of_sixteen_is_6_3_per_cent_not_6_2():
    assert round(100 / 16, 1) == 6.2  # what binary float rounding gives
    assert percent(1, 16) == Decimal("6.3")
    assert Counts(total=16, done=1).completion_rate == 6.3
    assert format_percent(Counts(total=16, done=1).completion_rate) == "6.3%"


@pytest.mark.parametrize(("part", "whole", "shown"), [
    (1, 16, "6.3%"), (3, 16, "18.8%"), (5, 16, "31.3%"), (16, 37, "43.2%"), (1, 8, "12.5%"),
    (0, 5, "0.0%"), (5, 5, "100.0%"), (1, 3, "33.3%"), (2, 3, "66.7%")])
def test_rates_round_half_up(part, whole, shown):
    assert format_percent(percent(part, whole)) == shown
    assert format_percent(Counts(total=whole, done=part).completion_rate) == shown


def test_no_rate_without_problems():
    assert Counts().completion_rate is None
    assert format_percent(None) == "" and format_percent(None, "-") == "-"


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_rate_is_the_exact_half_up_rounding(part, whole):
    exact = Decimal(part) * 100 / Decimal(whole)
    rate = Counts(total=whole, done=part).completion_rate
    assert abs(Decimal(str(rate)) - exact) <= Decimal("0.05")
    assert Decimal(str(rate)) == round_half_up(exact, 1)


@pytest.mark.parametrize(("amount", "shown"), [
    ("0.02", "0.02"), ("3", "3"), ("12.50", "12.5"), ("0.00005", "0.0001"), ("0.00004", "0"),
    ("0.012345", "0.0123"), ("0.01235", "0.0124"), ("100", "100"), ("1E+2", "100")])
def test_amounts_are_shown_to_the_yuan_half_up(amount, shown):
    assert format_wan(Decimal(amount)) == shown
    assert format(round_amount(Decimal(amount)), "f") == shown


def test_summary_sentence_rounds_the_rate_and_the_amount():
    counts = Counts(total=16, done=1, in_progress=15, recovered_wan=Decimal("0.012345"))
    sentence = summary_sentence(counts, TODAY, with_rate=True)
    assert "追赃挽损0.0123万元" in sentence and sentence.endswith("整改完成率6.3%。")


def test_every_place_that_shows_the_rate_shows_6_3(tmp_path):
    from toolkit.render import build_context
    from toolkit.stats_book import stats_workbook

    ledger = one_of_sixteen_done(tmp_path)
    report = analyse(ledger, TODAY)
    assert stats_to_dict(report.stats)["completion_rate"] == 6.3
    assert build_context(report, "阶段性进展")["stats"]["completion_rate"] == "6.3%"
    result = runner.invoke(app, ["stats", str(ledger)])
    rate_column = result.output.splitlines()[-1].split()[-1]  # 完成率（%） is the last column
    assert rate_column == "6.3", result.output
    rates = [line for line in table_rows(rollup(tmp_path, today=TODAY)) if "6.3%" in line]
    assert len(rates) == 2  # the ledger's row and the total
    book = load_workbook(io.BytesIO(stats_workbook(report, when=datetime(2024, 11, 1)).data))
    numbers = [c.value for ws in book.worksheets for r in ws.iter_rows() for c in r]
    assert 6.3 in numbers and 6.2 not in numbers


# ---------------------------------------------------------------- bounds

@pytest.mark.parametrize("value", [1e308, float("inf"), float("nan"), "1e308", 10 ** 10,
                                   "20000000000", "20000000000万元", "NaN", "Infinity"])
def test_amounts_beyond_the_bound_are_not_read(value):
    assert parse_amount(value) is None
    assert amount_out_of_range(value)


@pytest.mark.parametrize("value", [0.02, "200元", "0.02万元", 0, MAX_AMOUNT_WAN, "约两万", "很多"])
def test_sane_or_unreadable_amounts_are_not_out_of_range(value):
    assert not amount_out_of_range(value)


def test_yuan_header_bounds_by_the_amount_in_wan():
    assert parse_amount(2 * 10 ** 12, "元") == Decimal(2 * 10 ** 8)  # 2 亿万元: sane
    assert parse_amount(2 * 10 ** 13, "元") is None and amount_out_of_range(2 * 10 ** 13, "元")


def test_huge_amounts_are_errors_naming_the_cell_and_json_stays_strict(tmp_path):
    rows = [row(1, "类", "问题甲", "已完成", recovered=1e308),
            row(2, "类", "问题乙", "已完成", recovered=1e308),
            row(3, "类", "问题丙", "已完成", recovered=0.02)]
    ledger = write_ledger(tmp_path / "巨额.xlsx", rows)
    report = analyse(ledger, TODAY)
    found = [f for f in report.errors if f.code == "amount_out_of_range"]
    assert [(f.sheet, f.cell) for f in found] == [("整改台账", "L2"), ("整改台账", "L3")]
    assert all("超出合理范围" in f.message for f in found)
    assert report.stats.overall.recovered_wan == Decimal("0.02")

    stats = runner.invoke(app, ["stats", str(ledger), "--json"])
    assert stats.exit_code == 1
    data = strict_loads(stats.output)
    assert data["recovered_wan"] == 0.02 and "Infinity" not in stats.output
    check = runner.invoke(app, ["check", str(ledger), "--json"])
    assert check.exit_code == 1
    codes = [f["code"] for f in strict_loads(check.output)[0]["findings"]]
    assert codes.count("amount_out_of_range") == 2


# ---------------------------------------------------------------- strict JSON

def test_json_safe_has_one_rule_per_type():
    data = {"nan": float("nan"), "inf": float("-inf"), "dec": Decimal("0.0200"), "whole": Decimal(3),
            "dnan": Decimal("NaN"), "day": date(2024, 10, 30), "when": datetime(2024, 10, 30, 8, 5),
            "path": Path("a/b.xlsx"), "tuple": (1, 2), 3: "key"}
    assert json_safe(data) == {"nan": None, "inf": None, "dec": 0.02, "whole": 3, "dnan": None,
                               "day": "2024-10-30", "when": "2024-10-30T08:05:00",
                               "path": str(Path("a/b.xlsx")), "tuple": [1, 2], "3": "key"}
    text = to_json(data)
    assert strict_loads(text)["dec"] == 0.02 and "NaN" not in text


def test_to_json_refuses_what_it_cannot_write():
    with pytest.raises(TypeError):
        to_json({"x": object()})


def containers(inner):
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)


JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text() | st.decimals(),
    containers, max_leaves=20)


@settings(max_examples=100, deadline=None)
@given(JSON_LIKE)
def test_to_json_is_always_strict_json(value):
    parsed = strict_loads(to_json(value))
    assert parsed is None or isinstance(parsed, (bool, int, float, str, list, dict))
    if isinstance(parsed, float):
        assert math.isfinite(parsed)


def test_workbook_amounts_are_rounded_to_the_yuan():
    from toolkit.stats_book import counts_values

    values = counts_values(Counts(total=3, done=1, recovered_wan=Decimal("0.012345")))
    assert values[-2:] == (33.3, 0.0123)
