"""The notice context: a counted ``model.Report`` -> the plain dict a template fills in.

No Word here: grouping, numbering, headings, the opening and title, dates and numbers as text.
Every text that comes from the ledger is kept exactly, only cleaned of characters XML 1.0
cannot hold; escaping for Word happens when rendering (``render._finalize``). The statistics
sentence is ``stats.summary`` as is. The keys are documented in docs/templates.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from toolkit.errors import TemplateError
from toolkit.model import KIND_CENTRAL, KIND_STAGE, KINDS, Counts, Problem, Report, format_percent
from toolkit.normalize import format_cn_date as _format_cn_date
from toolkit.normalize import format_wan, parse_day

__all__ = ["build_context", "clean_text", "cn_numeral", "format_cn_date", "split_lines"]

_TITLE_TAIL = {
    KIND_STAGE: "关于巡察整改阶段性进展情况的通报",
    KIND_CENTRAL: "关于巡察集中整改进展情况的通报",
}
_OPENING_TAIL = {
    KIND_STAGE: "现将巡察整改阶段性进展情况予以公布。",
    KIND_CENTRAL: "现将反馈意见集中整改进展情况予以公布。",
}
# Sections of each kind, in order; a section without data is left out and the others are
# numbered on (一、二、三 …) without a gap.
_SECTIONS = {
    KIND_STAGE: ("organisation", "progress", "long_term", "next_steps"),
    KIND_CENTRAL: ("organisation", "flagged", "completed", "long_term", "next_steps"),
}
_ALL_SECTIONS = ("organisation", "progress", "flagged", "completed", "long_term", "next_steps")

_TITLE_LINE_WIDTH = 20  # 2号 characters on a 156 mm line (20 x 22 pt = 440 pt)

# The 一级标题 of each section, without its number; the 通报信息 sheet may replace each one
# (``heading_*`` keys of model.Meta).
_DEFAULT_HEADINGS = {
    KIND_STAGE: {
        "organisation": "扛牢政治责任，切实抓好巡察整改工作",
        "progress": "坚持对账销号，确保巡察整改工作取得实效",
        "long_term": "对长期整改任务采取的重要举措",
        "next_steps": "下一步工作安排",
    },
    KIND_CENTRAL: {
        "organisation": "党组及主要负责人组织整改落实情况",
        "flagged": "{flagged_by}点人点事问题整改情况",
        "completed": "集中整改期内已完成的整改事项",
        "long_term": "对长期整改任务采取的重要举措和取得的阶段性成效",
        "next_steps": "下一步整改工作安排",
    },
}

# ---------------------------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------------------------

# Not allowed in XML 1.0: C0 controls except tab, LF, CR; U+FFFE/U+FFFF; surrogates (only lone
# ones can occur in a Python str).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\u2028\u2029]")


def clean_text(text: str) -> str:
    """``text`` without the characters an XML 1.0 document cannot hold."""
    return _XML_ILLEGAL.sub("", text)


def split_lines(text: str | None) -> list[str]:
    """The non-blank lines of a cell, each stripped of surrounding white space."""
    if not text:
        return []
    out = []
    for line in _LINE_BREAKS.split(text):
        line = clean_text(line).strip()
        if line:
            out.append(line)
    return out


_DIGITS = "零一二三四五六七八九"


def _below_ten_thousand(n: int) -> str:
    """1 <= n < 10,000 in full: 一千零一十, 一百零五 (a 零 marks each run of missing places)."""
    out, gap = "", False
    for place, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // place % 10
        if not digit:
            gap = bool(out)
            continue
        out += ("零" if gap else "") + _DIGITS[digit] + unit
        gap = False
    return out


def cn_numeral(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 105 -> 一百零五, 1010 -> 一千零一十,
    12000 -> 一万二千 (n >= 1; Arabic digits from a hundred million on)."""
    if n < 1:
        raise ValueError(n)
    if n >= 10**8:
        return str(n)
    high, low = divmod(n, 10_000)
    if not high:
        text = _below_ten_thousand(low)
    else:
        text = _below_ten_thousand(high) + "万"
        if low:
            text += ("零" if low < 1000 else "") + _below_ten_thousand(low)
    # 十二, not 一十二, when the number starts in the tens (十万 likewise).
    return text[1:] if text.startswith("一十") else text


