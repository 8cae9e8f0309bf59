"""The layout of a history record file: one JSON object that can be read a part at a time.

A record (see archive.py) is written so that its parts sit on lines of their own::

    {"format":"toolkit-history/1",…,"stats":{…},"rows":[
    {"row":5,"category":"…","deadline":"2024-12-31",…},
    …
    ],"content_sha256":"9f2c…"}

At 50,000 rows a record is 50–80 MB; held as one text, then as bytes, then parsed, it set the
toolkit's peak memory. Laid out like this it is written a row at a time, ``toolkit history``
reads only the first line, a comparison reads the rows one line at a time, and "is this record
the ledger as it is now?" is answered by the checksum on the last line (``content_of``: the
statistics and every row line). A row line is ``{"row":N,`` (its worksheet row) followed by the
row's other fields in sorted order: that rest is what the row says wherever it sits, and its
hash (``row_key``) is taken from the raw line, so rows known to be unchanged are skipped
without being parsed. Any JSON reader still reads the whole file as one object; a record in
another layout (older versions wrote one line; someone may reformat a file) is read whole.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .files import open_regular

ROWS_KEY = "rows"
DIGEST_KEY = "content_sha256"
_ROWS_OPEN = b'"rows":['
_TAIL_BYTES = 4096  # the last line: "],"content_sha256":"<64 hex digits>"}"
_BATCH_ROWS = 256  # rows per chunk handed to the writer (fewer, larger writes)


# One encoder for every row: json.dumps with options builds a new one per call (a tenth of the
# time of serialising a row).
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _canonical(value: Any) -> bytes:
    return _CANONICAL.encode(value).encode("utf-8")


def _row_parts(row: dict) -> tuple[bytes, bytes]:
    """(the row's line, its content without the worksheet row): ``{"row":7,`` then the other
    fields in sorted order, so that the content of a row is a slice of its line."""
    others = dict(row)
    others.pop("row", None)
    rest = _canonical(others)
    number = row.get("row")
    if not isinstance(number, int) or isinstance(number, bool):
        return _canonical(row), rest
    return (b'{"row":%d' % number) + (b"," + rest[1:] if len(rest) > 2 else b"}"), rest


def row_key(row: dict) -> bytes:
    """What a row says, wherever it sits (its worksheet row left out): a row moved down by a
    row inserted above it keeps its key."""
    return _key(_row_parts(row)[1])


def _key(content: bytes) -> bytes:
    return hashlib.blake2b(content, digest_size=16).digest()


def _line_key(line: bytes) -> bytes | None:
    """``row_key`` of a row from its line, without parsing it; None for a line not laid out so."""
    if not line.startswith(b'{"row":'):
        return None
    comma = line.find(b",", 7)
    return _key(b"{" + line[comma + 1:]) if comma > 0 else None


@dataclass(frozen=True)
class Content:
    """What a record of these rows would say of them: its checksum and every row's key."""

    digest: str
    row_keys: tuple[bytes, ...]  # ``row_key`` of each row, in order


def content_of(stats: dict, rows: Iterable[dict]) -> Content:
    """The checksum a record of ``stats`` and ``rows`` carries, and the rows' keys."""
    digest = hashlib.sha256(_canonical(stats))
    keys: list[bytes] = []
    for row in rows:
        line, rest = _row_parts(row)
        digest.update(b"\n")
        digest.update(line)
        keys.append(_key(rest))
    return Content(digest.hexdigest(), tuple(keys))


def record_chunks(header: dict, rows: Iterable[dict]) -> Iterator[bytes]:
    """The bytes of a record, a batch of rows at a time. ``header`` holds everything but the
    rows, ``"stats"`` included; the checksum of ``content_of`` is computed on the way."""
    head = {key: value for key, value in header.items() if key not in (ROWS_KEY, DIGEST_KEY)}
    head[ROWS_KEY] = []
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    yield text[:-2] + b"\n"  # '…"rows":[]}' without its closing ']}'
    digest = hashlib.sha256(_canonical(header.get("stats", {})))
    batch: list[bytes] = []
    separator = b""
    for row in rows:
        line = _row_parts(row)[0]
        digest.update(b"\n")
        digest.update(line)
        batch += (separator, line)
        separator = b",\n"
        if len(batch) >= 2 * _BATCH_ROWS:
            yield b"".join(batch)
            batch = []
    end = {DIGEST_KEY: digest.hexdigest()}
    yield (b"".join(batch) + (b"\n]," if separator else b"],")
           + json.dumps(end, separators=(",", ":")).encode("ascii")[1:] + b"\n")


def read_digest(path: Path | str) -> str | None:
    """The content checksum on a record's last line; None when the record has none (another
    layout). Raises ``OSError`` when the file cannot be read."""
    with open_regular(path) as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - _TAIL_BYTES))
        tail = handle.read().rstrip(b"\r\n ")
    if b"\n" not in tail and size > _TAIL_BYTES:
        return None  # the end of one long line: another layout
    line = tail.rsplit(b"\n", 1)[-1]
    if not line.startswith(b"],"):
        return None
    try:
        found = json.loads(b"{" + line[2:])
    except ValueError:
        return None
    value = found.get(DIGEST_KEY) if isinstance(found, dict) else None
    return value if isinstance(value, str) else None


