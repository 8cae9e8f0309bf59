"""archive.py: record names and order, validation, pruning, state, the index of notices."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from ledger_factory import default_rows, write_ledger

from toolkit.archive import (
    ledger_key,
    list_records,
    load_snapshot,
    load_state,
    locate_history,
    prune,
    records_for,
    remember_notice,
    state_dir,
    store_record,
)
from toolkit.errors import SnapshotError
from toolkit.names import history_root
from toolkit.pipeline import analyse

TODAY = date(2024, 10, 30)


@pytest.fixture
def ledger(tmp_path):
    return write_ledger(tmp_path / "a.xlsx")


def test_records_are_numbered_and_name_their_ledger(ledger, tmp_path):
    hist = history_root(tmp_path / "out")
    report = analyse(ledger, TODAY)
    first = store_record(report, hist, target=tmp_path / "out" / "a.docx", notice_data=b"one",
                         now=datetime(2030, 1, 1))
    second = store_record(report, hist, target=tmp_path / "out" / "a.docx", notice_data=b"two",
                          now=datetime(2024, 1, 1))
    records = list_records(hist / "a")
    assert [r.path for r in records] == [first, second]  # by number, though the clock went back
    assert records[1].archive.read_bytes() == b"two" and records[0].ledger == ledger_key(ledger)
    state = load_state(hist / "a")
    assert state["a.docx"]["ledger"] == ledger_key(ledger) and len(state["a.docx"]["sha256"]) == 64


def test_records_of_older_versions_are_read_first(ledger, tmp_path):
    hist = history_root(tmp_path / "out")
    folder = hist / "a"
    folder.mkdir(parents=True)
    data = {"format": "toolkit-history/1", "created": "2024-11-01T09:00:00", "ledger": "a.xlsx",
            "stats": {}, "rows": []}
    (folder / "20241101-090000-000000.json").write_text(json.dumps(data), encoding="utf-8")
    new = store_record(analyse(ledger, TODAY), hist, target=tmp_path / "out" / "a.docx",
                       now=datetime(2020, 1, 1))
    found = records_for(hist, ledger)
    assert [r.path.name for r in found] == ["20241101-090000-000000.json", new.name]
    # Records of older versions belong to the ledger the folder is named after, only.
    (tmp_path / "b").mkdir()
    other = write_ledger(tmp_path / "b" / "a2.xlsx")
    assert records_for(hist, other, "a.docx") == []


@pytest.mark.parametrize("rows", [
    [{"row": 2, "number": "1", "problem": "x", "status": "已完成", "deadline": "2024-02-30",
      "deadline_text": ""}],
    [{"row": "2", "number": "1", "problem": "x", "status": "已完成", "deadline": None,
      "deadline_text": ""}],
    [{"row": True, "number": "1", "problem": "x", "status": "", "deadline": None, "deadline_text": ""}],
    [{"row": 2, "number": "1", "problem": "x", "status": "", "deadline": None, "deadline_text": "",
      "unit": ["a"]}],
    [["not", "a", "dict"]],
])
def test_invalid_rows_are_refused(tmp_path, rows):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"format": "toolkit-history/1", "created": "2024-11-01T09:00:00",
                                "stats": {}, "rows": rows}), encoding="utf-8")
    with pytest.raises(SnapshotError, match="s.json"):
        load_snapshot(path)


def test_prune_keeps_the_newest_copy(ledger, tmp_path):
    hist = history_root(tmp_path / "out")
    target = tmp_path / "out" / "a.docx"
    report = analyse(ledger, TODAY)
    store_record(report, hist, target=target, notice_data=b"copy")
    for _ in range(3):
        store_record(report, hist, target=target, keep=100)  # data only, no copy
    removed = prune(hist / "a", 1)
    left = list_records(hist / "a")
    assert left[-1].seq == 4 and any(r.archive for r in left)  # the only copy stays
    assert removed and all(not p.exists() for p in removed)


def test_damaged_state_is_empty(tmp_path):
    (tmp_path / "state.json").write_text('{"files": [1]', encoding="utf-8")
    assert load_state(tmp_path) == {}
    (tmp_path / "state.json").write_text('{"files": {"a.docx": 3}}', encoding="utf-8")
    assert load_state(tmp_path) == {}


def test_index_finds_notices_elsewhere_and_given_folder_wins(ledger, tmp_path):
    report = analyse(ledger, TODAY)
    elsewhere = tmp_path / "通报" / "x.docx"
    store_record(report, history_root(elsewhere.parent), target=elsewhere,
                 now=datetime(2024, 12, 1))
    remember_notice(ledger, elsewhere)
    assert (state_dir() / "toolkit-notices.json").exists()
    assert locate_history(ledger, (tmp_path / "out",)) == (elsewhere.parent / ".history", elsewhere)
    given = tmp_path / "out" / "a.docx"
    store_record(report, history_root(given.parent), target=given, now=datetime(2024, 1, 1))
    # Older, but in the folder the clerk named: it wins over the index.
    assert locate_history(ledger, (tmp_path / "out",), prefer_given=True)[1] == given
    assert locate_history(ledger, (tmp_path / "out",))[1] == elsewhere
    write_ledger(ledger, default_rows()[:1])  # same path, same key
    assert locate_history(ledger, (tmp_path / "out",))[1] == elsewhere


def test_damaged_index_is_ignored(ledger, tmp_path):
    state_dir().mkdir(parents=True, exist_ok=True)
    (state_dir() / "toolkit-notices.json").write_text("[not json", encoding="utf-8")
    assert locate_history(ledger, (tmp_path / "out",)) is None
    remember_notice(ledger, tmp_path / "out" / "a.docx")  # replaces the damaged index
    assert json.loads((state_dir() / "toolkit-notices.json").read_text(encoding="utf-8"))


def test_prune_never_deletes_a_hand_edited_copy(ledger, tmp_path):
    from toolkit.archive import archive_edited

    hist = history_root(tmp_path / "out")
    target = tmp_path / "out" / "a.docx"
    report = analyse(ledger, TODAY)
    store_record(report, hist, target=target, notice_data=b"v1")
    target.write_bytes(b"edited by hand")
    kept = archive_edited(hist, target, ledger)
    for k in range(3):
        store_record(report, hist, target=target, notice_data=b"v%d" % (k + 2), keep=1)
    assert kept.exists() and kept.with_suffix(".docx").read_bytes() == b"edited by hand"
    assert len([r for r in list_records(hist / "a") if not r.edited]) == 1
