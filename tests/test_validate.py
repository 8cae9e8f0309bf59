from datetime import date

import pytest

from ledger_factory import META, default_rows, row, write_ledger
from toolkit.pipeline import analyse

TODAY = date(2024, 10, 30)


def findings(tmp_path, rows=None, **kwargs):
    report = analyse(write_ledger(tmp_path / "a.xlsx", rows, **kwargs), TODAY)
    return report.findings


def only(found, code):
    hits = [f for f in found if f.code == code]
    assert hits, f"no {code} in {[f.code for f in found]}"
    return hits


def test_clean_ledger_has_only_the_expected_warning(tmp_path):
    assert [f.code for f in findings(tmp_path)] == ["overdue"]


def test_missing_problem_text_is_an_error_naming_the_cell(tmp_path):
    f, = only(findings(tmp_path, [row(1, "类", None, "已完成")]), "missing_problem")
    assert (f.severity, f.sheet, f.cell, f.column) == ("error", "整改台账", "C2", "具体问题")
    assert "具体问题" in f.message


def test_missing_status(tmp_path):
    f, = only(findings(tmp_path, [row(1, "类", "问题", None)]), "missing_status")
    assert (f.severity, f.cell) == ("error", "I2")


def test_unknown_status_names_value_and_closest(tmp_path):
    f, = only(findings(tmp_path, [row(1, "类", "问题", "已完城")]), "unknown_status")
    assert (f.severity, f.cell, f.value, f.hint) == ("error", "I2", "已完城", "已完成")
    assert "已完城" in f.message and "已完成" in f.message


def test_duplicate_number(tmp_path):
    rows = [row(1, "类", "甲", "已完成"), row(1, "类", "乙", "已完成")]
    f, = only(findings(tmp_path, rows), "duplicate_number")
    assert (f.severity, f.cell) == ("error", "A3")


def test_bad_amount(tmp_path):
    f, = only(findings(tmp_path, [row(1, "类", "问题", "已完成", recovered="约两万")]), "bad_amount")
    assert (f.severity, f.cell, f.value) == ("error", "L2", "约两万")


def test_overdue(tmp_path):
    rows = [row(1, "类", "问题", "正在整改", deadline="2024年9月底前"),
            row(2, "类", "长期的", "正在整改", deadline="2024年9月底前", long_term="是"),
            row(3, "类", "完成的", "已完成", deadline="2024年9月底前")]
    f, = only(findings(tmp_path, rows), "overdue")
    assert (f.severity, f.cell) == ("warning", "G2") and "30 天" in f.message


def test_unparsed_deadline_and_inferred_year(tmp_path):
    rows = [row(1, "类", "甲", "已完成", deadline="尽快"), row(2, "类", "乙", "已完成", deadline="9月底前")]
    found = findings(tmp_path, rows)
    assert only(found, "bad_deadline")[0].cell == "G2"
    inferred, = only(found, "inferred_year")
    assert inferred.cell == "G3" and "2024年9月30日" in inferred.message


def test_done_without_progress(tmp_path):
    f, = only(findings(tmp_path, [row(1, "类", "问题", "已完成", progress=None)]), "done_without_progress")
    assert (f.severity, f.cell) == ("warning", "H2")


def test_legacy_long_term_status_is_a_warning_suggesting_the_column(tmp_path):
    f, = only(findings(tmp_path, [row(1, "类", "问题", "长期坚持", deadline="长期坚持")]),
              "legacy_long_term")
    assert f.severity == "warning" and "长期坚持" in f.message and f.hint == "正在整改"


def test_number_gaps(tmp_path):
    rows = [row(1, "类", "甲", "已完成"), row(2, "类", "乙", "已完成"), row(5, "类", "丙", "已完成")]
    f, = only(findings(tmp_path, rows), "number_gap")
    assert f.cell == "A4" and "3、4" in f.message


def test_formula_without_cache(tmp_path):
    rows = default_rows()
    rows[2][0] = "=1+2"
    assert only(findings(tmp_path, rows), "formula_no_cache")[0].cell == "A4"


def test_missing_meta_keys_are_warnings(tmp_path):
    meta = dict(META)
    del meta["发文机关"], meta["统计截止日期"]
    found = only(findings(tmp_path, meta=meta), "missing_meta")
    assert {f.value for f in found} == {"发文机关", "统计截止日期"}
    assert all(f.severity == "warning" for f in found)


def test_missing_meta_sheet_is_one_warning(tmp_path):
    f, = only(findings(tmp_path, meta=None), "missing_meta_sheet")
    assert f.severity == "warning"


def test_missing_status_column_is_one_error(tmp_path):
    header = ["序号", "问题类别", "具体问题", "整改措施", "责任领导", "责任部门", "整改时限", "整改进展",
              "某列", "长期坚持", "点人点事", "追赃挽损（万元）"]
    found = findings(tmp_path, header=header)
    assert len(only(found, "missing_column")) == 1
    assert not [f for f in found if f.code == "missing_status"]


@pytest.mark.parametrize("code", ["missing_problem", "missing_status", "unknown_status",
                                  "duplicate_number", "bad_amount"])
def test_errors_block_the_report(tmp_path, code):
    rows = {
        "missing_problem": [row(1, "类", None, "已完成")],
        "missing_status": [row(1, "类", "问题", None)],
        "unknown_status": [row(1, "类", "问题", "好了")],
        "duplicate_number": [row(1, "类", "甲", "已完成"), row(1, "类", "乙", "已完成")],
        "bad_amount": [row(1, "类", "问题", "已完成", recovered="很多")],
    }[code]
    report = analyse(write_ledger(tmp_path / "a.xlsx", rows), TODAY)
    assert not report.ok and code in {f.code for f in report.errors}
