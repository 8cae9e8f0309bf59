"""Finding codes: the stable names of every finding (``check --json``'s ``code``, 校验报告).

A ``str`` enum whose values are the strings ``check --json`` has always written, so a code
compares as its plain string (``Code.OVERDUE == "overdue"``). ``model.Finding`` stores the plain
string, so hashing, JSON and the 校验报告 see no enum. Every code is listed with its meaning,
in Chinese, in docs/findings.md (tests/test_codes.py keeps the two in step): add a member here
and a line there together.
"""

from __future__ import annotations

from enum import Enum


class Code(str, Enum):
    # -- reading: the table
    MISSING_COLUMN = "missing_column"
    EXTRA_COLUMN = "extra_column"
    TOO_MANY_COLUMNS = "too_many_columns"
    FORMULA_NO_CACHE = "formula_no_cache"
    FORMULA_UNVERIFIED = "formula_unverified"
    BAD_FLAG = "bad_flag"
    SEVERAL_LEDGER_SHEETS = "several_ledger_sheets"
    LEDGER_OPEN = "ledger_open"
    # -- reading: the 通报信息 sheet
    MISSING_META_SHEET = "missing_meta_sheet"
    MISSING_META = "missing_meta"
    UNKNOWN_META_KEY = "unknown_meta_key"
    DUPLICATE_META_KEY = "duplicate_meta_key"
    BAD_META_DATE = "bad_meta_date"
    BAD_KIND = "bad_kind"
    NEAR_KIND = "near_kind"
    AS_OF_IN_FUTURE = "as_of_in_future"
    AS_OF_BEFORE_FEEDBACK = "as_of_before_feedback"
    # -- rows
    NO_PROBLEMS = "no_problems"
    MISSING_PROBLEM = "missing_problem"
    DUPLICATE_PROBLEM = "duplicate_problem"
    SIMILAR_PROBLEM = "similar_problem"
    MISSING_STATUS = "missing_status"
    UNKNOWN_STATUS = "unknown_status"
    LEGACY_LONG_TERM = "legacy_long_term"
    BAD_AMOUNT = "bad_amount"
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    BAD_DEADLINE = "bad_deadline"
    INFERRED_YEAR = "inferred_year"
    DONE_WITHOUT_PROGRESS = "done_without_progress"
    DONE_AFTER_AS_OF = "done_after_as_of"
    OVERDUE = "overdue"
    DUPLICATE_NUMBER = "duplicate_number"
    NUMBER_GAP = "number_gap"
    # -- history: changes since the last notice
    HISTORY_UNREADABLE = "history_unreadable"
    HISTORY_REGRESSED = "history_regressed"
    HISTORY_DEADLINE_EXTENDED = "history_deadline_extended"
    HISTORY_DISAPPEARED = "history_disappeared"

    def __str__(self) -> str:  # the plain code, also in f-strings on every Python version
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


# Warnings a clerk must see before a notice goes out, wherever the result is shown (the CLI's
# build and render, the watcher's log and status.json): overdue rows, a ledger open in Excel
# (the notice shows its last saved state), and every change since the last notice that needs
# a look (regressions, deadlines moved later, vanished problems).
IMPORTANT_WARNINGS = frozenset({Code.OVERDUE.value, Code.LEDGER_OPEN.value, Code.SEVERAL_LEDGER_SHEETS.value,
                                Code.HISTORY_REGRESSED.value, Code.HISTORY_DEADLINE_EXTENDED.value,
                                Code.HISTORY_DISAPPEARED.value, Code.HISTORY_UNREADABLE.value})


def is_important(code: str) -> bool:
    """True for the code of a warning listed in ``IMPORTANT_WARNINGS``."""
    return code in IMPORTANT_WARNINGS
