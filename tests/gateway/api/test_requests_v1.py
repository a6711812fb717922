"""POST /api/v1/requests and GET /api/v1/requests/{id}: state and uniform outcome only (issue 9)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from gateway.models import ReleaseRequest
from gateway.requests.services import request_approve
from tests.gateway.api.mixins import PUBLIC, EndpointContract
from tests.gateway.requests.conftest import POLICE

pytestmark = pytest.mark.django_db

BODY: dict[str, Any] = {**POLICE, "booking_numbers": [PUBLIC]}


class TestRequestsEndpoint(EndpointContract):
    """The shared contract: 401, 403, one shape for sealed/missing/denied."""

    url = "/api/v1/requests"
    valid_body = BODY
    valid_status = 202
    recipient_type = "local_le"
    recipient_name = "Milwaukee Police Department"
    denied_body = {**BODY, "purpose": "immigration.civil-enforcement"}

    @pytest.mark.parametrize("kind", ["valid", "missing", "denied", "sealed"])
    def test_each_call_writes_exactly_one_audit_entry(
        self, recipient: APIClient, kind: str
    ) -> None:
        """Overridden: a request writes its submission, one preview and the policy's step, for any body."""
        from gateway.models import AuditEntry
        from tests.gateway.api.mixins import MISSING, restricted_number

        body = {
            "valid": self.valid_body,
            "missing": self.body_for(MISSING),
            "denied": self.denied_body,
            "sealed": self.body_for(restricted_number("sealed")),
        }[kind]
        before = AuditEntry.objects.count()
        self.call(recipient, body)
        actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))[before:]
        assert actions == ["request_transition", "release_preview", "request_transition"]
        assert not AuditEntry.objects.filter(action="release").exists()

    def test_the_answer_is_only_id_state_and_outcome(self, recipient: APIClient) -> None:
        response = self.call(recipient)
        body = response.json()
        assert set(body) == {"id", "state", "outcome"}
        assert body["id"].startswith("req_")
        assert (body["state"], body["outcome"]) == ("submitted", "pending_review")
        assert PUBLIC not in response.content.decode()

    def test_the_recipient_comes_from_the_account_never_the_body(
        self, recipient: APIClient
    ) -> None:
        forged = {**BODY, "recipient": {"type": "court", "name": "Circuit Court"}}
        body = self.call(recipient, forged).json()
        req = ReleaseRequest.objects.get(public_id=body["id"])
        assert (req.recipient_type, req.recipient_name) == (
            "local_le",
            "Milwaukee Police Department",
        )
        assert req.source == "api"

    def test_get_follows_the_request_to_approved(self, recipient: APIClient) -> None:
        from gateway.recipients.roles import Role
        from gateway.recipients.services import staff_role_qualify, user_create_with_role

        created = self.call(recipient).json()
        url = f"{self.url}/{created['id']}"
        assert recipient.get(url).json() == {
            "id": created["id"],
            "state": "awaiting_clerk",
            "outcome": "pending_review",
        }
        clerk = user_create_with_role(
            username="api-clerk", password="x-password-1", role=Role.CLERK
        )
        staff_role_qualify(user=clerk, role=Role.CLERK)  # CJ-06
        request_approve(user=clerk, request_id=created["id"])
        answer = recipient.get(url)
        assert answer.status_code == 200
        assert answer.json()["state"] == "approved"
        assert set(answer.json()) == {"id", "state", "outcome"}

    def test_another_recipients_id_answers_like_a_missing_one(self, recipient: APIClient) -> None:
        from django.contrib.auth.models import User

        from gateway.models import RecipientAccount

        created = self.call(recipient).json()
        other = User.objects.create_user(username="other-agency")
        RecipientAccount.objects.create(user=other, recipient_type="local_le", name="Wauwatosa PD")
        client = APIClient()
        client.force_authenticate(other)
        theirs = client.get(f"{self.url}/{created['id']}")
        missing = client.get(f"{self.url}/req_doesnotexist0000000")
        assert theirs.status_code == missing.status_code == 404
        assert self.answer(theirs) == self.answer(missing)
        assert set(theirs.json()) == {"code", "message", "extra", "request_id"}
        assert theirs.json()["message"] == missing.json()["message"]

    def test_get_needs_a_recipient_account(self, recipient: APIClient) -> None:
        created = self.call(recipient).json()
        assert APIClient().get(f"{self.url}/{created['id']}").status_code == 401
