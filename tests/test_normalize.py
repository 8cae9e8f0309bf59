from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit import normalize as nz
from toolkit.model import DONE, IN_PROGRESS, NOT_DONE, STATUSES

# ---------------------------------------------------------------- statuses

ACCEPTED = {
    DONE: ["已完成", "完成", "已整改", "已整改完成", "整改完成", "已完成整改", "完成整改", "已销号",
           "销号", "已办结", "办结"],
    IN_PROGRESS: ["正在整改", "整改中", "正在推进", "推进中", "进行中", "持续整改", "基本完成",
                  "阶段性完成", "部分完成"],
    NOT_DONE: ["未完成", "未整改", "未启动", "尚未启动", "未开始"],
}


@pytest.mark.parametrize("word,canonical",
                         [(w, c) for c, words in ACCEPTED.items() for w in words])
def test_every_status_synonym(word, canonical):
    reading = nz.parse_status(word)
    assert (reading.status, reading.state) == (canonical, "ok")


@pytest.mark.parametrize("text", ["已完成。", " 已 完成 ", "已完成\u3000", "已完成；", "已完成!",
                                  "已完成．", "已完成,"])
def test_status_ignores_spaces_and_trailing_punctuation(text):
    assert nz.parse_status(text).status == DONE


@pytest.mark.parametrize("text", ["长期坚持", "长期整改", "长期推进。"])
def test_legacy_long_term_status_counts_as_in_progress(text):
    reading = nz.parse_status(text)
    assert (reading.status, reading.state) == (IN_PROGRESS, "legacy_long_term")


def test_unknown_status_gets_closest_hint():
    reading = nz.parse_status("已完城")
    assert reading.state == "bad" and reading.status == "" and reading.hint == DONE
    assert nz.parse_status("未完").hint == NOT_DONE


def test_empty_status():
    assert nz.parse_status(None).state == "empty"
    assert nz.parse_status("  ").state == "empty"


@given(st.sampled_from([w for words in ACCEPTED.values() for w in words]),
       st.text(alphabet=" \u3000\t", max_size=3), st.text(alphabet="。．.；;，,！!", max_size=3))
def test_status_normaliser_is_stable_under_decoration(word, spaces, punct):
    decorated = spaces + word[:1] + spaces + word[1:] + spaces + punct
    assert nz.parse_status(decorated).status == nz.parse_status(word).status


@given(st.text(max_size=30))
def test_status_parser_is_total(text):
    reading = nz.parse_status(text)
    assert reading.state in ("ok", "legacy_long_term", "empty", "bad")
    assert (reading.status in STATUSES) == (reading.state in ("ok", "legacy_long_term"))
    if reading.state == "bad":
        assert reading.hint in STATUSES


# ---------------------------------------------------------------- deadlines

FEEDBACK = date(2024, 7, 10)


@pytest.mark.parametrize("text,expected", [
    ("2024-09-30", date(2024, 9, 30)),
    ("2024/9/30", date(2024, 9, 30)),
    ("2024.9.30", date(2024, 9, 30)),
    ("2024年9月30日", date(2024, 9, 30)),
    ("2024年9月30日前", date(2024, 9, 30)),
    ("2024年9月30日(前)", date(2024, 9, 30)),
    ("2024 年 9 月 30 日前完成整改。", date(2024, 9, 30)),
    ("2024年9月底前", date(2024, 9, 30)),
    ("2024 年 9 月底前完成整改。", date(2024, 9, 30)),
    ("2024年9月前", date(2024, 9, 30)),
    ("2024年9月", date(2024, 9, 30)),
    ("2024年2月底前", date(2024, 2, 29)),
    ("2024年10月前完成整改。", date(2024, 10, 31)),
    ("2024 年 12 月。", date(2024, 12, 31)),
    ("2024年底前", date(2024, 12, 31)),
    ("2024年年底", date(2024, 12, 31)),
    ("2024年", date(2024, 12, 31)),
    ("2024年上半年", date(2024, 6, 30)),
    ("2024年下半年", date(2024, 12, 31)),
    ("２０２４年９月底前", date(2024, 9, 30)),
])
def test_deadline_forms(text, expected):
    reading = nz.parse_deadline(text, FEEDBACK)
    assert (reading.day, reading.state) == (expected, "date")


def test_excel_dates_are_days():
    assert nz.parse_deadline(datetime(2024, 9, 30)).day == date(2024, 9, 30)
    assert nz.parse_deadline(date(2024, 9, 30)).state == "date"


