"""KeyField: machine identifiers compare byte by byte on every database."""

from __future__ import annotations

import pytest
from django.db import connection

from gateway.models import Booking, Person
from gateway.records.fields import KeyField

KEY_COLUMNS = [
    (Person, "source"),
    (Person, "source_key"),
    (Booking, "source"),
    (Booking, "source_key"),
    (Booking, "booking_number"),
]


@pytest.mark.parametrize(("model", "name"), KEY_COLUMNS)
def test_keys_are_key_fields(model: type[Person] | type[Booking], name: str) -> None:
    assert isinstance(model._meta.get_field(name), KeyField)


def test_collation_is_c_on_postgresql_only() -> None:
    field = KeyField(max_length=10)

    class Vendor:
        def __init__(self, vendor: str) -> None:
            self.vendor = vendor
            self.data_types = connection.data_types
            self.data_type_check_constraints = connection.data_type_check_constraints
            self.ops = connection.ops

    assert field.db_parameters(Vendor("postgresql"))["collation"] == "C"  # type: ignore[arg-type]
    assert field.db_parameters(Vendor("sqlite"))["collation"] is None  # type: ignore[arg-type]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(("model", "name"), KEY_COLUMNS)
def test_postgresql_columns_have_the_c_collation(
    model: type[Person] | type[Booking], name: str
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = %s",
            [model._meta.db_table, name],
        )
        assert cursor.fetchone() == ("C",)


@pytest.mark.django_db
def test_a_record_model_prints_as_its_id_never_its_data() -> None:
    # Issue 8.7: __str__ reaches logs, the admin and error messages; none of them is a release.
    from gateway.faces.models import MatchRequest
    from gateway.records.models import Booking, Charge, Mugshot, Person

    person = Person.objects.create(
        source="t",
        source_key="k",
        first_name="CANARYFIRST",
        last_name="CANARYLAST",
        ssn="900-00-0001",
    )
    booking = Booking.objects.create(
        person=person, source="t", source_key="b", booking_number="CANARYBOOK"
    )
    charge = Charge.objects.create(booking=booking, statute="CANARYSTAT", description="CANARYDESC")
    mugshot = Mugshot(booking=booking, sha256="c" * 64, size_bytes=1, width=1, height=1)
    match = MatchRequest(case_number="CANARYCASE", status="denied")
    printed = " ".join(str(o) for o in (person, booking, charge, mugshot, match))
    assert "CANARY" not in printed
    assert "ccccc" not in printed
    assert str(person) == f"Person #{person.pk}"
