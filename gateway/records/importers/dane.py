"""Dane County (WI) daily in-custody roster, merged with the CJC "Jail Snapshot" (36 columns).

Also reads the roster alone (8 columns, no names) and the snapshot alone (28 columns): the keys are built so
that the same booking gets the same key from any of the three, and importing the merged file after a roster-only
one fills the names in rather than creating a second booking.

Keys: the person is the sheriff's name number (`Namenum`, or the id at the end of the roster `url`); the booking
is that person plus the booking minute in Madison time. `Curbook` (the booking number) is stored but cannot be the
key, because the roster-only rows (34 a day that the snapshot lacks) do not have it.

Quirks: `booking_date` has no space before the time (`8/19/20262:34 PM`); `Intdate` is the same moment in UTC
with seconds and a narrow no-break space; `Curbook` and ages are pandas floats (`632258.0`, `44.0`); `Suffix`
says `Null`; `LOS` has thousands separators; charges and statutes are `; `-joined lists aligned by position with
mostly empty statute slots.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.records.importers.base import FormatOptions, ParsedBooking, ParsedRow
from gateway.records.importers.cleaning import (
    charge_level_from_text,
    datetime_parse,
    integer_text,
    multi_split,
    names_repair,
    sex_from_text,
    statute_clean,
    text,
)
from gateway.records.importers.csvfile import CsvRecord, CsvTable, FieldError, rows_build
from gateway.records.models import ChargeLevel, CustodyStatus

__all__ = ["DaneFormat", "booking_minute_key"]

MADISON = ZoneInfo("America/Chicago")
_DETAIL_URL = "/Residents/Detail/"


def booking_minute_key(*, person_key: str, booked_at: datetime, zone: tzinfo) -> str:
    """`<person>@<local booking minute>`: the same booking from any file of a roster, to the minute."""
    return f"{person_key}@{booked_at.astimezone(zone):%Y-%m-%dT%H:%M}"


class DaneFormat:
    """`--format dane`: a merged daily roster file (or the roster or snapshot alone)."""

    def __init__(self, options: FormatOptions) -> None:
        self.options = options

    @property
    def source(self) -> str:
        return self.options.source or "dane"

    def parse(self, path: Path) -> Iterator[ParsedRow]:
        # The three Dane layouts share a name number and some booking time; anything else is another file.
        table = CsvTable(
            path,
            encoding=self.options.encoding,
            any_of=[("url", "Namenum"), ("booking_date", "Intdate", "Book Date")],
        )
        yield from rows_build(table, self._booking)

    def _booking(self, record: CsvRecord) -> ParsedBooking:
        person_key = _person_key(record)
        booked_at = _booked_at(record)
        booking: dict[str, Any] = {
            "booked_at": booked_at,
            "custody_status": CustodyStatus.IN_CUSTODY,
        }
        if "Curbook" in record.cells:
            booking["booking_number"] = record.parse("Curbook", integer_text)
        if "arrest_agencies" in record.cells:
            booking["arresting_agency"] = record.text("arrest_agencies")
        if "Location" in record.cells:
            housing = [record.text("Location"), record.text("Level2")]
            booking["housing"] = " / ".join(part for part in housing if part)
        return ParsedBooking(
            line=record.line,
            person_key=person_key,
            person=_person(record),
            booking_key=booking_minute_key(
                person_key=person_key, booked_at=booked_at, zone=MADISON
            ),
            booking=booking,
            charges=_charges(record),
            dropped_fields=record.dropped,
            # The roster-only and snapshot-only layouts have no charge columns: leave stored charges alone.
            charges_reported="charges_str" in record.cells,
        )


def _person_key(record: CsvRecord) -> str:
    key = record.parse("Namenum", integer_text) if "Namenum" in record.cells else ""
    url = record.text("url")
    if not key and _DETAIL_URL in url:
        key = url.rsplit("/", 1)[1]
    if not key.isdigit():
        raise FieldError(
            field="Namenum", value=record.raw("Namenum") or url, reason="no name number"
        )
    return key


def _booked_at(record: CsvRecord) -> datetime:
    """The booking minute, in order of precision: roster local time, then snapshot UTC, then the date."""
    for column, zone in (("booking_date", MADISON), ("Intdate", UTC), ("Book Date", MADISON)):
        if record.text(column):
            value = record.parse(column, partial(datetime_parse, zone=zone))
            if value is not None:
                return value
    raise FieldError(
        field="booking_date",
        value="",
        reason="no booking date in any of booking_date/Intdate/Book Date",
    )


def _person(record: CsvRecord) -> dict[str, Any]:
    if "Last" not in record.cells or not record.text("Last"):
        return {}  # a roster-only row: the sheriff's page does not publish names, keep what is stored
    person: dict[str, Any] = names_repair(
        last=record.raw("Last"), first=record.raw("First"), middle="", suffix=record.raw("Suffix")
    )
    sex = record.parse("Sex", sex_from_text)
    if sex:
        person["sex"] = sex
    person["race"] = record.text("Race")
    person["ethnicity"] = record.text("Ethnicity")
    age = record.parse("Age In Years", integer_text)
    if age:
        person["age"] = int(age)
        snapshot = record.parse("Timestamp", partial(datetime_parse, zone=MADISON))
        if snapshot is not None:
            person["age_recorded_on"] = snapshot.astimezone(MADISON).date()
    return person


def _charges(record: CsvRecord) -> tuple[dict[str, Any], ...]:
    if "charges_str" not in record.cells:
        return ()
    descriptions = multi_split(record.raw("charges_str"), separator="; ")
    statutes = multi_split(record.raw("statute_codes"), separator="; ")
    if statutes and len(statutes) != len(descriptions):
        raise FieldError(
            field="statute_codes",
            value=record.raw("statute_codes"),
            reason=f"{len(statutes)} statute slots for {len(descriptions)} charges: they must align",
        )
    booking_level = charge_level_from_text(record.raw("charge_level"))
    charges = []
    for position, description in enumerate(descriptions):
        statute, placeholder = statute_clean(statutes[position] if statutes else "")
        level = charge_level_from_text(description)
        if placeholder:
            level = ChargeLevel.CIVIL_HOLD.value
        elif level == ChargeLevel.UNKNOWN and len(descriptions) == 1:
            level = booking_level  # `charge_level` is the booking's most serious level
        charges.append({"statute": statute, "description": text(description), "level": level})
    return tuple(charges)
