"""Georgia county jail scrapes (ACLU of Georgia bail project): the 25-column roster, and the 6-column
`min_booking_database.csv` of booking and release times. The layout is recognised from the header.

Keys: a person is the county plus the jail's inmate id where the county publishes one, else the county plus
name, sex, race and birth date (Muscogee and Glynn publish no id). A booking is the county, the booking time and
that identity. The minimal database's `booking_id_string` carries the same identity after its first ` | `,
so both layouts of one county key the same booking the same way where the identity agrees.

Quirks: ` | `-joined lists aligned by position (charges, severity, bond, status) with empty slots; Cobb puts
the levels in `charges` and the descriptions in `severity` (swapped back); Cobb bonds are itemised fee strings
(`$7,000.00 -Bond, $100.00 -Indigent Defense Fund, ...`: the bond is the `-Bond` item) listed per case, not per
charge (when the counts differ, their sum goes on the first charge as "sum of N case bonds"); Bibb charges end in the
O.C.G.A. section and an offence code (`AGGRAVATED ASSAULT 16-5-21 {1318}`); time zones as text (`EST`, `est`),
taken literally; bare dates; `nan` addresses; a suffix scraped as the first name; release times before the
booking (rejected: one of the two is wrong and the importer cannot tell which).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.records.importers.base import FormatOptions, ParsedBooking, ParsedRow
from gateway.records.importers.cleaning import (
    CellError,
    charge_level_from_text,
    date_parse,
    datetime_parse,
    disposition_from_text,
    integer_text,
    money_parse,
    multi_split,
    names_repair,
    sex_from_text,
    text,
)
from gateway.records.importers.csvfile import CsvRecord, CsvTable, FieldError, rows_build
from gateway.records.models import ChargeLevel, CustodyStatus

__all__ = ["GeorgiaFormat"]

EASTERN = ZoneInfo("America/New_York")
ROSTER_COLUMNS = (
    "county_name", "inmate_id", "inmate_lastname", "inmate_firstname", "inmate_middlename",
    "inmate_sex", "inmate_race", "inmate_age", "inmate_dob", "inmate_address", "booking_timestamp",
    "release_timestamp", "processing_numbers", "agency", "facility", "charges", "severity",
    "bond_amount", "current_status",
)  # fmt: skip
MINIMAL_COLUMNS = ("booking_id_string", "county_name", "booking_timestamp", "release_timestamp")
_SEPARATOR = " | "
_LEVEL_WORDS = frozenset({"felony", "misdemeanor", "misd", "civil", "hold", ""})
_BIBB_STATUTE = re.compile(
    r"^(?P<text>.*?)\s+(?P<statute>\d+-\d+-[\w.]+(?:\([^)]*\))*)\s*(?:\{\d+\})?$"
)
_BOOKING_NUMBER = re.compile(
    r"Booking Number\s*(\w+)|[?&](?:bid|BookingID|BOOKING_ID)=([\w-]+)", re.IGNORECASE
)
_BOND_ITEM = re.compile(r"\$([\d,]+(?:\.\d+)?)\s*-\s*Bond\b", re.IGNORECASE)
_BOND_LEADING = re.compile(r"^\$?([\d,]+(?:\.\d+)?)\b(.*)$")
_BONDING_COMPANY = re.compile(r"\(\s*Bonding company:\s*(.*?)\s*\)", re.IGNORECASE)


class GeorgiaFormat:
    """`--format georgia`: a county scrape in the 25-column layout, or min_booking_database.csv."""

    def __init__(self, options: FormatOptions) -> None:
        self.options = options

    @property
    def source(self) -> str:
        return self.options.source or "georgia"

    def parse(self, path: Path) -> Iterator[ParsedRow]:
        minimal = _first_line(path).startswith("booking_id,booking_id_string")
        table = CsvTable(
            path,
            encoding=self.options.encoding,
            required=MINIMAL_COLUMNS if minimal else ROSTER_COLUMNS,
        )
        yield from rows_build(table, _minimal_booking if minimal else _roster_booking)


def _first_line(path: Path) -> str:
    """Just enough of the file to tell the two layouts apart (CsvTable reports a missing/empty file)."""
    if not path.is_file():
        return ""
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        return handle.readline().strip()


def _county(record: CsvRecord) -> str:
    county = record.text("county_name").lower()
    if not county:
        raise FieldError(field="county_name", value=record.raw("county_name"), reason="empty")
    return county


_eastern_parse = partial(datetime_parse, zone=EASTERN)


def _times(record: CsvRecord) -> tuple[datetime, datetime | None]:
    booked_at = record.parse("booking_timestamp", _eastern_parse)
    if booked_at is None:
        raise FieldError(field="booking_timestamp", value="", reason="no booking time")
    raw_release = record.raw("release_timestamp")
    if _SEPARATOR.strip() not in raw_release:  # one release time (or none), the common case
        released_at = _slot_time(record, "release_timestamp", text(raw_release))
    else:
        releases = [
            _slot_time(record, "release_timestamp", slot)
            for slot in multi_split(raw_release, separator=_SEPARATOR)
        ]
        known = [release for release in releases if release is not None]
        released_at = (
            max(known) if known else None
        )  # one release per charge: the booking ends at the last
    if released_at is not None and released_at < booked_at:
        raise FieldError(
            field="release_timestamp",
            value=record.raw("release_timestamp"),
            reason="release before the booking: one of the two times is wrong",
        )
    return booked_at, released_at


def _slot_time(record: CsvRecord, column: str, slot: str) -> datetime | None:
    try:
        return datetime_parse(slot, zone=EASTERN)
    except CellError as error:
        raise FieldError(field=column, value=record.raw(column), reason=str(error)) from None


def _minimal_booking(record: CsvRecord) -> ParsedBooking:
    county = _county(record)
    _, _, identity = record.raw("booking_id_string").partition(_SEPARATOR)
    identity = text(identity).lower()
    if not identity:
        raise FieldError(
            field="booking_id_string",
            value=record.raw("booking_id_string"),
            reason="no identity after ' | '",
        )
    booked_at, released_at = _times(record)
    person_key = f"{county}:{identity}"
    return ParsedBooking(
        line=record.line,
        person_key=person_key,
        person={},
        booking_key=f"{county}:{booked_at.isoformat()}|{identity}",
        booking=_booking_status(booked_at=booked_at, released_at=released_at, current_status=""),
        dropped_fields=record.dropped,
    )


def _booking_status(
    *, booked_at: datetime, released_at: datetime | None, current_status: str
) -> dict[str, Any]:
    released = released_at is not None or any(
        word in current_status.lower() for word in ("released", "bonded out")
    )
    return {
        "booked_at": booked_at,
        "released_at": released_at,
        "custody_status": CustodyStatus.RELEASED if released else CustodyStatus.UNKNOWN,
    }


def _roster_booking(record: CsvRecord) -> ParsedBooking:
    county = _county(record)
    person = names_repair(
        last=record.raw("inmate_lastname"),
        first=record.raw("inmate_firstname"),
        middle=record.raw("inmate_middlename"),
    )
    person_data: dict[str, Any] = {**person, **_person_facts(record)}
    identity = record.text("inmate_id")
    if not identity:
        identity = " | ".join(
            [person["last_name"], person["first_name"], person["middle_name"], record.text("inmate_sex"),
             record.text("inmate_race"), record.text("inmate_dob")]
        ).lower()  # fmt: skip
    booked_at, released_at = _times(record)
    booking = _booking_status(
        booked_at=booked_at, released_at=released_at, current_status=record.raw("current_status")
    )
    number = _BOOKING_NUMBER.search(f"{record.raw('processing_numbers')} {record.raw('url')}")
    booking["booking_number"] = next((g for g in number.groups() if g), "") if number else ""
    booking["arresting_agency"] = record.text("agency")
    booking["housing"] = record.text("facility")
    return ParsedBooking(
        line=record.line,
        person_key=f"{county}:{identity.lower()}",
        person=person_data,
        booking_key=f"{county}:{booked_at.isoformat()}|{identity.lower()}",
        booking=booking,
        charges=_charges(record),
        dropped_fields=record.dropped,
    )


def _person_facts(record: CsvRecord) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "race": record.text("inmate_race").lower(),
        "address": record.text("inmate_address"),
    }
    sex = record.parse("inmate_sex", sex_from_text)
    if sex:
        facts["sex"] = sex
    age = record.parse("inmate_age", integer_text)
    if age:
        facts["age"] = int(age)
        scraped = record.parse("timestamp", partial(datetime_parse, zone=EASTERN))
        if scraped is not None:
            facts["age_recorded_on"] = scraped.date()
    dob = record.text("inmate_dob")
    if len(dob) > 4:  # most counties publish the birth year only, which is not a date of birth
        facts["date_of_birth"] = record.parse("inmate_dob", date_parse)
    return facts


def _charges(record: CsvRecord) -> tuple[dict[str, Any], ...]:
    descriptions = multi_split(record.raw("charges"), separator=_SEPARATOR)
    severities = multi_split(record.raw("severity"), separator=_SEPARATOR)
    if (
        descriptions
        and all(d.lower() in _LEVEL_WORDS for d in descriptions)
        and any(s.lower() not in _LEVEL_WORDS for s in severities)
    ):
        descriptions, severities = severities, descriptions  # Cobb: the scraper swapped the columns
    statuses = multi_split(record.raw("current_status"), separator=_SEPARATOR)
    bonds = multi_split(record.raw("bond_amount"), separator=_SEPARATOR)
    for column, values in (("severity", severities), ("current_status", statuses)):
        if values and len(values) != len(descriptions):
            raise FieldError(
                field=column,
                value=record.raw(column),
                reason=f"{len(values)} slots for {len(descriptions)} charges: they must align",
            )
    bond_total: tuple[Decimal | None, str] | None = None
    if len(bonds) > 1 and len(bonds) != len(descriptions):
        # Cobb lists one bond per case, not per charge: their sum is the booking's bond, on charge 1.
        amounts = [_bond(record, bond)[0] for bond in bonds]
        bond_total = (
            sum((a for a in amounts if a is not None), Decimal("0.00")),
            f"sum of {len(bonds)} case bonds",
        )
        bonds = []
    charges = []
    for position, raw_description in enumerate(descriptions):
        description, statute = raw_description, ""
        bibb = _BIBB_STATUTE.match(raw_description)
        if bibb:
            description, statute = bibb.group("text"), bibb.group("statute")
        severity = severities[position] if severities else ""
        level = charge_level_from_text(severity)
        if level == ChargeLevel.UNKNOWN:
            level = charge_level_from_text(description)
        charge: dict[str, Any] = {
            "statute": statute,
            "description": text(description),
            "level": level,
            "disposition": disposition_from_text(statuses[position] if statuses else ""),
        }
        # A single bond for several charges is the booking's bond: it goes on the first charge.
        if position < len(bonds):
            charge["bond_amount"], charge["bond_type"] = _bond(record, bonds[position])
        elif position == 0 and bond_total is not None:
            charge["bond_amount"], charge["bond_type"] = bond_total
        charges.append(charge)
    return tuple(charges)


def _bond(record: CsvRecord, slot: str) -> tuple[Decimal | None, str]:
    """(amount, type) from one bond slot: an itemised Cobb string, `$650`, `$1850.00 ( Bonding company: X )`
    or words only (`Cash or Surety`, `NO BOND @ ARREST ...`), which are the type."""
    company = _BONDING_COMPANY.search(slot)
    bond_type = text(company.group(1)) if company else ""
    remainder = text(_BONDING_COMPANY.sub("", slot))
    item = _BOND_ITEM.search(remainder)
    leading = _BOND_LEADING.match(remainder)
    raw_amount = item.group(1) if item else leading.group(1) if leading else ""
    if not item and not leading:
        bond_type = bond_type or remainder
    try:
        amount = money_parse(raw_amount)
    except CellError as error:
        raise FieldError(field="bond_amount", value=slot, reason=str(error)) from None
    if len(bond_type) > 60:
        bond_type = bond_type[:59] + "…"  # remarks, not a type: kept as far as the field goes
    return amount, bond_type
