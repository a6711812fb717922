"""The synthetic county: exact counts, determinism, realistic shares, fake identifiers, idempotent re-runs."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Max, Min, Q

from gateway.demo.synthetic import (
    CountyStats,
    SyntheticCountyError,
    SyntheticErrorCode,
    county_generate,
    writers,
)
from gateway.records.models import Booking, Charge, ChargeLevel, Disposition, Mugshot, Person
from gateway.records.mugshots import mugshot_validate

SHARES_SOURCE = "test-synthetic-shares"
SHARES_BOOKINGS = 4000

PERSON_FIELDS = [
    "source_key", "first_name", "middle_name", "last_name", "suffix", "date_of_birth", "age",
    "age_recorded_on", "sex", "race", "ethnicity", "address", "zip_code", "state_id", "fbi_number",
    "drivers_license", "ssn",
]  # fmt: skip
BOOKING_FIELDS = [
    "source_key", "person__source_key", "booking_number", "booked_at", "released_at",
    "arresting_agency", "booking_agency", "custody_status", "housing", "juvenile", "sealed_on",
    "sealed_order", "expunged_on", "expunged_order", "removed_on", "removal_order",
]  # fmt: skip
CHARGE_FIELDS = [
    "booking__source_key", "sequence", "statute", "description", "level", "disposition",
    "bond_amount", "bond_type", "case_number",
]  # fmt: skip


def _county_rows(source: str) -> tuple[list[tuple[object, ...]], ...]:
    """Everything a county says, without database ids, source names or insert times."""
    return (
        list(
            Person.objects.filter(source=source).order_by("source_key").values_list(*PERSON_FIELDS)
        ),
        list(
            Booking.objects.filter(source=source)
            .order_by("source_key")
            .values_list(*BOOKING_FIELDS)
        ),
        list(
            Charge.objects.filter(booking__source=source)
            .order_by("booking__source_key", "sequence")
            .values_list(*CHARGE_FIELDS)
        ),
    )


def _county_delete(source: str) -> None:
    """Remove a committed county with plain SQL: an ORM delete would also visit every model that points
    at bookings, including ones other parts of the project add later."""
    with connection.cursor() as cursor:
        for table, condition in (
            (
                Mugshot._meta.db_table,
                "booking_id IN (SELECT id FROM gateway_booking WHERE source = %s)",
            ),
            (
                Charge._meta.db_table,
                "booking_id IN (SELECT id FROM gateway_booking WHERE source = %s)",
            ),
            (Booking._meta.db_table, "source = %s"),
            (Person._meta.db_table, "source = %s"),
        ):
            cursor.execute(f"DELETE FROM {table} WHERE {condition}", [source])  # noqa: S608


@pytest.fixture(scope="module")
def county(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[CountyStats]:
    """One county shared by the read-only tests: generating it is most of their cost."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        stats = county_generate(bookings=SHARES_BOOKINGS, seed=11, source=SHARES_SOURCE)
        yield stats
        _county_delete(SHARES_SOURCE)


@pytest.mark.django_db
def test_counts_are_exact_and_match_the_stats(county: CountyStats) -> None:
    bookings = Booking.objects.filter(source=SHARES_SOURCE)
    assert bookings.count() == SHARES_BOOKINGS == county.bookings_created
    assert county.bookings_existing == 0
    assert Person.objects.filter(source=SHARES_SOURCE).count() == county.persons_created
    assert Charge.objects.filter(booking__source=SHARES_SOURCE).count() == county.charges_created
    # Every person has a booking, every booking a charge; keys are numbered without gaps.
    assert not Person.objects.filter(source=SHARES_SOURCE, bookings__isnull=True).exists()
    assert not bookings.filter(charges__isnull=True).exists()
    keys = sorted(bookings.values_list("source_key", flat=True))
    assert keys == [f"s11-b{n:09d}" for n in range(SHARES_BOOKINGS)]


@pytest.mark.django_db
def test_people_are_booked_more_than_once(county: CountyStats) -> None:
    per_person = Counter(
        Booking.objects.filter(source=SHARES_SOURCE).values_list("person_id", flat=True)
    )
    repeat_share = sum(1 for n in per_person.values() if n >= 2) / len(per_person)
    assert 0.25 < repeat_share < 0.6
    assert max(per_person.values()) >= 5
    assert 1.5 < SHARES_BOOKINGS / len(per_person) < 2.5


