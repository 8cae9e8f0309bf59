"""The visible pipeline: read -> validate -> count, as one call."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from .count import count
from .history import history_findings
from .model import Report
from .read import read_ledger
from .validate import validate


def analyse(path: Path | str, today: date | None = None, *,
            history_dir: Path | None = None, sheet: str | None = None) -> Report:
    """Read, validate and count one ledger. Raises ``UnreadableLedgerError`` when unusable.

    With ``history_dir`` (``OUTDIR/.history``, see ``history.history_root``), changes since the
    last notice that a clerk must look at (regressions, deadlines moved later, vanished
    problems) are added as warnings. ``sheet`` names the ledger sheet (see ``read_ledger``).
    """
    ledger = read_ledger(path, sheet=sheet)
    findings = validate(ledger, today)
    stats = count(ledger, today)
    if history_dir is not None:
        findings += history_findings(ledger, stats, history_dir)
    return Report(ledger=ledger, findings=findings, stats=stats)
