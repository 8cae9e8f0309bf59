"""The records of every notice written: snapshots, archived copies, checksums and fingerprints.

Where things live (the toolkit never writes into a ledger, nor into the ledger's folder):

``OUTDIR/.history/<notice stem>/`` belongs to one notice (``OUTDIR/<notice stem>.docx``), so two
ledgers of the same name rendered to different notices never share a history. In it, each
notice written leaves one *record*::

    000007-20241220-153000-123456-1a2b3c4d.json   snapshot: rows, statistics, checksum …
    000007-20241220-153000-123456-1a2b3c4d.docx   the notice exactly as written
    000007-20241220-153000-123456-1a2b3c4d.pdf    its PDF, when one was made

``000007`` is the record's sequence number: records are ordered by it, never by the clock (a
clock that was ahead must not make an old record look newest). ``1a2b3c4d`` names the ledger
the notice was made from (a hash of its full path), so a notice written in turn from two
ledgers compares each only with its own records. A record ending ``-edited`` holds a copy of
a notice a clerk edited by hand, archived before ``--force`` replaced it. Records of toolkit
versions before 0.2 (``20241220-153000-123456.json``, in a folder named after the ledger)
are still read, as the oldest.

``state.json`` beside the records says, for each file written there, its checksum and the
fingerprint of what it was made from: what ``build`` needs to skip an unchanged notice and to
see a hand-edited one without opening the (large) snapshots.

Which output folders hold a ledger's notices is remembered outside the ledger's folder, in
the user's own state folder (``toolkit-notices.json`` under ``%LOCALAPPDATA%\\toolkit`` on Windows,
``$XDG_STATE_HOME/toolkit`` or ``~/.local/state/toolkit`` elsewhere; ``TOOLKIT_STATE_DIR``
overrides): ``diff`` and ``check`` find the history wherever the notices were written. The
index is only a hint; losing it loses nothing, the output folder given with ``-o`` is always
searched too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .atomic import remove_quietly, write_atomic
from .count import stats_to_dict
from .errors import OutputError, SnapshotError, os_reason
from .files import open_regular, read_regular
from .model import Ledger, Report, Stats
from .names import HISTORY_DIR_NAME, INDEX_NAME, NOTICE_SUFFIX, PDF_SUFFIX
from .normalize import format_cn_date
from .record_file import DIGEST_KEY, Content, content_of, keep_row, read_digest, read_record, record_chunks

FORMAT = "toolkit-history/1"
STATE_FORMAT = "toolkit-notice-state/1"
STATE_NAME = "state.json"
EDITED = "edited"
BUILT = "built"
RESTORED = "restored"
KEEP_DEFAULT = 30  # records kept per notice; TOOLKIT_HISTORY_KEEP overrides
_NAME = re.compile(r"^(\d{6,})-(\d{8}-\d{6}-\d{6})-([0-9a-f]{8})(-edited)?\.json$")
_LEGACY_NAME = re.compile(r"^(\d{8}-\d{6}-\d{6})(?:-\d+)?\.json$")
_NAME_TIME = "%Y%m%d-%H%M%S-%f"
_INDEX_MAX_LEDGERS = 5000
_INDEX_MAX_PLACES = 10


# ---------------------------------------------------------------- keys

def ledger_key(ledger: Path | str) -> str:
    """Eight hex digits naming a ledger by its full path."""
    try:
        full = os.path.normcase(str(Path(ledger).resolve()))
    except OSError:
        full = os.path.normcase(os.path.abspath(ledger))
    return hashlib.sha256(full.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def notice_history_dir(history_dir: Path, notice: Path | str) -> Path:
    """The records of the notice ``notice`` (a path, or just its file name)."""
    return Path(history_dir) / Path(notice).stem


def sha256_of(path: Path) -> str | None:
    """Checksum of a file; None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open_regular(path) as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def keep_count() -> int:
    """Records kept per notice: ``TOOLKIT_HISTORY_KEEP`` or 30 (never fewer than 1)."""
    try:
        return max(1, int(os.environ.get("TOOLKIT_HISTORY_KEEP", KEEP_DEFAULT)))
    except ValueError:
        return KEEP_DEFAULT