def format_cn_date(d: date | None) -> str:
    """``2024年10月30日``: full year, no leading zeros; "" for None."""
    return "" if d is None else _format_cn_date(d)


def _decimal_text(d: Decimal | None) -> str:
    return "" if d is None else format_wan(d)


def _text(value: str | None) -> str:
    return clean_text(value).strip() if value else ""


def _visual_width(text: str) -> float:
    """Width in full-width characters (ASCII counts half)."""
    return sum(0.5 if ord(ch) < 0x80 else 1 for ch in text)


# ---------------------------------------------------------------------------------------------
# Typography: headings that wrap, nested quotes, inline headings, signature and date
# ---------------------------------------------------------------------------------------------

LINE_CHARS = 28  # characters on a body line (GB/T 9704: 28 a line)
_INDENT_CHARS = 2  # first-line indent of body paragraphs and headings
# Characters a line may not start with (避头) and may not end with (避尾).
_NO_LINE_START = set("，。、；：？！）》」』】〕”’…—·．,.;:?!)%")
_NO_LINE_END = set("（《「『【〔“‘([")


def _wrap_widths(text: str, first: float, width: float) -> list[float]:
    """Widths of the lines ``text`` takes: ``first`` characters on the first, ``width`` after."""
    lines, used, room = [], 0.0, first
    for ch in text:
        w = 0.5 if ord(ch) < 0x80 else 1.0
        if used + w > room + 1e-9 and ch not in _NO_LINE_START:
            lines.append(used)
            used, room = 0.0, width
        used += w
    lines.append(used)
    return lines


def keep_last_line_full(text: str, indent: int = _INDENT_CHARS, width: int = LINE_CHARS) -> str:
    """``text`` with a line break put in where its last line would hold a single character.

    The heading is laid out as the office suite does on the 28-character grid (first line
    indented ``indent`` characters); when the last line would hold one character, the last
    line is started earlier (after the last comma when that is close, else before the last
    few characters) so that no heading ends with a lone character.
    """
    if "\n" in text:
        return "\n".join(keep_last_line_full(part, indent if i == 0 else 0, width)
                         for i, part in enumerate(text.split("\n")))
    widths = _wrap_widths(text, width - indent, width)
    if len(widths) < 2 or widths[-1] > 1.0:
        return text
    # The last line starts at index ``cut``: bring it forward by a few characters.
    start = len(text)
    taken = 0.0
    while start > 0 and taken < widths[-1] - 1e-9:
        start -= 1
        taken += 0.5 if ord(text[start]) < 0x80 else 1.0
    window = range(start - 1, max(start - 9, 1), -1)
    for cut in window:  # after a comma or 顿号 within eight characters
        if text[cut - 1] in "，、；：" and text[cut] not in _NO_LINE_START:
            return text[:cut] + "\n" + text[cut:]
    for cut in range(start - 2, max(start - 9, 1), -1):
        if text[cut] not in _NO_LINE_START and text[cut - 1] not in _NO_LINE_END:
            return text[:cut] + "\n" + text[cut:]
    return text


_NESTED_QUOTES = str.maketrans({"“": "‘", "”": "’", "‘": "“", "’": "”"})


def nest_quotes(text: str) -> str:
    """The text of a quotation one level down: “…” become ‘…’ and ‘…’ become “…” (the outer
    “” are added by the caller; quotation marks alternate by level)."""
    return text.translate(_NESTED_QUOTES)


def _problem_heading_lines(label: str, lines: list[str]) -> list[str]:
    """The 阶段性进展 problem heading, one entry a paragraph:
    ``1．对“{问题}”的整改进展情况`` with the problem's own quotes nested."""
    out = []
    for i, line in enumerate(lines):
        text = nest_quotes(line)
        if i == 0:
            text = f"{label}对“{text}"
        if i == len(lines) - 1:
            text += "”的整改进展情况"
        out.append(keep_last_line_full(text))
    return out


# A paragraph that opens with its own heading: （一）迅速部署，有序推进。…
_INLINE_HEADING = re.compile(r"^([（(][一二三四五六七八九十]+[）)][^。\n]{1,40}?。)(.*)$", re.DOTALL)


