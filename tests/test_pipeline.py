"""pipeline.analyse: read -> validate -> count (-> history warnings) as one call."""

from __future__ import annotations

from datetime import date

import pytest
from ledger_factory import default_rows, row, write_ledger

from toolkit.errors import UnreadableLedgerError
from toolkit.history import history_root, store_snapshot
from toolkit.pipeline import analyse

TODAY = date(2024, 10, 30)


def test_report_holds_ledger_findings_and_stats(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx")
    report = analyse(ledger, TODAY)
    assert report.ok and report.ledger.path == ledger
    assert report.stats.overall.total == 5 and report.stats.overall.done == 2
    assert not [f for f in report.findings if f.code.startswith("history_")]


def test_errors_make_the_report_not_ok(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx", [row(1, "类", "问题", "已完城")])
    report = analyse(ledger, TODAY)
    assert not report.ok and report.errors


def test_unreadable_file_raises(tmp_path):
    bad = tmp_path / "a.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(UnreadableLedgerError):
        analyse(bad, TODAY)


def test_history_warnings_only_with_a_history_dir(tmp_path):
    ledger = write_ledger(tmp_path / "a.xlsx")
    hist = history_root(tmp_path / "out")
    store_snapshot(analyse(ledger, TODAY), hist)
    write_ledger(ledger, default_rows()[1:])
    assert "history_disappeared" in [f.code for f in analyse(ledger, TODAY, history_dir=hist).findings]
    assert "history_disappeared" not in [f.code for f in analyse(ledger, TODAY).findings]
    # Records of another notice are not this one's.
    other = analyse(ledger, TODAY, history_dir=hist, notice="别的通报.docx")
    assert "history_disappeared" not in [f.code for f in other.findings]
