"""Columbia County (WI) "Booking Summary Report, by Date and Time", a PDF parsed to CSV (9 columns).

Keys: the person is `name_number` kept as text (`02505` and `2505` are different people); the booking is that
person plus the booking minute. The log publishes no booking number.

Quirks: time before date with a two-digit year (`14:27:14 06/22/26`); the PDF page footer glued onto
`booking_type` (`Arrest rpjlbsr.x3 06/29/26 Booking Summary Report, by Date and Time Page 2 of 18`); statutes and
offences `; `-joined and aligned; placeholder statutes for holds and other-jurisdiction warrants
(`9999.99(99K)`), which are kept as holds with no statute; `NMI` for "no middle initial"; city/state/ZIP only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from gateway.records.importers.base import FormatOptions, ParsedBooking, ParsedRow
from gateway.records.importers.cleaning import (
    datetime_parse,
    integer_text,
    multi_split,
    name_split,
    pdf_footer_strip,
    statute_clean,
    text,
)
from gateway.records.importers.csvfile import CsvRecord, CsvTable, FieldError, rows_build
from gateway.records.importers.dane import MADISON, booking_minute_key
from gateway.records.models import ChargeLevel

__all__ = ["ColumbiaFormat"]

COLUMNS = (
    "name_number",
    "inmate_name",
    "age",
    "address",
    "booking_datetime",
    "booking_type",
    "statutes",
    "offenses",
)
# Booking types that mean the person is held for someone else's order rather than arrested on a new charge.
_HOLD_TYPES = ("hold", "violation of probation", "revocation", "commitment", "writ")
_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?$")


class ColumbiaFormat:
    """`--format columbia`: the Columbia County booking log."""

    def __init__(self, options: FormatOptions) -> None:
        self.options = options

    @property
    def source(self) -> str:
        return self.options.source or "columbia"

    def parse(self, path: Path) -> Iterator[ParsedRow]:
        table = CsvTable(path, encoding=self.options.encoding, required=COLUMNS)
        yield from rows_build(table, self._booking)

    def _booking(self, record: CsvRecord) -> ParsedBooking:
        person_key = record.text("name_number")
        if not person_key:
            raise FieldError(field="name_number", value=record.raw("name_number"), reason="empty")
        booked_at: datetime | None = record.parse(
            "booking_datetime", partial(datetime_parse, zone=MADISON)
        )
        if booked_at is None:
            raise FieldError(field="booking_datetime", value="", reason="no booking time")
        booking_type = pdf_footer_strip(record.raw("booking_type"))
        return ParsedBooking(
            line=record.line,
            person_key=person_key,
            person=_person(record, booked_at=booked_at),
            booking_key=booking_minute_key(
                person_key=person_key, booked_at=booked_at, zone=MADISON
            ),
            booking={"booked_at": booked_at},
            charges=_charges(record, booking_type=booking_type),
            dropped_fields=record.dropped,
        )


def _person(record: CsvRecord, *, booked_at: datetime) -> dict[str, Any]:
    person: dict[str, Any] = record.parse("inmate_name", name_split)
    age = record.parse("age", integer_text)
    if age:
        person["age"] = int(age)
        person["age_recorded_on"] = booked_at.astimezone(MADISON).date()
    address = record.text("address")
    person["address"] = address
    zip_match = _ZIP.search(address)
    person["zip_code"] = zip_match.group(1) if zip_match else ""
    return person


def _charges(record: CsvRecord, *, booking_type: str) -> tuple[dict[str, Any], ...]:
    statutes = multi_split(record.raw("statutes"), separator="; ")
    offenses = multi_split(record.raw("offenses"), separator="; ")
    if len(statutes) != len(offenses):
        raise FieldError(
            field="statutes",
            value=record.raw("statutes"),
            reason=f"{len(statutes)} statutes for {len(offenses)} offences: they must align",
        )
    held = booking_type.lower().startswith(_HOLD_TYPES) or "hold" in booking_type.lower()
    charges = []
    for raw_statute, offense in zip(statutes, offenses, strict=True):
        statute, placeholder = statute_clean(raw_statute)
        level = ChargeLevel.CIVIL_HOLD.value if placeholder or held else ChargeLevel.UNKNOWN.value
        charges.append({"statute": statute, "description": text(offense), "level": level})
    return tuple(charges)
