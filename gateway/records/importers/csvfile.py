"""Streaming CSV reading with the checks every roster needs before a single row is believed.

A file is read one record at a time (constant memory). Problems with the whole file (missing, empty, missing
columns) raise `GatewayError` naming them; problems with one row (wrong number of cells, bytes that are not
valid in the file's encoding) become a `RowRejection` for that row only, so one bad line never costs the rest.

Encoding: files are read as UTF-8 (a byte-order mark is ignored). Bytes that are not UTF-8 are NOT guessed at:
the row is rejected naming the column and showing the bytes, and the reason says to re-save the file as UTF-8
or to import it with `--encoding cp1252` (or latin-1). Guessing would put mojibake into names that are later
matched and released.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.records.importers.base import ParsedBooking, ParsedRow, RowRejection
from gateway.records.importers.cleaning import CellError, caches_clear, is_prohibited_column, text

__all__ = ["CsvRecord", "CsvTable", "FieldError", "rows_build", "unreadable"]

T = TypeVar("T")
_SURROGATE = re.compile("[\udc80-\udcff]")
csv.field_size_limit(
    10_000_000
)  # Python-literal cells (Multnomah 2022) run past the 128 KiB default


class FieldError(CellError):
    """A cell error that knows its column and raw value, ready to become a RowRejection."""

    def __init__(self, *, field: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.value = value
        self.reason = reason

    def rejection(self, *, line: int) -> RowRejection:
        return RowRejection(line=line, field=self.field, value=self.value, reason=self.reason)


def unreadable(message: str, **extra: object) -> GatewayError:
    """The error for a file that cannot be imported at all (nothing of it is taken)."""
    return GatewayError(message, code=GatewayErrorCode.IMPORT_FILE_UNREADABLE, extra=dict(extra))


@dataclass(slots=True)
class CsvRecord:
    """One CSV record with its physical start line; cells by column name. (Not frozen: one is built for every
    row read, and a frozen dataclass costs about three times as much to build; nothing changes it.)"""

    line: int
    cells: dict[str, str]
    # The file's columns that are never stored (citizenship, immigration, place of birth), worked out once
    # per file: every row of a file has the same columns.
    dropped: tuple[str, ...] = ()

    def raw(self, column: str) -> str:
        return self.cells.get(column, "")

    def text(self, column: str) -> str:
        return text(self.cells.get(column, ""))

    def parse(self, column: str, parser: Callable[[str], T]) -> T:
        """Run a cleaning function on a cell, naming the column and raw value if it refuses."""
        raw = self.cells.get(column, "")
        try:
            return parser(raw)
        except CellError as error:
            raise FieldError(field=column, value=raw, reason=str(error)) from None


class CsvTable:
    """A CSV file with a header row (or given column names for a headerless file), iterated record by record."""

    def __init__(
        self,
        path: Path,
        *,
        encoding: str = "utf-8",
        required: Sequence[str] = (),
        any_of: Sequence[Sequence[str]] = (),
        fieldnames: Sequence[str] | None = None,
        delimiter: str = ",",
    ) -> None:
        self.path = path
        self.encoding = (
            "utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
        )
        self.required = tuple(required)
        self.any_of = tuple(tuple(group) for group in any_of)
        self.fieldnames = tuple(fieldnames) if fieldnames is not None else None
        self.delimiter = delimiter
        self.header: tuple[str, ...] = ()

    @property
    def dropped(self) -> tuple[str, ...]:
        """Columns present in the file that are never stored (citizenship, immigration, place of birth)."""
        return tuple(column for column in self.header if is_prohibited_column(column))

    def _open(self) -> Iterator[tuple[int, list[str]]]:
        """(line the record starts on, cells), using csv's own count of physical lines read."""
        if not self.path.is_file():
            raise unreadable(f"{self.path} is not a readable file.", path=str(self.path))
        if self.path.stat().st_size == 0:
            raise unreadable(f"{self.path} is empty: not even a header row.", path=str(self.path))
        try:
            with self.path.open("rb") as handle:
                reader = csv.reader(_lines(handle, self.encoding), delimiter=self.delimiter)
                end = 0
                for cells in reader:
                    yield end + 1, cells
                    end = reader.line_num
        except LookupError:
            raise unreadable(
                f"Unknown encoding {self.encoding!r}.", encoding=self.encoding
            ) from None
        except csv.Error as error:
            raise unreadable(f"{self.path} is not CSV: {error}.", path=str(self.path)) from None

    def header_check(self, header: Sequence[str]) -> None:
        """Fail before any row is read if a required column is missing, naming every missing one."""
        self.header = tuple(column.strip() for column in header)
        missing = [column for column in self.required if column not in self.header]
        missing += [
            " or ".join(group) for group in self.any_of if not set(group) & set(self.header)
        ]
        if missing:
            raise unreadable(
                f"{self.path.name} is missing the column(s) {', '.join(missing)}; "
                f"it has: {', '.join(self.header) or '(nothing)'}.",
                missing=missing,
                path=str(self.path),
            )

    def __iter__(self) -> Iterator[CsvRecord | RowRejection]:
        caches_clear()
        reader = self._open()
        if self.fieldnames is None:
            first = next(reader, None)
            if first is None:
                raise unreadable(f"{self.path} has no header row.", path=str(self.path))
            self.header_check(first[1])
        else:
            self.header_check(self.fieldnames)
        header = self.header
        width = len(header)
        dropped = self.dropped
        for line, cells in reader:
            if not any(cells):
                continue  # blank lines are layout, not rows
            # Undecodable bytes are read as surrogates, which are never ASCII: an ASCII row needs no search.
            joined = "".join(cells)
            if len(cells) != width or (not joined.isascii() and _SURROGATE.search(joined)):
                rejection = self._cells_check(line=line, cells=cells, width=width)
                if rejection is not None:
                    yield rejection
                    continue
            yield CsvRecord(line, dict(zip(header, cells, strict=True)), dropped)

    def _cells_check(self, *, line: int, cells: list[str], width: int) -> RowRejection | None:
        if len(cells) != width:
            joined = ",".join(cells)
            return RowRejection(
                line=line,
                field="(row)",
                value=_shown(joined[:200]),
                reason=f"{len(cells)} cells where the header has {width} (a cut-off or misquoted line)",
            )
        if not _SURROGATE.search("".join(cells)):
            return None
        for column, cell in zip(self.header, cells, strict=True):
            if _SURROGATE.search(cell):
                return RowRejection(
                    line=line,
                    field=column,
                    value=_shown(cell),
                    reason=(
                        f"bytes that are not valid {self.encoding.removesuffix('-sig')} "
                        "(the file looks like cp1252/latin-1): re-save it as UTF-8 or import with "
                        "--encoding cp1252"
                    ),
                )
        return None


