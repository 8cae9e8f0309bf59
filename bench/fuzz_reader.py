"""Coverage-guided fuzzing of the ledger reader with atheris (libFuzzer), for long runs.

    .venv/bin/pip install atheris                     # not needed by the tests or CI
    .venv/bin/python bench/fuzz_reader.py -max_total_time=3600 /tmp/fuzz-corpus
    .venv/bin/python bench/fuzz_reader.py --random 20000   # without atheris: random mutations

Each input is applied to one of a few valid seed ledgers: it picks a member of the zip (a
sheet, the shared strings, the workbook, styles …) and overwrites, inserts or splices bytes
of it, or, for inputs starting with ``PK``, is taken as the whole file. The property is the
one of tests/test_fuzz.py: ``read_ledger`` raises nothing but ``ToolkitError``, and for a
ledger it accepts, validate and count run and 已完成 + 正在整改 + 未完成 = total. Any other
exception is a crash: libFuzzer writes the input to ``crash-*`` and stops; replay it with
``python bench/fuzz_reader.py crash-…``. The folder argument keeps the inputs that found new
code paths, so later runs start from there.
"""

from __future__ import annotations

import io
import os
import random
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

try:
    import atheris
except ImportError:  # random mode still works
    atheris = None

if atheris is not None:
    with atheris.instrument_imports(include=["toolkit"]):
        from toolkit.count import count
        from toolkit.errors import ToolkitError
        from toolkit.read import read_ledger
        from toolkit.validate import validate
else:
    from toolkit.count import count
    from toolkit.errors import ToolkitError
    from toolkit.read import read_ledger
    from toolkit.validate import validate

_WORK = Path(tempfile.mkdtemp(prefix="fuzz-reader-"))
_TARGET = _WORK / "台账.xlsx"


def _seeds() -> list[list[tuple[str, bytes]]]:
    """A few valid ledgers, as (member name, bytes) lists: openpyxl, xlsxwriter, bench layout."""
    from hostile_corpus import shared
    from ledger_factory import write_ledger
    from ledger_gen import write_bench_ledger

    made = [write_ledger(_WORK / "seed1.xlsx"), shared(_WORK / "seed2.xlsx", formulas=True),
            write_bench_ledger(_WORK / "seed3.xlsx", 12)]
    seeds = []
    for path in made:
        with zipfile.ZipFile(path) as z:
            seeds.append([(info.filename, z.read(info)) for info in z.infolist()])
    return seeds


SEEDS = _seeds()


def _mutated(data: bytes) -> bytes:
    if data[:2] == b"PK" or len(data) < 4:
        return data
    seed = SEEDS[data[0] % len(SEEDS)]
    index = data[1] % len(seed)
    how, payload = data[2] % 4, data[3:]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (name, content) in enumerate(seed):
            if i == index:
                at = int.from_bytes(payload[:4].ljust(4, b"\0"), "little") % (len(content) + 1)
                body = payload[4:]
                if how == 0:
                    content = body
                elif how == 1:
                    content = content[:at] + body + content[at:]
                elif how == 2:
                    content = content[:at] + body + content[at + len(body):]
                else:
                    content = content[:at]  # a member cut short
            z.writestr(name, content)
    return buffer.getvalue()


def check_one(data: bytes) -> None:
    """The property, for one input. Raises on a violation (a crash for libFuzzer)."""
    _TARGET.write_bytes(_mutated(data))
    try:
        ledger = read_ledger(_TARGET)
    except ToolkitError:
        return
    validate(ledger)
    c = count(ledger).overall
    if c.done + c.in_progress + c.not_done != c.total:
        raise AssertionError(f"counts do not partition the total: {c}")


def _random_run(iterations: int, seed: int) -> int:
    rng = random.Random(seed)
    for i in range(iterations):
        size = rng.choice((8, 64, 512, 4096))
        data = bytes(rng.randrange(256) for _ in range(3)) + rng.randbytes(size)
        if rng.random() < 0.5:  # splice printable XML-ish text, which gets further
            text = "".join(rng.choice(['<', '>', '"', '/', '=', 'c', 'r', 'v', 't', 's', '1', 'A',
                                       '&', ';', '长', ' ', '\n', '<row r="2">', '<c r="B2" t="s">',
                                       '<v>', '</v>', '</c>', '</row>', '<mergeCell ref="A1:B9"/>'])
                           for _ in range(size // 4))
            data = data[:7] + text.encode()
        try:
            check_one(data)
        except Exception:
            crash = Path(f"crash-random-{seed}-{i}")
            crash.write_bytes(data)
            print(f"crash after {i} inputs, input written to {crash}", file=sys.stderr)
            raise
    print(f"{iterations} random inputs, no crash")
    return 0


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "--random":
        iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
        return _random_run(iterations, int(os.environ.get("FUZZ_SEED", "0")))
    if atheris is None:
        print("atheris is not installed (pip install atheris); use --random N instead", file=sys.stderr)
        return 2
    atheris.Setup(sys.argv, check_one)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
