"""The visible pipeline: read -> validate -> count, as one call."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from .count import count
from .history import LedgerDiff, diff_report, history_findings
from .model import Finding, Report
from .read import read_ledger
from .validate import validate


def analyse(path: Path | str, today: date | None = None, *,
            history_dir: Path | None = None, notice: Path | str | None = None,
            sheet: str | None = None) -> Report:
    """Read, validate and count one ledger. Raises ``UnreadableLedgerError`` when unusable.

    With ``history_dir`` (``OUTDIR/.history``, see ``history.history_root``), changes since the
    last notice that a clerk must look at (regressions, deadlines moved later, vanished
    problems) are added as warnings. ``notice`` names the notice whose records are compared
    with (default: the one named after the ledger). ``sheet`` names the ledger
    sheet (see ``read_ledger``).
    """
    ledger = read_ledger(path, sheet=sheet)
    report = Report(ledger=ledger, findings=validate(ledger, today), stats=count(ledger, today))
    return report if history_dir is None else with_history(report, history_dir, notice)


def with_history(report: Report, history_dir: Path, notice: Path | str | None = None) -> Report:
    """``report`` with the changes since the last notice that a clerk must look at (see
    ``analyse``)."""
    return with_findings(report, history_findings(report.ledger, report.stats, history_dir, notice))


def with_findings(report: Report, extra: tuple[Finding, ...]) -> Report:
    """``report`` with ``extra`` findings after its own."""
    return replace(report, findings=report.findings + extra)


def diff_ledger(ledger: Path | str, history_dir: Path, *, against: str | None = None,
                today: date | None = None, notice: Path | str | None = None,
                whole_baseline: bool = False) -> LedgerDiff:
    """What changed in ``ledger`` since its last notice (or since ``against``); with
    ``whole_baseline`` the baseline keeps every row (for the change workbook).

    Raises ``UnreadableLedgerError`` for an unusable ledger and ``SnapshotError`` when there
    is nothing to compare with.
    """
    return diff_report(analyse(ledger, today), history_dir, against=against, notice=notice,
                       whole_baseline=whole_baseline)
