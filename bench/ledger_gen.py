"""Realistic ledgers of any size for the benchmarks (xlsxwriter, deterministic for a seed).

What a real 巡察整改台账 looks like, scaled up: a merged title and subtitle above the header,
the 问题类别 cell merged down over its rows, 问题子类, multi-line 整改进展 cells (Alt+Enter
paragraphs), deadlines typed as real Excel dates or as Chinese text, a mix of statuses with
some 长期坚持 and 点人点事 rows, amounts, formatted empty rows after the last problem, and a
通报信息 sheet. Every problem row is valid, so the whole pipeline runs to the notice.

Shapes (``SHAPES``; ``write_bench_ledger(path, rows, shape=...)``):

* ``standard`` -- the ledger above: 55 % 已完成, 40 % 正在整改 (15 % of them 长期坚持), 5 % 未完成,
  categories merged over 3-30 rows, two to five ``一是…`` lines per 整改进展 cell;
* ``overdue`` -- an overdue-heavy ledger: exactly a third of the rows (``rows // 3``) 未完成 with
  a deadline before the 统计截止日期, 6 % 长期坚持, no other row overdue, and long texts
  (four to eight progress lines, longer problems and measures);
* ``longtext`` -- every 整改进展 cell 1,000-3,000 bytes of UTF-8 (about 330-1,000 characters);
* ``categories`` -- 500 问题类别 (as many as there are rows below 500), of random sizes.

    python bench/ledger_gen.py OUT.xlsx --rows 10000 --shape overdue
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import xlsxwriter

HEADER = ["序号", "问题类别", "问题子类", "具体问题", "整改措施", "责任领导", "责任部门", "整改时限",
          "整改进展", "整改状态", "长期坚持", "点人点事", "完成日期", "追赃挽损（万元）", "备注"]
TRAILING_EMPTY_ROWS = 300  # formatted but empty rows, as templates handed out to clerks have

STATISTICS_DAY = datetime(2024, 10, 30)  # 统计截止日期: what is overdue is counted against it

META = [
    ("发文机关", "中共某某市某某局党组"),
    ("被巡察单位", "市某某局"),
    ("部署依据", "市委统一部署"),
    ("巡察组", "市委第一巡察组"),
    ("巡察开始日期", datetime(2024, 4, 10)),
    ("巡察结束日期", datetime(2024, 5, 11)),
    ("反馈日期", datetime(2024, 7, 10)),
    ("统计截止日期", STATISTICS_DAY),
    ("成文日期", datetime(2024, 12, 20)),
    ("通报类型", "阶段性进展"),
    ("整改组织情况", "党组召开专题会议研究部署整改工作。\n成立整改工作领导小组，制定整改方案。"),
    ("长期整改举措", "建立长效机制，定期开展回头看。"),
    ("下一步工作安排", "持续抓好整改落实。\n巩固整改成果，建立长效机制。"),
    ("联系电话", "0812—5503651"),
    ("通讯地址", "某某市某某路6号"),
    ("电子邮箱", "zhenggai@example.com"),
]

_TOPICS = ["党的政治建设", "意识形态工作", "全面从严治党", "干部队伍建设", "财务管理", "选人用人",
           "作风建设", "基层党组织建设", "巡察整改落实", "民生服务保障", "项目资金管理", "安全生产"]
_PHRASES = ["学习贯彻上级决策部署不够深入", "制度执行不严格", "监督检查流于形式", "台账资料不规范",
            "资金使用审批不严", "会议记录不完整", "整改责任落实不到位", "工作作风不够扎实",
            "对基层指导不够", "宣传教育覆盖面不广", "考核机制不健全", "风险防控意识薄弱"]
_UNITS = ["办公室", "财务科", "人事科", "党建办", "法规科", "综合科", "业务一科", "业务二科"]
_LEADERS = ["党组书记", "分管办公室工作副局长", "分管财务工作副局长", "纪检组长", "分管业务副局长"]
_TEXT_DEADLINES = ["2024年9月底前", "2024年12月底前", "2025年6月底前", "2024年年底", "长期坚持",
                   "2025年上半年", "立行立改", "2024年10月31日前"]


AS_OF = STATISTICS_DAY.date()
# Text deadlines that the toolkit reads as a day before / after the 统计截止日期 (2024-10-30).
_TEXT_DEADLINES_PAST = ["2024年9月底前", "2024年8月底前", "2024年7月31日前", "2024年9月30日前"]
_TEXT_DEADLINES_AHEAD = ["2024年12月底前", "2025年6月底前", "2024年年底", "2025年上半年",
                         "2024年10月31日前"]
_ORDINALS = "一二三四五六七八九十"

# Row roles of the shapes with exact shares (``Shape.overdue_share``).
OVERDUE, LONG_TERM, OTHER = "overdue", "long_term", "other"


def _sentence(rng: random.Random, parts: int) -> str:
    return "，".join(rng.choice(_PHRASES) for _ in range(parts)) + "。"


def _ordinal(i: int) -> str:
    """一 … 十, 十一 … 九十九 for the ``一是…二是…`` lines (0-based ``i``)."""
    n = i + 1
    tens, ones = divmod(n, 10)
    return ((_ORDINALS[tens - 1] if tens > 1 else "") + ("十" if tens else "")
            + (_ORDINALS[ones - 1] if ones else ""))


def _progress(rng: random.Random) -> str:
    ordinals = "一二三四五"
    lines = rng.randint(2, 5)
    return "\n".join(f"{ordinals[i]}是{_sentence(rng, rng.randint(2, 4))}" for i in range(lines))


def _long_progress(rng: random.Random) -> str:
    """Four to eight ``一是…`` lines of three to six phrases (about 250-650 characters)."""
    lines = rng.randint(4, 8)
    return "\n".join(f"{_ordinal(i)}是{_sentence(rng, rng.randint(3, 6))}" for i in range(lines))


PROGRESS_MIN_BYTES, PROGRESS_MAX_BYTES = 1_000, 3_000


def _kilobytes_progress(rng: random.Random) -> str:
    """``一是…`` lines adding up to 1,000-3,000 bytes of UTF-8, the last line cut to fit."""
    target = rng.randint(PROGRESS_MIN_BYTES, PROGRESS_MAX_BYTES)
    lines: list[str] = []
    size = -1  # no line break before the first line
    while size < target:
        line = f"{_ordinal(len(lines))}是{_sentence(rng, rng.randint(3, 8))}"
        size += 1 + len(line.encode("utf-8"))
        lines.append(line)
    text = "\n".join(lines)
    while len(text.encode("utf-8")) > PROGRESS_MAX_BYTES:  # CJK: 3 bytes a character
        text = text[:-2] + "。"
    return text


@dataclass(frozen=True)
class Shape:
    """How a generated ledger differs from the standard one."""

    name: str
    summary: str
    # Exact shares of rows (shuffled): 未完成 with a deadline before the 统计截止日期, and
    # 长期坚持; every other row then is neither overdue nor 长期坚持. 0: the standard's mix.
    overdue_share: float = 0.0
    long_term_share: float = 0.0
    progress: Callable[[random.Random], str] = _progress
    problem_parts: tuple[int, int] = (2, 6)
    measure_parts: tuple[int, int] = (1, 3)
    categories: int = 0  # exact number of 问题类别 (at most one per row); 0: merged over 3-30 rows


SHAPES: dict[str, Shape] = {shape.name: shape for shape in (
    Shape("standard", "55 % 已完成, 40 % 正在整改, 5 % 未完成; categories over 3-30 rows"),
    Shape("overdue", "⅓ 未完成 and overdue, 6 % 长期坚持, long texts",
          overdue_share=1 / 3, long_term_share=0.06, progress=_long_progress,
          problem_parts=(4, 10), measure_parts=(3, 6)),
    Shape("longtext", "整改进展 cells of 1-3 kB", progress=_kilobytes_progress),
    Shape("categories", "500 问题类别", categories=500),
)}


def _roles(rng: random.Random, rows: int, shape: Shape) -> list[str] | None:
    if not shape.overdue_share:
        return None
    overdue = int(rows * shape.overdue_share)
    long_term = min(rows - overdue, round(rows * shape.long_term_share))
    roles = [OVERDUE] * overdue + [LONG_TERM] * long_term + [OTHER] * (rows - overdue - long_term)
    rng.shuffle(roles)
    return roles


def _category_sizes(rng: random.Random, rows: int, categories: int) -> list[int]:
    """``categories`` sizes (each at least 1) adding up to ``rows``, at random cut points."""
    count = max(1, min(rows, categories))
    cuts = sorted(rng.sample(range(1, rows), count - 1)) if count > 1 else []
    bounds = [0, *cuts, rows]
    return [high - low for low, high in pairwise(bounds)]


def _status(rng: random.Random, role: str | None) -> tuple[str, bool]:
    """(整改状态, 长期坚持) of a row."""
    if role is None:  # the standard mix (kept call for call, so a seed gives the same ledger)
        status = rng.choices(["已完成", "正在整改", "未完成"], weights=[55, 40, 5])[0]
        return status, status == "正在整改" and rng.random() < 0.15
    if role == OVERDUE:
        return "未完成", False
    if role == LONG_TERM:
        return "正在整改", True
    return rng.choices(["已完成", "正在整改"], weights=[60, 40])[0], False


def _write_deadline(ws, rng: random.Random, r: int, role: str | None, status: str,
                    long_term: bool, plain, day) -> None:
    if long_term:
        ws.write_string(r, 7, "长期坚持", plain)
        return
    if role == OVERDUE or (role == OTHER and status == "正在整改"):
        past = role == OVERDUE
        if rng.random() < 0.5:
            span = (AS_OF - date(2024, 6, 30)).days
            first = datetime(2024, 6, 30) if past else datetime(2024, 10, 31)
            ws.write_datetime(r, 7, first + timedelta(days=rng.randint(0, span - 1)), day)
        else:
            ws.write_string(r, 7, rng.choice(_TEXT_DEADLINES_PAST if past else _TEXT_DEADLINES_AHEAD),
                            plain)
        return
    if rng.random() < 0.5:
        ws.write_datetime(r, 7, datetime(2024, 6, 30) + timedelta(days=rng.randint(0, 365)), day)
    else:
        ws.write_string(r, 7, rng.choice(_TEXT_DEADLINES[:4] + _TEXT_DEADLINES[5:]), plain)


def _edited_rows(rows: int, edits: int, seed: int) -> set[int]:
    """The 序号 of the rows a clerk's session of ``edits`` edits touches (its own random stream,
    so the ledger around them stays the same)."""
    return set(random.Random(f"edits-{seed}").sample(range(1, rows + 1), min(edits, rows)))


def write_bench_ledger(path: Path | str, rows: int, *, seed: int = 0,
                       shape: str | Shape = "standard", edits: int = 0) -> Path:
    """Write a ledger of ``rows`` problems of ``shape`` to ``path``; returns the path.

    The same (rows, seed, shape, edits) gives the same file, byte for byte. ``edits``: the same
    ledger after a clerk edited that many rows (a status moved on or back — 正在整改 to 已完成
    with its 完成时间, 已完成 back to 正在整改 — and the problem text of every other one
    amended), for a rebuild that finds a few changes since the last notice.
    """
    if isinstance(shape, str):
        if shape not in SHAPES:
            raise ValueError(f"unknown shape {shape!r}; shapes: {', '.join(SHAPES)}")
        shape = SHAPES[shape]
    rng = random.Random(seed)
    path = Path(path)
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": datetime(2024, 10, 30, 9, 0, 0)})  # the same bytes each time
    wrap = book.add_format({"text_wrap": True, "valign": "top", "border": 1})
    plain = book.add_format({"border": 1})
    day = book.add_format({"num_format": "yyyy-mm-dd", "border": 1})
    title = book.add_format({"bold": True, "align": "center", "font_size": 16})
    head = book.add_format({"bold": True, "border": 1, "align": "center"})
    merged = book.add_format({"text_wrap": True, "valign": "vcenter", "border": 1})

    ws = book.add_worksheet("整改台账")
    last_col = len(HEADER) - 1
    ws.merge_range(0, 0, 0, last_col, "中共某某市某某局党组巡察反馈意见整改台账", title)
    ws.merge_range(1, 0, 1, last_col, "填报单位：某某局办公室    截至2024年10月30日", plain)
    for col, name in enumerate(HEADER):
        ws.write_string(2, col, name, head)

    edited = _edited_rows(rows, edits, seed) if edits else set()
    roles = _roles(rng, rows, shape)
    sizes = iter(_category_sizes(rng, rows, shape.categories)) if shape.categories else None
    row = 3
    number = 0
    topic_no = 0
    while number < rows:
        topic_no += 1
        size = next(sizes) if sizes is not None else min(rows - number, rng.randint(3, 30))
        category = f"{_TOPICS[topic_no % len(_TOPICS)]}方面存在的问题（{topic_no}）"
        if size > 1:
            ws.merge_range(row, 1, row + size - 1, 1, category, merged)
        else:
            ws.write_string(row, 1, category, merged)
        sub_size = 0
        for i in range(size):
            role = roles[number] if roles is not None else None
            number += 1
            r = row + i
            if sub_size == 0:
                sub_size = rng.randint(1, 6)
                ws.write_string(r, 2, f"（{rng.randint(1, 9)}）{rng.choice(_PHRASES)}", wrap)
            sub_size -= 1
            status, long_term = _status(rng, role)
            ws.write_number(r, 0, number, plain)
            # Numbered so that no two problems are the same text (a duplicate is a ledger error).
            text = _sentence(rng, rng.randint(*shape.problem_parts))[:-1] + f"（第{number}项）。"
            shown = status
            if number in edited and not long_term:
                shown = {"已完成": "正在整改", "正在整改": "已完成"}.get(status, status)
                text += "（已修改）" if number % 2 else ""
            ws.write_string(r, 3, text, wrap)
            ws.write_string(r, 4, _sentence(rng, rng.randint(*shape.measure_parts)), wrap)
            ws.write_string(r, 5, rng.choice(_LEADERS), plain)
            ws.write_string(r, 6, rng.choice(_UNITS), plain)
            _write_deadline(ws, rng, r, role, status, long_term, plain, day)
            ws.write_string(r, 8, shape.progress(rng), wrap)
            ws.write_string(r, 9, shown, plain)
            ws.write_string(r, 10, "是" if long_term else "否", plain)
            ws.write_string(r, 11, "是" if rng.random() < 0.05 else "", plain)
            if status == "已完成":  # the random draw is made either way: the rest stays the same
                done = datetime(2024, 7, 15) + timedelta(days=rng.randint(0, 100))
                if shown == "已完成":
                    ws.write_datetime(r, 12, done, day)
            elif shown == "已完成":
                ws.write_datetime(r, 12, datetime(2024, 10, 28), day)
            if rng.random() < 0.03:
                ws.write_number(r, 13, round(rng.uniform(0.01, 20), 2), plain)
            if rng.random() < 0.1:
                ws.write_string(r, 14, "已报送佐证材料", plain)
        row += size
    for r in range(row, row + TRAILING_EMPTY_ROWS):
        for col in range(len(HEADER)):
            ws.write_blank(r, col, None, plain)

    ms = book.add_worksheet("通报信息")
    ms.write_string(0, 0, "项目", head)
    ms.write_string(0, 1, "内容", head)
    for i, (key, value) in enumerate(META, start=1):
        ms.write_string(i, 0, key)
        if isinstance(value, datetime):
            ms.write_datetime(i, 1, value, day)
        else:
            ms.write_string(i, 1, value, wrap)
    book.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a benchmark ledger.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=1_000)
    parser.add_argument("--shape", choices=list(SHAPES), default="standard")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--edits", type=int, default=0, help="rows edited since the notice")
    args = parser.parse_args(argv)
    write_bench_ledger(args.out, args.rows, seed=args.seed, shape=args.shape, edits=args.edits)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
