"""Value rules of the ledger contract: header names, statuses, deadlines, amounts, flags.

Pure functions over cell values (str, int, float, datetime, None); nothing here knows about
workbooks or cells, which keeps every rule testable with hypothesis.
"""

from __future__ import annotations

import calendar
import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from .model import DONE, IN_PROGRESS, NOT_DONE, Problem, round_amount

_WHITESPACE = re.compile(r"\s+")
_TRAILING_PUNCT = "。．.；;，,！!"


def squash(text: str) -> str:
    """NFKC, then remove all white space (NFKC turns U+3000 into a plain space first)."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


# ---------------------------------------------------------------- cell text

def cell_text(value: object) -> str:
    """A cell value as the clerk sees it: outer white space trimmed, line breaks kept."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return format_cn_date(value.date())
        return f"{format_cn_date(value.date())} {value:%H:%M}"
    if isinstance(value, date):
        return format_cn_date(value)
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def format_cn_date(day: date) -> str:
    """2024年10月30日: full year, no leading zeros, no spaces."""
    return f"{day.year}年{day.month}月{day.day}日"


def format_wan(amount: Decimal) -> str:
    """An amount in 万元 as shown, 四舍五入 to one 元, without trailing zeros: 0.02, 3, 12.5."""
    return format(round_amount(amount), "f")


# ---------------------------------------------------------------- headers

LEDGER_FIELDS: dict[str, tuple[str, ...]] = {
    "number": ("序号", "编号", "问题序号"),
    "category": ("问题类别", "方面", "问题方面", "类别", "问题分类", "反馈问题类别"),
    "subcategory": ("问题子类", "子类", "具体方面", "小类", "问题小类"),
    "problem": ("具体问题", "问题描述", "存在问题", "反馈问题", "巡察反馈问题", "问题表现", "问题"),
    "measures": ("整改措施", "整改举措", "措施"),
    "leader": ("责任领导", "牵头领导", "分管领导", "责任人"),
    "unit": ("责任部门", "责任单位", "责任科室", "责任股室", "牵头部门", "牵头科室"),
    "deadline": ("整改时限", "完成时限", "时限", "整改期限"),
    "progress": ("整改进展", "整改过程", "整改情况", "进展情况", "完成情况", "整改落实情况"),
    "status": ("整改状态", "状态", "完成状态", "整改结果"),
    "long_term": ("长期坚持", "是否长期坚持", "长期整改"),
    "flagged": ("点人点事", "是否点人点事", "书记点人点事"),
    "done_date": ("完成日期", "完成时间", "销号日期", "办结日期"),
    "recovered": ("追赃挽损", "挽回损失", "追缴资金"),
    "evidence": ("佐证材料", "佐证资料", "证明材料"),
    "remarks": ("备注", "说明"),
}
REQUIRED_FIELDS = ("problem", "status")
CANONICAL_HEADERS = {name: synonyms[0] for name, synonyms in LEDGER_FIELDS.items()}
CANONICAL_HEADERS["recovered"] = "追赃挽损（万元）"

_HEADER_INDEX = {squash(s): name for name, synonyms in LEDGER_FIELDS.items() for s in synonyms}
_UNIT_SUFFIX = re.compile(r"\(([^()]*)\)$")


@dataclass(frozen=True)
class HeaderMatch:
    field: str | None  # None for an unknown header
    unit: str  # the bracketed unit, e.g. "元" or "万元", "" when none


def match_header(text: object) -> HeaderMatch:
    """Which ledger field a header cell names, after NFKC and white-space removal."""
    key = squash(cell_text(text)).rstrip(":")
    unit = ""
    bracket = _UNIT_SUFFIX.search(key)
    if bracket:
        unit = bracket.group(1)
        key = key[: bracket.start()].rstrip(":")
    return HeaderMatch(_HEADER_INDEX.get(key), unit)


# ---------------------------------------------------------------- status