# ---------------------------------------------------------------- listing

@dataclass(frozen=True)
class Record:
    """One record file, as its name tells (nothing opened)."""

    path: Path  # the .json
    seq: int  # 0 for records of older versions
    created: datetime
    ledger: str | None  # ``ledger_key``; None for records of older versions
    edited: bool  # an archived hand-edited notice, not a snapshot

    @property
    def archive(self) -> Path | None:
        found = self.path.with_suffix(NOTICE_SUFFIX)
        return found if found.is_file() else None

    @property
    def archive_pdf(self) -> Path | None:
        found = self.path.with_suffix(PDF_SUFFIX)
        return found if found.is_file() else None


def list_records(folder: Path) -> list[Record]:
    """Every record of one notice folder, in order: older versions' by time, then by number."""
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return []
    found = []
    for path in entries:
        match = _NAME.match(path.name)
        legacy = None if match else _LEGACY_NAME.match(path.name)
        try:
            if match:
                found.append(Record(path, int(match.group(1)),
                                    datetime.strptime(match.group(2), _NAME_TIME), match.group(3),
                                    bool(match.group(4))))
            elif legacy:
                found.append(Record(path, 0, datetime.strptime(legacy.group(1), _NAME_TIME), None,
                                    False))
        except ValueError:
            continue
    return sorted(found, key=lambda r: (r.seq, r.created, r.path.name))


def records_for(history_dir: Path, ledger: Path | str, notice: Path | str | None = None, *,
                edited: bool = False) -> list[Record]:
    """The records of ``ledger``'s notice (default: the notice named after the ledger).

    Only records made from this ledger count; records of older versions (no ledger named)
    count when they sit in the folder named after the ledger, where those versions put them.
    """
    folder = notice_history_dir(history_dir, notice or Path(ledger).name)
    key = ledger_key(ledger)
    legacy_ok = folder.name == Path(ledger).stem
    return [r for r in list_records(folder)
            if (r.ledger == key or (r.ledger is None and legacy_ok)) and (edited or not r.edited)]


def list_snapshots(history_dir: Path, ledger: Path | str,
                   notice: Path | str | None = None) -> list[tuple[datetime, Path]]:
    """The ledger's snapshots, oldest first, as (created, path)."""
    return [(r.created, r.path) for r in records_for(history_dir, ledger, notice)]


def last_snapshot_time(history_dir: Path, ledger: Path | str) -> datetime | None:
    found = list_snapshots(history_dir, ledger)
    return found[-1][0] if found else None


# ---------------------------------------------------------------- loading

@dataclass(frozen=True)
class Snapshot:
    path: Path
    created: datetime
    ledger: str  # file name of the ledger
    stats: dict  # ``count.stats_to_dict``
    rows: tuple[dict, ...]  # ``snapshot_rows``
    seq: int = 0
    meta: dict | None = None  # notice, checksum, fingerprint … (None for older versions)
    digest: str | None = None  # ``record_file.content_of`` stats and rows, as recorded
    # Rows that were asked to be left out and were (``load_snapshot``'s ``leave_out``): their
    # keys (``record_file.row_key``), each as often as left out. Not in ``rows``.
    left_out: Counter[bytes] = field(default_factory=Counter)

    @property
    def label(self) -> str:
        """``2024年12月20日 15:30 的通报记录`` for messages."""
        return f"{format_cn_date(self.created.date())} {self.created:%H:%M} 的通报记录"


# A row as ``snapshot_rows`` writes it: required keys and the types their values may have.
_ROW_TYPES: dict[str, tuple[type, ...]] = {
    "row": (int,), "number": (str,), "problem": (str,), "status": (str, type(None)),
    "deadline": (str, type(None)), "deadline_text": (str, type(None)),
}
_OPTIONAL_TEXT = ("category", "subcategory", "measures", "leader", "unit", "progress",
                  "done_date", "recovered_wan", "evidence", "remarks")


