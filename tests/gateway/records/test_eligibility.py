"""One eligibility rule: the gallery's query and the policy engine agree on every booking (issue 8.2).

``bookings_usable`` is the query form of ``policies.services.record_exclusion``; the property test below
generates people around every edge the rule has (the 17th birthday at booking, a recorded age without a
date of birth, missing booking times, each order flag, convictions and pending cases either side of a
year) and checks that the database and the engine give the same answer for each.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.faces.gallery import mugshots_eligible
from gateway.records.models import Booking, Charge, Mugshot, Person
from gateway.records.selectors import bookings_usable
from gateway.releases.selectors import booking_export
from policies.services import record_exclusion

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _booking(
    *, key: str, born: date | None, age: int | None, booked: datetime | None, **flags: object
) -> Booking:
    person = Person.objects.create(
        source="t", source_key=key, first_name="A", last_name="B", date_of_birth=born, age=age
    )
    return Booking.objects.create(
        person=person,
        source="t",
        source_key=key,
        booking_number=f"N{key}",
        booked_at=booked,
        **flags,
    )


def test_a_person_born_in_2010_without_age_is_out_of_the_gallery_too() -> None:
    booking = _booking(
        key="1", born=date(2010, 3, 1), age=None, booked=datetime(2026, 5, 1, tzinfo=UTC)
    )
    Charge.objects.create(booking=booking, disposition="convicted")
    Mugshot.objects.create(
        booking=booking,
        image="m",
        sha256="0" * 64,
        size_bytes=1,
        width=1,
        height=1,
        image_format="png",
    )
    [record] = booking_export(booking_numbers=[booking.booking_number])
    assert record_exclusion(record, now=NOW, exclude_non_conviction=True) == "juvenile"
    assert not mugshots_eligible().exists()  # the gallery used to enroll them (age field only, 18)


_BOOKED = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(2024, 1, 1),  # noqa: DTZ001  (hypothesis takes naive bounds)
        max_value=datetime(2026, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
_FLAGS = st.fixed_dictionaries(
    {
        "juvenile": st.booleans(),
        "sealed_order": st.sampled_from(["", "", "", "2025CV1"]),
        "expunged_on": st.sampled_from([None, None, None, date(2025, 1, 2)]),
        "removal_order": st.sampled_from(["", "", "", "165.84 order"]),
    }
)
_DISPOSITIONS = st.lists(
    st.sampled_from(["pending", "convicted", "dismissed", "acquitted", "unknown"]), max_size=3
)


@st.composite
def _people(draw: st.DrawFn) -> dict[str, Any]:
    booked = draw(_BOOKED)
    # Birthdays clustered around the 17th birthday at booking, where the two rules used to disagree.
    anchor = (booked or NOW).date()
    offset = draw(st.integers(min_value=-3, max_value=3))
    born = draw(
        st.one_of(
            st.none(),
            st.just(
                anchor.replace(year=anchor.year - 17, day=min(anchor.day, 28))
                + timedelta(days=offset)
            ),
            st.dates(min_value=date(1950, 1, 1), max_value=date(2015, 12, 31)),
        )
    )
    return {
        "booked": booked,
        "born": born,
        "age": draw(st.one_of(st.none(), st.integers(min_value=12, max_value=40))),
        "flags": draw(_FLAGS),
        "dispositions": draw(_DISPOSITIONS),
    }


@given(people=st.lists(_people(), min_size=1, max_size=6))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_gallery_query_and_the_policy_agree_on_every_booking(
    people: list[dict[str, Any]],
) -> None:
    with transaction.atomic():
        numbers = []
        for index, person in enumerate(people):
            booking = _booking(
                key=str(index),
                born=person["born"],
                age=person["age"],
                booked=person["booked"],
                **person["flags"],
            )
            for sequence, disposition in enumerate(person["dispositions"], start=1):
                Charge.objects.create(booking=booking, sequence=sequence, disposition=disposition)
            numbers.append(booking.booking_number)
        for include in (False, True):
            by_query = set(
                bookings_usable(now=NOW, include_non_conviction=include).values_list(
                    "pk", flat=True
                )
            )
            by_policy = {
                Booking.objects.get(booking_number=record["booking_number"]).pk
                for record in booking_export(booking_numbers=numbers)
                if record_exclusion(record, now=NOW, exclude_non_conviction=not include) is None
            }
            assert by_query == by_policy
        transaction.set_rollback(True)
