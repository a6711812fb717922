"""Multnomah County (OR) in-custody roster: `inmate_details.csv` plus a headerless `inmate_charges.csv`, or the
2022 single file whose `Charges` cell is a Python list of dicts.

PATH is the folder (either layout), `inmate_details.csv` itself (its charges file beside it), or the 2022 file.

The charges file has no header (charge "NAME (Class)", bail, status, person name) and joins on the person's
NAME only. The join is made safe rather than trusted: a name shared by two people in the details file cannot be
joined, so both rows are rejected; and each person's joined charges are checked against the per-charge counts
in `Charge Type Counts` (a Python dict literal, read with ast.literal_eval), a mismatch rejecting the row.

Memory: the charges file is indexed once as name -> byte offsets of that name's runs of lines (a few dozen bytes
a person) and each person's lines are read back by seeking; nothing else grows with the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.records.importers.base import FormatOptions, ParsedBooking, ParsedRow, RowRejection
from gateway.records.importers.cleaning import (
    CellError,
    charge_level_from_text,
    datetime_parse,
    disposition_from_text,
    integer_text,
    literal_parse,
    money_parse,
    name_split,
    sex_from_text,
    text,
)
from gateway.records.importers.csvfile import (
    CsvRecord,
    CsvTable,
    FieldError,
    rows_build,
    unreadable,
)
from gateway.records.importers.dane import booking_minute_key
from gateway.records.models import ChargeLevel, CustodyStatus

__all__ = ["MultnomahFormat"]

PORTLAND = ZoneInfo("America/Los_Angeles")
DETAIL_COLUMNS = ("SWIS ID", "Name", "Age", "Gender", "Race", "Arresting Agency", "Booking Date",
                  "Assigned Facility", "Charge Type Counts")  # fmt: skip
CHARGE_COLUMNS = ("charge", "bail", "status", "name")
_CLASS = re.compile(r"^(?P<text>.*?)\s*\((?P<class>[^()]*)\)\s*$")


class MultnomahFormat:
    """`--format multnomah`: details + headerless charges joined on name, or the 2022 single file."""

    def __init__(self, options: FormatOptions) -> None:
        self.options = options

    @property
    def source(self) -> str:
        return self.options.source or "multnomah"

    def parse(self, path: Path) -> Iterator[ParsedRow]:
        details, charges = _layout(path)
        if charges is None:
            table = CsvTable(
                details, encoding=self.options.encoding, required=(*DETAIL_COLUMNS, "Charges")
            )
            yield from rows_build(table, partial(_booking, charges=_literal_charges))
            return
        index = _ChargeIndex(charges, encoding=self.options.encoding)
        yield from index.rejections()
        table = CsvTable(details, encoding=self.options.encoding, required=DETAIL_COLUMNS)
        shared = _shared_names(table)
        table = CsvTable(details, encoding=self.options.encoding, required=DETAIL_COLUMNS)
        yield from rows_build(
            table, partial(_booking, charges=partial(index.charges, shared=shared))
        )


def _layout(path: Path) -> tuple[Path, Path | None]:
    """(details file, charges file or None for the 2022 single file)."""
    if path.is_dir():
        if (path / "inmate_details.csv").is_file():
            return path / "inmate_details.csv", path / "inmate_charges.csv"
        if (path / "charges.csv").is_file():
            return path / "charges.csv", None
        raise unreadable(
            f"{path} has neither inmate_details.csv (+ inmate_charges.csv) nor the 2022 charges.csv.",
            path=str(path),
        )
    if path.name == "inmate_details.csv":
        return path, path.with_name("inmate_charges.csv")
    return path, None


def _shared_names(table: CsvTable) -> set[str]:
    names = Counter(r.text("Name").lower() for r in table if isinstance(r, CsvRecord))
    return {name for name, count in names.items() if count > 1}


class _ChargeIndex:
    """name -> byte offsets where that name's consecutive charge lines start, for seeking back later."""

    def __init__(self, path: Path, *, encoding: str) -> None:
        if not path.is_file():
            raise unreadable(f"The charges file {path} is missing.", path=str(path))
        self.path = path
        self.encoding = "utf-8" if encoding.lower() in {"utf-8", "utf8"} else encoding
        self.runs: dict[str, list[tuple[int, int]]] = {}  # name -> [(offset, first line)]
        self.bad: list[RowRejection] = []
        previous = None
        with path.open("rb") as handle:
            line = 0
            while True:
                offset = handle.tell()
                raw = handle.readline()
                if not raw:
                    break
                line += 1
                cells = self._cells(raw, line=line)
                if cells is None:
                    previous = None
                    continue
                name = text(cells[3]).lower()
                if name != previous:
                    self.runs.setdefault(name, []).append((offset, line))
                    previous = name

    def _cells(self, raw: bytes, *, line: int) -> list[str] | None:
        try:
            decoded = raw.decode(self.encoding)
        except UnicodeDecodeError:
            self.bad.append(
                RowRejection(
                    line=0,
                    field=f"inmate_charges.csv line {line}",
                    value=raw.decode("utf-8", "backslashreplace").strip(),
                    reason="charge line with bytes that are not UTF-8: re-save as UTF-8 or use --encoding",
                )
            )
            return None
        if not decoded.strip():
            return None
        cells = next(csv.reader(io.StringIO(decoded)), [])
        if len(cells) != len(CHARGE_COLUMNS):
            self.bad.append(
                RowRejection(
                    line=0,
                    field=f"inmate_charges.csv line {line}",
                    value=decoded.strip(),
                    reason=f"charge line with {len(cells)} cells, expected 4: charge, bail, status, name",
                )
            )
            return None
        return cells

    def rejections(self) -> Iterator[RowRejection]:
        """Unreadable charge lines, reported up front as line 0 of the import with the charges file's own
        line in `field`, so they never move the details file's resume line."""
        yield from self.bad

    def charges(self, record: CsvRecord, *, shared: set[str]) -> list[dict[str, Any]]:
        name = record.text("Name").lower()
        if name in shared:
            raise FieldError(
                field="Name",
                value=record.raw("Name"),
                reason="two people share this name and the charges file joins on name only",
            )
        found = []
        with self.path.open("rb") as handle:
            for offset, _ in self.runs.get(name, []):
                handle.seek(offset)
                for raw in handle:
                    cells = next(csv.reader(io.StringIO(raw.decode(self.encoding, "replace"))), [])
                    if len(cells) != len(CHARGE_COLUMNS) or text(cells[3]).lower() != name:
                        break
                    found.append({"Type": cells[0], "Bail": cells[1], "Status": cells[2]})
        return found