def _valid_row(row: Any) -> dict:
    """The row if it has every key with a usable value; raises ``ValueError`` otherwise."""
    if not isinstance(row, dict):
        raise TypeError("row is not an object")
    for key, types in _ROW_TYPES.items():
        if key not in row or not isinstance(row[key], types) or isinstance(row[key], bool):
            raise ValueError(f"row field {key}")
    for key in _OPTIONAL_TEXT:
        if not isinstance(row.get(key), (str, type(None))):
            raise TypeError(f"row field {key}")
    for key in ("deadline", "done_date"):
        if row.get(key):
            date.fromisoformat(row[key])  # "2024-13-45" raises ValueError
    return row


# The fields a comparison reads (``history.diff_rows``): what ``load_snapshot(path, DIFF_FIELDS)``
# keeps of each row, so that a 50,000-row baseline costs a fraction of its full rows.
DIFF_FIELDS = ("row", "number", "problem", "status", "deadline", "deadline_text")
ROW_FIELDS = ("row", "number", "category", "subcategory", "problem", "measures", "leader", "unit",
              "deadline_text", "deadline", "progress", "status", "long_term", "flagged",
              "done_date", "recovered_wan", "evidence", "remarks")


class _BadRow(Exception):
    """A row of a record without what the comparison reads."""


def _row_reader(fields: tuple[str, ...]) -> Callable[[Any], dict]:
    def read(row: Any) -> dict:
        try:
            _valid_row(row)
        except (TypeError, ValueError) as exc:
            raise _BadRow from exc
        # Keys from one tuple: a row read line by line would otherwise hold its own key strings.
        return {key: row[key] for key in fields if key in row}
    return read


def load_snapshot(path: Path, fields: tuple[str, ...] = ROW_FIELDS, *,
                  leave_out: Counter[bytes] | None = None) -> Snapshot:
    """Read and validate one snapshot, keeping ``fields`` of each row, and leaving out rows
    whose keys are in ``leave_out`` (rows known to be unchanged: see ``Snapshot.left_out``).
    ``SnapshotError`` for a missing, damaged or foreign file: a snapshot is only used when
    every row has what the comparison reads."""
    path = Path(path)
    remaining = Counter(leave_out) if leave_out else None
    try:
        data = read_record(path, _row_reader(fields), leave_out=remaining)
    except FileNotFoundError as exc:
        raise SnapshotError(path, "通报记录不存在") from exc
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SnapshotError(path, "通报记录已损坏，无法读取") from exc
    except _BadRow as exc:
        raise SnapshotError(path, "通报记录内容不完整或格式无法识别") from exc
    snapshot = _snapshot(path, data)
    if leave_out and remaining is not None:
        snapshot = replace(snapshot, left_out=leave_out - remaining)
    return snapshot


def _snapshot(path: Path, data: Any) -> Snapshot:
    try:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("format")
        if data.get("event") == EDITED:
            raise ValueError("an archived edited notice has no snapshot")
        if not isinstance(data["rows"], list) or not isinstance(data["stats"], dict):
            raise TypeError("rows/stats")
        created = datetime.fromisoformat(data["created"])
        seq, digest = data.get("seq", 0), data.get(DIGEST_KEY)
        return Snapshot(path=path, created=created, ledger=str(data.get("ledger", "")),
                        stats=dict(data["stats"]), rows=tuple(data["rows"]),
                        seq=seq if isinstance(seq, int) else 0,
                        meta={k: v for k, v in data.items() if k not in ("rows", "stats")},
                        digest=digest if isinstance(digest, str) else None)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(path, "通报记录内容不完整或格式无法识别") from exc


def record_stats(path: Path) -> dict:
    """The statistics of a record, from its first line; ``SnapshotError`` as ``load_snapshot``."""
    try:
        data = read_record(path, rows=False)
    except FileNotFoundError as exc:
        raise SnapshotError(path, "通报记录不存在") from exc
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SnapshotError(path, "通报记录已损坏，无法读取") from exc
    return _snapshot(path, data).stats


