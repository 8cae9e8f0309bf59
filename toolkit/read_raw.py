"""What every workbook reader hands to the ledger builder: sheets of non-empty cells.

The .xlsx reader (``read_xlsx``) and the calamine reader for .xls/.xlsb/.ods (``read_calamine``)
both produce ``RawSheet``s, so the ledger, its findings and its cell references are the same
whatever format the clerk saved. The work budget here bounds what a small hostile file can make
either of them do, relative to the cells that actually hold something.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

HEADER_SEARCH_ROWS = 10
# Real ledgers have a few dozen columns; a forged sheet with 16,384 must not cost 16,384 cells
# per row. Cells to the right of this are ignored (and said so).
MAX_COLUMNS = 256

Rows = list[tuple[int, dict[int, object]]]  # (row number, column number -> value), 1-based


class UnsafeXml(Exception):
    """A DOCTYPE in a sheet or the shared strings (turned into UnsafeXmlError by the caller)."""


class TooBig(Exception):
    """More rows, cells or text than any real ledger (turned into UnreadableLedgerError)."""


@dataclass
class RawSheet:
    """A sheet's non-empty cells. Values are kept bare (no object per cell): on a big ledger
    a wrapper per cell cost more memory than the values themselves."""

    title: str
    rows: Rows
    merges: list[tuple[int, int, int, int]]  # (min_col, min_row, max_col, max_row), 1-based
    columns_cut: bool = False
    formulas: dict[int, dict[int, bool]] = field(default_factory=dict)  # row -> col -> cached?


@dataclass(frozen=True)
class SheetEntry:
    title: str
    visible: bool
    has_cells: bool = True  # False for chartsheets and dialog sheets


class RawBook(Protocol):
    """An open workbook: its sheets in workbook order, read on demand."""

    sheets: list[SheetEntry]
    formulas_unverified: bool  # the writer asked for a full recalculation on load

    def head(self, index: int) -> RawSheet:
        """The sheet's first HEADER_SEARCH_ROWS rows (enough to find a header)."""

    def full(self, index: int) -> RawSheet:
        """The whole sheet."""

    def close(self) -> None:
        """Release the file."""


class WorkBudget:
    """Empty rows and cells a reader may walk, relative to those holding something.

    A real ledger has some hundreds of formatted but empty rows after its last problem and a
    few empty cells per row; a forged one has millions of them (405 KB of zip held 19.6 M
    empty cells and cost 75 s). Each empty row or cell is allowed only while the empties stay
    within a fixed allowance plus a multiple of the rows and cells that hold text, plus what
    the file paid for in compressed bytes (``extra``): borders applied down to row 65,536 make
    millions of real empty cells, but they take megabytes, not kilobytes, of zip.
    """

    EMPTY_ROWS_BASE = 100_000
    EMPTY_CELLS_BASE = 300_000
    RATIO = 10

    __slots__ = ("empty_cells", "empty_rows", "extra", "full_cells", "full_rows")

    def __init__(self, extra: float = 0) -> None:
        self.empty_rows = self.full_rows = self.empty_cells = self.full_cells = 0
        self.extra = extra

    def add_rows(self, empty: int, full: int) -> None:
        self.empty_rows += empty
        self.full_rows += full
        if self.empty_rows > self.EMPTY_ROWS_BASE + self.RATIO * self.full_rows + self.extra:
            raise TooBig("空行数（行数）")

    def add_cells(self, empty: int, full: int) -> None:
        self.empty_cells += empty
        self.full_cells += full
        if self.empty_cells > self.EMPTY_CELLS_BASE + self.RATIO * self.full_cells + self.extra:
            raise TooBig("空单元格数量（单元格数量）")


# ECMA-376 Part 1, 22.9.2.19 (ST_Xstring): a character XML cannot hold is written _xHHHH_,
# and a literal "_xHHHH_" in the text is protected by escaping its underscore as _x005F_.
# Excel decodes left to right, so "_x005F_x0041_" is the literal text "_x0041_".
_XSTRING_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def decode_xstring(text: str) -> str:
    """Text of a cell as Excel shows it: every ``_xHHHH_`` escape decoded."""
    if "_x" not in text:
        return text
    decoded = _XSTRING_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if any("\ud800" <= ch <= "\udfff" for ch in decoded):
        # UTF-16 code units: a pair is one character, a lone half cannot be shown at all.
        decoded = decoded.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return decoded