def inline_items(lines: list[str]) -> list[dict[str, str]]:
    """Free-text paragraphs split into the 楷体 lead-in ``（一）…。`` (or "") and the rest."""
    items = []
    for line in lines:
        m = _INLINE_HEADING.match(line)
        lead, rest = (m.group(1), m.group(2)) if m else ("", line)
        items.append({"lead": lead, "rest": rest, "text": line})
    return items


def _pad(chars: float) -> str:
    """Leading space worth ``chars`` characters: ideographic spaces, an en space (U+2002) for a
    half character."""
    chars = max(0.0, chars)
    whole = int(chars)
    return "\u3000" * whole + ("\u2002" if chars - whole >= 0.5 else "")


def signature_layout(issuer: str, issue_date: str, seal: bool) -> dict[str, Any]:
    """Where the signature and the date go on the 28-character line (GB/T 9704 §7.3.5).

    Without a seal the signature is right-indented two characters and the date starts two
    characters right of the signature's first character (``date_style`` "left": both placed
    by leading space, so the offset is exact whatever the digits' width). When the date is
    longer than the signature ("如成文日期长于发文机关署名"), the date is right-indented two
    characters ("right2") and the signature starts two characters left of it. With a seal the date is
    right-indented four characters ("right4") and the signature centred over it. A
    right-aligned date is exact; the signature's place then rests on the date's estimated
    width (half-width digits a little over half a character).
    """
    n, d = _visual_width(issuer), _date_width(issue_date)
    date_style = "left"
    if seal and issue_date:
        date_style = "right4"
        date_start = LINE_CHARS - 4 - d
        sig_start = date_start + (d - n) / 2
    else:
        sig_start = LINE_CHARS - 2 - n
        date_start = sig_start + 2
        if issue_date and d > n:
            date_style = "right2"
            date_start = LINE_CHARS - 2 - d
            sig_start = date_start - 2
    # Round to the half characters the padding can express, never past the left edge.
    sig_start = max(0.0, round(sig_start * 2) / 2)
    date_start = max(0.0, round(date_start * 2) / 2)
    return {
        "seal": seal,
        "signature_start": sig_start,
        "date_start": date_start,
        "date_style": date_style,
        "signature_pad": _pad(sig_start),
        "date_pad": _pad(date_start) if date_style == "left" else "",
    }


DIGIT_WIDTH = 0.66  # characters: measured in LibreOffice's PDF, with the space it sets between
# digits and Chinese (2024年12月20日: 8.28 characters, so 0.66 a digit beside 年月日 at 1)


def _date_width(text: str) -> float:
    """A date's width in characters, for placing a signature over a right-aligned date."""
    return sum(DIGIT_WIDTH if ord(ch) < 0x80 else 1 for ch in text)


_YES = {"是", "有", "盖章", "加盖", "y", "yes", "true", "1", "√", "✓"}


def _yes(value: str | None) -> bool:
    return _text(value).lower() in _YES


# ---------------------------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------------------------

_DI_FANGMIAN = re.compile(r"^第[一二三四五六七八九十百零〇0-9０-９]+方面")
_LEADING_ORDINAL = re.compile(
    r"^(?:[一二三四五六七八九十]+[、．.]|[（(][一二三四五六七八九十0-9０-９]+[）)]|[0-9０-９]+[、．.])\s*"
)
_SUB_NUMBERED = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")


def _category_heading(name: str, ordinal: int) -> str:
    if _DI_FANGMIAN.match(name):
        return name
    bare = _LEADING_ORDINAL.sub("", name) or name
    return f"第{cn_numeral(ordinal)}方面问题：{bare}"


def _subcategory_heading(name: str, ordinal: int) -> str:
    if _SUB_NUMBERED.match(name):
        return name
    bare = _LEADING_ORDINAL.sub("", name) or name
    return f"（{cn_numeral(ordinal)}）{bare}"


def _deadline_text(p: Problem) -> str:
    text = " ".join(split_lines(p.deadline_text))
    if text.endswith("。"):
        text = text[:-1]
    if not text and p.deadline is not None:
        text = format_cn_date(p.deadline)
    return text


