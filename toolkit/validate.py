"""Validate stage: a ``Ledger`` -> findings, each located by sheet and cell."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from . import normalize as nz
from .codes import Code
from .duplicates import find_duplicates
from .model import (
    DONE,
    ERROR,
    IN_PROGRESS,
    SEVERITY_CN,
    WARNING,
    Finding,
    Ledger,
    Meta,
    Problem,
    Report,
)
from .normalize import META_LABELS, is_overdue

__all__ = ["EXPECTED_META", "SEVERITY_CN", "is_overdue", "report_to_dict",
           "unusable_to_dict", "validate"]

# Meta keys whose absence leaves a visible part of the notice out.
EXPECTED_META = ("issuer", "unit", "basis", "group", "start_date", "end_date", "feedback_date",
                 "as_of", "issue_date", "organisation", "next_steps")


class _RowFindings:
    """Builds the findings of one ledger's rows: sheet, cell and column come from the row."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.found: list[Finding] = []

    def cell(self, problem: Problem, field: str) -> str:
        return problem.cells.get(field, f"A{problem.row}")

    def add(self, code: Code, severity: str, problem: Problem, field: str, message: str,
            value: str = "", hint: str = "") -> None:
        self.found.append(Finding(
            code=code, severity=severity, sheet=self.ledger.sheet, cell=self.cell(problem, field),
            column=self.ledger.headers.get(field, ""), value=value, message=message, hint=hint))


def validate(ledger: Ledger, today: date | None = None) -> tuple[Finding, ...]:
    """All findings for the ledger: those found while reading, then row and meta checks."""
    as_of = nz.as_of_date(ledger.meta.as_of, today)
    rows = _RowFindings(ledger)
    if not ledger.problems and "problem" in ledger.columns:
        rows.found.append(Finding(
            code=Code.NO_PROBLEMS, severity=ERROR, sheet=ledger.sheet,
            cell=f"{ledger.columns['problem']}{ledger.header_row + 1}",
            column=ledger.headers.get("problem", ""), value="",
            message="台账中没有任何问题：请在表头下方逐行填写巡察反馈的问题，再生成通报"))
    recovered_unit = nz.match_header(ledger.headers.get("recovered", "")).unit
    for p in ledger.problems:
        _check_row(rows, p, as_of, recovered_unit)
    _check_duplicates(rows)
    _check_numbers(rows)
    findings = _read_findings(ledger) + rows.found
    if ledger.formulas_unverified:
        findings.extend(_unverified_formulas(ledger))
    findings.extend(_meta_findings(ledger, as_of, today or date.today()))
    return tuple(findings)


def _check_row(rows: _RowFindings, p: Problem, as_of: date, recovered_unit: str) -> None:
    if not p.problem and "problem" in rows.ledger.columns:  # a missing column is one error
        rows.add(Code.MISSING_PROBLEM, ERROR, p, "problem", "具体问题为空：每一行都要写明问题内容")
    if "status" in rows.ledger.columns and p.status_state == "empty":
        rows.add(Code.MISSING_STATUS, ERROR, p, "status",
                 "整改状态为空：请填写 已完成、正在整改 或 未完成")
    elif p.status_state == "bad":
        hint = nz.closest_status(nz.status_key(p.status_text))
        rows.add(Code.UNKNOWN_STATUS, ERROR, p, "status",
                 f"整改状态“{p.status_text}”无法识别，是否应为“{hint}”？可填 已完成、正在整改、未完成",
                 p.status_text, hint)
    elif p.status_state == "legacy_long_term":
        rows.add(Code.LEGACY_LONG_TERM, WARNING, p, "status",
                 f"整改状态写成了“{p.status_text}”，已按“正在整改”并标记长期坚持统计；"
                 "建议状态填“正在整改”，并在“长期坚持”列填“是”", p.status_text, IN_PROGRESS)
    if p.recovered_text and p.recovered_wan is None:
        if nz.amount_out_of_range(p.recovered_text, recovered_unit):
            rows.add(Code.AMOUNT_OUT_OF_RANGE, ERROR, p, "recovered",
                     f"追赃挽损金额“{p.recovered_text}”超出合理范围（应为 0 至 "
                     f"{nz.MAX_AMOUNT_WAN:f} 万元之间的数），请核对", p.recovered_text)
        else:
            rows.add(Code.BAD_AMOUNT, ERROR, p, "recovered",
                     f"追赃挽损金额“{p.recovered_text}”无法识别，请填写数字（如 0.02 或 200元）",
                     p.recovered_text)
    if p.deadline_state == "bad":
        rows.add(Code.BAD_DEADLINE, WARNING, p, "deadline",
                 f"整改时限“{p.deadline_text}”无法识别为日期（如 2024年9月底前），不计入逾期统计",
                 p.deadline_text)
    elif p.deadline_state == "inferred" and p.deadline is not None:
        rows.add(Code.INFERRED_YEAR, WARNING, p, "deadline",
                 f"整改时限“{p.deadline_text}”没有写年份，按反馈日期推定为"
                 f"{nz.format_cn_date(p.deadline)}", p.deadline_text)
    if p.status == DONE and not p.progress and "progress" in rows.ledger.columns:
        rows.add(Code.DONE_WITHOUT_PROGRESS, WARNING, p, "progress",
                 "状态为已完成，但整改进展为空：通报中将没有整改过程")
    if p.done_date is not None and p.done_date > as_of:
        rows.add(Code.DONE_AFTER_AS_OF, WARNING, p, "done_date",
                 f"完成日期 {nz.format_cn_date(p.done_date)} 晚于统计截止日期 "
                 f"{nz.format_cn_date(as_of)}：是否忘了更新通报信息中的统计截止日期？",
                 p.done_date_text)
    if is_overdue(p, as_of):
        assert p.deadline is not None  # is_overdue says so
        days = (as_of - p.deadline).days
        rows.add(Code.OVERDUE, WARNING, p, "deadline",
                 f"已逾期 {days} 天：整改时限 {nz.format_cn_date(p.deadline)}，"
                 f"截至 {nz.format_cn_date(as_of)} 仍为“{p.status}”", p.deadline_text)


