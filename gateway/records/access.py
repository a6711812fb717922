"""The staff lookup: which bookings a person has, found by name and date of birth (issue 9).

A clerk taking a phone or paper request often has a name and a date of birth, not a booking number.
This is the one way staff reach booking numbers by person, and it is an access function in the Zulip
sense: clerks and compliance officers only (anyone else is told ``NotFoundError``, as if nothing were
there), and every look is audited through the one writer with the query as a keyed hash (CJ-01; the
log holds no name and no date of birth). Only bookings that may be used at all are shown, by number
and date; the rest are a count, because a clerk needs to know something is held, never what (README
rule 5, WI-01..WI-03).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from gateway.audit.models import AuditAction, ReleaseEffect
from gateway.audit.services import audit_event_record, subject_ref
from gateway.exceptions import NotFoundError
from gateway.records.models import Booking
from gateway.records.selectors import bookings_usable
from gateway.requests.access import user_is_request_staff

__all__ = ["MAX_LOOKUP_HITS", "StaffLookup", "access_bookings_by_person_for_staff"]

# More than a phone request ever needs; a broad name stops here rather than listing a county.
MAX_LOOKUP_HITS = 50


@dataclass(frozen=True)
class StaffLookup:
    """What a lookup found. ``records`` holds ``{"number", "booked_on"}`` rows, newest first."""

    records: tuple[dict[str, str], ...]
    people: int
    withheld: int
    truncated: bool


def _query_ref(surname: str, given: str, born: date) -> str:
    text = f"{surname.strip().casefold()}\n{given.strip().casefold()}\n{born.isoformat()}"
    return subject_ref(kind="lookup", value=text)


def access_bookings_by_person_for_staff(
    *, user: Any, surname: str, born: date, given: str = ""
) -> StaffLookup:
    """The usable bookings of everyone with this surname (and given-name prefix) born that day.

    Audited whether or not anything matched: a look that finds nothing is still a look.
    """
    if not user_is_request_staff(user=user):
        raise NotFoundError("nothing found")
    if not surname.strip():
        raise NotFoundError("nothing found")
    people = Booking.objects.filter(
        person__last_name__iexact=surname.strip(), person__date_of_birth=born
    )
    if given.strip():
        people = people.filter(person__first_name__istartswith=given.strip())
    matched = people.values("person_id").distinct().count()
    held = people.count()
    usable = bookings_usable(include_non_conviction=True).filter(pk__in=people.values("pk"))
    found = list(usable.order_by("-booked_at", "-id")[: MAX_LOOKUP_HITS + 1])
    shown = found[:MAX_LOOKUP_HITS]
    records = tuple(
        {
            "number": booking.booking_number,
            "booked_on": booking.booked_at.date().isoformat() if booking.booked_at else "",
        }
        for booking in shown
    )
    usable_count = usable.count() if len(found) > MAX_LOOKUP_HITS else len(found)
    audit_event_record(
        action=AuditAction.STAFF_LOOKUP,
        actor=str(user.get_username()),
        outcome=ReleaseEffect.PERMIT,
        subject_refs=[
            _query_ref(surname, given, born),
            *(subject_ref(kind="booking", value=row["number"]) for row in records),
        ],
        detail={"people": matched, "shown": len(records), "withheld": held - usable_count},
    )
    return StaffLookup(
        records=records,
        people=matched,
        withheld=held - usable_count,
        truncated=len(found) > MAX_LOOKUP_HITS,
    )
