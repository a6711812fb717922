"""The recipient API: recipient identity comes from the account, answers come from the release path."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from gateway.models import AuditEntry, Booking, Charge, Person, RecipientAccount
from policies.services import key_file_create

pytestmark = pytest.mark.django_db
LIBRARY = Path(__file__).resolve().parents[3] / "policies" / "library"
APPROVED_VENDOR = (
    (LIBRARY / "vendor-records-for-licences.yaml")
    .read_text()
    .replace("status: draft", "status: active")
    .replace("approval_reference: null", 'approval_reference: "County Board Res. 26-001 (test)"')
)
VENDOR_BODY: dict[str, Any] = {
    "on_behalf_of": None,
    "purpose": "vendor.algorithm-testing",
    "mode": "batch",
    "booking_numbers": ["B1"],
}


@pytest.fixture(autouse=True)
def _policies(settings, tmp_path: Path) -> None:
    county = tmp_path / "county"
    county.mkdir()
    (county / "vendor.yaml").write_text(APPROVED_VENDOR)
    settings.POLICY_DIRS = [LIBRARY, county]
    settings.POLICY_KEYS_FILE = tmp_path / "keys.json"
    key_file_create(path=settings.POLICY_KEYS_FILE)


@pytest.fixture
def bookings() -> None:
    person = Person.objects.create(
        source="t",
        source_key="1",
        first_name="Jordan",
        last_name="Doe",
        ssn="900-12-3456",
        date_of_birth=date(1990, 5, 17),
        sex="M",
        race="B",
    )
    for number, extra in (("B1", {}), ("B2", {"sealed_order": "2025CV77"})):
        booking = Booking.objects.create(
            person=person,
            source="t",
            source_key=number,
            booking_number=number,
            booked_at=datetime(2026, 5, 4, 15, 15, tzinfo=UTC),
            **extra,
        )
        Charge.objects.create(
            booking=booking, statute="943.20", level="felony", disposition="convicted"
        )


def _client(recipient_type: str | None, name: str = "Biometrica") -> APIClient:
    user = User.objects.create_user(username=f"u-{recipient_type}", password="x" * 16)
    if recipient_type:
        RecipientAccount.objects.create(user=user, recipient_type=recipient_type, name=name)
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_anonymous_requests_are_refused(bookings: None) -> None:
    response = APIClient().post("/api/releases/", VENDOR_BODY, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert response.json()["code"] == "not_authenticated"
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("username", "password"), [("u-vendor", "wrong-password-123"), ("nobody", "x" * 16)]
)
def test_wrong_credentials_are_a_401_with_a_challenge(
    bookings: None, username: str, password: str
) -> None:
    _client("vendor")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_basic(username, password))
    response = client.post("/api/releases/", VENDOR_BODY, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert response.json()["code"] == "authentication_failed"
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["sign_in_failed"]


def test_right_credentials_of_a_non_recipient_stay_a_403(bookings: None) -> None:
    User.objects.create_user(username="clerk", password="x" * 16)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_basic("clerk", "x" * 16))
    response = client.post("/api/releases/", VENDOR_BODY, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_an_inactive_recipient_account_is_a_403(bookings: None) -> None:
    _client("vendor")
    RecipientAccount.objects.update(active=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_basic("u-vendor", "x" * 16))
    response = client.post("/api/releases/", VENDOR_BODY, format="json")
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


def test_basic_credentials_of_a_recipient_are_accepted(bookings: None) -> None:
    _client("vendor")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_basic("u-vendor", "x" * 16))
    assert client.post("/api/releases/", VENDOR_BODY, format="json").status_code == 200


def test_a_signed_in_session_still_authenticates(bookings: None) -> None:
    User.objects.create_user(username="clerk", password="x" * 16)
    client = APIClient(enforce_csrf_checks=False)
    assert client.login(username="clerk", password="x" * 16)
    response = client.post("/api/releases/", VENDOR_BODY, format="json")
    assert response.status_code == 403  # authenticated by the session, but not a recipient


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_account_without_recipient_registration_is_refused(bookings: None) -> None:
    response = _client(None).post("/api/releases/", VENDOR_BODY, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_vendor_gets_minimized_records_and_the_release_is_audited(bookings: None) -> None:
    response = _client("vendor").post("/api/releases/", VENDOR_BODY, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "released"
    assert len(body["records"]) == 1
    released = body["records"][0]
    assert "ssn" not in released.get("person", {})
    assert released.get("booking_number") != "B1"  # pseudonymized for the vendor
    entry = AuditEntry.objects.get(public_id=body["release_id"])
    assert (entry.recipient_type, entry.effect, entry.actor) == ("vendor", "permit", "u-vendor")


def test_the_body_cannot_choose_the_recipient(bookings: None) -> None:
    body = {**VENDOR_BODY, "recipient": {"type": "court", "name": "Circuit Court"}}
    response = _client("vendor").post("/api/releases/", body, format="json")
    entry = AuditEntry.objects.get()
    assert entry.recipient_type == "vendor"
    assert response.status_code == 200


def _without_id(response: Any) -> dict[str, Any]:
    return {k: v for k, v in response.json().items() if k != "release_id"}


def test_denied_and_missing_bookings_look_identical(bookings: None) -> None:
    client = _client("vendor")
    sealed = client.post(
        "/api/releases/", {**VENDOR_BODY, "booking_numbers": ["B2"]}, format="json"
    )
    missing = client.post(
        "/api/releases/", {**VENDOR_BODY, "booking_numbers": ["B9"]}, format="json"
    )
    assert sealed.status_code == missing.status_code == 404
    assert _without_id(sealed) == _without_id(missing)
    assert _without_id(sealed)["records"] == []


def test_requester_cannot_self_verify_an_immigration_warrant(bookings: None) -> None:
    body = {
        **VENDOR_BODY,
        "purpose": "investigation.violent-felony",
        "mode": "single",
        "case_number": "HSI-1",
        "documents": [
            {"kind": "judicial_warrant", "signed_by_judge": True, "verified_by": ["a", "b"]}
        ],
    }
    response = _client("federal_immigration", "ICE ERO").post("/api/releases/", body, format="json")
    assert response.status_code == 404
    entry = AuditEntry.objects.get()
    assert entry.effect == "deny"
    assert any(reason["rule"].startswith("IM-") for reason in entry.reasons)


def test_on_behalf_of_is_required(bookings: None) -> None:
    body = {k: v for k, v in VENDOR_BODY.items() if k != "on_behalf_of"}
    response = _client("vendor").post("/api/releases/", body, format="json")
    assert response.status_code == 400
    assert "on_behalf_of" in response.json()["extra"]["fields"]
    assert not AuditEntry.objects.exists()


class _Clock:
    """time.monotonic and time.sleep for the view, on a clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_not_available_answers_take_the_same_time_whatever_the_reason(
    bookings: None, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CJ-09: a sealed booking (found, decided, denied) takes longer to answer than a missing one; both are
    sent at the same moment after arrival. A release is not held back."""
    from gateway.api import views
    from gateway.releases.services import release_records as real_release

    clock = _Clock()
    monkeypatch.setattr(views, "time", clock)
    settings.RELEASE_NOT_AVAILABLE_SECONDS = 0.25
    work = {"B1": 0.03, "B2": 0.04, "B9": 0.01}  # seconds each lookup is made to take

    def timed_release(**kwargs: Any) -> Any:
        clock.now += work[kwargs["booking_numbers"][0]]
        return real_release(**kwargs)

    monkeypatch.setattr(views, "release_records", timed_release)
    client = _client("vendor")
    answered = {}
    for number in ("B2", "B9", "B1"):
        arrived = clock.now
        response = client.post(
            "/api/releases/", {**VENDOR_BODY, "booking_numbers": [number]}, format="json"
        )
        answered[number] = (response.status_code, round(clock.now - arrived, 9))
    assert answered == {"B2": (404, 0.25), "B9": (404, 0.25), "B1": (200, 0.03)}
    assert len(clock.slept) == 2


# --- Issue 8.1: absent `fields` means the agreement's allow-list; an empty list is refused.


def test_a_request_without_fields_gets_the_agreement_allow_list(bookings: None) -> None:
    response = _client("vendor").post("/api/releases/", VENDOR_BODY, format="json")
    assert response.status_code == 200, response.json()
    [record] = response.json()["records"]
    assert record  # not {}: the vendor agreement's allow-list, as `policy explain` reads it
    entry = AuditEntry.objects.get()
    assert entry.released_fields  # and the audit counts real fields, not []


def test_an_explicitly_empty_field_list_is_a_400_and_releases_nothing(bookings: None) -> None:
    response = _client("vendor").post(
        "/api/releases/", {**VENDOR_BODY, "fields": []}, format="json"
    )
    assert response.status_code == 400
    assert "fields" in response.json()["extra"]["fields"]
    assert not AuditEntry.objects.exists()


def test_release_ids_are_opaque_not_a_counter(bookings: None) -> None:
    client = _client("vendor")
    ids = [
        client.post("/api/releases/", VENDOR_BODY, format="json").json()["release_id"]
        for _ in range(3)
    ]
    assert len(set(ids)) == 3
    assert not any(i.isdigit() for i in ids)
    assert all(str(e.pk) not in ids for e in AuditEntry.objects.all())