def _literal_charges(record: CsvRecord) -> list[dict[str, Any]]:
    value = record.parse("Charges", literal_parse)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise FieldError(
            field="Charges", value=record.raw("Charges")[:200], reason="not a list of dicts"
        )
    return value


def _booking(record: CsvRecord, *, charges: Any) -> ParsedBooking:
    person_key = record.parse("SWIS ID", integer_text)
    if not person_key:
        raise FieldError(field="SWIS ID", value=record.raw("SWIS ID"), reason="empty")
    booked_at: datetime | None = record.parse(
        "Booking Date", partial(datetime_parse, zone=PORTLAND)
    )
    if booked_at is None:
        raise FieldError(field="Booking Date", value="", reason="no booking date")
    person: dict[str, Any] = record.parse("Name", name_split)
    sex = record.parse("Gender", sex_from_text)
    if sex:
        person["sex"] = sex
    person["race"] = record.text("Race")
    age = record.parse("Age", integer_text)
    if age:
        person["age"] = int(age)
    raw_charges = charges(record)
    _counts_check(record, raw_charges)
    return ParsedBooking(
        line=record.line,
        person_key=person_key,
        person=person,
        booking_key=booking_minute_key(person_key=person_key, booked_at=booked_at, zone=PORTLAND),
        booking={
            "booked_at": booked_at,
            "arresting_agency": record.text("Arresting Agency"),
            "housing": record.text("Assigned Facility"),
            "custody_status": CustodyStatus.IN_CUSTODY,
        },
        charges=tuple(_charge(record, item) for item in raw_charges),
        dropped_fields=record.dropped,
    )


def _counts_check(record: CsvRecord, charges: list[dict[str, Any]]) -> None:
    """The roster's own per-charge counts must match the charges joined to this row."""
    counts = record.parse("Charge Type Counts", literal_parse)
    if counts is None:
        return
    if not isinstance(counts, dict) or not all(isinstance(n, int) for n in counts.values()):
        raise FieldError(
            field="Charge Type Counts",
            value=record.raw("Charge Type Counts")[:200],
            reason="not a dict of counts",
        )
    joined = Counter(text(str(item.get("Type", ""))) for item in charges)
    expected = Counter({text(str(k)): n for k, n in counts.items()})
    if joined != expected:
        raise FieldError(
            field="Charge Type Counts",
            value=record.raw("Charge Type Counts")[:200],
            reason=f"{sum(expected.values())} charges counted but {sum(joined.values())} found for this name",
        )


def _charge(record: CsvRecord, item: dict[str, Any]) -> dict[str, Any]:
    raw_type = text(str(item.get("Type", "")))
    match = _CLASS.match(raw_type)
    description, charge_class = (
        (match.group("text"), match.group("class")) if match else (raw_type, "")
    )
    level = charge_level_from_text(charge_class)
    if level == ChargeLevel.UNKNOWN and "HOLD" in description.upper():
        level = ChargeLevel.CIVIL_HOLD.value
    raw_bail = str(item.get("Bail", ""))
    try:
        bail = money_parse(raw_bail)
    except CellError as error:
        raise FieldError(field="Bail", value=raw_bail, reason=str(error)) from None
    return {
        "description": description,
        "level": level,
        "disposition": disposition_from_text(str(item.get("Status", ""))),
        "bond_amount": bail,
    }
