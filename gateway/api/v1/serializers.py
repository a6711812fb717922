"""Shapes of API v1. A request is answered with its id, state and uniform outcome, never a reason (CJ-09)."""

from __future__ import annotations

from typing import Any

from gateway.api.serializers import ReleaseRequestSerializer
from gateway.requests.models import ReleaseRequest

__all__ = ["RequestCreateSerializer", "request_public"]


class RequestCreateSerializer(ReleaseRequestSerializer):
    """The body of ``POST /api/v1/requests``: exactly today's release request (no recipient field)."""


def request_public(req: ReleaseRequest) -> dict[str, Any]:
    """What the requester may know of its request. Booking numbers, reasons and counts stay county-side."""
    return {"id": req.public_id, "state": req.state, "outcome": req.outcome}
