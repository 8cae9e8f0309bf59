"""Change history between notices: snapshots of each built ledger, and the diff against them.

Every notice written stores a snapshot (the normalised rows and the statistics, JSON) with
a copy of the notice in ``OUTDIR/.history/<notice stem>/`` (see archive.py for the layout).

Which snapshot a ledger is compared with (the *baseline*): the latest one whose content
differs from the ledger as it is now. Right after a build the latest snapshot *is* the ledger,
so the comparison falls back to the one before it: the changes that the last notice brought
stay visible in ``check`` and ``diff`` until the ledger is edited again.

How rows of the two versions are matched (a problem must never vanish unnoticed, so a doubtful
pair is left unmatched, which reports it as vanished plus added, rather than hiding it):

0. Identical rows: 序号, problem text, status and deadline all equal, wherever the rows sit,
   in ledger order. A row pasted twice is then one unchanged problem and one added, not an
   edit of the old one. (``check`` and ``build`` leave rows equal in every value out of the
   comparison before it starts, see ``Snapshot.left_out``; this step pairs them the same way.)
1. Same problem text (compared after NFKC, without white space and trailing punctuation): the
   same problem, whatever its 序号. Inserting or deleting a row renumbers everything below it;
   matching text first keeps that from turning into a cascade of false changes. When several
   rows share a text, equal 序号 pair first, then the rest in ledger order.
2. Edited text. Candidate pairs among the rows left: same 序号 (present and unique in both
   versions) with similar text (difflib similarity >= 0.5), or different 序号 with very similar
   text (>= 0.75, edited and renumbered). The most similar pairs are taken first, so a row
   renumbered after a deletion goes to its own edited text, not to the row that now carries
   its old 序号.
3. Old rows still unmatched have disappeared (a warning); new rows unmatched were added.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from .archive import (
    DIFF_FIELDS,
    ROW_FIELDS,
    iter_snapshot_rows,
    leave_out_rows,
    ledger_content,
    recorded_digest,
    records_for,
    snapshot_digest,
)

# Storage (where snapshots live, how they are named, validated and archived) is archive.py;
# the names below are re-exported so callers keep importing them from here.
from .archive import FORMAT as FORMAT
from .archive import Snapshot as Snapshot
from .archive import last_snapshot_time as last_snapshot_time
from .archive import list_snapshots as list_snapshots
from .archive import load_snapshot as load_snapshot
from .archive import snapshot_rows as snapshot_rows
from .archive import store_snapshot as store_snapshot
from .codes import Code
from .errors import SnapshotError, os_reason
from .model import DONE, IN_PROGRESS, INFO, NOT_DONE, WARNING, Finding, Ledger, Report, Stats
from .names import HISTORY_DIR_NAME as HISTORY_DIR_NAME
from .names import history_root as history_root
from .normalize import format_cn_date, parse_day, status_key
from .record_file import Content

SAME_NUMBER_SIMILARITY = 0.5
RENUMBERED_SIMILARITY = 0.75
# Up to this many (leftover old row, leftover new row) pairs every pair is compared; beyond it
# (a ledger rewritten wholesale) only likely pairs are, see ``_likely_pairs``.
MAX_FUZZY_PAIRS = 40_000

# Kinds of change, in the order ``diff`` lists them.
NEWLY_DONE = "newly_done"
REGRESSED = "regressed"
DEADLINE_EXTENDED = "deadline_extended"
TEXT_EDITED = "text_edited"
DISAPPEARED = "disappeared"
ADDED = "added"
KINDS_CN = {
    NEWLY_DONE: "新完成",
    REGRESSED: "状态倒退",
    DEADLINE_EXTENDED: "时限延后",
    TEXT_EDITED: "问题文字修改",
    DISAPPEARED: "问题消失",
    ADDED: "新增问题",
}
# The changes a clerk must look at before a notice goes out; the rest is information.
WARNING_KINDS = (REGRESSED, DEADLINE_EXTENDED, DISAPPEARED)
_STATUS_RANK = {NOT_DONE: 0, IN_PROGRESS: 1, DONE: 2}


# ---------------------------------------------------------------- choosing the baseline

@dataclass(frozen=True)
class Baseline:
    snapshot: Snapshot | None  # None: nothing to compare with
    same_as_latest: bool  # the ledger equals the latest snapshot, so an older one was taken
    notes: tuple[str, ...] = ()  # damaged snapshots that were skipped
    latest: Path | None = None  # the newest record equal to the ledger


def find_baseline(history_dir: Path, ledger: Ledger, content: Content,
                  notice: Path | str | None = None, fields: tuple[str, ...] = ROW_FIELDS, *,
                  leave_unchanged: bool = False) -> Baseline:
    """The latest snapshot whose content differs from the ledger's (``content``, see
    ``archive.ledger_content``; the module docstring says why), with ``fields`` of its rows.
    With ``leave_unchanged``, rows equal to one of the ledger's are left out of it (see
    ``Snapshot.left_out``): a rebuild after a few edits then holds only the rows edited.

    Records equal to the ledger are told by the checksum they carry, without reading their rows.
    A snapshot that cannot be read or does not validate is skipped with a note naming it.
    """
    notes: list[str] = []
    same: Path | None = None
    keys = Counter(content.row_keys) if leave_unchanged else None
    for _, path in reversed(list_snapshots(history_dir, ledger.path, notice)):
        recorded = recorded_digest(path)
        if recorded == content.digest:
            same = same or path
            continue
        try:
            # Older records carry no checksum: their whole rows give it.
            snapshot = (load_snapshot(path, fields, leave_out=keys) if recorded
                        else load_snapshot(path))
        except SnapshotError as exc:
            notes.append(f"{exc.message}，已跳过")
            continue
        if recorded is None:
            if snapshot_digest(snapshot) == content.digest:
                same = same or path
                continue
            snapshot = leave_out_rows(snapshot, keys or Counter(), fields)
        return Baseline(snapshot, same is not None, tuple(notes), same)
    return Baseline(None, same is not None, tuple(notes), same)


def resolve_against(history_dir: Path, ledger: Path, against: str,
                    notice: Path | str | None = None) -> Snapshot:
    """``--against``: a snapshot file (path or name in the ledger's history), or a date
    (the last snapshot of that day or before). Raises ``SnapshotError``."""
    candidate = Path(against)
    if candidate.is_file():
        return load_snapshot(candidate)
    for record in records_for(history_dir, ledger, notice):
        if record.path.name == against:
            return load_snapshot(record.path)
    day = parse_day(against)
    if day is None:
        raise SnapshotError(ledger, f"“{against}”既不是通报记录文件，也不是日期（如 2024-12-20）")
    until = datetime.combine(day, time.max)
    earlier = [path for created, path in list_snapshots(history_dir, ledger, notice)
               if created <= until]
    if not earlier:
        raise SnapshotError(ledger, f"{format_cn_date(day)}及以前没有通报记录")
    return load_snapshot(earlier[-1])


# ---------------------------------------------------------------- diff

@dataclass(frozen=True)
class Change:
    kind: str  # NEWLY_DONE | REGRESSED | DEADLINE_EXTENDED | TEXT_EDITED | DISAPPEARED | ADDED
    number: str  # 序号 now (before, for a disappeared row)
    problem: str  # problem text now (before, for a disappeared row)
    old: str  # the value before, as text ("" for an added row)
    new: str  # the value now, as text ("" for a disappeared row)
    row: int | None  # worksheet row now; None when disappeared
    old_row: int | None  # worksheet row in the snapshot; None when added
    old_number: str = ""

    @property
    def severity(self) -> str:
        return WARNING if self.kind in WARNING_KINDS else INFO

    @property
    def message(self) -> str:
        """One Chinese sentence for the clerk."""
        what = f"序号{self.number}“{short(self.problem)}”" if self.number else f"“{short(self.problem)}”"
        if self.kind == NEWLY_DONE:
            return f"{what}由“{self.old}”变为“已完成”"
        if self.kind == REGRESSED:
            return f"{what}的整改状态由“{self.old}”倒退为“{self.new}”，请核实"
        if self.kind == DEADLINE_EXTENDED:
            return f"{what}的整改时限由“{self.old}”改为“{self.new}”，时限被延后，请核实是否经过批准"
        if self.kind == TEXT_EDITED:
            was, now = text_change(self.old, self.new)
            return f"{what}的问题文字被修改：“{was}”改为“{now}”"
        if self.kind == DISAPPEARED:
            return (f"{what}（原第 {self.old_row} 行）在台账中找不到了：反馈问题不能删除，"
                    "已整改的请把状态改为“已完成”；如确属误删请恢复")
        return f"新增{what}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "kind_cn": KINDS_CN[self.kind], "severity": self.severity,
                "number": self.number, "old_number": self.old_number, "problem": self.problem,
                "old": self.old, "new": self.new, "row": self.row, "old_row": self.old_row,
                "message": self.message}


def text_change(old: str, new: str, context: int = 8, limit: int = 40) -> tuple[str, str]:
    """The part of ``old`` and ``new`` that differs, with a little context either side.

    ``…整改【不及时】，…`` against ``…整改【不到位】，…``: the changed span is bracketed, the
    common text around it is cut to ``context`` characters and marked with an ellipsis. A
    change too long to show is cut to ``limit`` characters.
    """
    old, new = " ".join(old.split()), " ".join(new.split())
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0  # common suffix, not overlapping the prefix
    while (end < min(len(old), len(new)) - start
           and old[len(old) - 1 - end] == new[len(new) - 1 - end]):
        end += 1

    def show(text: str) -> str:
        middle = text[start:len(text) - end]
        if len(middle) > limit:
            middle = middle[: limit - 1] + "…"
        before = text[max(0, start - context):start]
        after = text[len(text) - end:len(text) - end + context]
        lead = "…" if start > context else ""
        tail = "…" if end > context else ""
        return f"{lead}{before}【{middle}】{after}{tail}"

    return show(old), show(new)


def short(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text_key(text: str) -> str:
    return status_key(text)  # the same comparison key as the status column


def _similarity(a: str, b: str, floor: float) -> float:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # The cheap upper bounds first: most pairs are far apart.
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


def _grams(text: str) -> set[str]:
    return {text[k:k + 2] for k in range(len(text) - 1)} or {text}


def _likely_pairs(keys_old: dict[int, str], keys_new: dict[int, str],
                  per_row: int = 3) -> set[tuple[int, int]]:
    """For many leftover rows: each old row's few new rows sharing most uncommon bigrams.

    Comparing every pair would take minutes on a ledger rewritten wholesale; bigrams found in
    many rows (the ledger's boilerplate) say nothing about which row is which, so they are
    skipped.
    """
    index: dict[str, list[int]] = defaultdict(list)
    for j, text in keys_new.items():
        for gram in _grams(text):
            index[gram].append(j)
    common = max(20, len(keys_new) // 20)
    pairs: set[tuple[int, int]] = set()
    for i, text in keys_old.items():
        shared: Counter[int] = Counter()
        for gram in _grams(text):
            rows = index.get(gram, ())
            if len(rows) <= common:
                shared.update(rows)
        pairs.update((i, j) for j, _ in shared.most_common(per_row))
    return pairs


def _identical_pairs(old: list[dict], new: list[dict]) -> list[tuple[int, int]]:
    """0. Rows with every compared value equal (wherever they sit), in ledger order."""
    def same(row: dict) -> tuple:
        return tuple(row.get(key) for key in DIFF_FIELDS if key != "row")
    news: dict[tuple, deque[int]] = defaultdict(deque)
    for j, row in enumerate(new):
        news[same(row)].append(j)
    pairs = []
    for i, row in enumerate(old):
        found = news.get(same(row))
        if found:
            pairs.append((i, found.popleft()))
    return pairs


def match_rows(old: list[dict], new: list[dict],
               unchanged_numbers: Counter[str] | None = None) -> list[tuple[int, int]]:
    """Pairs (old index, new index) of the same problem; see the module docstring.
    ``unchanged_numbers``: 序号 of rows left out of both lists, equal in both versions."""
    pairs = _identical_pairs(old, new)
    old_left = set(range(len(old))) - {i for i, _ in pairs}
    new_left = set(range(len(new))) - {j for _, j in pairs}

    # 1. Same text.
    by_text: dict[str, list[int]] = defaultdict(list)
    for j in sorted(new_left):
        by_text[_text_key(new[j]["problem"])].append(j)
    groups: dict[str, list[int]] = defaultdict(list)
    for i in sorted(old_left):
        groups[_text_key(old[i]["problem"])].append(i)
    for key, olds in groups.items():
        news = by_text.get(key, [])
        if not news:
            continue
        for i in list(olds):  # equal 序号 first among rows sharing a text
            same = next((j for j in news if new[j]["number"] and new[j]["number"] == old[i]["number"]),
                        None)
            if same is not None:
                pairs.append((i, same))
                olds.remove(i)
                news.remove(same)
        for i, j in zip(olds, news):
            pairs.append((i, j))
    for i, j in pairs:
        old_left.discard(i)
        new_left.discard(j)

    # 2. and 3. Edited text: score the candidate pairs, then take the most similar first, so
    # a row renumbered after a deletion goes to its own edited text, not to whatever row now
    # carries its old 序号.
    def unique_numbers(rows: list[dict], left: set[int]) -> dict[str, int]:
        seen = Counter(r["number"] for r in rows if r["number"]) + (unchanged_numbers or Counter())
        return {rows[k]["number"]: k for k in left
                if rows[k]["number"] and seen[rows[k]["number"]] == 1}

    old_numbers, new_numbers = unique_numbers(old, old_left), unique_numbers(new, new_left)
    keys_old = {i: _text_key(old[i]["problem"]) for i in old_left}
    keys_new = {j: _text_key(new[j]["problem"]) for j in new_left}
    candidates = {(i, new_numbers[n]) for n, i in old_numbers.items() if n in new_numbers}
    if len(old_left) * len(new_left) <= MAX_FUZZY_PAIRS:
        candidates |= {(i, j) for i in old_left for j in new_left}
    else:
        candidates |= _likely_pairs(keys_old, keys_new)
    scored = []
    for i, j in candidates:
        same_number = bool(old[i]["number"]) and old[i]["number"] == new[j]["number"] \
            and old_numbers.get(old[i]["number"]) == i and new_numbers.get(new[j]["number"]) == j
        floor = SAME_NUMBER_SIMILARITY if same_number else RENUMBERED_SIMILARITY
        score = _similarity(keys_old[i], keys_new[j], floor)
        if score >= floor:
            scored.append((-score, not same_number, i, j))
    for _, _, i, j in sorted(scored):
        if i in old_left and j in new_left:
            pairs.append((i, j))
            old_left.discard(i)
            new_left.discard(j)
    return sorted(pairs, key=lambda p: p[1])


def _deadline_later(before: dict, after: dict) -> bool:
    """Moved to a later day, or from a day to none (长期坚持, blank): either way no longer due."""
    if not before.get("deadline"):
        return False
    if not after.get("deadline"):
        return True
    return date.fromisoformat(after["deadline"]) > date.fromisoformat(before["deadline"])


def diff_rows(old: list[dict] | tuple[dict, ...], new: list[dict] | tuple[dict, ...],
              unchanged_numbers: Counter[str] | None = None) -> tuple[Change, ...]:
    """Every change from ``old`` rows to ``new`` rows (both as ``snapshot_rows`` gives them,
    without the rows found unchanged, whose 序号 are ``unchanged_numbers``)."""
    old, new = list(old), list(new)
    pairs = match_rows(old, new, unchanged_numbers)
    changes: list[Change] = []
    matched_old = {i for i, _ in pairs}
    matched_new = {j for _, j in pairs}
    for i, j in pairs:
        before, after = old[i], new[j]

        def change(kind: str, was: str, now: str, before: dict = before, after: dict = after) -> Change:
            return Change(kind, after["number"], after["problem"], was, now, after["row"],
                          before["row"], before["number"])

        if _text_key(before["problem"]) != _text_key(after["problem"]):
            changes.append(change(TEXT_EDITED, before["problem"], after["problem"]))
        was, now = before.get("status", ""), after.get("status", "")
        if now == DONE and was != DONE:
            changes.append(change(NEWLY_DONE, was or "（空）", now))
        elif was in _STATUS_RANK and now in _STATUS_RANK and _STATUS_RANK[now] < _STATUS_RANK[was]:
            changes.append(change(REGRESSED, was, now))
        # A deadline that no longer binds a finished problem is not an extension anyone uses.
        if now != DONE and _deadline_later(before, after):
            changes.append(change(DEADLINE_EXTENDED, before["deadline_text"] or before["deadline"],
                                  after["deadline_text"] or "（空）"))
    for i in range(len(old)):
        if i not in matched_old:
            b = old[i]
            changes.append(Change(DISAPPEARED, b["number"], b["problem"], b["problem"], "", None,
                                  b["row"], b["number"]))
    for j in range(len(new)):
        if j not in matched_new:
            a = new[j]
            changes.append(Change(ADDED, a["number"], a["problem"], "", a["problem"], a["row"], None))
    order = list(KINDS_CN)
    return tuple(sorted(changes, key=lambda c: (order.index(c.kind), c.row or c.old_row or 0)))


@dataclass(frozen=True)
class LedgerDiff:
    """``toolkit diff``: the ledger now against a snapshot."""

    report: Report
    baseline: Snapshot  # without its unchanged rows unless asked for whole (``diff_report``)
    changes: tuple[Change, ...]
    same_as_latest: bool  # the ledger equals the latest snapshot; the baseline is the one before
    notes: tuple[str, ...] = ()
    whole_baseline: bool = False  # the baseline holds every row, every field

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    def to_dict(self) -> dict:
        return {
            "ledger": str(self.report.ledger.path),
            "baseline": {"path": str(self.baseline.path),
                         "created": self.baseline.created.isoformat(timespec="seconds")},
            "same_as_latest": self.same_as_latest,
            "counts": {kind: self.count(kind) for kind in KINDS_CN},
            "changes": [c.to_dict() for c in self.changes],
            "errors": len(self.report.errors),
            "notes": list(self.notes),
        }


def diff_report(report: Report, history_dir: Path, *, against: str | None = None,
                notice: Path | str | None = None, whole_baseline: bool = False) -> LedgerDiff:
    """What changed in the analysed ledger of ``report`` since its last notice (or since
    ``against``). Raises ``SnapshotError`` when there is nothing to compare with.
    (``pipeline.diff_ledger`` reads the ledger first.)

    The baseline keeps only the rows that changed, with the fields the comparison reads, unless
    ``whole_baseline`` (the change workbook shows every row and field of it).
    """
    ledger = report.ledger.path
    content = ledger_content(report.ledger, report.stats)
    fields, keys = (ROW_FIELDS, None) if whole_baseline else (DIFF_FIELDS, Counter(content.row_keys))
    if against is not None:
        chosen = resolve_against(history_dir, ledger, against, notice)
        baseline = Baseline(chosen if keys is None else leave_out_rows(chosen, keys, fields), False)
    else:
        baseline = find_baseline(history_dir, report.ledger, content, notice, fields,
                                 leave_unchanged=not whole_baseline)
        if baseline.snapshot is None and baseline.latest is not None:
            # Only records identical to the ledger: compare with the latest, nothing changed.
            baseline = Baseline(load_snapshot(baseline.latest, fields, leave_out=keys), False, baseline.notes)
        elif baseline.snapshot is None:
            raise SnapshotError(ledger, "还没有生成过通报（没有通报记录），无法比较；"
                                        "先运行 toolkit build 或 toolkit render")
    snapshot = baseline.snapshot
    assert snapshot is not None  # every branch above found one or raised
    return LedgerDiff(report, snapshot, changes_since(snapshot, report.ledger, content),
                      baseline.same_as_latest, baseline.notes, whole_baseline)


# ---------------------------------------------------------------- warnings for check / build

def changes_since(snapshot: Snapshot, ledger: Ledger, content: Content) -> tuple[Change, ...]:
    """``diff_rows`` from ``snapshot`` to ``ledger`` (its ``content``), for a snapshot loaded
    with some rows left out as unchanged: the ledger's equal rows are left out too."""
    rows, unchanged_numbers = _rows_left(ledger, content, snapshot.left_out)
    return diff_rows(snapshot.rows, rows, unchanged_numbers)


def _rows_left(ledger: Ledger, content: Content, left_out: Counter[bytes]) -> tuple[list[dict], Counter[str]]:
    """The ledger's rows (``DIFF_FIELDS``) but those left out of the baseline as unchanged, and
    the 序号 of the rows left out (which still count when telling whether a 序号 is unique)."""
    remaining = Counter(left_out)
    rows: list[dict] = []
    numbers: Counter[str] = Counter()
    for row, key in zip(iter_snapshot_rows(ledger, DIFF_FIELDS), content.row_keys):
        if remaining[key] > 0:
            remaining[key] -= 1
            if row["number"]:
                numbers[row["number"]] += 1
        else:
            rows.append(row)
    return rows, numbers


def history_findings(ledger: Ledger, stats: Stats, history_dir: Path,
                     notice: Path | str | None = None) -> tuple[Finding, ...]:
    """Regressions, silent extensions and vanished problems since the last notice, as warnings.

    Never raises: a damaged history is itself reported as a finding.
    """
    if not list_snapshots(history_dir, ledger.path, notice):
        return ()  # no notice yet: nothing to compare, and no need to build the rows
    content = ledger_content(ledger, stats)
    try:
        baseline = find_baseline(history_dir, ledger, content, notice, DIFF_FIELDS, leave_unchanged=True)
    except OSError as exc:  # e.g. a history folder that cannot be listed
        return (Finding(
            code=Code.HISTORY_UNREADABLE, severity=WARNING, sheet="", cell="", column="", value="",
            message=f"通报记录无法读取（{os_reason(exc)}），未与上次通报比较"),)
    findings = [Finding(
        code=Code.HISTORY_UNREADABLE, severity=WARNING, sheet="", cell="", column="", value="", message=note)
                for note in baseline.notes]
    if baseline.snapshot is None:
        return tuple(findings)
    problems_by_row = {p.row: p for p in ledger.problems}
    for change in changes_since(baseline.snapshot, ledger, content):
        if change.severity != WARNING:
            continue
        problem = problems_by_row.get(change.row) if change.row is not None else None
        field = {REGRESSED: "status", DEADLINE_EXTENDED: "deadline"}.get(change.kind, "problem")
        cell = problem.cells.get(field, f"A{problem.row}") if problem else ""
        findings.append(Finding(
            code=f"history_{change.kind}", severity=WARNING, sheet=ledger.sheet, cell=cell,
            column=ledger.headers.get(field, "") if problem else ledger.headers.get("problem", ""),
            value=change.new if problem else change.old, message=f"与{baseline.snapshot.label}相比：{change.message}"))
    return tuple(findings)