def recorded_digest(path: Path) -> str | None:
    """The content checksum a record carries; None for records without one (older versions),
    or when it cannot be read (loading it will say why)."""
    try:
        return read_digest(path)
    except OSError:
        return None


# ---------------------------------------------------------------- content

def iter_snapshot_rows(ledger: Ledger, fields: tuple[str, ...] = ROW_FIELDS) -> Iterator[dict]:
    """The normalised rows, one at a time, as JSON values (dates ISO, amounts as decimal text)."""
    every = fields == ROW_FIELDS
    for p in ledger.problems:
        row = {
            "row": p.row,
            "number": p.number,
            "category": p.category,
            "subcategory": p.subcategory,
            "problem": p.problem,
            "measures": p.measures,
            "leader": p.leader,
            "unit": p.unit,
            "deadline_text": p.deadline_text,
            "deadline": p.deadline.isoformat() if p.deadline else None,
            "progress": p.progress,
            "status": p.status,
            "long_term": p.long_term,
            "flagged": p.flagged,
            "done_date": p.done_date.isoformat() if p.done_date else None,
            "recovered_wan": str(p.recovered_wan) if p.recovered_wan is not None else None,
            "evidence": p.evidence,
            "remarks": p.remarks,
        }
        yield row if every else {key: row[key] for key in fields}


def snapshot_rows(ledger: Ledger, fields: tuple[str, ...] = ROW_FIELDS) -> list[dict]:
    """``iter_snapshot_rows`` as a list."""
    return list(iter_snapshot_rows(ledger, fields))


def ledger_content(ledger: Ledger, stats: Stats) -> Content:
    """The content checksum a snapshot of this ledger would carry, and its rows' keys, without
    holding its rows."""
    return content_of(stats_to_dict(stats), iter_snapshot_rows(ledger))


def leave_out_rows(snapshot: Snapshot, keys: Counter[bytes], fields: tuple[str, ...]) -> Snapshot:
    """A whole loaded snapshot as ``load_snapshot(…, fields, leave_out=keys)`` would have read it
    (for records of older versions, which must be read whole to be compared)."""
    remaining = Counter(keys)
    rows = tuple({key: row[key] for key in fields if key in row}
                 for row in snapshot.rows if keep_row(row, remaining))
    return replace(snapshot, rows=rows, left_out=keys - remaining)


def snapshot_digest(snapshot: Snapshot) -> str:
    """The content checksum of a whole loaded snapshot (its own, or computed for older records)."""
    return snapshot.digest or content_of(snapshot.stats, snapshot.rows).digest


# ---------------------------------------------------------------- storing

def _next_seq(folder: Path) -> int:
    return max((r.seq for r in list_records(folder)), default=0) + 1


def _write_record(folder: Path, ledger: Path, header: dict, rows: Callable[[], Iterable[dict]],
                  now: datetime, *, edited: bool = False) -> Path:
    """Write a record under the next free number, its rows streamed (``record_file``);
    raises ``OutputError``."""
    stem_time = now.strftime(_NAME_TIME)
    key = ledger_key(ledger)
    seq = _next_seq(folder)
    for _ in range(100):
        name = f"{seq:06d}-{stem_time}-{key}{'-edited' if edited else ''}.json"
        header["seq"] = seq
        try:
            return write_atomic(folder / name, record_chunks(header, rows()), overwrite=False)
        except OutputError:
            if not (folder / name).exists():
                raise
            seq += 1  # another process took this number a moment ago
    raise OutputError(folder, "通报记录编号冲突过多，未保存")


