"""The .xlsx reader gives exactly the cell values openpyxl reads (issue 10.4).

The reader parses sheets with lxml for speed and promises openpyxl's values; this compares
both on every kind of .xlsx ledger the suite builds or ships. The one documented difference:
Excel's ``_xHHHH_`` escapes are decoded (openpyxl leaves them as written).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import hostile_corpus
from ledger_factory import HEADER, default_rows, row, write_ledger
from openpyxl import load_workbook

from toolkit.read_raw import MAX_COLUMNS, decode_xstring
from toolkit.read_xlsx import XlsxBook

ROOT = Path(__file__).resolve().parent.parent


def _factory_ledgers(folder: Path) -> list[Path]:
    blank = [None] * len(HEADER)
    return [
        write_ledger(folder / "plain.xlsx"),
        write_ledger(folder / "titles.xlsx", title_rows=["标题", "填报单位：办公室"], merges=["A1:L1", "B4:B6"]),
        write_ledger(folder / "sections.xlsx", [["第一方面问题：甲"] + blank[1:], row(1, None, "问题", "已完成"),
                                                row("12", None, "  ", "正在整改", recovered="=1+1")],
                     merges=["A2:L2"]),
        write_ledger(folder / "extras.xlsx", [r + ["督办", True, 3.25] for r in default_rows()],
                     header=HEADER + ["督办人", "是否", "数值"]),
    ]


def _corpus_ledgers(folder: Path) -> list[Path]:
    cases = [c for c in hostile_corpus.CASES
             if c.exit_code != hostile_corpus.UNUSABLE and c.suffix == ".xlsx"
             # openpyxl makes a MergedCell for each cell a merge covers: the forged one has billions.
             and c.name not in ("伪造合并",)]
    return [case.build(folder / f"{case.name}.xlsx") for case in cases]


def _openpyxl_cells(path: Path) -> dict[str, dict[tuple[int, int], object]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(path, data_only=True)
    sheets = {}
    for ws in wb.worksheets:
        cells = {}
        for cells_row in ws.iter_rows(max_col=MAX_COLUMNS):
            for cell in cells_row:
                value = cell.value
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                cells[(cell.row, cell.column)] = decode_xstring(value) if isinstance(value, str) else value
        sheets[ws.title] = cells
    return sheets


def _reader_cells(path: Path) -> dict[str, dict[tuple[int, int], object]]:
    with path.open("rb") as handle:
        book = XlsxBook(handle)
        try:
            return {entry.title: {(r, c): v for r, values in book.full(i).rows
                                  for c, v in values.items() if v is not None}
                    for i, entry in enumerate(book.sheets) if entry.has_cells}
        finally:
            book.close()


def test_reader_values_equal_openpyxl_on_every_xlsx_ledger(tmp_path):
    ledgers = _factory_ledgers(tmp_path) + _corpus_ledgers(tmp_path)
    ledgers += sorted((ROOT / "ledgers").glob("*.xlsx"))
    assert len(ledgers) > 20
    for path in ledgers:
        assert _reader_cells(path) == _openpyxl_cells(path), path.name


def test_the_documented_difference_is_only_the_escapes(tmp_path):
    from hostile_corpus import STRINGS, rewrite, shared

    path = shared(tmp_path / "a.xlsx", [row(1, "类", "问题甲", "已完成")])
    rewrite(path, {STRINGS: lambda d: d.replace("问题甲".encode(), b"a_x000D_b")})
    assert _reader_cells(path)["整改台账"][(2, 3)] == "a\rb"  # as Excel shows it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert load_workbook(path)["整改台账"]["C2"].value == "a_x000D_b"  # openpyxl: as written
