"""Duplicate problems: the same problem text in two rows (pasted twice, renumbered), or nearly so.

Exact duplicates compare a key: NFKC, case folded, a leading enumerator (``1．``, ``（二）``)
dropped, and everything that is not a letter or digit removed (white space, punctuation,
symbols). Near duplicates are looked for only within a category and only among texts of at
least ``NEAR_MIN_CHARS`` key characters, by the Dice coefficient of character bigrams.

The near-duplicate search never compares all pairs: each text is compared only with the latest
few earlier texts that share a block with it (the same category and the same first, middle or
last ``_BLOCK_CHARS`` characters of the key), and the whole search stops after
``COMPARISON_BUDGET`` units of work (a comparison, or the bigram set of a text), so 50,000 rows
cost a bounded, small amount of work (``python bench/duplicates.py`` prints the figures).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from .model import Problem

NEAR_MIN_CHARS = 10  # shorter texts (问题甲 / 问题乙) differ in too few characters to judge
NEAR_THRESHOLD = 0.85  # Dice coefficient of the bigram sets
COMPARISON_BUDGET = 50_000
_PER_BLOCK = 4  # earlier texts of a block a text is compared with (the latest ones)
_BLOCK_CHARS = 8

# An enumerator and its delimiter, full or half width: 1． 1、 （一） (2) 三、 — but not the "3." of
# "3.5万元".
_NUMERAL = r"(?:[0-9０-９]{1,3}|[一二三四五六七八九十]{1,3})"
_ENUMERATOR = re.compile(
    rf"^\s*(?:[(（]?{_NUMERAL}[)）.．、:：](?![0-9０-９])|[(（]{_NUMERAL}[)）])")
_WORD = re.compile(r"[^\W_]+")
_COMMON_PUNCTUATION = "，。、；：“”（）！？,.;:()!? \n\u3000"


def problem_key(text: str) -> str:
    """The text two copies of the same problem share: ``1．资金 管理不规范。`` -> ``资金管理不规范``."""
    # Every row's key is computed, so the common case is made cheap: str.replace for the usual
    # punctuation, then the Unicode regex and NFKC only for a text that still needs them.
    key = _ENUMERATOR.sub("", text, count=1)
    for mark in _COMMON_PUNCTUATION:
        if mark in key:
            key = key.replace(mark, "")
    if not key.isalnum():
        key = "".join(_WORD.findall(key))
    if not unicodedata.is_normalized("NFKC", key):
        key = "".join(_WORD.findall(unicodedata.normalize("NFKC", key)))
    return key.casefold()


@dataclass(frozen=True)
class Duplicate:
    later: Problem
    earlier: Problem  # the first row with this text (exact) or the similar one found (near)
    exact: bool
    similarity: float  # 1.0 for exact duplicates


def find_duplicates(problems: Sequence[Problem]) -> list[Duplicate]:
    """Exact duplicates of earlier rows, then near duplicates within a category (one per row)."""
    first: dict[str, Problem] = {}
    found: list[Duplicate] = []
    unique: list[tuple[Problem, str]] = []
    for p in problems:
        key = problem_key(p.problem)
        if not key:
            continue  # an empty problem is its own error (missing_problem)
        if key in first:
            found.append(Duplicate(p, first[key], True, 1.0))
        else:
            first[key] = p
            unique.append((p, key))
    found.extend(_near_duplicates(unique))
    return found


def _bigrams(key: str) -> frozenset[str]:
    return frozenset(map(str.__add__, key, key[1:]))


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b))


def _near_duplicates(items: list[tuple[Problem, str]]) -> list[Duplicate]:
    by_category: dict[str, list[tuple[Problem, str]]] = {}
    for item in items:
        if len(item[1]) >= NEAR_MIN_CHARS:
            by_category.setdefault(item[0].category, []).append(item)
    found: list[Duplicate] = []
    budget = [COMPARISON_BUDGET]
    for group in by_category.values():
        if len(group) > 1:
            found.extend(_near_in_category(group, budget))
    found.sort(key=lambda d: d.later.seq)
    return found


def _near_in_category(group: list[tuple[Problem, str]], budget: list[int]) -> list[Duplicate]:
    # One loop on purpose: it runs once per row of a category and its blocks, bigram sets and
    # the shared budget (budget[0]) are what keep it bounded.
    blocks: dict[str, list[int]] = {}
    grams: dict[int, frozenset[str]] = {}
    found: list[Duplicate] = []
    threshold = NEAR_THRESHOLD
    for index, (p, key) in enumerate(group):
        size = len(key)
        middle = (size - _BLOCK_CHARS) // 2
        best, best_score = -1, 0.0
        seen: set[int] = set()
        for name in ("<" + key[:_BLOCK_CHARS], ">" + key[-_BLOCK_CHARS:],
                     "=" + key[middle:middle + _BLOCK_CHARS]):
            block = blocks.get(name)
            if block is None:
                blocks[name] = [index]
                continue
            for other in block[-_PER_BLOCK:]:
                if other in seen:
                    continue
                seen.add(other)
                other_size = len(group[other][1])
                # A bigram Dice this high needs lengths this close.
                if 2 * min(size, other_size) < threshold * (size + other_size):
                    continue
                if budget[0] <= 0:
                    return found
                budget[0] -= 1  # a comparison, and each bigram set it builds, cost one unit
                mine = grams.get(index)
                if mine is None:
                    mine = grams[index] = _bigrams(key)
                    budget[0] -= 1
                theirs = grams.get(other)
                if theirs is None:
                    theirs = grams[other] = _bigrams(group[other][1])
                    budget[0] -= 1
                score = _dice(mine, theirs)
                if score > best_score:
                    best, best_score = other, score
            block.append(index)
        if best_score >= threshold:
            found.append(Duplicate(p, group[best][0], False, best_score))
    return found