def _status_text(p: Problem) -> str:
    if p.status:
        return p.status
    return _text(p.status_text).rstrip("。．.；;，,！!")


# One problem as the templates see it (docs/templates.md, "每个问题"), key by key, in this order.
# Computed from the ledger's Problem when a template asks: see ProblemView.
_PROBLEM_FIELDS: dict[str, Callable[[Problem], Any]] = {
    "seq": lambda p: p.seq,
    "row": lambda p: p.row,
    "ledger_number": lambda p: _text(p.number),
    "category": lambda p: _text(p.category),
    "subcategory": lambda p: _text(p.subcategory),
    "text": lambda p: clean_text(p.problem or ""),
    "lines": lambda p: split_lines(p.problem) or [""],
    "measures": lambda p: clean_text(p.measures or ""),
    "measures_lines": lambda p: split_lines(p.measures),
    "progress": lambda p: clean_text(p.progress or ""),
    "progress_lines": lambda p: split_lines(p.progress),
    "leader": lambda p: _text(p.leader),
    "unit": lambda p: _text(p.unit),
    "deadline": lambda p: _deadline_text(p),
    "deadline_date": lambda p: format_cn_date(p.deadline),
    "status": lambda p: _status_text(p),
    "status_label": lambda p: _status_label(p),
    "long_term": lambda p: bool(p.long_term),
    "flagged": lambda p: bool(p.flagged),
    "done_date": lambda p: format_cn_date(p.done_date),
    "recovered": lambda p: _decimal_text(p.recovered_wan),
    "evidence": lambda p: clean_text(p.evidence or ""),
    "evidence_lines": lambda p: split_lines(p.evidence),
    "remarks": lambda p: clean_text(p.remarks or ""),
    "remarks_lines": lambda p: split_lines(p.remarks),
    # 责任领导 and 责任部门 in one cell, one per line (the ledger annex's column).
    "responsible": lambda p: "\n".join(part for part in (_text(p.leader), _text(p.unit)) if part),
}
_PROBLEM_KEYS = ("no", "label", *_PROBLEM_FIELDS, "heading_lines")
_PROBLEM_KEY_SET = frozenset(_PROBLEM_KEYS)


def _status_label(p: Problem) -> str:
    status = _status_text(p)
    return f"{status}（长期坚持）" if p.long_term and status else status


class ProblemView(Mapping[str, Any]):
    """One problem of the notice: a read-only mapping of the documented keys, each value made
    from the ledger's ``Problem`` when it is looked up.

    Memory (bench/context_memory.py): a dict of some thirty values, six lists of lines and a
    heading per problem came to about 2.4 kB a problem (120 MB at 50,000 rows), all alive
    while the notice renders. A view is three references: the problem, its number and the
    label's format. The ``Problem`` is kept by the ledger anyway, a text that needs no
    cleaning is that same string, and lines and headings live only while their paragraph
    renders. The same view is listed in ``problems``, its
    category and its subcategory; ``flagged`` and ``long_term`` number their problems anew
    with views of their own. Templates read it as a dict (``problem.text``,
    ``problem["text"]``, ``problem.items()``); it pickles as a plain dict.
    """

    __slots__ = ("_label_format", "_no", "_problem")

    def __init__(self, problem: Problem, no: int, label_format: str = "{}．") -> None:
        self._problem = problem
        self._no = no
        self._label_format = label_format

    def __getitem__(self, key: str) -> Any:
        if key == "no":
            return self._no
        if key == "label":
            return self._label_format.format(self._no)
        if key == "heading_lines":
            return _problem_heading_lines(self["label"], self["lines"])
        field = _PROBLEM_FIELDS.get(key)
        if field is None:
            raise KeyError(key)
        return field(self._problem)

    def __contains__(self, key: object) -> bool:
        return key in _PROBLEM_KEY_SET

    def __iter__(self) -> Iterator[str]:
        return iter(_PROBLEM_KEYS)

    def __len__(self) -> int:
        return len(_PROBLEM_KEYS)

    def __repr__(self) -> str:
        return repr(dict(self))

    def copy(self) -> dict[str, Any]:
        return dict(self)

    def __reduce__(self) -> tuple[type, tuple[dict[str, Any]]]:
        return dict, (dict(self),)

    def renumbered(self, no: int, label_format: str = "{}．") -> ProblemView:
        """The same problem with another number (the flagged and long-term lists)."""
        return ProblemView(self._problem, no, label_format)


