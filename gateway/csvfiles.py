"""Every CSV the project writes goes through here, so a hostile value cannot become a formula.

A roster can hold a "name" like ``=HYPERLINK("http://…")``; a spreadsheet opening our CSV would run it
(OWASP CSV injection). Text cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get
a leading apostrophe; numbers stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

__all__ = ["csv_cell", "csv_rows_write"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """The value as a safe cell: text that a spreadsheet would read as a formula is quoted."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows_write(*, handle: TextIO, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> int:
    """Write a header and rows, every cell made safe; returns the number of rows written."""
    writer = csv.writer(handle)
    writer.writerow([csv_cell(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
        count += 1
    return count
