from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_factory import row, write_ledger

from toolkit.count import NO_UNIT, count_problems, split_units, stats_to_dict, summary_sentence
from toolkit.model import Counts, Problem
from toolkit.normalize import parse_status
from toolkit.pipeline import analyse

TODAY = date(2024, 10, 30)


def test_counts_and_groups(tmp_path):
    stats = analyse(write_ledger(tmp_path / "a.xlsx"), TODAY).stats
    c = stats.overall
    assert (c.total, c.done, c.in_progress, c.not_done) == (5, 2, 2, 1)
    assert (c.long_term, c.flagged, c.overdue) == (1, 1, 1)
    assert c.recovered_wan == Decimal("0.02") and c.completion_rate == 40.0
    assert [name for name, _ in stats.by_category] == ["政治建设不到位", "财务管理不规范"]
    assert stats.by_category[1][1].total == 3
    assert stats.as_of == date(2024, 10, 30)


def test_summary_sentence_matches_the_notice_form():
    counts = Counts(37, 16, 20, 1, 4, 1, 0, Decimal("0.02"))
    assert summary_sentence(counts, date(2024, 10, 30)) == (
        "截至2024年10月30日，巡察反馈的37个具体问题，已完成整改16个，正在整改20个，"
        "未完成1个，长期坚持4个，追赃挽损0.02万元。")


def test_summary_sentence_writes_zero_statuses_but_not_zero_extras():
    counts = Counts(3, 3, 0, 0, 0, 0, 0, Decimal(0))
    sentence = summary_sentence(counts, date(2025, 1, 5), with_rate=True)
    assert sentence == ("截至2025年1月5日，巡察反馈的3个具体问题，已完成整改3个，正在整改0个，"
                        "未完成0个，整改完成率100.0%。")


def test_rows_with_errors_are_left_out_so_the_partition_holds(tmp_path):
    rows = [row(1, "类", "甲", "已完成"), row(2, "类", "乙", "乱写"), row(3, "类", "丙", None)]
    c = analyse(write_ledger(tmp_path / "a.xlsx", rows), TODAY).stats.overall
    assert c.total == 1 == c.done + c.in_progress + c.not_done


def test_json_shape(tmp_path):
    data = stats_to_dict(analyse(write_ledger(tmp_path / "a.xlsx"), TODAY).stats)
    assert {"total", "counts", "long_term", "flagged", "recovered_wan", "overdue",
            "completion_rate", "as_of", "by_category", "by_unit", "summary"} <= set(data)
    assert data["counts"] == {"已完成": 2, "正在整改": 2, "未完成": 1}
    assert data["as_of"] == "2024-10-30"


STATUS_TEXTS = st.sampled_from(["已完成", "完成", "整改中", "未启动", "长期坚持", "乱写", "", "销号。"])


@settings(max_examples=200)
@given(st.lists(st.tuples(STATUS_TEXTS, st.booleans(), st.booleans()), max_size=40))
def test_statuses_always_partition_the_total(rows):
    problems = []
    for i, (text, long_term, flagged) in enumerate(rows):
        reading = parse_status(text)
        problems.append(Problem(
            row=i + 2, seq=i + 1, number="", category="", subcategory="", problem="p", measures="",
            leader="", unit="", deadline_text="", deadline=None, deadline_state="empty",
            progress="", status_text=text, status=reading.status, status_state=reading.state,
            long_term=long_term, flagged=flagged, done_date=None, done_date_text="",
            recovered_text="", recovered_wan=None, evidence="", remarks=""))
    counted = [p for p in problems if p.status]
    c = count_problems(counted, TODAY)
    assert c.total == c.done + c.in_progress + c.not_done == len(counted)
    assert c.long_term <= c.total


# ---------------------------------------------------------------- issue 11.7: several departments

@pytest.mark.parametrize(("text", "units"), [
    ("办公室、创研科", ("办公室", "创研科")), ("办公室，创研科", ("办公室", "创研科")),
    ("办公室,创研科", ("办公室", "创研科")), ("办公室/财务科；人事科", ("办公室", "财务科", "人事科")),
    ("办公室;财务科", ("办公室", "财务科")), ("办公室\n创研科", ("办公室", "创研科")),
    ("办公室和创研科", ("办公室", "创研科")), ("财务科及各科室", ("财务科", "各科室")),
    ("办公室与人事科", ("办公室", "人事科")), ("办公室、创研科等", ("办公室", "创研科")),
    ("办公室、办公室", ("办公室",)), (" 办公室 ", ("办公室",)), ("", ()), ("、", ()),
    # 和 inside one name stays: the parts are not each a department
    ("规划和自然资源局", ("规划和自然资源局",)), ("住房和城乡建设局", ("住房和城乡建设局",)),
])
def test_split_units(text, units):
    assert split_units(text) == units


def test_a_problem_of_two_departments_counts_for_both(tmp_path):
    rows = [row(1, "类", "问题甲", "已完成", unit="办公室、创研科"),
            row(2, "类", "问题乙", "未完成", unit="创研科", deadline="2024年9月30日"),
            row(3, "类", "问题丙", "已完成", unit="")]
    stats = analyse(write_ledger(tmp_path / "a.xlsx", rows), TODAY).stats
    by_unit = dict(stats.by_unit)
    assert list(by_unit) == ["办公室", "创研科", NO_UNIT]
    assert (by_unit["办公室"].total, by_unit["办公室"].done) == (1, 1)
    assert (by_unit["创研科"].total, by_unit["创研科"].done, by_unit["创研科"].overdue) == (2, 1, 1)
    assert stats.overall.total == 3  # the overall count is per problem, never per department
    data = stats_to_dict(stats)
    assert [d["name"] for d in data["by_unit"]] == ["办公室", "创研科", NO_UNIT]


def test_the_statistics_workbook_shows_the_split_departments(tmp_path):
    import io
    from datetime import datetime

    from openpyxl import load_workbook

    from toolkit.stats_book import stats_workbook

    rows = [row(1, "类", "问题甲", "已完成", unit="办公室、创研科"), row(2, "类", "问题乙", "已完成", unit="创研科")]
    report = analyse(write_ledger(tmp_path / "a.xlsx", rows), TODAY)
    book = load_workbook(io.BytesIO(stats_workbook(report, when=datetime(2024, 11, 1)).data))
    values = [c.value for ws in book.worksheets for r in ws.iter_rows() for c in r]
    assert "办公室" in values and "创研科" in values and "办公室、创研科" not in values


def test_the_json_amount_is_rounded_to_the_yuan():
    counts = Counts(1, 1, 0, 0, 0, 0, 0, Decimal("0.012345"))
    from toolkit.count import counts_to_dict
    assert counts_to_dict(counts)["recovered_wan"] == 0.0123
