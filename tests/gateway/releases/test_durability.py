"""The release transaction is durable and audited exactly once (issue 8.6, rules.md CJ-03)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import DatabaseError, transaction

from gateway.audit.models import AuditEntry
from gateway.records.models import Booking, Charge, Person
from gateway.releases import services as releases
from gateway.releases.services import ReleaseStatus, release_records
from policies.examples import EXAMPLE_POLICE_REQUEST
from policies.services import key_file_create

LIBRARY = Path(__file__).resolve().parents[3] / "policies" / "library"
POLICE = {k: v for k, v in EXAMPLE_POLICE_REQUEST.items() if k not in {"records", "fields"}}


@pytest.fixture(autouse=True)
def _policies(settings, tmp_path: Path) -> None:
    settings.POLICY_DIRS = [LIBRARY]
    settings.POLICY_KEYS_FILE = tmp_path / "keys.json"
    key_file_create(path=settings.POLICY_KEYS_FILE)


@pytest.fixture
def booking(db) -> Booking:
    person = Person.objects.create(source="t", source_key="p", first_name="A", last_name="B")
    booking = Booking.objects.create(person=person, source="t", source_key="b", booking_number="B1")
    Charge.objects.create(
        booking=booking, statute="940.01", level="felony", disposition="convicted"
    )
    return booking


def _release() -> releases.Release:
    return release_records(
        request=POLICE, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )


@pytest.mark.django_db(transaction=True)
def test_calling_it_inside_a_transaction_raises(booking: Booking) -> None:
    # A caller's outer transaction could roll the audit row back after the data was handed out.
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        _release()
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_release_commits_its_audit_entry_before_it_returns(booking: Booking) -> None:
    result = _release()
    assert result.status is ReleaseStatus.RELEASED
    # Committed: visible from a fresh connection's point of view once the function has returned.
    assert AuditEntry.objects.filter(public_id=result.release_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_audit_write_releases_nothing(booking: Booking, monkeypatch) -> None:
    def broken(**kwargs: object) -> None:
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(releases, "audit_event_record", broken)
    with pytest.raises(DatabaseError):
        _release()  # an exception, never records without their audit entry
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "numbers",
    [["B1"], ["nope"], [], ["B1", "B1", "nope"], ["x"] * 100_001],
    ids=lambda n: f"{len(n)}-numbers",
)
def test_every_call_writes_exactly_one_audit_entry(booking: Booking, numbers: list[str]) -> None:
    release_records(request=POLICE, booking_numbers=numbers, requested_by="det")
    assert AuditEntry.objects.count() == 1
