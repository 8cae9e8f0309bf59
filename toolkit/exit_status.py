"""The exit-status contract of every command, in one place.

0 clean (warnings allowed), 1 the ledger itself has errors, 2 unusable input, unwritable
output or a usage error, 3 an internal error (a bug). 1 means nothing but a ledger's errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0  # clean, or warnings only
    LEDGER_ERRORS = 1  # the ledger has errors: no new notice, the last good one kept
    UNUSABLE = 2  # unusable input, unwritable output, or a usage error
    INTERNAL = 3  # an unexpected exception: a bug, logged with its traceback

    @classmethod
    def worst(cls, statuses: Iterable[int]) -> ExitStatus:
        """The most serious of several results (OK when there are none)."""
        return cls(max((int(s) for s in statuses), default=cls.OK))