def _renumber(problems: Iterable[ProblemView], label_format: str = "{}．") -> list[ProblemView]:
    return [p.renumbered(i, label_format) for i, p in enumerate(problems, 1)]


def _group(
    problems: tuple[Problem, ...], label_format: str = "{}．"
) -> tuple[list[dict], list[ProblemView]]:
    """Problems grouped by category then subcategory (first appearance order), numbered."""
    order: list[str] = []
    by_cat: dict[str, list[Problem]] = {}
    for p in problems:
        cat = _text(p.category)
        if cat not in by_cat:
            by_cat[cat] = []
            order.append(cat)
        by_cat[cat].append(p)
    categories: list[dict] = []
    flat: list[ProblemView] = []
    cat_no = 0
    for cat in order:
        heading = ""
        if cat:
            cat_no += 1
            heading = keep_last_line_full(_category_heading(cat, cat_no))
        sub_order: list[str] = []
        by_sub: dict[str, list[Problem]] = {}
        for p in by_cat[cat]:
            sub = _text(p.subcategory)
            if sub not in by_sub:
                by_sub[sub] = []
                sub_order.append(sub)
            by_sub[sub].append(p)
        subs = []
        sub_no = 0
        cat_problems = []
        for sub in sub_order:
            sub_heading = ""
            if sub:
                sub_no += 1
                sub_heading = keep_last_line_full(_subcategory_heading(sub, sub_no))
            items = []
            for p in by_sub[sub]:
                view = ProblemView(p, len(flat) + 1, label_format)
                flat.append(view)
                items.append(view)
            cat_problems.extend(items)
            subs.append({"name": sub, "heading": sub_heading, "problems": items})
        categories.append(
            {
                "name": cat,
                "heading": heading,
                "ordinal": cn_numeral(cat_no) if cat else "",
                "subcategories": subs,
                "problems": cat_problems,
            }
        )
    return categories, flat


def _unit_party(unit: str) -> str:
    """市文联 -> 市文联党组; names that already end in 党组/党委 stay as they are."""
    if re.search(r"(党组|党委|党总支|党支部)$", unit):
        return unit
    return unit + "党组"


def _opening(meta, kind: str) -> str:
    basis = _text(meta.basis)
    group = _text(meta.group) or "巡察组"
    unit = _text(meta.unit)
    party = _unit_party(unit) if unit else "我单位党组"
    start, end = format_cn_date(meta.start_date), format_cn_date(meta.end_date)
    feedback = format_cn_date(meta.feedback_date)

    first = ""
    if basis:
        first += f"根据{basis}，"
    if start and end:
        first += f"{start}至{end}，"
    elif start or end:
        first += f"{start or end}，"
    first += f"{group}对{party}开展了巡察。"
    second = (f"{feedback}，" if feedback else "") + f"{group}向{party}反馈了巡察工作情况。"
    return first + second + "按照党务公开原则和巡察工作有关要求，" + _OPENING_TAIL[kind]


def _title_lines(issuer: str, kind: str) -> list[str]:
    tail = _TITLE_TAIL[kind]
    whole = issuer + tail
    if not issuer or _visual_width(whole) <= _TITLE_LINE_WIDTH:
        return [whole]
    return [issuer, tail]


def _contact(meta) -> str:
    parts = []
    for label, value in (("联系方式", meta.phone), ("邮政地址", meta.address), ("电子邮箱", meta.email)):
        value = _text(value)
        if value:
            parts.append(f"{label}：{value}")
    if not parts:
        return ""
    return (
        "欢迎广大干部群众对巡察整改落实情况进行监督。如有意见建议，请及时向我们反映。"
        + "；".join(parts)
        + "。"
    )


def _flagged_by(meta) -> str:
    """市委第一巡察组 -> 市委书记 (who points at people and matters); "" when unknown."""
    for source in (meta.group, meta.basis):
        m = re.search(r"([省市区县州盟旗]委)", _text(source))
        if m:
            return m.group(1) + "书记"
    return ""