def store_record(report: Report, history_dir: Path, *, target: Path, written: Path | None = None,
                 notice_data: bytes | None = None, pdf: Path | None = None,
                 fingerprint: str | None = None, event: str = BUILT,
                 now: datetime | None = None, keep: int | None = None) -> Path:
    """Record a notice just written: its snapshot, a copy of it (and of its PDF), its checksum.

    ``target`` is the notice's own path (it names the history folder); ``written`` where it
    actually went (a fallback name when the target was locked or edited). Raises
    ``OutputError`` when the history cannot be written.
    """
    written = Path(written or target)
    folder = notice_history_dir(history_dir, target)
    now = now or datetime.now()
    checksum = hashlib.sha256(notice_data).hexdigest() if notice_data is not None else None
    header = {
        "format": FORMAT, "created": now.isoformat(timespec="microseconds"),
        "ledger": report.ledger.path.name, "ledger_path": str(report.ledger.path),
        "notice": str(written), "target": str(target), "event": event,
        "notice_sha256": checksum, "fingerprint": fingerprint, "stats": stats_to_dict(report.stats),
    }
    record = _write_record(folder, report.ledger.path, header,
                           lambda: iter_snapshot_rows(report.ledger), now)
    if notice_data is not None:
        write_atomic(record.with_suffix(NOTICE_SUFFIX), notice_data, overwrite=False)
    if pdf is not None and pdf.is_file():
        with contextlib.suppress(OSError):
            write_atomic(record.with_suffix(PDF_SUFFIX), pdf.read_bytes(), overwrite=False)
    if checksum is not None:
        remember_written(folder, written, checksum=checksum, fingerprint=fingerprint,
                         ledger=report.ledger.path, pdf=pdf)
    prune(folder, keep or keep_count())
    return record


def store_snapshot(report: Report, history_dir: Path, *, notice: Path | None = None,
                   now: datetime | None = None) -> Path | None:
    """A snapshot only (no archived copy); None when identical to the latest one."""
    target = Path(notice) if notice else Path(report.ledger.path.stem + NOTICE_SUFFIX)
    found = records_for(history_dir, report.ledger.path, target.name)
    if found and same_content(found[-1].path, ledger_content(report.ledger, report.stats).digest):
        return None
    return store_record(report, history_dir, target=target, now=now)


def same_content(record: Path, digest: str) -> bool:
    """Whether ``record`` holds the content whose checksum is ``digest``. A record without a
    checksum (older versions) is loaded to compute it; a damaged one is never the same."""
    recorded = recorded_digest(record)
    if recorded is not None:
        return recorded == digest
    try:
        return snapshot_digest(load_snapshot(record)) == digest
    except SnapshotError:
        return False


def archive_edited(history_dir: Path, target: Path, ledger: Path, *,
                   source: Path | None = None, now: datetime | None = None) -> Path:
    """Keep a copy of a hand-edited notice (``source``, default the notice ``target`` itself)
    among ``target``'s records before it is replaced; raises ``OutputError``."""
    source = Path(source or target)
    try:
        content = read_regular(source)
    except OSError as exc:
        raise OutputError(source, f"无法读取，未能存档（{os_reason(exc)}）") from exc
    now = now or datetime.now()
    folder = notice_history_dir(history_dir, target)
    data = {"format": FORMAT, "created": now.isoformat(timespec="microseconds"),
            "ledger": Path(ledger).name, "ledger_path": str(ledger), "notice": str(source),
            "target": str(target), "event": EDITED,
            "notice_sha256": hashlib.sha256(content).hexdigest(), "stats": {}}
    record = _write_record(folder, Path(ledger), data, list, now, edited=True)
    write_atomic(record.with_suffix(NOTICE_SUFFIX), content, overwrite=False)
    return record


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest records beyond ``keep`` with their copies; returns what was deleted.

    The newest archived copy of the notice is never deleted, whatever ``keep`` says, nor is a
    clerk's hand-edited notice archived before ``--force`` replaced it (its only copy).
    """
    records = [r for r in list_records(folder) if not r.edited]
    if len(records) <= keep:
        return []
    newest_copy = next((r for r in reversed(records) if r.archive), None)
    removed = []
    for record in records[: len(records) - max(1, keep)]:
        if record is newest_copy:
            continue
        for path in (record.path.with_suffix(NOTICE_SUFFIX), record.path.with_suffix(PDF_SUFFIX),
                     record.path):
            with contextlib.suppress(OSError):
                if remove_quietly(path):
                    removed.append(path)
    return removed


# ---------------------------------------------------------------- state: checksums, fingerprints

def load_state(folder: Path) -> dict[str, dict]:
    """``state.json`` of a notice folder: file name -> what was written; {} when damaged."""
    try:
        data = json.loads(read_regular(Path(folder) / STATE_NAME).decode("utf-8"))
    except (OSError, ValueError, RecursionError):  # ValueError: UnicodeDecodeError too
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):  # hand-edited or damaged: start afresh, never fail a build
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, dict)}


def remember_written(folder: Path, written: Path, *, checksum: str, fingerprint: str | None,
                     ledger: Path, pdf: Path | None = None) -> None:
    """Record the checksum and fingerprint of a file just written; raises ``OutputError``."""
    files = load_state(folder)
    files[Path(written).name] = {"sha256": checksum, "fingerprint": fingerprint,
                                 "ledger": ledger_key(ledger),
                                 "pdf": Path(pdf).name if pdf else None}
    payload = {"format": STATE_FORMAT, "files": files}
    write_atomic(Path(folder) / STATE_NAME,
                 json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8"))


def written_state(history_dir: Path, target: Path, written: Path | None = None) -> dict | None:
    """What the toolkit last wrote at ``written`` (default ``target``), or None."""
    folder = notice_history_dir(history_dir, target)
    return load_state(folder).get(Path(written or target).name)


# ---------------------------------------------------------------- where a ledger's notices are

def state_dir() -> Path:
    """The user's own folder for the index of notices (see the module docstring)."""
    override = os.environ.get("TOOLKIT_STATE_DIR")
    if override:
        return Path(override)
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "toolkit"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "toolkit"


