"""Validate stage: a ``Ledger`` -> findings, each located by sheet and cell."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from . import normalize as nz
from .model import DONE, ERROR, IN_PROGRESS, NOT_DONE, WARNING, Finding, Ledger, Problem
from .read import META_LABELS

# Meta keys whose absence leaves a visible part of the notice out.
EXPECTED_META = ("issuer", "unit", "basis", "group", "start_date", "end_date", "feedback_date",
                 "as_of", "issue_date", "organisation", "next_steps")


def is_overdue(problem: Problem, as_of: date) -> bool:
    return (problem.status in (IN_PROGRESS, NOT_DONE) and not problem.long_term
            and problem.deadline is not None and problem.deadline < as_of)


def as_of_date(ledger: Ledger, today: date | None = None) -> date:
    """统计截止日期, or today when the meta sheet does not give one."""
    return ledger.meta.as_of or today or date.today()


def validate(ledger: Ledger, today: date | None = None) -> tuple[Finding, ...]:
    """All findings for the ledger: those found while reading, then row and meta checks."""
    findings = list(ledger.findings)
    as_of = as_of_date(ledger, today)
    sheet = ledger.sheet

    def finding(code: str, severity: str, problem: Problem, field: str, message: str,
                value: str = "", hint: str = "") -> Finding:
        return Finding(code, severity, sheet, problem.cells.get(field, f"A{problem.row}"),
                       ledger.headers.get(field, ""), value, message, hint)

    has_status = "status" in ledger.columns
    numbers: dict[str, list[Problem]] = defaultdict(list)
    for p in ledger.problems:
        if not p.problem:
            findings.append(finding("missing_problem", ERROR, p, "problem",
                                    "具体问题为空：每一行都要写明问题内容"))
        if has_status and p.status_state == "empty":
            findings.append(finding("missing_status", ERROR, p, "status",
                                    "整改状态为空：请填写 已完成、正在整改 或 未完成"))
        elif p.status_state == "bad":
            hint = nz.closest_status(nz.status_key(p.status_text))
            findings.append(finding(
                "unknown_status", ERROR, p, "status",
                f"整改状态“{p.status_text}”无法识别，是否应为“{hint}”？可填 已完成、正在整改、未完成",
                p.status_text, hint))
        elif p.status_state == "legacy_long_term":
            findings.append(finding(
                "legacy_long_term", WARNING, p, "status",
                f"整改状态写成了“{p.status_text}”，已按“正在整改”并标记长期坚持统计；"
                "建议状态填“正在整改”，并在“长期坚持”列填“是”", p.status_text, IN_PROGRESS))
        if p.recovered_text and p.recovered_wan is None:
            findings.append(finding(
                "bad_amount", ERROR, p, "recovered",
                f"追赃挽损金额“{p.recovered_text}”无法识别，请填写数字（如 0.02 或 200元）",
                p.recovered_text))
        if p.deadline_state == "bad":
            findings.append(finding(
                "bad_deadline", WARNING, p, "deadline",
                f"整改时限“{p.deadline_text}”无法识别为日期（如 2024年9月底前），不计入逾期统计",
                p.deadline_text))
        elif p.deadline_state == "inferred" and p.deadline is not None:
            findings.append(finding(
                "inferred_year", WARNING, p, "deadline",
                f"整改时限“{p.deadline_text}”没有写年份，按反馈日期推定为"
                f"{nz.format_cn_date(p.deadline)}", p.deadline_text))
        if p.status == DONE and not p.progress and "progress" in ledger.columns:
            findings.append(finding(
                "done_without_progress", WARNING, p, "progress",
                "状态为已完成，但整改进展为空：通报中将没有整改过程"))
        if is_overdue(p, as_of):
            days = (as_of - p.deadline).days
            findings.append(finding(
                "overdue", WARNING, p, "deadline",
                f"已逾期 {days} 天：整改时限 {nz.format_cn_date(p.deadline)}，"
                f"截至 {nz.format_cn_date(as_of)} 仍为“{p.status}”", p.deadline_text))
        if p.number:
            numbers[p.number].append(p)

    for number, rows in numbers.items():
        for duplicate in rows[1:]:
            findings.append(finding(
                "duplicate_number", ERROR, duplicate, "number",
                f"序号“{number}”与第 {rows[0].row} 行重复", number))
    findings.extend(_number_gaps(ledger, numbers))
    if ledger.formulas_unverified:
        findings.extend(_unverified_formulas(ledger))
    findings.extend(_meta_findings(ledger))
    return tuple(findings)


def _number_gaps(ledger: Ledger, numbers: dict[str, list[Problem]]) -> list[Finding]:
    """序号 that are plain integers should run 1, 2, 3 … without holes."""
    ints = {}
    for number, rows in numbers.items():
        # isdecimal, not isdigit: int() refuses "²"; and a 序号 such as 20240930 or a
        # 4,300-digit one must not make the gaps below a range of billions (or a ValueError).
        if number.isdecimal() and len(number) <= 18:
            ints[int(number)] = rows[0]
    if len(ints) < 2:
        return []
    present = sorted(ints)
    missing_count = present[-1] - present[0] + 1 - len(present)
    if not missing_count:
        return []
    missing: list[int] = []  # the first eleven missing numbers are all the message needs
    first_after_gap = None
    for low, high in zip(present, present[1:]):
        if high > low + 1 and first_after_gap is None:
            first_after_gap = ints[high]
        missing.extend(range(low + 1, min(high, low + 1 + 11 - len(missing))))
        if len(missing) >= 11:
            break
    shown = "、".join(str(n) for n in missing[:10]) + ("等" if missing_count > 10 else "")
    after = ints[present[-1]]
    return [Finding(
        "number_gap", WARNING, ledger.sheet, first_after_gap.cells.get("number", f"A{after.row}"),
        ledger.headers.get("number", ""), first_after_gap.number,
        f"序号不连续，缺少 {shown}：是否有问题被删除？")]


def _unverified_formulas(ledger: Ledger) -> list[Finding]:
    # Tools that do not calculate (xlsxwriter, scripts) store 0 or nothing as the result and ask
    # Excel to recalculate on open; the values read here were never checked by a spreadsheet.
    cells = [cell for p in ledger.problems for cell in p.formula_cells]
    if not cells:
        return []
    more = f" 等 {len(cells)} 个" if len(cells) > 1 else ""
    return [Finding(
        "formula_unverified", WARNING, ledger.sheet, cells[0], "", "",
        f"{cells[0]}{more}公式单元格的结果未经校验（文件由不计算公式的工具生成）；"
        "请在 Excel/WPS 中打开并保存一次")]


def _meta_findings(ledger: Ledger) -> list[Finding]:
    meta = ledger.meta
    if not meta.sheet:
        return [Finding("missing_meta_sheet", WARNING, "", "", "", "",
                        "没有“通报信息”工作表：通报的标题、开头和落款将缺少相应内容")]
    findings = []
    for key in EXPECTED_META:
        value = getattr(meta, key)
        if value in (None, ()):
            findings.append(Finding(
                "missing_meta", WARNING, meta.sheet, "", "项目", META_LABELS[key],
                f"通报信息缺少“{META_LABELS[key]}”：通报中相应内容将省略"
                + ("，统计截止日期按今天计算" if key == "as_of" else "")))
    kind = nz.parse_kind(meta.kind)
    if kind is not None and not kind.exact:
        cell = meta.cells.get("kind", "")
        if kind.kind is None:
            findings.append(Finding(
                code="bad_kind", severity=ERROR, sheet=meta.sheet, cell=cell, column="内容",
                value=meta.kind, message=f"通报类型“{meta.kind}”无法识别，请填 阶段性进展 或 集中整改进展"))
        else:
            findings.append(Finding(
                code="near_kind", severity=WARNING, sheet=meta.sheet, cell=cell, column="内容",
                value=meta.kind, message=f"通报类型“{meta.kind}”按“{kind.kind}”处理（标准写法：{kind.kind}）",
                hint=kind.kind))
    return findings