def _counts_dict(c: Counts) -> dict[str, Any]:
    rate = c.completion_rate
    return {
        "total": c.total,
        "done": c.done,
        "in_progress": c.in_progress,
        "not_done": c.not_done,
        "long_term": c.long_term,
        "flagged": c.flagged,
        "overdue": c.overdue,
        "recovered": _decimal_text(c.recovered_wan),
        "completion_rate": format_percent(rate),
    }


def _check_kind(kind: str | None) -> str:
    if kind not in KINDS:
        raise TemplateError(
            None, f"未知的通报类型“{kind}”，应为“{KIND_STAGE}”或“{KIND_CENTRAL}”"
        )
    return kind


_NUMBER_FORMAT = re.compile(r"^([^0-9０-９]{0,2})[1１]([^0-9０-９]{0,2})$")


def _label_format(meta) -> str:
    """``{}．`` by default; the 序号格式 key (``1.``, ``1、``, ``（1）``) names another."""
    m = _NUMBER_FORMAT.match(_text(meta.number_format).replace(" ", ""))
    if not m:
        return "{}．"
    return m.group(1).replace("{", "").replace("}", "") + "{}" + m.group(2).replace("{", "").replace("}", "")


def _title(meta, issuer: str, kind: str) -> list[str]:
    """The title's lines: the 标题 key as written (its line breaks kept), else generated."""
    given = split_lines(meta.title)
    return [keep_last_line_full(line, 0, _TITLE_LINE_WIDTH) for line in given] or _title_lines(
        issuer, kind)


def _headings(meta, kind: str, num: dict[str, str], flagged_by: str) -> dict[str, str]:
    """Each section's 一级标题 with its number, as laid out (no lone last character)."""
    out = dict.fromkeys(_ALL_SECTIONS, "")
    for key, default in _DEFAULT_HEADINGS[kind].items():
        given = " ".join(split_lines(getattr(meta, f"heading_{key}")))
        text = _LEADING_ORDINAL.sub("", given) if given else default.format(flagged_by=flagged_by)
        out[key] = keep_last_line_full(num[key] + text) if num[key] else ""
    return out


def _letterhead(meta, issuer: str) -> dict[str, Any]:
    """版头 (with a 发文字号) and 版记 (with 抄送, 印发机关 or 印发日期), GB/T 9704 §7.2, §7.4."""
    doc_number = _text(meta.doc_number)
    mark = _text(meta.issuer_mark) or (issuer + "文件" if issuer else "")
    signer = _text(meta.signer)
    cc = " ".join(split_lines(meta.cc)).rstrip("。．.")
    printer = _text(meta.printer)
    raw_date = _text(meta.print_date)
    day = parse_day(raw_date) if raw_date else None
    print_date = format_cn_date(day) if day else raw_date
    if print_date and not print_date.endswith("印发"):
        print_date += "印发"
    return {
        "letterhead": bool(doc_number),
        "doc_number": doc_number,
        "issuer_mark": mark if doc_number else "",
        # 2号 for marks that a 36 pt line cannot hold (12 characters fill it)
        "issuer_mark_long": _visual_width(mark) > 12,
        "signer": signer if doc_number else "",
        "cc": cc,
        "printer": printer,
        "print_date": print_date,
        "record": bool(cc or printer or print_date),
        # The 版记 on the next even page, its page unnumbered (§7.4, §7.5): set by the
        # toolkit after LibreOffice put it on an odd page (toolkit/even_page.py).
        "record_next_page": False,
        # Line breaks for the space the 版记 takes below the date, kept free when it moves.
        "record_space": "\n" * (_record_lines(cc, bool(printer or print_date)) - 1),
    }


# 抄送 in 4号 (14 pt = 280 twips) across the 156 mm type area: one character in, the first line
# after 抄送：, the others aligned after the colon (templates/make_templates.py, 公文版记抄送).
_RECORD_FIRST_LINE = 29  # (8844 - 280 - 280) // 280
_RECORD_OTHER_LINES = 26  # (8844 - 1120 - 280) // 280