def _load_index() -> dict[str, list[str]]:
    try:
        data = json.loads(read_regular(state_dir() / INDEX_NAME).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: [p for p in v if isinstance(p, str)] for k, v in data.items()
            if isinstance(k, str) and isinstance(v, list)}


def remember_notice(ledger: Path, notice: Path) -> None:
    """Add ``notice`` to the places ``ledger``'s notices were written. Never raises."""
    try:
        index = _load_index()
        key = os.path.normcase(str(Path(ledger).resolve()))
        place = str(Path(notice).resolve())
        places = [p for p in index.pop(key, []) if p != place] + [place]
        index[key] = places[-_INDEX_MAX_PLACES:]
        while len(index) > _INDEX_MAX_LEDGERS:
            index.pop(next(iter(index)))
        folder = state_dir()
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / INDEX_NAME, json.dumps(index, ensure_ascii=False).encode("utf-8"))
    except (OSError, OutputError, RuntimeError):
        pass  # only a hint for diff/check; -o still finds the history


def known_notices(ledger: Path) -> list[Path]:
    """Where ``ledger``'s notices were written, most recent last (from the index)."""
    try:
        key = os.path.normcase(str(Path(ledger).resolve()))
    except OSError:
        return []
    return [Path(p) for p in _load_index().get(key, [])]


def locate_history(ledger: Path, out_dirs: tuple[Path, ...] = (), *,
                   prefer_given: bool = False) -> tuple[Path, Path] | None:
    """(history dir, notice) holding ``ledger``'s latest record; None when there is none.

    Searched: the output folders ``out_dirs``, then wherever the index says the ledger's
    notices went. With ``prefer_given`` (the clerk named the folder with ``-o``) a record there
    wins over any elsewhere. Among several notices of one ledger the one recorded last is
    taken, by record time: notices in different folders share no sequence number.
    """
    given: list[tuple[Path, Path]] = []
    for out in out_dirs:
        root = Path(out) / HISTORY_DIR_NAME
        try:
            folders = sorted(p for p in root.iterdir() if p.is_dir())
        except OSError:
            continue
        given += [(root, Path(out) / f"{f.name}{NOTICE_SUFFIX}") for f in folders]
    indexed = [(n.parent / HISTORY_DIR_NAME, n) for n in known_notices(ledger)]
    groups = [given, indexed] if prefer_given else [given + indexed]
    for group in groups:
        best: tuple[datetime, Path, Path] | None = None
        for root, notice in group:
            found = records_for(root, ledger, notice.name)
            if found and (best is None or found[-1].created > best[0]):
                best = (found[-1].created, root, notice)
        if best is not None:
            return best[1], best[2]
    return None


