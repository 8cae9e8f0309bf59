"""Count stage: a ``Ledger`` -> ``Stats``. The numbers of every notice come from here."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

from .model import (
    DONE,
    IN_PROGRESS,
    NOT_DONE,
    Counts,
    Ledger,
    Problem,
    Stats,
    format_percent,
    round_amount,
)
from .normalize import as_of_date as _as_of
from .normalize import format_cn_date, format_wan, is_overdue

NO_UNIT = "（未填责任部门）"
NO_CATEGORY = "（未分类）"


def count_problems(problems: Iterable[Problem], as_of: date) -> Counts:
    total = done = in_progress = not_done = long_term = flagged = overdue = 0
    recovered = Decimal(0)
    for p in problems:
        total += 1
        if p.status == DONE:
            done += 1
        elif p.status == NOT_DONE:
            not_done += 1
        elif p.status == IN_PROGRESS:
            in_progress += 1
        long_term += p.long_term
        flagged += p.flagged
        overdue += is_overdue(p, as_of)
        if p.recovered_wan is not None:
            recovered += p.recovered_wan
    return Counts(total, done, in_progress, not_done, long_term, flagged, overdue, recovered)


def as_of_date(ledger: Ledger, today: date | None = None) -> date:
    """统计截止日期, or today when the meta sheet does not give one."""
    return _as_of(ledger.meta.as_of, today)


def _grouped(problems: tuple[Problem, ...], keys: Callable[[Problem], Iterable[str]],
             empty: str, as_of: date) -> tuple[tuple[str, Counts], ...]:
    """Counts per group; a problem with several keys (departments) counts in each of them."""
    groups: dict[str, list[Problem]] = {}
    for p in problems:
        for name in keys(p) or (empty,):
            groups.setdefault(name or empty, []).append(p)
    return tuple((name, count_problems(rows, as_of)) for name, rows in groups.items())


# 、，,／/；;|, line breaks: always a list. 和/及/与 only between two names that each end like a
# department, so 办公室和创研科 is two, but 规划和自然资源局 (one bureau) stays one.
_UNIT_SEPARATORS = re.compile(r"[、，,／/；;|｜\n]+")
_UNIT_CONJUNCTION = re.compile(r"[和及与]")
_DEPARTMENT_END = re.compile(
    r"(?:科|室|处|局|部|办|股|队|所|站|组|委|院|会|厅|馆|司|中心|公司|支部|部门|单位|科室|股室)$")
_TRAILING_ETC = re.compile(r"(?:等|等部门|等单位|等科室)$")


def split_units(text: str) -> tuple[str, ...]:
    """The departments a 责任部门 cell names: ``办公室、创研科`` -> (办公室, 创研科), in order,
    each once; () for an empty cell."""
    names: list[str] = []
    for part in _UNIT_SEPARATORS.split(text):
        part = _TRAILING_ETC.sub("", part.strip()).strip()
        if not part:
            continue
        pieces = [q.strip() for q in _UNIT_CONJUNCTION.split(part)]
        if len(pieces) > 1 and all(len(q) >= 2 and _DEPARTMENT_END.search(q) for q in pieces):
            names.extend(pieces)
        else:
            names.append(part)
    return tuple(dict.fromkeys(names))


def summary_sentence(counts: Counts, as_of: date, with_rate: bool = False) -> str:
    """截至2024年10月30日，巡察反馈的37个具体问题，已完成整改16个，正在整改20个，未完成1个，…。"""
    parts = [f"截至{format_cn_date(as_of)}，巡察反馈的{counts.total}个具体问题",
             f"已完成整改{counts.done}个", f"正在整改{counts.in_progress}个",
             f"未完成{counts.not_done}个"]
    if counts.long_term:
        parts.append(f"长期坚持{counts.long_term}个")
    if counts.recovered_wan:
        parts.append(f"追赃挽损{format_wan(counts.recovered_wan)}万元")
    if with_rate and counts.completion_rate is not None:
        parts.append(f"整改完成率{format_percent(counts.completion_rate)}")
    return "，".join(parts) + "。"


def count(ledger: Ledger, today: date | None = None) -> Stats:
    """Statistics of the problems that have a recognised status.

    Rows whose status is missing or unknown are errors; they are left out of every count so
    that 已完成 + 正在整改 + 未完成 = total holds even for a ledger that still has errors.
    """
    as_of = as_of_date(ledger, today)
    counted = tuple(p for p in ledger.problems if p.status)
    overall = count_problems(counted, as_of)
    unit_names: dict[str, tuple[str, ...]] = {}  # the same cell text repeats down a ledger

    def units(p: Problem) -> tuple[str, ...]:
        if p.unit not in unit_names:
            unit_names[p.unit] = split_units(p.unit)
        return unit_names[p.unit]

    return Stats(
        as_of=as_of,
        overall=overall,
        by_category=_grouped(counted, lambda p: (p.category,), NO_CATEGORY, as_of),
        by_unit=_grouped(counted, units, NO_UNIT, as_of),
        summary=summary_sentence(overall, as_of),
    )


def counts_to_dict(counts: Counts) -> dict:
    return {
        "total": counts.total,
        "counts": {DONE: counts.done, IN_PROGRESS: counts.in_progress, NOT_DONE: counts.not_done},
        "long_term": counts.long_term,
        "flagged": counts.flagged,
        "overdue": counts.overdue,
        "recovered_wan": float(round_amount(counts.recovered_wan)),
        "completion_rate": counts.completion_rate,
    }


def stats_to_dict(stats: Stats) -> dict:
    """The JSON shape of ``toolkit stats --json``."""
    result = counts_to_dict(stats.overall)
    result.update({
        "as_of": stats.as_of.isoformat(),
        "by_category": [{"name": name, **counts_to_dict(c)} for name, c in stats.by_category],
        "by_unit": [{"name": name, **counts_to_dict(c)} for name, c in stats.by_unit],
        "summary": stats.summary,
    })
    return result
