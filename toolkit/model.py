"""Plain data passed between the pipeline stages: read -> validate -> count -> render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

# Canonical statuses; together they partition the problems.
DONE = "已完成"
IN_PROGRESS = "正在整改"
NOT_DONE = "未完成"
STATUSES = (DONE, IN_PROGRESS, NOT_DONE)

ERROR = "error"
WARNING = "warning"
INFO = "info"

# Notice kinds (通报类型).
KIND_STAGE = "阶段性进展"
KIND_CENTRAL = "集中整改进展"
KINDS = (KIND_STAGE, KIND_CENTRAL)


@dataclass(frozen=True)
class Finding:
    """One validation finding, located by sheet and cell (like frictionless' CellError)."""

    code: str
    severity: str  # ERROR | WARNING | INFO
    sheet: str
    cell: str  # e.g. "I12"; "" when the finding is about the whole sheet or file
    column: str  # the header text of the column, "" when not about a column
    value: str  # the offending value as text, "" when none
    message: str  # Chinese, for the clerk
    hint: str = ""  # e.g. the closest accepted status

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "sheet": self.sheet,
            "cell": self.cell,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class Problem:
    """One problem row of the ledger, normalised; raw texts are kept for validation."""

    row: int  # worksheet row number
    seq: int  # 1-based position among the problems
    number: str  # 序号 as written ("" when absent)
    category: str
    subcategory: str
    problem: str
    measures: str
    leader: str
    unit: str
    deadline_text: str
    deadline: date | None
    deadline_state: str  # see normalize.parse_deadline: "date", "inferred", "open", "empty", "bad"
    progress: str
    status_text: str  # raw text of the status cell
    status: str  # one of STATUSES, or "" when missing / not recognised
    status_state: str  # see normalize.parse_status: "ok", "legacy_long_term", "empty", "bad"
    long_term: bool
    flagged: bool
    done_date: date | None
    done_date_text: str
    recovered_text: str
    recovered_wan: Decimal | None
    evidence: str
    remarks: str
    extras: tuple[tuple[str, str], ...] = ()
    cells: dict[str, str] = field(default_factory=dict)  # field name -> cell reference
    formula_cells: tuple[str, ...] = ()  # cells of this row that hold formulas


@dataclass(frozen=True)
class Meta:
    """The 通报信息 sheet. Missing keys are None / empty tuples."""

    issuer: str | None = None  # 发文机关
    unit: str | None = None  # 被巡察单位
    basis: str | None = None  # 部署依据
    group: str | None = None  # 巡察组
    start_date: date | None = None
    end_date: date | None = None
    feedback_date: date | None = None
    as_of: date | None = None  # 统计截止日期
    issue_date: date | None = None  # 成文日期
    kind: str | None = None  # 通报类型
    organisation: tuple[str, ...] = ()  # 整改组织情况
    long_term_measures: tuple[str, ...] = ()  # 长期整改举措
    next_steps: tuple[str, ...] = ()  # 下一步工作安排
    phone: str | None = None
    address: str | None = None
    email: str | None = None
    sheet: str = ""  # "" when the workbook has no meta sheet
    cells: dict[str, str] = field(default_factory=dict)  # key -> cell of its value
    # 版头, 落款 and 版记 (GB/T 9704 §7.2–7.4), house-style overrides; all optional.
    doc_number: str | None = None  # 发文字号: with it the notice gets a 版头
    issuer_mark: str | None = None  # 发文机关标志 (default: 发文机关 + 文件)
    signer: str | None = None  # 签发人 (上行文)
    seal: str | None = None  # 印章: 是/否
    cc: str | None = None  # 抄送
    printer: str | None = None  # 印发机关
    print_date: str | None = None  # 印发日期, as written
    drafter: str | None = None  # 起草人: the document's author
    title: str | None = None  # 标题: replaces the generated title
    number_format: str | None = None  # 序号格式: 1． (default) or 1. 1、 （1）
    heading_organisation: str | None = None
    heading_progress: str | None = None
    heading_flagged: str | None = None
    heading_completed: str | None = None
    heading_long_term: str | None = None
    heading_next_steps: str | None = None


@dataclass(frozen=True)
class Ledger:
    path: Path
    sheet: str
    header_row: int
    columns: dict[str, str]  # field name -> column letter
    headers: dict[str, str]  # field name -> header text as written
    problems: tuple[Problem, ...]
    meta: Meta
    findings: tuple[Finding, ...]  # found while reading (formulas, unknown headers, meta)
    formulas_unverified: bool = False  # the writer asked for a full recalculation on load


@dataclass(frozen=True)
class Counts:
    total: int = 0
    done: int = 0
    in_progress: int = 0
    not_done: int = 0
    long_term: int = 0
    flagged: int = 0
    overdue: int = 0
    recovered_wan: Decimal = Decimal(0)

    @property
    def completion_rate(self) -> float | None:
        """Share of 已完成 in per cent, one decimal; None when there is nothing to count."""
        if not self.total:
            return None
        return round(self.done * 100 / self.total, 1)


@dataclass(frozen=True)
class Stats:
    as_of: date
    overall: Counts
    by_category: tuple[tuple[str, Counts], ...]
    by_unit: tuple[tuple[str, Counts], ...]
    summary: str  # the statistics sentence of the notice


@dataclass(frozen=True)
class Report:
    """Everything the pipeline knows about one ledger after validating and counting."""

    ledger: Ledger
    findings: tuple[Finding, ...]
    stats: Stats

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors
