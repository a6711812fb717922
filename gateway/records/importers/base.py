"""What every booking format produces, so the import service never knows which roster it is reading.

A format turns one file (or folder) into a stream of `ParsedBooking` and `RowRejection` values, in file order,
one at a time: it never holds the whole file in memory, and it never touches the database. Only plain values
cross from a format to the service, which is what lets the service batch the upserts and lets a format be tested
without Django.

Vocabulary of the mappings (the service copies these keys onto the models and ignores nothing silently):

* `ParsedBooking.person`: keys are `gateway.models.Person` field names (`first_name`, `middle_name`,
  `last_name`, `suffix`, `date_of_birth` (a `date`), `age` (an `int`), `age_recorded_on` (a `date`), `sex`
  (a `Sex` value: "M", "F", "X", "U"), `race`, `ethnicity`, `address`, `zip_code`, `state_id`, `fbi_number`,
  `drivers_license`, `ssn`). Omit a key the roster does not publish; do not send "" for "unknown".
* `ParsedBooking.booking`: keys are `gateway.models.Booking` field names (`booking_number`, `booked_at` and
  `released_at` (timezone-aware `datetime`), `arresting_agency`, `booking_agency`, `custody_status` (a
  `CustodyStatus` value), `housing`, `juvenile`, `sealed_on`, `sealed_order`, `expunged_on`, `expunged_order`,
  `removed_on`, `removal_order`).
* `ParsedBooking.charges`: one mapping per charge, in the jail's order, keys are `gateway.models.Charge` field
  names (`statute`, `description`, `level` (a `ChargeLevel` value), `disposition` (a `Disposition` value),
  `bond_amount` (a `Decimal`), `bond_type`, `case_number`). `sequence` is assigned from the position (1-based)
  unless given.
* `ParsedBooking.charges_reported`: False when the row says nothing about charges (a NIEM release message
  without charge elements, a layout without charge columns). Its booking's stored charges are then left as
  they are; True (the default) means `charges` is the whole list, so an empty tuple removes the stored ones.
* `ParsedBooking.dropped_fields`: names of source columns/elements that were present and deliberately not kept
  (citizenship, immigration status, place of birth: rules.md IM-05, IM-06, IM-09). The run report lists them.

`line` is the 1-based physical line (or, for XML, the message/record ordinal) a human opens the file at; the
service resumes a killed run after the last committed line, so it must increase through the file.

A format whose rows are events rather than a snapshot (NIEM: a booking message, later its release message)
sets the class attribute `REPEATS_ARE_UPDATES = True`: a later row for a booking already read is then applied
as an update, in file order, instead of being rejected as a duplicate (see `repeats_are_updates`).

A format that cannot read the file at all raises `gateway.exceptions.GatewayError` with code
`IMPORT_FILE_UNREADABLE` (or `IMPORT_MAPPING_INVALID`) naming the problem, e.g. the missing columns. A single bad
row is never an exception: yield a `RowRejection` naming the field, the raw value and the reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "BookingFormat",
    "FormatFactory",
    "FormatOptions",
    "ParsedBooking",
    "ParsedMugshot",
    "ParsedRow",
    "RowRejection",
    "repeats_are_updates",
]


@dataclass(frozen=True, slots=True)
class ParsedMugshot:
    """Raw image bytes as found in the source; `mugshot_store` decodes and validates them, never the format."""

    data: bytes
    pose: str = "unknown"  # a gateway.models.Pose value
    captured_at: datetime | None = None
    name: str = ""  # where the image came from (file and position), named when it is refused


@dataclass(frozen=True, slots=True)
class ParsedBooking:
    """One booking with its person and charges, keyed by the source system's own keys for idempotent upserts."""

    line: int
    person_key: str
    person: Mapping[str, Any]
    booking_key: str
    booking: Mapping[str, Any]
    charges: tuple[Mapping[str, Any], ...] = ()
    mugshots: tuple[ParsedMugshot, ...] = ()
    dropped_fields: tuple[str, ...] = ()
    charges_reported: bool = True


@dataclass(frozen=True, slots=True)
class RowRejection:
    """A row that could not be taken, and where, so a clerk can find and fix it in the source file.

    ``value`` is the raw value, for the format's own tests only: it never reaches the stored run, the
    report or the console, which name the row, the column and the reason (issue 8.7: a rejected address
    is personal data in a file nobody audits). ``where`` names the place when a line number would
    mislead (a message in an XML file); empty means "line ``line`` of the file".
    """

    line: int
    field: str
    value: str
    reason: str
    where: str = ""


ParsedRow = ParsedBooking | RowRejection


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """What the command line may pass to a format; most formats ignore all of it."""

    mapping: Path | None = None
    encoding: str = "utf-8"  # e.g. "cp1252" for a roster saved by Excel on Windows
    source: str | None = None  # overrides the format's default source name (Person/Booking.source)
    extra: Mapping[str, Any] = field(default_factory=dict)


class BookingFormat(Protocol):
    """A roster format. Built by a `FormatFactory` (usually the class itself) from `FormatOptions`."""

    @property
    def source(self) -> str:
        """The value stored in Person.source and Booking.source (keys are unique per source)."""
        ...

    def parse(self, path: Path) -> Iterator[ParsedRow]:
        """Yield every row of `path` in file order, streaming with constant memory."""
        ...


class FormatFactory(Protocol):
    """A format class or function: `FormatFactory(options) -> BookingFormat`."""

    def __call__(self, options: FormatOptions, /) -> BookingFormat: ...


def repeats_are_updates(importer: BookingFormat) -> bool:
    """Whether a later row for a booking already read in the same file updates it (else it is a duplicate).

    Snapshot rosters list a booking once, so a second row is a mistake in the file and is rejected; message
    streams (NIEM) carry a booking again whenever it changes. Optional on a format, so it defaults to False.
    """
    return bool(getattr(importer, "REPEATS_ARE_UPDATES", False))
