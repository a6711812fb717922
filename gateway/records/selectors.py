"""Reads of records: the one eligibility rule, and the field sensitivity tags the engine decides with.

The tags are data (issue 2) so that policies are written against them: ``policies.services.decide``
takes them as ``field_tags`` on every release. They come from here, never from the request, so a
requester cannot untag a field; and tags only ever remove fields, so a county deleting a row can
never lift the engine's built-in restrictions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear
from django.utils import timezone

from gateway.records.models import Booking, Charge, Disposition
from gateway.records.sensitivity import FieldSensitivity
from policies.services import ADULT_AGE

__all__ = ["bookings_usable", "field_tags_get"]


def _tag_list(field: str, tags: Any) -> list[str]:
    """A row's tags as a list of names; anything unreadable raises, so the release denies."""
    if isinstance(tags, str):
        return [tags]
    if isinstance(tags, list) and all(isinstance(tag, str) for tag in tags):
        return list(tags)
    raise ValueError(f"field sensitivity tags of {field!r} are not a list of tag names: {tags!r}")


def field_tags_get() -> dict[str, list[str]]:
    """Every field's tags, ``{"person.race": ["quasi_identifier", "protected_trait"], ...}``.

    One query. Not cached: a county's tag edit must apply to the very next release.
    """
    rows = FieldSensitivity.objects.values_list("field", "tags")
    return {field: _tag_list(field, tags) for field, tags in rows}


def bookings_usable(
    *, now: datetime | None = None, include_non_conviction: bool
) -> QuerySet[Booking]:
    """Bookings that may be used at all: released, enrolled in the gallery, searched, shown as a candidate.

    This is the query form of the policy engine's record rule, ``policies.services.record_exclusion``
    (rules.md WI-01..WI-03, CJ-08, FR-17): juvenile by flag, or under ``ADULT_AGE`` at booking (from the
    date of birth when both it and the booking time are known, else from the recorded age), sealed,
    expunged, removed, no booking number, and (unless ``include_non_conviction``) neither a conviction
    nor a pending case booked within the last 365 days. The two are held equal by a property test over
    generated people (tests/gateway/records/test_eligibility.py); a change to either must keep it green.
    Dates are read in UTC, as the export the engine decides on writes them.
    """
    moment = now or timezone.now()
    years = F("_booked_year") - F("_born_year")
    bookings = Booking.objects.annotate(
        _booked_year=ExtractYear("booked_at", tzinfo=UTC),
        _booked_month=ExtractMonth("booked_at", tzinfo=UTC),
        _booked_day=ExtractDay("booked_at", tzinfo=UTC),
        _born_year=ExtractYear("person__date_of_birth"),
        _born_month=ExtractMonth("person__date_of_birth"),
        _born_day=ExtractDay("person__date_of_birth"),
        _years=years,
    )
    both_dates = Q(person__date_of_birth__isnull=False, booked_at__isnull=False)
    before_birthday = Q(_booked_month__lt=F("_born_month")) | Q(
        _booked_month=F("_born_month"), _booked_day__lt=F("_born_day")
    )
    under_age_by_dates = both_dates & (
        Q(_years__lt=ADULT_AGE) | (Q(_years=ADULT_AGE) & before_birthday)
    )
    under_age_by_age = ~both_dates & Q(person__age__isnull=False, person__age__lt=ADULT_AGE)
    bookings = bookings.filter(
        juvenile=False,
        sealed_on__isnull=True,
        sealed_order="",
        expunged_on__isnull=True,
        expunged_order="",
        removed_on__isnull=True,
        removal_order="",
    ).exclude(Q(booking_number="") | under_age_by_dates | under_age_by_age)
    if not include_non_conviction:
        year_ago = moment - timedelta(days=365)
        qualifying = Charge.objects.filter(booking=OuterRef("pk")).filter(
            Q(disposition=Disposition.CONVICTED)
            | Q(disposition=Disposition.PENDING, booking__booked_at__gte=year_ago)
        )
        bookings = bookings.filter(Exists(qualifying))
    return bookings