def _check_duplicates(rows: _RowFindings) -> None:
    """The same problem twice is an error naming both cells; a near copy is a warning."""
    sheet = rows.ledger.sheet
    for dup in find_duplicates(rows.ledger.problems):
        first = f"{sheet}!{rows.cell(dup.earlier, 'problem')}"
        if dup.exact:
            rows.add(Code.DUPLICATE_PROBLEM, ERROR, dup.later, "problem",
                     f"与 {first}（第 {dup.earlier.row} 行）的具体问题相同：同一问题填了两行？"
                     "请删除重复的一行，否则问题数会多算", dup.later.problem, first)
        else:
            rows.add(Code.SIMILAR_PROBLEM, WARNING, dup.later, "problem",
                     f"与同一类别中 {first}（第 {dup.earlier.row} 行）的具体问题高度相似"
                     f"（相似度 {dup.similarity:.0%}）：是否重复填写？", dup.later.problem, first)


def _check_numbers(rows: _RowFindings) -> None:
    """序号 run 1, 2, 3 … over the ledger, or restart under each category (1, 2 under each 方面);
    duplicates and gaps are looked for within what the numbering runs over."""
    by_category: dict[str, dict[str, list[Problem]]] = defaultdict(lambda: defaultdict(list))
    for p in rows.ledger.problems:
        if p.number:
            by_category[p.category][p.number].append(p)
    restarts = sum(1 for numbers in by_category.values()
                   if any(n.isdecimal() and len(n) < 4 and int(n) == 1 for n in numbers))
    if len(by_category) > 1 and restarts > 1:
        for category, numbers in by_category.items():
            _check_number_run(rows, numbers, category)
    else:
        merged: dict[str, list[Problem]] = defaultdict(list)
        for numbers in by_category.values():
            for number, problems in numbers.items():
                merged[number].extend(problems)
        for problems in merged.values():
            problems.sort(key=lambda p: p.seq)
        _check_number_run(rows, dict(sorted(merged.items(), key=lambda kv: kv[1][0].seq)), None)


def _check_number_run(rows: _RowFindings, numbers: dict[str, list[Problem]],
                      category: str | None) -> None:
    within = f"在“{category or '（未分类）'}”中" if category is not None else ""
    for number, problems in numbers.items():
        for duplicate in problems[1:]:
            rows.add(Code.DUPLICATE_NUMBER, ERROR, duplicate, "number",
                     f"序号“{number}”{within}与第 {problems[0].row} 行重复", number)
    gap = _number_gap(numbers)
    if gap is not None:
        first_after_gap, shown = gap
        rows.add(Code.NUMBER_GAP, WARNING, first_after_gap, "number",
                 f"序号{within}不连续，缺少 {shown}：是否有问题被删除？", first_after_gap.number)


def _number_gap(numbers: dict[str, list[Problem]]) -> tuple[Problem, str] | None:
    """The first row after a hole in the integer 序号 and the missing numbers as text."""
    ints = {}
    for number, problems in numbers.items():
        # isdecimal, not isdigit: int() refuses "²"; and a 序号 such as 20240930 or a
        # 4,300-digit one must not make the gaps below a range of billions (or a ValueError).
        if number.isdecimal() and len(number) <= 18:
            ints[int(number)] = problems[0]
    if len(ints) < 2:
        return None
    present = sorted(ints)
    missing_count = present[-1] - present[0] + 1 - len(present)
    if not missing_count:
        return None
    missing: list[int] = []  # the first eleven missing numbers are all the message needs
    first_after_gap = ints[present[-1]]
    found_gap = False
    for low, high in pairwise(present):
        if high > low + 1 and not found_gap:
            first_after_gap, found_gap = ints[high], True
        missing.extend(range(low + 1, min(high, low + 1 + 11 - len(missing))))
        if len(missing) >= 11:
            break
    shown = "、".join(str(n) for n in missing[:10]) + ("等" if missing_count > 10 else "")
    return first_after_gap, shown