def read_record(path: Path | str, row_hook: Callable[[Any], dict] | None = None, *,
                rows: bool = True, leave_out: Counter[bytes] | None = None) -> dict:
    """The record as a dict; each row passed through ``row_hook`` as it is read (to check it and
    keep only what is needed); without ``rows``, just the first line's part (rows empty).

    ``leave_out``: keys (``row_key``) of rows not wanted, each as many times as counted; the
    count is taken down as they are found (what is left was not in the record). In the line
    layout such a row is not even parsed.

    Raises ``OSError`` and ``ValueError`` (``UnicodeDecodeError``, ``RecursionError`` too).
    """
    hook = row_hook or (lambda row: row)
    with open_regular(path) as handle:
        first = handle.readline().rstrip(b"\r\n")
        if first.endswith(_ROWS_OPEN):
            wanted = Counter(leave_out) if leave_out is not None else None
            try:
                data = _read_lines(first, handle, hook, rows, wanted)
                if leave_out is not None and wanted is not None:
                    leave_out.clear()
                    leave_out.update(wanted)
                return data
            except ValueError:
                pass  # not the line layout after all (a file someone edited): read it whole
        handle.seek(0)
        data = json.loads(handle.read())
    if isinstance(data, dict) and isinstance(data.get(ROWS_KEY), list):
        data[ROWS_KEY] = [hook(row) for row in data[ROWS_KEY] if keep_row(row, leave_out)] if rows else []
    return data


def keep_row(row: Any, leave_out: Counter[bytes] | None) -> bool:
    """False for a row whose key is in ``leave_out`` (one fewer of that key is then left)."""
    return _wanted(row_key(row) if isinstance(row, dict) else None, leave_out)


def _wanted(key: bytes | None, leave_out: Counter[bytes] | None) -> bool:
    """False for a row to leave out (and one fewer of its key is left to find)."""
    if leave_out is None or key is None or leave_out[key] <= 0:
        return True
    leave_out[key] -= 1
    return False


def _read_lines(first: bytes, handle: BinaryIO, hook: Callable[[Any], dict], rows: bool,
                leave_out: Counter[bytes] | None) -> dict:
    data = json.loads(first + b"]}")
    if not isinstance(data, dict) or not rows:
        return data
    found: list[dict] = []
    for raw in handle:
        line = raw.rstrip(b"\r\n")
        if line.startswith(b"]"):
            end = json.loads(b"{" + line[2:]) if line.startswith(b"],") else {}
            if not isinstance(end, dict) or line[:2] not in (b"],", b"]}"):
                raise ValueError("record end")
            data.update({key: value for key, value in end.items() if key != ROWS_KEY})
            data[ROWS_KEY] = found
            return data
        line = line[:-1] if line.endswith(b",") else line
        if leave_out is None or _wanted(_line_key(line), leave_out):
            found.append(hook(json.loads(line)))
    raise ValueError("record ends before its rows do")
