"""Issue 11.2: the same problem in two rows is an error naming both cells; near copies warn."""

import random
from datetime import date

import pytest
from ledger_factory import row, write_ledger

from toolkit import duplicates
from toolkit.duplicates import find_duplicates, problem_key
from toolkit.model import Problem
from toolkit.pipeline import analyse

TODAY = date(2024, 10, 30)
TEXT = "党组理论学习中心组学习制度执行不严格，学习记录不完整"


def codes_at(report, code):
    return [f for f in report.findings if f.code == code]


def make(i: int, text: str, category: str = "类") -> Problem:
    return Problem(
        row=i + 1, seq=i, number=str(i), category=category, subcategory="", problem=text,
        measures="", leader="", unit="", deadline_text="", deadline=None, deadline_state="empty",
        progress="", status_text="已完成", status="已完成", status_state="ok", long_term=False,
        flagged=False, done_date=None, done_date_text="", recovered_text="", recovered_wan=None,
        evidence="", remarks="", cells={"problem": f"C{i + 1}"})


@pytest.mark.parametrize("copy", [
    TEXT, TEXT + "。", " " + TEXT.replace("，", ",  ") + "\n", "1．" + TEXT, "（二）" + TEXT,
    TEXT.replace("，", "；"), "３、" + TEXT, TEXT.replace("学习", "学 习"),
])
def test_the_same_text_after_normalisation_is_the_same_key(copy):
    assert problem_key(copy) == problem_key(TEXT)


@pytest.mark.parametrize(("a", "b"), [
    ("3.5万元资金未入账", "4.5万元资金未入账"), ("问题甲", "问题乙"), ("一是制度不全", "二是制度不全"),
])
def test_different_texts_keep_different_keys(a, b):
    assert problem_key(a) != problem_key(b)


def test_pasted_row_is_an_error_naming_both_cells(tmp_path):
    rows = [row(1, "类", TEXT, "已完成"), row(2, "类", "别的问题", "已完成"),
            row(3, "类", TEXT + "。", "正在整改", deadline="2025年12月底前")]
    report = analyse(write_ledger(tmp_path / "a.xlsx", rows), TODAY)
    f, = codes_at(report, "duplicate_problem")
    assert (f.severity, f.sheet, f.cell, f.column) == ("error", "整改台账", "C4", "具体问题")
    assert "整改台账!C2" in f.message and f.hint == "整改台账!C2"
    assert not report.ok


def test_renumbered_copy_and_copy_in_another_category_are_errors(tmp_path):
    rows = [row(1, "类一", TEXT, "已完成"), row(2, "类二", "1." + TEXT, "已完成"),
            row(3, "类二", TEXT, "已完成")]
    report = analyse(write_ledger(tmp_path / "a.xlsx", rows), TODAY)
    assert [f.cell for f in codes_at(report, "duplicate_problem")] == ["C3", "C4"]
    assert all("C2" in f.message for f in codes_at(report, "duplicate_problem"))


def test_duplicates_without_a_number_column(tmp_path):
    header = ["问题类别", "具体问题", "整改状态"]
    rows = [["类", TEXT, "已完成"], ["类", "另一个问题", "已完成"], ["类", TEXT, "已完成"]]
    report = analyse(write_ledger(tmp_path / "a.xlsx", rows, header=header), TODAY)
    f, = codes_at(report, "duplicate_problem")
    assert f.cell == "B4" and "B2" in f.message


def test_near_duplicate_in_the_same_category_is_a_warning(tmp_path):
    edited = TEXT.replace("不完整", "不够完整")
    rows = [row(1, "类", TEXT, "已完成"), row(2, "类", edited, "已完成"),
            row(3, "另一类", TEXT.replace("不完整", "不齐全"), "已完成")]
    report = analyse(write_ledger(tmp_path / "a.xlsx", rows), TODAY)
    f, = codes_at(report, "similar_problem")
    assert (f.severity, f.cell) == ("warning", "C3") and "C2" in f.message
    assert not codes_at(report, "duplicate_problem") and report.ok


def test_short_or_different_texts_are_not_near_duplicates():
    problems = [make(1, "问题甲"), make(2, "问题乙"), make(3, "资金使用审批不严格，存在违规报销"),
                make(4, "干部队伍建设滞后，年轻干部储备不足")]
    assert find_duplicates(problems) == []


def test_the_fixture_ledgers_have_no_duplicates(tmp_path):
    report = analyse(write_ledger(tmp_path / "a.xlsx"), TODAY)
    assert not codes_at(report, "duplicate_problem") and not codes_at(report, "similar_problem")


def test_near_duplicate_search_is_bounded(monkeypatch):
    """Thousands of near-identical texts in one category: the comparisons stop at the budget."""
    calls = []
    real = duplicates._bigrams
    monkeypatch.setattr(duplicates, "_bigrams", lambda key: calls.append(key) or real(key))
    monkeypatch.setattr(duplicates, "COMPARISON_BUDGET", 500)
    rng = random.Random(1)
    words = ["制度", "执行", "不严", "监督", "检查", "流于", "形式", "台账", "资料", "规范"]
    problems = [make(i, "".join(rng.choice(words) for _ in range(12)) + str(i)) for i in range(3000)]
    found = find_duplicates(problems)
    assert len(calls) <= 500 + 2  # every bigram set built counts against the budget
    assert all(not d.exact for d in found)


def test_each_text_is_compared_with_few_earlier_ones(monkeypatch):
    """No all-pairs work: a row meets at most a few earlier rows of each of its three blocks."""
    calls = []
    real = duplicates._dice
    monkeypatch.setattr(duplicates, "_dice", lambda a, b: calls.append(1) or real(a, b))
    n = 2000
    problems = [make(i, f"资金使用审批不严格第{i}号文件存在违规报销情况") for i in range(n)]
    found = find_duplicates(problems)
    assert len(found) > 100  # they are near copies of each other
    assert all(d.earlier.seq < d.later.seq for d in found)
    assert len(calls) <= 3 * duplicates._PER_BLOCK * n < n * (n - 1) // 2
