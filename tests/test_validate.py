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


# ---------------------------------------------------------------- issue 11.4: dates that cannot be true

DATED_HEADER = ["序号", "问题类别", "具体问题", "整改状态", "完成日期"]


def test_done_date_after_the_cut_off_names_the_cell_and_both_dates(tmp_path):
    rows = [[1, "类", "问题甲", "已完成", "2024年11月5日"], [2, "类", "问题乙", "已完成", "2024-10-30"],
            [3, "类", "问题丙", "已完成", date(2024, 12, 1)]]
    found = only(findings(tmp_path, rows, header=DATED_HEADER), "done_after_as_of")
    assert [(f.severity, f.cell) for f in found] == [("warning", "E2"), ("warning", "E4")]
    assert "2024年11月5日" in found[0].message and "2024年10月30日" in found[0].message
    assert found[0].column == "完成日期"


def test_cut_off_in_the_future_is_a_warning(tmp_path):
    meta = dict(META, 统计截止日期="2024-12-31")
    f, = only(findings(tmp_path, meta=meta), "as_of_in_future")
    assert (f.severity, f.sheet, f.cell) == ("warning", "通报信息", "B9")
    assert "2024年12月31日" in f.message and "2024年10月30日" in f.message


def test_cut_off_before_the_feedback_is_a_warning(tmp_path):
    meta = dict(META, 统计截止日期="2024-06-30")
    f, = only(findings(tmp_path, meta=meta), "as_of_before_feedback")
    assert f.cell == "B9" and "2024年6月30日" in f.message and "2024年7月10日" in f.message
    assert "as_of_in_future" not in {g.code for g in findings(tmp_path, meta=meta)}


def test_plausible_dates_give_no_date_warning(tmp_path):
    codes = {f.code for f in findings(tmp_path)}
    assert not codes & {"as_of_in_future", "as_of_before_feedback", "done_after_as_of"}


@pytest.mark.parametrize("key", ["反馈日期", "统计截止日期", "成文日期"])
def test_an_unreadable_meta_date_is_one_finding_not_two(tmp_path, key):
    meta = dict(META, **{key: "二〇二四年七月"})
    found = [f for f in findings(tmp_path, meta=meta) if key in f.value or key in f.message]
    assert [f.code for f in found] == ["bad_meta_date"]
    if key == "统计截止日期":
        assert "按今天计算" in found[0].message


# ---------------------------------------------------------------- issue 11.5: numbering per category

def test_numbering_per_category_is_accepted(tmp_path):
    rows = [row(1, "甲类", "问题一", "已完成"), row(2, "甲类", "问题二", "已完成"),
            row(1, "乙类", "问题三", "已完成"), row(2, "乙类", "问题四", "已完成"),
            row(3, "乙类", "问题五", "已完成")]
    codes = {f.code for f in findings(tmp_path, rows)}
    assert not codes & {"duplicate_number", "number_gap"}


def test_numbering_per_category_checks_within_the_category(tmp_path):
    rows = [row(1, "甲类", "问题一", "已完成"), row(2, "甲类", "问题二", "已完成"),
            row(2, "甲类", "问题三", "已完成"),
            row(1, "乙类", "问题四", "已完成"), row(3, "乙类", "问题五", "已完成")]
    found = findings(tmp_path, rows)
    dup, = only(found, "duplicate_number")
    assert (dup.cell, dup.severity) == ("A4", "error") and "甲类" in dup.message
    gap, = only(found, "number_gap")
    assert gap.cell == "A6" and "乙类" in gap.message and "缺少 2" in gap.message


def test_numbering_across_the_ledger_still_checks_the_whole_run(tmp_path):
    rows = [row(1, "甲类", "问题一", "已完成"), row(2, "甲类", "问题二", "已完成"),
            row(3, "乙类", "问题三", "已完成"), row(3, "乙类", "问题四", "已完成"),
            row(6, "乙类", "问题五", "已完成")]
    found = findings(tmp_path, rows)
    assert only(found, "duplicate_number")[0].cell == "A5"
    assert "4、5" in only(found, "number_gap")[0].message


def test_the_notice_keeps_its_own_numbering(tmp_path):
    from toolkit.render import build_context

    rows = [row(1, "甲类", "问题一", "已完成"), row(2, "甲类", "问题二", "已完成"),
            row(1, "乙类", "问题三", "已完成"), row(2, "乙类", "问题四", "已完成")]
    report = analyse(write_ledger(tmp_path / "a.xlsx", rows), TODAY)
    assert report.ok
    ctx = build_context(report, "集中整改进展")
    numbered = [(p["no"], p["ledger_number"], p["text"]) for p in ctx["problems"]]
    assert numbered == [(1, "1", "问题一"), (2, "2", "问题二"), (3, "1", "问题三"), (4, "2", "问题四")]


# ---------------------------------------------------------------- issue 12.3: no problems

def test_a_ledger_without_problems_is_an_error(tmp_path):
    report = analyse(write_ledger(tmp_path / "a.xlsx", []), TODAY)
    f, = only(report.findings, "no_problems")
    assert (f.severity, f.sheet, f.cell) == ("error", "整改台账", "C2")
    assert "没有任何问题" in f.message and not report.ok


# ---------------------------------------------------------------- findings are built by keyword

def test_findings_in_validate_are_built_with_keywords_only():
    import ast
    import inspect

    import toolkit.validate as module

    tree = ast.parse(inspect.getsource(module))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, "id", None) == "Finding"]
    assert calls and all(not c.args for c in calls)


def test_check_json_shape_comes_from_the_library(tmp_path):
    from toolkit.validate import report_to_dict, unusable_to_dict

    path = write_ledger(tmp_path / "a.xlsx")
    data = report_to_dict(analyse(path, TODAY), path)
    assert set(data) == {"file", "usable", "message", "errors", "warnings", "findings"}
    assert data["usable"] and data["errors"] == 0 and data["findings"][0]["code"] == "overdue"
    assert unusable_to_dict(path, "坏了") == {"file": str(path), "usable": False, "message": "坏了",
                                             "errors": None, "warnings": None, "findings": []}


def test_numbering_per_category_with_full_width_or_padded_numbers(tmp_path):
    rows = [row("１", "甲类", "问题一", "已完成"), row("２", "甲类", "问题二", "已完成"),
            row("１", "乙类", "问题三", "已完成"), row("２", "乙类", "问题四", "已完成"),
            row("01", "丙类", "问题五", "已完成"), row("02", "丙类", "问题六", "已完成")]
    codes = {f.code for f in findings(tmp_path, rows)}
    assert not codes & {"duplicate_number", "number_gap"}
