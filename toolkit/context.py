"""The notice context: a counted ``model.Report`` -> the plain dict a template fills in.

No Word here: grouping, numbering, headings, the opening and title, dates and numbers as text.
Every text that comes from the ledger is kept exactly, only cleaned of characters XML 1.0
cannot hold; escaping for Word happens when rendering (``render._finalize``). The statistics
sentence is ``stats.summary`` as is. The keys are documented in docs/templates.md.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from toolkit.errors import TemplateError
from toolkit.model import KIND_CENTRAL, KIND_STAGE, KINDS, Counts, Problem, Report
from toolkit.normalize import format_cn_date as _format_cn_date
from toolkit.normalize import format_wan

__all__ = ["build_context", "clean_text", "split_lines", "cn_numeral", "format_cn_date"]

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
    KIND_STAGE: ("organisation", "progress", "next_steps"),
    KIND_CENTRAL: ("organisation", "flagged", "completed", "long_term", "next_steps"),
}
_ALL_SECTIONS = ("organisation", "progress", "flagged", "completed", "long_term", "next_steps")

_TITLE_LINE_WIDTH = 20  # 2号 characters on a 156 mm line (20 x 22 pt = 440 pt)

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
# Context
# ---------------------------------------------------------------------------------------------

_DI_FANGMIAN = re.compile(r"^第[一二三四五六七八九十百零〇0-9０-９]+方面")
_LEADING_ORDINAL = re.compile(r"^[一二三四五六七八九十]+[、．.]\s*")
_SUB_NUMBERED = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")


def _category_heading(name: str, ordinal: int) -> str:
    if _DI_FANGMIAN.match(name):
        return name
    bare = _LEADING_ORDINAL.sub("", name) or name
    return f"第{cn_numeral(ordinal)}方面问题：{bare}"


def _subcategory_heading(name: str, ordinal: int) -> str:
    if _SUB_NUMBERED.match(name):
        return name
    return f"（{cn_numeral(ordinal)}）{name}"


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


def _problem_dict(p: Problem, no: int) -> dict[str, Any]:
    status = _status_text(p)
    return {
        "no": no,
        "label": f"{no}．",
        "seq": p.seq,
        "row": p.row,
        "ledger_number": _text(p.number),
        "category": _text(p.category),
        "subcategory": _text(p.subcategory),
        "text": clean_text(p.problem or ""),
        "lines": split_lines(p.problem) or [""],
        "measures": clean_text(p.measures or ""),
        "measures_lines": split_lines(p.measures),
        "progress": clean_text(p.progress or ""),
        "progress_lines": split_lines(p.progress),
        "leader": _text(p.leader),
        "unit": _text(p.unit),
        "deadline": _deadline_text(p),
        "deadline_date": format_cn_date(p.deadline),
        "status": status,
        "status_label": f"{status}（长期坚持）" if p.long_term and status else status,
        "long_term": bool(p.long_term),
        "flagged": bool(p.flagged),
        "done_date": format_cn_date(p.done_date),
        "recovered": _decimal_text(p.recovered_wan),
        "evidence": clean_text(p.evidence or ""),
        "evidence_lines": split_lines(p.evidence),
        "remarks": clean_text(p.remarks or ""),
        "remarks_lines": split_lines(p.remarks),
    }


def _renumber(problems: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, p in enumerate(problems, 1):
        q = dict(p)
        q["no"] = i
        q["label"] = f"{i}．"
        out.append(q)
    return out


def _group(problems: tuple[Problem, ...]) -> tuple[list[dict], list[dict]]:
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
    flat: list[dict] = []
    cat_no = 0
    for cat in order:
        heading = ""
        if cat:
            cat_no += 1
            heading = _category_heading(cat, cat_no)
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
                sub_heading = _subcategory_heading(sub, sub_no)
            items = []
            for p in by_sub[sub]:
                d = _problem_dict(p, len(flat) + 1)
                flat.append(d)
                items.append(d)
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
        "completion_rate": f"{rate:.1f}%" if rate is not None else "",
    }


def _check_kind(kind: str | None) -> str:
    if kind not in KINDS:
        raise TemplateError(
            None, f"未知的通报类型“{kind}”，应为“{KIND_STAGE}”或“{KIND_CENTRAL}”"
        )
    return kind


def build_context(report: Report, kind: str) -> dict[str, Any]:
    """The template context for ``report`` as a notice of ``kind``; see docs/templates.md.

    Every value is a str, an int, a bool, a list or a dict of those: never None.
    """
    kind = _check_kind(kind)
    meta = report.ledger.meta
    stats = report.stats
    issuer = _text(meta.issuer)
    categories, problems = _group(report.ledger.problems)
    flagged = _renumber(p for p in problems if p["flagged"])
    long_term = _renumber(p for p in problems if p["long_term"])
    organisation = [ln for item in meta.organisation for ln in split_lines(item)]
    long_term_measures = [ln for item in meta.long_term_measures for ln in split_lines(item)]
    next_steps = [ln for item in meta.next_steps for ln in split_lines(item)]
    title_lines = _title_lines(issuer, kind)

    present = {
        "organisation": bool(organisation),
        "progress": True,
        "flagged": bool(flagged),
        "completed": True,
        "long_term": bool(long_term or long_term_measures),
        "next_steps": bool(next_steps),
    }
    num = dict.fromkeys(_ALL_SECTIONS, "")
    i = 0
    for key in _SECTIONS[kind]:
        if present[key]:
            i += 1
            num[key] = f"{cn_numeral(i)}、"

    overall = _counts_dict(stats.overall)
    overall["as_of"] = format_cn_date(stats.as_of)
    overall["summary"] = clean_text(stats.summary or "")

    return {
        "kind": kind,
        "title": "\n".join(title_lines),
        "title_lines": title_lines,
        "issuer": issuer,
        "unit": _text(meta.unit),
        "basis": _text(meta.basis),
        "group": _text(meta.group),
        "start_date": format_cn_date(meta.start_date),
        "end_date": format_cn_date(meta.end_date),
        "feedback_date": format_cn_date(meta.feedback_date),
        "as_of": format_cn_date(stats.as_of),
        "issue_date": format_cn_date(meta.issue_date),
        "opening": _opening(meta, kind),
        "summary": overall["summary"],
        "stats": overall,
        "by_category": [dict(_counts_dict(c), name=clean_text(n)) for n, c in stats.by_category],
        "by_unit": [dict(_counts_dict(c), name=clean_text(n)) for n, c in stats.by_unit],
        "organisation": organisation,
        "long_term_measures": long_term_measures,
        "next_steps": next_steps,
        "phone": _text(meta.phone),
        "address": _text(meta.address),
        "email": _text(meta.email),
        "contact": _contact(meta),
        "num": num,
        "flagged_by": _flagged_by(meta),
        "categories": categories,
        "problems": problems,
        "flagged": flagged,
        "long_term": long_term,
    }