@pytest.mark.parametrize("text,expected", [
    ("9月底前", date(2024, 9, 30)),
    ("12月", date(2024, 12, 31)),
    ("3月底前", date(2025, 3, 31)),  # before the feedback month: next year
    ("9月30日前", date(2024, 9, 30)),
])
def test_deadline_without_year_is_inferred_from_feedback(text, expected):
    reading = nz.parse_deadline(text, FEEDBACK)
    assert (reading.day, reading.state) == (expected, "inferred")


def test_deadline_without_year_and_without_feedback_date_is_bad():
    assert nz.parse_deadline("9月底前", None).state == "bad"


@pytest.mark.parametrize("text", ["长期坚持", "长期", "持续推进", "立行立改", "立行立改，长期坚持"])
def test_open_deadlines(text):
    assert nz.parse_deadline(text, FEEDBACK) == nz.DeadlineReading(None, "open")


@pytest.mark.parametrize("text", ["尽快", "2024年13月", "2024年2月30日", "下周", "9999"])
def test_unreadable_deadlines(text):
    assert nz.parse_deadline(text, FEEDBACK).state == "bad"


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_written_days_read_back(day):
    for text in (f"{day.year}年{day.month}月{day.day}日", f"{day:%Y-%m-%d}",
                 f"{day.year}/{day.month}/{day.day}", nz.format_cn_date(day) + "前完成整改。"):
        assert nz.parse_deadline(text) == nz.DeadlineReading(day, "date")


@given(st.text(max_size=25), st.none() | st.dates())
def test_deadline_parser_is_total(text, reference):
    reading = nz.parse_deadline(text, reference)
    assert reading.state in ("date", "inferred", "open", "empty", "bad")
    assert (reading.day is not None) == (reading.state in ("date", "inferred"))


def test_format_cn_date_has_no_leading_zeros():
    assert nz.format_cn_date(date(2024, 1, 5)) == "2024年1月5日"


# ---------------------------------------------------------------- amounts

@pytest.mark.parametrize("value,unit,expected", [
    (0.02, "", Decimal("0.02")),
    ("0.02", "", Decimal("0.02")),
    ("0.02万元", "", Decimal("0.02")),
    ("200元", "", Decimal("0.02")),
    ("200元", "万元", Decimal("0.02")),
    (200, "元", Decimal("0.02")),
    ("1,200", "元", Decimal("0.12")),
    ("3万", "", Decimal("3")),
    ("", "", Decimal("0")),
])
def test_amounts(value, unit, expected):
    assert nz.parse_amount(value, unit) == expected


@pytest.mark.parametrize("value", ["约两万", "0.02美元", "-5", "abc", True])
def test_bad_amounts(value):
    assert nz.parse_amount(value) is None


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False))
def test_amount_roundtrip(amount):
    assert nz.parse_amount(f"{amount}万元") == amount
    assert nz.parse_amount(f"{amount}元") == amount / 10000


# ---------------------------------------------------------------- headers and flags

@pytest.mark.parametrize("text,field", [
    ("整改状态", "status"), ("整改 状态", "status"), ("整改状态：", "status"),
    ("整改状态:", "status"), ("ＰＲＯＢＬＥＭ", None), ("具体问题", "problem"),
    ("问题描述", "problem"), ("追赃挽损（万元）", "recovered"), ("追赃挽损(元)", "recovered"),
    ("责任单位", "unit"), ("是否长期坚持", "long_term"), ("销号日期", "done_date"),
])
def test_header_matching(text, field):
    assert nz.match_header(text).field == field


def test_header_unit():
    assert nz.match_header("追赃挽损（元）").unit == "元"
    assert nz.match_header("追赃挽损（万元）").unit == "万元"


@pytest.mark.parametrize("field,synonyms", list(nz.LEDGER_FIELDS.items()))
def test_every_header_synonym(field, synonyms):
    for synonym in synonyms:
        assert nz.match_header(synonym).field == field
        assert nz.match_header(" " + synonym + "：").field == field


@pytest.mark.parametrize("value,expected", [
    ("是", True), ("√", True), ("Y", True), ("y", True), (1, True), ("TRUE", True), (True, True),
    ("否", False), ("", False), (None, False), (0, False), ("N", False), ("也许", None),
])
def test_flags(value, expected):
    assert nz.parse_flag(value) is expected


def test_cell_text_keeps_inner_line_breaks():
    assert nz.cell_text("  一是…\r\n二是…  ") == "一是…\n二是…"
    assert nz.cell_text(12.0) == "12"
