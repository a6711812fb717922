"""Reads of booking records for the release path.

``booking_export`` turns ORM rows into the plain record shape the policy engine decides on. It is the
one place person and booking data are serialized, and only ``gateway.releases.services`` may call it
(tests/test_architecture.py enforces this): everything it returns is still raw and must go through
``policies.services.decide`` before any of it leaves.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch

from gateway.records.models import Booking, Charge, Person

__all__ = ["booking_export"]

# Keeps each IN (...) list well under SQLite's bound-parameter limit.
_CHUNK = 2000


def _text(value: str) -> str | None:
    # Blank CharFields are "not recorded": the export says null, so no transform ever runs on "".
    return value or None


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _person(person: Person) -> dict[str, Any]:
    return {
        "first_name": _text(person.first_name),
        "middle_name": _text(person.middle_name),
        "last_name": _text(person.last_name),
        "suffix": _text(person.suffix),
        "date_of_birth": _iso(person.date_of_birth),
        "age": person.age,
        "sex": _text(person.sex),
        "race": _text(person.race),
        "ethnicity": _text(person.ethnicity),
        "address": _text(person.address),
        "zip": _text(person.zip_code),
        "state_id": _text(person.state_id),
        "fbi_number": _text(person.fbi_number),
        "drivers_license": _text(person.drivers_license),
        "ssn": _text(person.ssn),
    }


def _charge(charge: Charge) -> dict[str, Any]:
    return {
        "statute": _text(charge.statute),
        "description": _text(charge.description),
        "level": _text(charge.level),
        "disposition": _text(charge.disposition),
        # Decimal is not JSON; a string keeps the cents exact.
        "bond_amount": str(charge.bond_amount) if charge.bond_amount is not None else None,
    }


def _record(booking: Booking) -> dict[str, Any]:
    return {
        "booking_number": booking.booking_number,
        "booked_at": _iso(booking.booked_at),
        "released_at": _iso(booking.released_at),
        "arresting_agency": _text(booking.arresting_agency),
        "booking_agency": _text(booking.booking_agency),
        "custody_status": _text(booking.custody_status),
        "housing": _text(booking.housing),
        "person": _person(booking.person),
        "charges": [_charge(charge) for charge in booking.charges.all()],
        "status": {
            "juvenile": booking.juvenile,
            "sealed": booking.sealed,
            "expunged": booking.expunged,
            "removed": booking.removed,
        },
    }


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def booking_export(*, booking_numbers: Sequence[str]) -> list[dict[str, Any]]:
    """Export the bookings with these numbers in the policy engine's record shape.

    Unknown numbers are simply absent; a number held by several source systems yields each booking.
    Uses two queries per chunk of numbers (bookings joined to people, then their charges), whatever
    the number of bookings. Status flags are exported as booleans computed from the order fields, so
    a sealed or removed booking is recognisable to the guardrails.
    """
    wanted = sorted({number for number in booking_numbers if isinstance(number, str) and number})
    charges = Prefetch("charges", queryset=Charge.objects.order_by("sequence"))
    records: list[dict[str, Any]] = []
    for chunk in _chunks(wanted):
        bookings = (
            Booking.objects.filter(booking_number__in=chunk)
            .select_related("person")
            .prefetch_related(charges)
            .order_by("booking_number", "id")
        )
        records += [_record(booking) for booking in bookings]
    return records