@pytest.mark.django_db
def test_demographic_mix_is_milwaukee_like(county: CountyStats) -> None:
    people = Person.objects.filter(source=SHARES_SOURCE)
    total = people.count()

    def share(**filters: object) -> float:
        return people.filter(**filters).count() / total

    assert 0.78 < share(sex="M") < 0.92
    assert 0.08 < share(sex="F") < 0.2
    assert 0.45 < share(race="Black") < 0.7
    assert 0.25 < share(race="White") < 0.45
    assert 0.06 < share(ethnicity="Hispanic") < 0.16
    assert 0.02 < share(date_of_birth__isnull=True) < 0.12
    assert share(date_of_birth__isnull=True) == share(age__isnull=False)
    assert 0.6 < share(zip_code__startswith="532") < 0.95


@pytest.mark.django_db
def test_charge_levels_dispositions_and_bonds(county: CountyStats) -> None:
    charges = Charge.objects.filter(booking__source=SHARES_SOURCE)
    total = charges.count()
    levels = Counter(charges.values_list("level", flat=True))
    assert 0.15 < levels[ChargeLevel.FELONY] / total < 0.45
    assert 0.35 < levels[ChargeLevel.MISDEMEANOR] / total < 0.7
    assert 0.08 < levels[ChargeLevel.CIVIL_HOLD] / total < 0.3
    criminal = charges.exclude(level=ChargeLevel.CIVIL_HOLD)
    outcomes = Counter(criminal.values_list("disposition", flat=True))
    assert set(outcomes) == {
        Disposition.PENDING,
        Disposition.CONVICTED,
        Disposition.DISMISSED,
        Disposition.ACQUITTED,
    }
    assert outcomes[Disposition.CONVICTED] > outcomes[Disposition.ACQUITTED] * 5
    statutes = set(charges.values_list("statute", flat=True))
    assert {"940.19(1)", "943.20(1)(a)", "346.63(1)(a)", "947.01(1)", "973.10"} <= statutes
    assert not charges.filter(level=ChargeLevel.CIVIL_HOLD, bond_amount__isnull=False).exists()
    assert charges.filter(bond_type="CASH", bond_amount__gt=0).exists()
    assert not charges.filter(bond_type="CASH", bond_amount__isnull=True).exists()
    felony_cases = charges.filter(level=ChargeLevel.FELONY).values_list("case_number", flat=True)
    assert all(re.fullmatch(r"20\d\dCF\d{6}", case) for case in felony_cases)


@pytest.mark.django_db
def test_release_times_and_custody_agree(county: CountyStats) -> None:
    bookings = Booking.objects.filter(source=SHARES_SOURCE)
    assert not bookings.filter(released_at__lt=F("booked_at")).exists()
    assert not bookings.filter(custody_status="released", released_at__isnull=True).exists()
    assert not bookings.filter(custody_status="in_custody", released_at__isnull=False).exists()
    assert bookings.filter(custody_status="in_custody").exclude(housing="").count() == (
        bookings.filter(custody_status="in_custody").count()
    )
    assert bookings.filter(custody_status="in_custody").exists()
    span = bookings.aggregate(first=Min("booked_at"), last=Max("booked_at"))
    assert span["first"] is not None
    assert span["last"] is not None
    assert (span["last"] - span["first"]).days > 3 * 365  # several years
    # One person is never booked again before being released.
    rows = bookings.order_by("person_id", "booked_at").values_list(
        "person_id", "booked_at", "released_at"
    )
    previous: tuple[int, datetime | None] = (0, None)
    for person_id, booked_at, released_at in rows:
        assert booked_at is not None
        if previous[0] == person_id and previous[1] is not None:
            assert previous[1] <= booked_at
        previous = (person_id, released_at)