# ---------------------------------------------------------------- toolkit history: list, restore

@dataclass(frozen=True)
class HistoryEntry:
    """One line of ``toolkit history``."""

    seq: int
    created: datetime
    event: str  # BUILT | EDITED (older versions' records: BUILT)
    counts: dict | None  # total and the three statuses; None when unreadable or edited
    archive: Path | None  # the archived notice, None when only data was kept
    record: Path


def history_entries(history_dir: Path, ledger: Path, notice: Path) -> list[HistoryEntry]:
    """Every record of ``notice`` made from ``ledger``, oldest first."""
    entries = []
    for record in records_for(history_dir, ledger, notice.name, edited=True):
        counts = None
        if not record.edited:
            try:
                stats = record_stats(record.path)
                counts = {"total": stats.get("total"), **dict(stats.get("counts") or {})}
            except (SnapshotError, AttributeError, TypeError, ValueError):
                counts = None
        entries.append(HistoryEntry(record.seq, record.created, EDITED if record.edited else BUILT,
                                    counts, record.archive, record.path))
    return entries


def _restore_pdf(record: Record, notice: Path, archived: Path | None) -> None:
    """The PDF beside a restored notice must be the restored notice's, never the one it
    replaced: the record's PDF is put back when it has one; otherwise the PDF there now is
    kept with the archived notice and taken away (a later ``--pdf`` build makes it anew)."""
    current = notice.with_suffix(PDF_SUFFIX)
    saved = record.archive_pdf
    if not current.is_file() or (saved is not None and sha256_of(saved) == sha256_of(current)):
        if saved is not None and not current.is_file():
            write_atomic(current, saved.read_bytes())
        return
    if archived is not None:  # the PDF of the notice that was there, kept with it
        write_atomic(archived.with_suffix(PDF_SUFFIX), current.read_bytes(), overwrite=False)
    if saved is not None:
        write_atomic(current, saved.read_bytes())
    elif archived is not None:
        current.unlink()


def restore_notice(history_dir: Path, ledger: Path, notice: Path, seq: int) -> tuple[Path, Path | None]:
    """Put the notice archived under number ``seq`` back in place of ``notice``.

    The notice there now is archived first (when it differs), and the restored one is
    protected like a hand-edited notice: the next build goes beside it, never over it.
    Returns (restored notice, archived current or None). Raises ``SnapshotError`` when there
    is no such copy and ``OutputError`` when writing fails.
    """
    records = {r.seq: r for r in records_for(history_dir, ledger, notice.name, edited=True)}
    record = records.get(seq)
    if record is None:
        raise SnapshotError(notice, f"没有编号为 {seq} 的通报记录（运行 toolkit history 查看）")
    if record.archive is None:
        raise SnapshotError(record.path, "这份记录只有数据，没有存档的通报（早期版本不存档），无法恢复")
    try:
        data = read_regular(record.archive)
    except OSError as exc:
        raise SnapshotError(record.archive, f"存档无法读取（{os_reason(exc)}）") from exc
    checksum = hashlib.sha256(data).hexdigest()
    archived = None
    if notice.is_file() and sha256_of(notice) != checksum:
        archived = archive_edited(history_dir, notice, ledger)
    _restore_pdf(record, notice, archived)
    write_atomic(notice, data)
    folder = notice_history_dir(history_dir, notice)
    remember_written(folder, notice, checksum=checksum, fingerprint=None, ledger=ledger)
    files = load_state(folder)
    files[notice.name]["restored"] = seq
    write_atomic(folder / STATE_NAME, json.dumps({"format": STATE_FORMAT, "files": files},
                                                 ensure_ascii=False, indent=1).encode("utf-8"))
    return notice, archived
