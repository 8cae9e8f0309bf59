"""The visible pipeline: read -> validate -> count, as one call."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from .count import count
from .model import Report
from .read import read_ledger
from .validate import validate


def analyse(path: Path | str, today: date | None = None) -> Report:
    """Read, validate and count one ledger. Raises ``UnreadableLedgerError`` when unusable."""
    ledger = read_ledger(path)
    return Report(ledger=ledger, findings=validate(ledger, today), stats=count(ledger, today))