@pytest.mark.django_db
def test_release_governing_statuses_are_present_and_lawful(county: CountyStats) -> None:
    bookings = Booking.objects.filter(source=SHARES_SOURCE)
    for flag, (field, order) in {
        "juvenile": ("juvenile", None),
        "sealed": ("sealed_on", "sealed_order"),
        "expunged": ("expunged_on", "expunged_order"),
        "removed": ("removed_on", "removal_order"),
    }.items():
        count = (
            bookings.filter(juvenile=True).count()
            if order is None
            else (bookings.filter(**{f"{field}__isnull": False}).count())
        )
        assert 0.003 < count / SHARES_BOOKINGS < 0.06, flag
        if order is not None:  # a date always comes with its order reference, and only then
            assert not bookings.filter(**{f"{field}__isnull": True}).exclude(**{order: ""}).exists()
            assert not bookings.filter(**{f"{field}__isnull": False, order: ""}).exists()
            assert not bookings.filter(**{f"{field}__gte": date(2026, 1, 1)}).exists()
    # 165.84 removal only when every criminal charge ended in dismissal or acquittal.
    removed = bookings.filter(removed_on__isnull=False)
    not_cleared = Charge.objects.filter(booking__in=removed).exclude(
        Q(level=ChargeLevel.CIVIL_HOLD) | Q(disposition__in=["dismissed", "acquitted"])
    )
    assert not not_cleared.exists()
    # Juvenile means under 17 at booking (where the birth date is known); 973.015 expunction under 25.
    for booked_at, born, juvenile in bookings.filter(
        person__date_of_birth__isnull=False
    ).values_list("booked_at", "person__date_of_birth", "juvenile"):
        assert booked_at is not None
        assert born is not None
        age = (booked_at.date() - born).days / 365.2425
        assert juvenile == (age < 17) or abs(age - 17) < 0.01
    for booked_at, born in bookings.filter(
        expunged_on__isnull=False, person__date_of_birth__isnull=False
    ).values_list("booked_at", "person__date_of_birth"):
        assert booked_at is not None
        assert born is not None
        assert (booked_at.date() - born).days / 365.2425 < 25.01


@pytest.mark.django_db
def test_identifiers_are_obviously_fake(county: CountyStats) -> None:
    people = Person.objects.filter(source=SHARES_SOURCE)
    ssns = [s for s in people.values_list("ssn", flat=True) if s]
    assert len(ssns) > people.count() // 3
    assert all(re.fullmatch(r"9\d\d-\d\d-\d{4}", ssn) for ssn in ssns)  # 900-999: never issued
    for field in ("state_id", "fbi_number", "drivers_license"):
        values = [v for v in people.values_list(field, flat=True) if v]
        assert values, field
        assert all(v.startswith("SYN") for v in values), field
    numbers = Booking.objects.filter(source=SHARES_SOURCE).values_list("booking_number", flat=True)
    assert all(n.startswith("SYN-") for n in numbers)


@pytest.mark.django_db
def test_same_seed_same_county_other_seed_other_county() -> None:
    county_generate(bookings=600, seed=5, source="det-a")
    county_generate(bookings=600, seed=5, source="det-b")
    county_generate(bookings=600, seed=6, source="det-c")
    a, b, c = _county_rows("det-a"), _county_rows("det-b"), _county_rows("det-c")
    assert a == b
    assert len(a[1]) == len(c[1]) == 600
    assert [row[1:] for row in a[0]] != [row[1:] for row in c[0]]
    assert [row[2:] for row in a[1]] != [row[2:] for row in c[1]]


@pytest.mark.django_db
def test_rerun_with_same_seed_and_source_creates_nothing() -> None:
    county_generate(bookings=500, seed=8, source="rerun")
    before = _county_rows("rerun")
    again = county_generate(bookings=500, seed=8, source="rerun")
    assert (again.bookings_created, again.bookings_existing) == (0, 500)
    assert (again.persons_created, again.charges_created) == (0, 0)
    assert _county_rows("rerun") == before
    smaller = county_generate(bookings=200, seed=8, source="rerun")
    assert smaller.bookings_created == 0
    assert Booking.objects.filter(source="rerun").count() == 500


@pytest.mark.django_db
def test_larger_run_extends_to_the_same_county_as_one_run() -> None:
    """A killed or smaller earlier run ends inside a chunk: the next run completes it without duplicates."""
    county_generate(bookings=300, seed=9, source="grow")
    grown = county_generate(bookings=900, seed=9, source="grow")
    county_generate(bookings=900, seed=9, source="whole")
    assert (grown.bookings_created, grown.bookings_existing) == (600, 300)
    grow, whole = _county_rows("grow"), _county_rows("whole")
    assert grow == whole
    assert len({row[0] for row in grow[0]}) == len(grow[0])  # no person twice


