"""History records laid out a part per line: written a row at a time, read back whole or in part,
and rows known to be unchanged left out of a comparison without changing what it finds."""

import json
from collections import Counter
from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_factory import default_rows, row, write_ledger

from toolkit.archive import (
    DIFF_FIELDS,
    ROW_FIELDS,
    ledger_content,
    load_snapshot,
    record_stats,
    recorded_digest,
    snapshot_digest,
    snapshot_rows,
    store_record,
    store_snapshot,
)
from toolkit.count import count, stats_to_dict
from toolkit.errors import SnapshotError
from toolkit.history import changes_since, diff_rows, history_findings, history_root
from toolkit.model import Report
from toolkit.pipeline import analyse
from toolkit.read import read_ledger
from toolkit.record_file import content_of, read_digest, read_record, record_chunks, row_key

TODAY = date(2024, 10, 30)


def _rows(n=3):
    return [{"row": 5 + k, "number": str(k + 1), "problem": f"问题{k}\n第二行 & <x> {{{{ y }}}}",
             "status": "正在整改", "deadline": None, "deadline_text": "长期坚持", "flagged": k == 1}
            for k in range(n)]


def _write(path, rows, stats=None):
    header = {"format": "toolkit-history/1", "created": "2024-11-01T09:00:00", "stats": stats or {"total": len(rows)}}
    path.write_bytes(b"".join(record_chunks(header, rows)))
    return path


@pytest.mark.parametrize("n", [0, 1, 3, 600])
def test_a_record_is_one_json_object_with_a_part_per_line(tmp_path, n):
    rows = _rows(n)
    path = _write(tmp_path / "r.json", rows)
    text = path.read_text(encoding="utf-8")
    whole = json.loads(text)  # any JSON reader reads it whole
    assert whole["rows"] == rows and whole["stats"] == {"total": n}
    lines = text.splitlines()
    assert lines[0].endswith('"rows":[') and len(lines) == n + 2
    assert whole["content_sha256"] == content_of({"total": n}, rows).digest == read_digest(path)
    assert read_record(path) == whole
    assert read_record(path, rows=False)["rows"] == [] and read_record(path, rows=False)["stats"] == {"total": n}


def test_a_record_in_another_layout_is_read_whole(tmp_path):
    rows = _rows(4)
    path = _write(tmp_path / "r.json", rows)
    whole = json.loads(path.read_text(encoding="utf-8"))
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(whole, ensure_ascii=False, indent=2), encoding="utf-8")
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(whole, ensure_ascii=False), encoding="utf-8")
    for other in (pretty, compact):
        assert read_record(other) == whole
        assert read_digest(other) is None or read_digest(other) == whole["content_sha256"]
    # A row line someone broke in two: the line layout fails, the whole read decides.
    broken = tmp_path / "broken.json"
    broken.write_text(path.read_text(encoding="utf-8").replace('"问题1', '"问题1\n'), encoding="utf-8")
    with pytest.raises(ValueError):
        read_record(broken)


def test_leaving_out_rows_by_key_in_either_layout(tmp_path):
    rows = _rows(5)
    path = _write(tmp_path / "r.json", rows)
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(json.loads(path.read_text(encoding="utf-8"))), encoding="utf-8")
    moved = dict(rows[2], row=99)  # the same content in another worksheet row: the same key
    assert row_key(moved) == row_key(rows[2]) and row_key(rows[2]) != row_key(rows[3])
    for record in (path, compact):
        leave = Counter([row_key(moved), row_key(rows[0]), row_key(dict(rows[0], status="已完成"))])
        got = read_record(record, leave_out=leave)["rows"]
        assert got == [rows[1], rows[3], rows[4]]
        assert leave == Counter({row_key(dict(rows[0], status="已完成")): 1})  # not found: left


def test_streamed_record_checksum_tells_an_unchanged_ledger(tmp_path):
    ledger_path = write_ledger(tmp_path / "台账.xlsx", default_rows())
    report = analyse(ledger_path, TODAY)
    hist = history_root(tmp_path / "out")
    record = store_record(report, hist, target=tmp_path / "out" / "台账.docx")
    content = ledger_content(report.ledger, report.stats)
    assert recorded_digest(record) == content.digest
    snapshot = load_snapshot(record)
    assert list(snapshot.rows) == snapshot_rows(report.ledger)
    assert snapshot.stats == stats_to_dict(report.stats) == record_stats(record)
    assert snapshot_digest(replace(snapshot, digest=None)) == content.digest  # older records: computed
    assert store_snapshot(report, hist, notice=tmp_path / "out" / "台账.docx") is None  # same content


def test_damaged_rows_in_the_line_layout_are_refused(tmp_path):
    ledger_path = write_ledger(tmp_path / "台账.xlsx", default_rows())
    report = analyse(ledger_path, TODAY)
    record = store_record(report, history_root(tmp_path / "out"), target=tmp_path / "out" / "台账.docx")
    lines = record.read_text(encoding="utf-8").split("\n")
    bad = dict(json.loads(lines[2].rstrip(",")), deadline="2024-13-45")
    record.write_text("\n".join([*lines[:2], json.dumps(bad, ensure_ascii=False) + ",", *lines[3:]]),
                      encoding="utf-8")
    with pytest.raises(SnapshotError, match="格式无法识别"):
        load_snapshot(record)
    record.write_text("\n".join(lines[:3]), encoding="utf-8")  # cut short
    with pytest.raises(SnapshotError, match="已损坏"):
        load_snapshot(record)


