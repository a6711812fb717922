"""`POST /api/releases/` under the recipient API contract (tests/gateway/api/mixins.py)."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework.test import APIClient

from tests.gateway.api.mixins import PUBLIC, EndpointContract

VENDOR_BODY: dict[str, Any] = {
    "on_behalf_of": None,
    "purpose": "vendor.algorithm-testing",
    "mode": "batch",
    "booking_numbers": [PUBLIC],
}


class TestReleasesEndpoint(EndpointContract):
    url = "/api/releases/"
    method = "post"
    valid_body = VENDOR_BODY
    # No agreement lets a vendor ask for an investigation: the policy denies it.
    denied_body: ClassVar[dict[str, Any] | None] = {
        **VENDOR_BODY,
        "purpose": "investigation.violent-felony",
        "mode": "single",
        "case_number": "2026CF000123",
    }

    def test_a_request_without_fields_gets_the_agreements_fields(
        self, recipient: APIClient
    ) -> None:
        records = self.call(recipient).json()["records"]
        assert records
        assert all(record.get("booking_number") for record in records)