_BLOCK = 1 << 20


def _lines(handle: BinaryIO, encoding: str) -> Iterator[str]:
    """The lines of a binary file as `open(encoding=..., errors="surrogateescape", newline="")` would yield them
    (ends kept: \n, \r\n or \r), read and decoded a megabyte at a time.

    Why not just iterate a text file: it reads 8 KiB at a time and every read lets go of the interpreter lock
    for a moment. That resets the lock's hand-over timer, so the import's committing thread, waiting for the
    lock, would hardly ever get it while rows are parsed, and parsing and writing would not overlap at all.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
    rest = ""
    while True:
        block = handle.read(_BLOCK)
        text_block = rest + decoder.decode(block, final=not block)
        if not block:
            if text_block:
                yield from io.StringIO(text_block, newline="")
            return
        # Cut after the last complete line end; a final "\r" may be half of a "\r\n", so it waits.
        cut = max(text_block.rfind("\n"), text_block.rfind("\r", 0, len(text_block) - 1)) + 1
        rest = text_block[cut:]
        yield from io.StringIO(text_block[:cut], newline="")


def _shown(value: str) -> str:
    """The raw value for the report, with undecodable bytes written as \\xNN instead of lost."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def rows_build(table: CsvTable, build: Callable[[CsvRecord], ParsedBooking]) -> Iterator[ParsedRow]:
    """Turn each record into a booking with `build`, or into a rejection when a cell refuses."""
    for record in table:
        if isinstance(record, RowRejection):
            yield record
            continue
        try:
            yield build(record)
        except FieldError as error:
            yield error.rejection(line=record.line)
