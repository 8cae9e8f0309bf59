"""Time the duplicate-problem search (toolkit/duplicates.py) on shapes that stress it.

    python bench/duplicates.py [rows ...]        (default: 10000 50000)

Shapes: the bench ledger's (categories of 3–30 rows, texts of 2–6 stock phrases), one category
holding every row, and near copies of one text (every pair similar: the comparison budget is
what bounds it). Prints, per shape and size, the time of the keys alone and of the whole search
(median of three), and how many exact and near duplicates were found.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_gen import _sentence

from toolkit.duplicates import find_duplicates, problem_key
from toolkit.model import Problem


def _problem(i: int, category: str, text: str) -> Problem:
    return Problem(
        row=i + 4, seq=i + 1, number=str(i + 1), category=category, subcategory="", problem=text,
        measures="", leader="", unit="", deadline_text="", deadline=None, deadline_state="empty",
        progress="", status_text="已完成", status="已完成", status_state="ok", long_term=False,
        flagged=False, done_date=None, done_date_text="", recovered_text="", recovered_wan=None,
        evidence="", remarks="")


def shape_bench(rows: int, rng: random.Random) -> list[Problem]:
    problems, category = [], 0
    while len(problems) < rows:
        category += 1
        for _ in range(min(rows - len(problems), rng.randint(3, 30))):
            i = len(problems)
            text = _sentence(rng, rng.randint(2, 6))[:-1] + f"（第{i + 1}项）。"
            problems.append(_problem(i, f"类别{category}", text))
    return problems


def shape_one_category(rows: int, rng: random.Random) -> list[Problem]:
    return [_problem(i, "", _sentence(rng, rng.randint(2, 6))[:-1] + f"（第{i + 1}项）。")
            for i in range(rows)]


def shape_near_copies(rows: int, rng: random.Random) -> list[Problem]:
    base = "党组理论学习中心组学习制度执行不严格，学习记录不完整，部分成员学习笔记内容空洞"
    return [_problem(i, "", base + str(i)) for i in range(rows)]


SHAPES = {"bench ledger": shape_bench, "one category": shape_one_category,
          "near copies of one text": shape_near_copies}


def _median_time(work) -> tuple[float, object]:
    times, result = [], None
    for _ in range(3):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(sizes: list[int]) -> None:
    print("| shape | rows | keys | whole search | exact | near |")
    print("|---|---|---|---|---|---|")
    for name, make in SHAPES.items():
        for rows in sizes:
            problems = make(rows, random.Random(0))
            keys, _ = _median_time(lambda ps=problems: [problem_key(p.problem) for p in ps])
            search, found = _median_time(lambda ps=problems: find_duplicates(ps))
            exact = sum(d.exact for d in found)
            print(f"| {name} | {rows:,} | {keys * 1000:.0f} ms | {search * 1000:.0f} ms | "
                  f"{exact} | {len(found) - exact} |")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 50_000])
