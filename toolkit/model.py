"""Plain data passed between the pipeline stages: read -> validate -> count -> render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

# Canonical statuses; together they partition the problems.
DONE = "已完成"
IN_PROGRESS = "正在整改"
NOT_DONE = "未完成"
STATUSES = (DONE, IN_PROGRESS, NOT_DONE)

ERROR = "error"
WARNING = "warning"
INFO = "info"
# What the clerk reads for each severity (console, 校验报告, watcher log): defined here only.
SEVERITY_CN = {ERROR: "错误", WARNING: "警告", INFO: "提示"}

# Every rate and amount shown is rounded 四舍五入 (ROUND_HALF_UP on the exact decimal value),
# never by binary float rounding (round(100/16, 1) gives 6.2, 四舍五入 gives 6.3).
RATE_PLACES = 1  # 整改完成率 43.2%
AMOUNT_PLACES = 4  # 追赃挽损 in 万元: four places are one 元

# Notice kinds (通报类型).
KIND_STAGE = "阶段性进展"
KIND_CENTRAL = "集中整改进展"
KINDS = (KIND_STAGE, KIND_CENTRAL)


def round_half_up(value: Decimal | int | str, places: int) -> Decimal:
    """``value`` rounded to ``places`` decimals, halves away from zero (四舍五入)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent(part: int, whole: int, places: int = RATE_PLACES) -> Decimal | None:
    """``part`` of ``whole`` in per cent, 四舍五入 to ``places``; None when ``whole`` is 0."""
    if not whole:
        return None
    return round_half_up(Decimal(part) * 100 / Decimal(whole), places)


def format_percent(rate: Decimal | float | None, empty: str = "") -> str:
    """A rate as shown: ``43.2%`` (always one decimal); ``empty`` for None."""
    if rate is None:
        return empty
    return f"{round_half_up(Decimal(str(rate)), RATE_PLACES)}%"


def round_amount(amount: Decimal) -> Decimal:
    """An amount in 万元 as shown: 四舍五入 to one 元, trailing zeros dropped (0.02, 3, 12.5)."""
    try:
        rounded = round_half_up(amount, AMOUNT_PLACES).normalize()
    except InvalidOperation:  # beyond 28 digits: not an amount a ledger can hold (see MAX_AMOUNT)
        return amount
    # normalize() writes 100 as 1E+2; quantize back to an exponent of at least 0.
    return rounded.quantize(Decimal(1)) if rounded == rounded.to_integral_value() else rounded


@dataclass(frozen=True, kw_only=True)  # built with keywords only: eight strings are easily swapped
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

    def __post_init__(self) -> None:
        # A codes.Code member is stored as its plain string: same hash, JSON and repr as before.
        if type(self.code) is not str:
            object.__setattr__(self, "code", str(self.code))

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
        """Share of 已完成 in per cent, 四舍五入 to one decimal; None when nothing is counted.

        A float for the callers that write numbers (JSON, workbooks); the value is the exact
        one-decimal rate of ``percent``, so ``str`` and ``format_percent`` show it as rounded.
        """
        rate = percent(self.done, self.total)
        return None if rate is None else float(rate)


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