def _unverified_formulas(ledger: Ledger) -> list[Finding]:
    # Tools that do not calculate (xlsxwriter, scripts) store 0 or nothing as the result and ask
    # Excel to recalculate on open; the values read here were never checked by a spreadsheet.
    cells = [cell for p in ledger.problems for cell in p.formula_cells]
    if not cells:
        return []
    more = f" 等 {len(cells)} 个" if len(cells) > 1 else ""
    return [Finding(
        code=Code.FORMULA_UNVERIFIED, severity=WARNING, sheet=ledger.sheet, cell=cells[0],
        column="", value="",
        message=f"{cells[0]}{more}公式单元格的结果未经校验（文件由不计算公式的工具生成）；"
                "请在 Excel/WPS 中打开并保存一次")]


def _read_findings(ledger: Ledger) -> list[Finding]:
    """The reader's findings; an unreadable 统计截止日期 also says what is used instead."""
    found = list(ledger.findings)
    as_of_cell = ledger.meta.cells.get("as_of")
    if ledger.meta.as_of is None and as_of_cell:
        for i, f in enumerate(found):
            if f.code == Code.BAD_META_DATE and f.sheet == ledger.meta.sheet and f.cell == as_of_cell:
                found[i] = replace(f, message=f.message + "；统计截止日期按今天计算")
    return found


def _meta_findings(ledger: Ledger, as_of: date, today: date) -> list[Finding]:
    meta = ledger.meta
    if not meta.sheet:
        return [Finding(code=Code.MISSING_META_SHEET, severity=WARNING, sheet="", cell="",
                        column="", value="",
                        message="没有“通报信息”工作表：通报的标题、开头和落款将缺少相应内容")]
    findings = []
    for key in EXPECTED_META:
        # A key written but unreadable (a date that is not a date) has its own finding already.
        if getattr(meta, key) in (None, ()) and key not in meta.cells:
            findings.append(Finding(
                code=Code.MISSING_META, severity=WARNING, sheet=meta.sheet, cell="", column="项目",
                value=META_LABELS[key],
                message=f"通报信息缺少“{META_LABELS[key]}”：通报中相应内容将省略"
                        + ("，统计截止日期按今天计算" if key == "as_of" else "")))
    findings.extend(_kind_findings(meta))
    findings.extend(_meta_date_findings(ledger, today))
    return findings


def _meta_date_findings(ledger: Ledger, today: date) -> list[Finding]:
    """A 统计截止日期 that cannot be true: in the future, or before the 反馈日期."""
    meta = ledger.meta
    if meta.as_of is None:
        return []
    label, cn, as_of = META_LABELS["as_of"], nz.format_cn_date, meta.as_of

    def finding(code: Code, message: str) -> Finding:
        return Finding(code=code, severity=WARNING, sheet=meta.sheet,
                       cell=meta.cells.get("as_of", ""), column="内容", value=cn(as_of),
                       message=message)

    findings = []
    if as_of > today:
        findings.append(finding(Code.AS_OF_IN_FUTURE, (
            f"{label} {cn(as_of)} 晚于今天（{cn(today)}）：逾期等统计按这一天计算，请核对")))
    if meta.feedback_date is not None and as_of < meta.feedback_date:
        findings.append(finding(Code.AS_OF_BEFORE_FEEDBACK, (
            f"{label} {cn(as_of)} 早于{META_LABELS['feedback_date']} "
            f"{cn(meta.feedback_date)}：巡察反馈之前不会有整改进展，请核对")))
    return findings


# ---------------------------------------------------------------- JSON shape of `check --json`

def report_to_dict(report: Report, file: Path | str) -> dict[str, Any]:
    """One ledger's entry of ``toolkit check --json``."""
    return {"file": str(file), "usable": True, "message": "",
            "errors": len(report.errors), "warnings": len(report.warnings),
            "findings": [f.to_dict() for f in report.findings]}


def unusable_to_dict(file: Path | str, message: str) -> dict[str, Any]:
    """The entry of ``toolkit check --json`` for a file that could not be read at all."""
    return {"file": str(file), "usable": False, "message": message,
            "errors": None, "warnings": None, "findings": []}


def _kind_findings(meta: Meta) -> list[Finding]:
    """通报类型 read as ``render`` reads it (``normalize.parse_kind``): a near form is used with
    a warning, a value that names no kind is an error (render would refuse it too)."""
    kind = nz.parse_kind(meta.kind)
    if kind is None or kind.exact:
        return []
    cell = meta.cells.get("kind", "")
    if kind.kind is None:
        return [Finding(code=Code.BAD_KIND, severity=ERROR, sheet=meta.sheet, cell=cell, column="内容",
                        value=meta.kind or "",
                        message=f"通报类型“{meta.kind}”无法识别，请填 阶段性进展 或 集中整改进展")]
    return [Finding(code=Code.NEAR_KIND, severity=WARNING, sheet=meta.sheet, cell=cell, column="内容",
                    value=meta.kind or "", hint=kind.kind,
                    message=f"通报类型“{meta.kind}”按“{kind.kind}”处理（标准写法：{kind.kind}）")]