_STATUS_WORDS: dict[str, str] = {}
for _canonical, _words in {
    DONE: ("已完成", "完成", "已整改", "已整改完成", "整改完成", "已完成整改", "完成整改",
           "已销号", "销号", "已办结", "办结"),
    IN_PROGRESS: ("正在整改", "整改中", "正在推进", "推进中", "进行中", "持续整改", "基本完成",
                  "阶段性完成", "部分完成"),
    NOT_DONE: ("未完成", "未整改", "未启动", "尚未启动", "未开始"),
}.items():
    for _word in _words:
        _STATUS_WORDS[_word] = _canonical
LEGACY_LONG_TERM_STATUSES = ("长期坚持", "长期整改", "长期推进")


@dataclass(frozen=True)
class StatusReading:
    status: str  # canonical status, "" when empty or not recognised
    state: str  # "ok", "legacy_long_term", "empty", "bad"
    hint: str = ""  # closest accepted status for "bad"


def status_key(text: str) -> str:
    return squash(text).rstrip(_TRAILING_PUNCT)


def parse_status(value: object) -> StatusReading:
    key = status_key(cell_text(value))
    if not key:
        return StatusReading("", "empty")
    if key in _STATUS_WORDS:
        return StatusReading(_STATUS_WORDS[key], "ok")
    if key in LEGACY_LONG_TERM_STATUSES:
        return StatusReading(IN_PROGRESS, "legacy_long_term")
    return StatusReading("", "bad", closest_status(key))


def closest_status(key: str) -> str:
    """The canonical status whose accepted spellings look most like ``key``."""
    best, best_ratio = IN_PROGRESS, -1.0
    for word, canonical in _STATUS_WORDS.items():
        ratio = difflib.SequenceMatcher(None, key, word).ratio()
        if ratio > best_ratio:
            best, best_ratio = canonical, ratio
    return best


# ---------------------------------------------------------------- yes / no

_TRUE_WORDS = {"是", "√", "✓", "✔", "Y", "YES", "1", "TRUE", "T", "对"}
_FALSE_WORDS = {"", "否", "×", "✗", "N", "NO", "0", "FALSE", "F", "不是"}


def parse_flag(value: object) -> bool | None:
    """是/√/Y/1/TRUE -> True; 否/blank/N/0/FALSE -> False; anything else -> None."""
    if isinstance(value, bool):
        return value
    key = status_key(cell_text(value)).upper()
    if key in _TRUE_WORDS:
        return True
    if key in _FALSE_WORDS:
        return False
    return None


# ---------------------------------------------------------------- dates

@dataclass(frozen=True)
class DeadlineReading:
    day: date | None
    state: str  # "date", "inferred" (year taken from the feedback date), "open", "empty", "bad"


OPEN_DEADLINE_WORDS = ("长期坚持", "长期", "持续推进", "立行立改")
_SUFFIX = (r"(?:\(?(?:前|之前|以前)\)?)?(?:完成|办结)?(?:整改)?(?:完成|到位)?"
           r"(?:\d{1,2}:\d{2}(?::\d{2})?)?[。.;；,，!！]*")
_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:日)?" + _SUFFIX)
_YMD_CN = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]" + _SUFFIX)
_YM_CN = re.compile(r"(\d{4})年(\d{1,2})月(?:底|末|份)?" + _SUFFIX)
_YM_DASH = re.compile(r"(\d{4})[-/.](\d{1,2})" + _SUFFIX)
_HALF = re.compile(r"(\d{4})年(上|下)半年(?:底|末)?" + _SUFFIX)
_Y_CN = re.compile(r"(\d{4})年(?:年底|年末|底|末|内|全年)?" + _SUFFIX)
_MD_CN = re.compile(r"(\d{1,2})月(?:(\d{1,2})[日号]|底|末|份)?" + _SUFFIX)


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _safe_date(year: int, month: int, day: int | None) -> date | None:
    try:
        return date(year, month, day) if day is not None else _last_day(year, month)
    except ValueError:
        return None