def _record_lines(cc: str, print_row: bool) -> int:
    """Body lines (28.9 pt) the 版记 takes below the date: the blank line above it, the 抄送
    lines and the 印发 row (each line of the table is one body line)."""
    lines = 1 + int(print_row)
    if cc:
        width = math.ceil(_visual_width(f"抄送：{cc}。"))
        lines += 1 + max(0, -(-(width - _RECORD_FIRST_LINE) // _RECORD_OTHER_LINES))
    return lines


def _section_numbers(kind: str, present: dict[str, bool]) -> dict[str, str]:
    """一、二、三 … for the sections of ``kind`` that have content; "" for the others."""
    num = dict.fromkeys(_ALL_SECTIONS, "")
    i = 0
    for key in _SECTIONS[kind]:
        if present[key]:
            i += 1
            num[key] = f"{cn_numeral(i)}、"
    return num


def build_context(report: Report, kind: str) -> dict[str, Any]:
    """The template context for ``report`` as a notice of ``kind``; see docs/templates.md.

    Every value is a str, an int, a bool, a list or a dict of those: never None. Each problem
    is a ``ProblemView``, a read-only mapping that templates read as a dict.
    """
    kind = _check_kind(kind)
    meta = report.ledger.meta
    stats = report.stats
    issuer = _text(meta.issuer)
    label_format = _label_format(meta)
    categories, problems = _group(report.ledger.problems, label_format)
    flagged = _renumber((p for p in problems if p["flagged"]), label_format)
    long_term = _renumber((p for p in problems if p["long_term"]), label_format)
    organisation = [ln for item in meta.organisation for ln in split_lines(item)]
    long_term_measures = [ln for item in meta.long_term_measures for ln in split_lines(item)]
    next_steps = [ln for item in meta.next_steps for ln in split_lines(item)]
    title_lines = _title(meta, issuer, kind)
    issue_date = format_cn_date(meta.issue_date)
    flagged_by = _flagged_by(meta)

    num = _section_numbers(kind, {
        "organisation": bool(organisation),
        "progress": True,
        "flagged": bool(flagged),
        "completed": True,
        # 阶段性进展 lists long-term rows under their categories: its section 长期 holds
        # only the 长期整改举措 paragraphs.
        "long_term": bool(long_term_measures or (long_term and kind == KIND_CENTRAL)),
        "next_steps": bool(next_steps),
    })
    overall = _counts_dict(stats.overall)
    overall["as_of"] = format_cn_date(stats.as_of)
    overall["summary"] = clean_text(stats.summary or "")

    return {
        "kind": kind,
        "title": "\n".join(title_lines),
        "title_lines": title_lines,
        "issuer": issuer,
        "author": _text(meta.drafter) or issuer,
        "unit": _text(meta.unit),
        "basis": _text(meta.basis),
        "group": _text(meta.group),
        "start_date": format_cn_date(meta.start_date),
        "end_date": format_cn_date(meta.end_date),
        "feedback_date": format_cn_date(meta.feedback_date),
        "as_of": format_cn_date(stats.as_of),
        "issue_date": issue_date,
        "opening": _opening(meta, kind),
        "summary": overall["summary"],
        "stats": overall,
        "by_category": [dict(_counts_dict(c), name=clean_text(n)) for n, c in stats.by_category],
        "by_unit": [dict(_counts_dict(c), name=clean_text(n)) for n, c in stats.by_unit],
        "organisation": organisation,
        "organisation_items": inline_items(organisation),
        "long_term_measures": long_term_measures,
        "long_term_measures_items": inline_items(long_term_measures),
        "next_steps": next_steps,
        "next_steps_items": inline_items(next_steps),
        "phone": _text(meta.phone),
        "address": _text(meta.address),
        "email": _text(meta.email),
        "contact": _contact(meta),
        "num": num,
        "headings": _headings(meta, kind, num, flagged_by),
        "flagged_by": flagged_by,
        "categories": categories,
        "problems": problems,
        "flagged": flagged,
        "long_term": long_term,
        **{k: v for k, v in signature_layout(issuer, issue_date, _yes(meta.seal)).items()
           if k in ("seal", "signature_pad", "date_pad", "date_style")},
        **_letterhead(meta, issuer),
    }


def has_record(meta) -> bool:
    """The notice of ``meta`` has a 版记 (抄送, 印发机关 or 印发日期 given), as ``record``."""
    return bool(_letterhead(meta, "")["record"])