@pytest.mark.django_db
def test_a_run_killed_mid_way_resumes_without_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks commit one by one: a crash loses only the chunk in flight, and the re-run completes it."""
    from gateway.demo.synthetic import rows, services

    monkeypatch.setattr(rows, "PERSONS_PER_CHUNK", 64)  # many small chunks, so the crash is mid-run
    monkeypatch.setattr(services, "PERSONS_PER_CHUNK", 64)
    real_charges_write = services._charges_write
    calls = []

    def crash_on_third_chunk(*args: object) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        real_charges_write(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "_charges_write", crash_on_third_chunk)
    with pytest.raises(RuntimeError, match="killed"):
        county_generate(bookings=500, seed=13, source="killed")
    written = Booking.objects.filter(source="killed").count()
    assert 0 < written < 500
    assert not Booking.objects.filter(source="killed", charges__isnull=True).exists()

    monkeypatch.setattr(services, "_charges_write", real_charges_write)
    resumed = county_generate(bookings=500, seed=13, source="killed")
    assert (resumed.bookings_existing, resumed.bookings_created) == (written, 500 - written)
    county_generate(bookings=500, seed=13, source="in-one-go")
    assert _county_rows("killed") == _county_rows("in-one-go")


@pytest.mark.django_db
def test_ids_keep_working_for_ordinary_inserts_afterwards() -> None:
    county_generate(bookings=300, seed=4, source="ids")
    person = Person.objects.create(source="manual", source_key="1")
    booking = Booking.objects.create(
        person=person, source="manual", source_key="1", booking_number="1"
    )
    Charge.objects.create(booking=booking, sequence=1)
    assert (
        person.pk
        > Person.objects.filter(source="ids").order_by("-pk").values_list("pk", flat=True)[0]
    )


@pytest.mark.django_db
def test_refuses_a_source_holding_imported_records() -> None:
    person = Person.objects.create(source="dane", source_key="459802")
    Booking.objects.create(
        person=person, source="dane", source_key="624301", booking_number="624301"
    )
    with pytest.raises(SyntheticCountyError) as refused:
        county_generate(bookings=50, seed=1, source="dane")
    assert refused.value.code == SyntheticErrorCode.SOURCE_HOLDS_REAL_RECORDS
    assert Booking.objects.filter(source="dane").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"bookings": 0, "seed": 1}, SyntheticErrorCode.BOOKINGS_INVALID),
        ({"bookings": 10, "seed": -1}, SyntheticErrorCode.SEED_INVALID),
        ({"bookings": 10, "seed": 1, "source": ""}, SyntheticErrorCode.SOURCE_INVALID),
        ({"bookings": 10, "seed": 1, "source": "x" * 41}, SyntheticErrorCode.SOURCE_INVALID),
    ],
)
def test_invalid_arguments_are_refused(
    arguments: dict[str, object], code: SyntheticErrorCode
) -> None:
    before = Booking.objects.count()
    with pytest.raises(SyntheticCountyError) as refused:
        county_generate(**arguments)  # type: ignore[arg-type]
    assert refused.value.code == code
    assert Booking.objects.count() == before


@pytest.mark.django_db
def test_mugshot_placeholders_are_synthetic_valid_and_stored(
    settings: object, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    stats = county_generate(bookings=150, seed=2, source="photos", mugshots=True)
    shots = Mugshot.objects.filter(booking__source="photos")
    assert stats.mugshots_created == shots.count()
    assert 0.85 * 150 < shots.count() <= 150
    assert not shots.filter(synthetic=False).exists()
    assert not shots.filter(booking__removed_on__isnull=False).exists()
    for shot in shots[:5]:
        data = (tmp_path / str(shot.image.name)).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shot.sha256
        checked = mugshot_validate(data=data)
        assert (checked.format, checked.width, checked.height) == ("png", shot.width, shot.height)
    assert len(set(shots.values_list("sha256", flat=True))) == shots.count()


@pytest.mark.django_db
def test_command_wraps_the_service() -> None:
    out = StringIO()
    call_command(
        "generate_county",
        "--bookings",
        "120",
        "--seed",
        "3",
        "--source",
        "cmd",
        stdout=out,
        verbosity=0,
    )
    assert "120 bookings created" in out.getvalue()
    assert Booking.objects.filter(source="cmd").count() == 120
    err = StringIO()
    with pytest.raises(Exception, match="synthetic_bookings_invalid"):
        call_command("generate_county", "--bookings", "0", stdout=out, stderr=err, verbosity=0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_copy_writes_what_the_orm_writer_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    stats = county_generate(bookings=2500, seed=12, source="pg-copy")
    assert stats.writer == "copy"
    monkeypatch.setattr(writers, "_copy", writers._bulk_create)
    county_generate(bookings=2500, seed=12, source="pg-orm")
    copied, created = _county_rows("pg-copy"), _county_rows("pg-orm")
    assert copied == created
    assert len(copied[1]) == 2500
    per_person = (
        Booking.objects.filter(source="pg-copy").values("person_id").annotate(n=Count("id"))
    )
    assert per_person.filter(n__gte=2).exists()
    # COPY wrote real NULLs, not the text "None", "nan" or "NaT".
    assert Person.objects.filter(source="pg-copy", date_of_birth__isnull=True).exists()
    assert Charge.objects.filter(booking__source="pg-copy", bond_amount__isnull=True).exists()