def parse_deadline(value: object, reference: date | None = None) -> DeadlineReading:
    """Read a 整改时限 cell. ``reference`` is the feedback date, used for years left out."""
    if isinstance(value, datetime):
        return DeadlineReading(value.date(), "date")
    if isinstance(value, date):
        return DeadlineReading(value, "date")
    text = squash(cell_text(value))
    if not text:
        return DeadlineReading(None, "empty")
    for pattern, kind in ((_YMD, "ymd"), (_YMD_CN, "ymd"), (_HALF, "half"), (_YM_CN, "ym"),
                          (_YM_DASH, "ym"), (_Y_CN, "y")):
        m = pattern.fullmatch(text)
        if not m:
            continue
        year = int(m.group(1))
        if kind == "ymd":
            day = _safe_date(year, int(m.group(2)), int(m.group(3)))
        elif kind == "ym":
            day = _safe_date(year, int(m.group(2)), None)
        elif kind == "half":
            day = date(year, 6, 30) if m.group(2) == "上" else date(year, 12, 31)
        else:
            day = date(year, 12, 31)
        return DeadlineReading(day, "date") if day and year >= 1900 else DeadlineReading(None, "bad")
    m = _MD_CN.fullmatch(text)
    if m:
        if reference is None:
            return DeadlineReading(None, "bad")
        month = int(m.group(1))
        year = reference.year + (1 if month < reference.month else 0)
        day = _safe_date(year, month, int(m.group(2)) if m.group(2) else None)
        return DeadlineReading(day, "inferred") if day else DeadlineReading(None, "bad")
    if any(word in text for word in OPEN_DEADLINE_WORDS) and not re.search(r"\d", text):
        return DeadlineReading(None, "open")
    return DeadlineReading(None, "bad")


def parse_day(value: object) -> date | None:
    """A date that names a day (meta sheet): Excel date or text such as 2024年4月10日."""
    reading = parse_deadline(value)
    if reading.state != "date":
        return None
    if isinstance(value, (date, datetime)):
        return reading.day
    text = squash(cell_text(value))
    if _YMD.fullmatch(text) or _YMD_CN.fullmatch(text):
        return reading.day
    return None


# ---------------------------------------------------------------- amounts

_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)(万元|万|元)?")
_TEN_THOUSAND = Decimal(10000)
# No 追赃挽损 of one problem comes near 10 亿万元 (10^13 元); anything beyond is a typo or a
# forged cell, and would overflow the sums and the JSON (1e308 + 1e308 is Infinity).
MAX_AMOUNT_WAN = Decimal(10) ** 9


def amount_out_of_range(value: object, header_unit: str = "") -> bool:
    """True when ``value`` reads as a number but not as a sane amount (too large, NaN, inf)."""
    if isinstance(value, bool):
        return False
    text = squash(cell_text(value)).replace(",", "")
    m = _AMOUNT.fullmatch(text)
    number, unit = (m.group(1), m.group(2)) if m else (text, None)
    try:
        amount = Decimal(number)  # also "1e+308", "NaN", "Infinity" as a number cell reads
    except InvalidOperation:
        return False
    if not amount.is_finite():
        return True
    return _to_wan(abs(amount), unit == "元" or (unit is None and squash(header_unit) == "元")) > MAX_AMOUNT_WAN


def _to_wan(amount: Decimal, yuan: bool) -> Decimal:
    return amount / _TEN_THOUSAND if yuan else amount


def _bounded(amount: Decimal) -> Decimal | None:
    return amount if amount <= MAX_AMOUNT_WAN else None