# ------------------------------------------------ leaving unchanged rows out changes nothing found

_STATUSES = ("已完成", "正在整改", "未完成")
_edit = st.tuples(st.sampled_from(["status", "insert", "delete", "text", "deadline", "duplicate", "renumber"]),
                  st.integers(0, 10_000), st.integers(0, 2))


def _base_ledger(tmp_path):
    rows = [row(k + 1, f"类别{k % 3}", f"具体问题{'甲乙丙丁戊己庚辛'[k % 8]}{k}号，涉及资金{k * 7}万元",
                _STATUSES[k % 3], deadline=f"2024年{k % 12 + 1}月底前") for k in range(24)]
    return read_ledger(write_ledger(tmp_path / "台账.xlsx", rows))


def _edited(ledger, edits):
    problems = list(ledger.problems)
    for kind, at, pick in edits:
        k = at % len(problems)
        p = problems[k]
        if kind == "status":
            problems[k] = replace(p, status=_STATUSES[pick])
        elif kind == "insert":
            problems.insert(k, replace(p, problem=f"新增问题{at}", number=""))
        elif kind == "delete" and len(problems) > 1:
            del problems[k]
        elif kind == "text":
            problems[k] = replace(p, problem=p.problem + "（已修改）")
        elif kind == "deadline":
            problems[k] = replace(p, deadline=date(2025, pick + 1, 1), deadline_text=f"2025年{pick + 1}月1日")
        elif kind == "duplicate":
            problems.insert(k, p)
        elif kind == "renumber":
            problems[k] = replace(p, number=str(pick + 1))
    # Worksheet rows follow the order, as in a ledger where rows were inserted or deleted.
    problems = [replace(p, row=4 + k, seq=k + 1) for k, p in enumerate(problems)]
    return replace(ledger, problems=tuple(problems))


@settings(max_examples=60, deadline=None)
@given(st.lists(_edit, max_size=6))
def test_leaving_out_unchanged_rows_finds_the_same_changes(tmp_path_factory, edits):
    tmp_path = tmp_path_factory.mktemp("leave")
    old = _base_ledger(tmp_path)
    hist = history_root(tmp_path / "out")
    record = store_record(Report(ledger=old, findings=(), stats=count(old, TODAY)), hist,
                          target=tmp_path / "out" / "台账.docx", now=datetime(2024, 11, 1, 9, 0))
    new = _edited(old, edits)
    stats = count(new, TODAY)
    content = ledger_content(new, stats)
    expected = diff_rows(load_snapshot(record).rows, snapshot_rows(new))
    slim = load_snapshot(record, DIFF_FIELDS, leave_out=Counter(content.row_keys))
    assert len(slim.rows) + sum(slim.left_out.values()) == len(old.problems)
    assert changes_since(slim, new, content) == expected
    # And through the findings a build reports.
    found = history_findings(new, stats, hist, "台账.docx")
    assert len(found) == sum(1 for c in expected if c.severity == "warning")


def test_an_unchanged_ledger_reads_no_row_of_its_latest_record(tmp_path, monkeypatch):
    ledger = _base_ledger(tmp_path)
    report = Report(ledger=ledger, findings=(), stats=count(ledger, TODAY))
    hist = history_root(tmp_path / "out")
    store_record(report, hist, target=tmp_path / "out" / "台账.docx")
    import toolkit.history as history_module

    def refuse(*args, **kwargs):
        raise AssertionError("a record equal to the ledger was read")
    monkeypatch.setattr(history_module, "load_snapshot", refuse)
    assert history_findings(ledger, report.stats, hist, "台账.docx") == ()
    assert ROW_FIELDS[0] == "row"


def test_records_of_older_versions_are_compared_whole(tmp_path):
    old = _base_ledger(tmp_path)
    hist = history_root(tmp_path / "out")
    record = store_record(Report(ledger=old, findings=(), stats=count(old, TODAY)), hist,
                          target=tmp_path / "out" / "台账.docx")
    whole = json.loads(record.read_text(encoding="utf-8"))
    del whole["content_sha256"]
    record.write_text(json.dumps(whole, ensure_ascii=False), encoding="utf-8")  # one line, as before
    assert recorded_digest(record) is None
    new = _edited(old, [("status", 3, 0), ("status", 5, 1), ("insert", 0, 0), ("delete", 9, 0)])
    stats = count(new, TODAY)
    expected = diff_rows(load_snapshot(record).rows, snapshot_rows(new))
    assert any(c.severity == "warning" for c in expected)
    found = history_findings(new, stats, hist, "台账.docx")
    assert len(found) == sum(1 for c in expected if c.severity == "warning") > 0
    # Unchanged, the older record is still told equal (its checksum computed from its rows).
    assert history_findings(old, count(old, TODAY), hist, "台账.docx") == ()
