"""Contract tests every recipient API endpoint inherits, in the manner of NetBox's ``APIViewTestCases``.

An endpoint test declares what it is and gets the tests:

    class TestReleasesEndpoint(EndpointContract):
        url = "/api/releases/"
        method = "post"
        valid_body = {"purpose": "vendor.algorithm-testing", "booking_numbers": [PUBLIC], ...}

The contract (README "What always holds", rules.md CJ-09):

* no credentials, or wrong ones: 401;
* an authenticated account that is not an active recipient (a plain user, county staff, a recipient
  account switched off): 403;
* a sealed, juvenile, expunged or removed booking answers exactly as a missing one (same status, content
  type and body apart from ids), and so does a request the policy denies;
* every call a recipient makes with a well-formed body writes exactly one ``AuditEntry``.

The bookings are seeded here under fixed numbers (``PUBLIC``, ``MISSING`` and one per restricted state);
``valid_body`` names ``PUBLIC`` and the contract swaps the number in ``booking_field`` for the others.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.test import APIClient

from gateway.models import AuditEntry, Booking, Charge, Person, RecipientAccount
from gateway.recipients.roles import Role
from gateway.recipients.services import user_create_with_role
from policies.services import key_file_create

LIBRARY = Path(__file__).resolve().parents[3] / "policies" / "library"
PUBLIC = "CT-PUBLIC-1"
MISSING = "CT-MISSING-9"
# Each restricted state as the jail records it (gateway/records/models.py Booking).
RESTRICTED: dict[str, dict[str, Any]] = {
    "sealed": {"sealed_order": "2025CV77"},
    "juvenile": {"juvenile": True},
    "expunged": {"expunged_on": date(2025, 3, 4)},
    "removed": {"removal_order": "Wis. Stat. 165.84(1) order 25-12"},
}
PASSWORD = "contract-test-password-1"


def county_policies_activate(*, settings: Any, directory: Path) -> None:
    """The shipped library plus the vendor agreement made active (as a county would), and fresh keys."""
    agreement = (
        (LIBRARY / "vendor-records-for-licences.yaml")
        .read_text()
        .replace("status: draft", "status: active")
        .replace(
            "approval_reference: null", 'approval_reference: "County Board Res. 26-001 (test)"'
        )
    )
    county = directory / "county"
    county.mkdir()
    (county / "vendor.yaml").write_text(agreement)
    settings.POLICY_DIRS = [LIBRARY, county]
    settings.POLICY_KEYS_FILE = directory / "keys.json"
    key_file_create(path=settings.POLICY_KEYS_FILE)
    cache.clear()  # throttle counts from earlier tests


def contract_bookings_create() -> None:
    """One person with a public, convicted booking (``PUBLIC``) and one booking per restricted state."""
    person = Person.objects.create(
        source="contract",
        source_key="p1",
        first_name="Jordan",
        last_name="Doe",
        ssn="900-12-3456",
        date_of_birth=date(1990, 5, 17),
        sex="M",
        race="B",
    )
    numbers = {
        PUBLIC: {},
        **{f"CT-{state.upper()}-1": extra for state, extra in RESTRICTED.items()},
    }
    for number, extra in numbers.items():
        booking = Booking.objects.create(
            person=person,
            source="contract",
            source_key=number,
            booking_number=number,
            booked_at=datetime(2026, 5, 4, 15, 15, tzinfo=UTC),
            **extra,
        )
        Charge.objects.create(
            booking=booking, statute="943.20", level="felony", disposition="convicted"
        )


def restricted_number(state: str) -> str:
    return f"CT-{state.upper()}-1"


def without_ids(value: Any) -> Any:
    """``value`` with every ``id`` / ``…_id`` key left out, at any depth."""
    if isinstance(value, Mapping):
        return {k: without_ids(v) for k, v in value.items() if k != "id" and not k.endswith("_id")}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


class EndpointContract:
    """Inherit, set ``url``, ``method`` and ``valid_body``; the tests below run against the endpoint."""

    url: ClassVar[str]
    method: ClassVar[str] = "post"
    valid_body: ClassVar[dict[str, Any]]
    valid_status: ClassVar[int] = 200
    booking_field: ClassVar[str] = "booking_numbers"  # where valid_body names PUBLIC
    recipient_type: ClassVar[str] = "vendor"  # a recipient the valid body is permitted for
    recipient_name: ClassVar[str] = "Biometrica"
    denied_body: ClassVar[dict[str, Any] | None] = None  # well-formed, but no policy permits it

    @pytest.fixture(autouse=True)
    def _county(self, db: None, settings: Any, tmp_path: Path) -> None:
        county_policies_activate(settings=settings, directory=tmp_path)
        contract_bookings_create()

    @pytest.fixture
    def recipient(self) -> APIClient:
        user = user_create_with_role(
            username="contract-recipient", password=PASSWORD, role=Role.VENDOR
        )
        RecipientAccount.objects.create(
            user=user, recipient_type=self.recipient_type, name=self.recipient_name
        )
        client = APIClient()
        client.force_authenticate(user)
        return client

    def body_for(self, booking_number: str) -> dict[str, Any]:
        current = self.valid_body[self.booking_field]
        return {
            **self.valid_body,
            self.booking_field: [booking_number] if isinstance(current, list) else booking_number,
        }

    def call(self, client: APIClient, body: Mapping[str, Any] | None = None) -> Any:
        send = getattr(client, self.method)
        return send(self.url, self.valid_body if body is None else body, format="json")

    def answer(self, response: Any) -> tuple[int, str, Any]:
        return response.status_code, response["Content-Type"], without_ids(response.json())

    def test_the_valid_body_is_answered(self, recipient: APIClient) -> None:
        response = self.call(recipient)
        assert response.status_code == self.valid_status, response.content

    def test_no_credentials_answer_401(self) -> None:
        assert self.call(APIClient()).status_code == 401

    def test_wrong_credentials_answer_401(self) -> None:
        user_create_with_role(username="contract-wrong", password=PASSWORD, role=Role.VENDOR)
        client = APIClient()
        token = base64.b64encode(b"contract-wrong:not-the-password").decode()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
        assert self.call(client).status_code == 401

    @pytest.mark.parametrize("who", ["plain user", "clerk", "compliance", "inactive recipient"])
    def test_an_account_that_is_not_an_active_recipient_gets_403(self, who: str) -> None:
        role = {"clerk": Role.CLERK, "compliance": Role.COMPLIANCE}.get(who, Role.VENDOR)
        user = user_create_with_role(username="contract-other", password=PASSWORD, role=role)
        if who == "plain user":
            user.groups.clear()
        if who == "inactive recipient":
            RecipientAccount.objects.create(
                user=user,
                recipient_type=self.recipient_type,
                name=self.recipient_name,
                active=False,
            )
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=user.pk))
        response = self.call(client)
        assert response.status_code == 403
        assert set(response.json()) == {"code", "message", "extra", "request_id"}
        assert response.json()["request_id"] == response["X-Request-ID"]

    @pytest.mark.parametrize("state", sorted(RESTRICTED))
    def test_a_restricted_booking_answers_as_a_missing_one(
        self, recipient: APIClient, state: str
    ) -> None:
        restricted = self.call(recipient, self.body_for(restricted_number(state)))
        missing = self.call(recipient, self.body_for(MISSING))
        assert self.answer(restricted) == self.answer(missing)

    def test_a_denied_request_answers_as_a_missing_booking(self, recipient: APIClient) -> None:
        if self.denied_body is None:
            pytest.skip("the endpoint declares no denied_body")
        denied = self.call(recipient, self.denied_body)
        missing = self.call(recipient, self.body_for(MISSING))
        assert self.answer(denied) == self.answer(missing)

    @pytest.mark.parametrize("kind", ["valid", "missing", "denied", *sorted(RESTRICTED)])
    def test_each_call_writes_exactly_one_audit_entry(
        self, recipient: APIClient, kind: str
    ) -> None:
        bodies = {"valid": self.valid_body, "missing": self.body_for(MISSING)}
        bodies |= {state: self.body_for(restricted_number(state)) for state in RESTRICTED}
        if self.denied_body is not None:
            bodies["denied"] = self.denied_body
        if kind not in bodies:
            pytest.skip("the endpoint declares no denied_body")
        before = AuditEntry.objects.count()
        self.call(recipient, bodies[kind])
        assert AuditEntry.objects.count() == before + 1