def parse_amount(value: object, header_unit: str = "") -> Decimal | None:
    """An amount in 万元. Numbers follow the header's unit (元 or 万元); text may name its own."""
    yuan_header = squash(header_unit) == "元"
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return None
        if not amount.is_finite() or amount < 0:
            return None
        return _bounded(_to_wan(amount, yuan_header))
    text = squash(cell_text(value)).replace(",", "")
    if not text:
        return Decimal(0)
    m = _AMOUNT.fullmatch(text)
    if not m:
        return None
    unit = m.group(2)
    return _bounded(_to_wan(Decimal(m.group(1)), unit == "元" or (unit is None and yuan_header)))


# ---------------------------------------------------------------- overdue

def as_of_date(meta_as_of: date | None, today: date | None = None) -> date:
    """统计截止日期, or today when the meta sheet does not give one."""
    return meta_as_of or today or date.today()


def is_overdue(problem: Problem, as_of: date) -> bool:
    """正在整改 or 未完成, not long-term, and a deadline before 统计截止日期."""
    return (problem.status in (IN_PROGRESS, NOT_DONE) and not problem.long_term
            and problem.deadline is not None and problem.deadline < as_of)


# ---------------------------------------------------------------- meta sheet keys

META_KEYS: dict[str, tuple[str, ...]] = {
    "issuer": ("发文机关", "发文单位", "署名"),
    "unit": ("被巡察单位", "单位名称", "被巡察党组织"),
    "basis": ("部署依据", "巡察部署"),
    "group": ("巡察组",),
    "start_date": ("巡察开始日期",),
    "end_date": ("巡察结束日期",),
    "feedback_date": ("反馈日期",),
    "as_of": ("统计截止日期", "截止日期", "截至日期"),
    "issue_date": ("成文日期", "通报日期", "落款日期"),
    "kind": ("通报类型",),
    "organisation": ("整改组织情况",),
    "long_term_measures": ("长期整改举措",),
    "next_steps": ("下一步工作安排",),
    "phone": ("联系电话",),
    "address": ("通讯地址", "邮政地址"),
    "email": ("电子邮箱", "邮箱"),
    "doc_number": ("发文字号", "文号"),
    "issuer_mark": ("发文机关标志",),
    "signer": ("签发人",),
    "seal": ("印章", "加盖印章"),
    "cc": ("抄送", "抄送机关"),
    "printer": ("印发机关",),
    "print_date": ("印发日期",),
    "drafter": ("起草人",),
    "title": ("标题", "通报标题"),
    "number_format": ("序号格式", "问题序号格式"),
    "heading_organisation": ("整改组织情况标题",),
    "heading_progress": ("整改进展标题", "对账销号标题"),
    "heading_flagged": ("点人点事标题",),
    "heading_completed": ("已完成整改事项标题", "已完成事项标题"),
    "heading_long_term": ("长期整改标题", "长期整改任务标题"),
    "heading_next_steps": ("下一步工作安排标题", "下一步标题"),
}
META_LABELS = {key: names[0] for key, names in META_KEYS.items()}


# ---------------------------------------------------------------- notice kind (通报类型)

@dataclass(frozen=True)
class KindReading:
    kind: str | None  # a KINDS value; None when the text names no kind
    exact: bool  # the text was the kind itself (after white space and NFKC)


def parse_kind(value: object) -> KindReading | None:
    """通报类型 as the toolkit understands it, the one reading ``check`` and ``render`` share.

    None for an empty cell (the notice defaults to 阶段性进展). Near forms are accepted
    deterministically: text containing 集中 (and not 阶段) is 集中整改进展, text containing
    阶段 (and not 集中) is 阶段性进展 (``exact`` False: say so); anything else names no kind.
    """
    from .model import KIND_CENTRAL, KIND_STAGE, KINDS

    text = squash(cell_text(value))
    if not text:
        return None
    if text in KINDS:
        return KindReading(text, True)
    central, stage = "集中" in text, "阶段" in text
    if central != stage:
        return KindReading(KIND_CENTRAL if central else KIND_STAGE, False)
    return KindReading(None, False)
