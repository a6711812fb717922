"""API v1 views: thin, over gateway.requests' services and access functions."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.v1.serializers import RequestCreateSerializer, request_public
from gateway.api.views import _not_before, _recipient_account
from gateway.requests.access import access_request_for_recipient
from gateway.requests.models import RequestSource
from gateway.requests.services import request_create
from gateway.requests.tasks import request_decide_task

__all__ = ["RequestDetailView", "RequestListView"]


class RequestListView(APIView):
    """POST a request for a clerk to decide: 202 with its id and ``submitted``, whatever it asks for.

    The policy's first decision runs after the answer is built (a Celery task; eager in development),
    so neither the answer nor its timing depends on the bookings or on the decision. Every answer is sent no sooner than RELEASE_NOT_AVAILABLE_SECONDS after the request arrived, so
    the time the policy took on sealed or missing bookings does not show either (CJ-09).
    """

    throttle_scope = "releases"

    @extend_schema(request=RequestCreateSerializer, responses={202: dict})
    def post(self, request: Request) -> Response:
        arrived = time.monotonic()
        account = _recipient_account(request)
        serializer = RequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(serializer.validated_data)
        req = request_create(
            recipient=account.as_recipient(),
            requested_by=request.user,
            purpose=data["purpose"],
            booking_numbers=data["booking_numbers"],
            on_behalf_of=data["on_behalf_of"],
            case_number=data["case_number"],
            offense_statute=data["offense_statute"],
            narrative=data["narrative"],
            mode=data["mode"],
            # Verification is two county staff's, never the requester's claim.
            documents=[{**doc, "verified_by": []} for doc in data["documents"]],
            fields=data.get("fields"),
            source=RequestSource.API,
        )
        answer = request_public(req)  # as submitted: the same for every request (CJ-09)
        request_decide_task.delay(req.public_id)
        _not_before(arrived + settings.RELEASE_NOT_AVAILABLE_SECONDS)
        return Response(answer, status=status.HTTP_202_ACCEPTED)


class RequestDetailView(APIView):
    """GET one of the recipient's own requests: state and uniform outcome; anyone else's looks missing."""

    @extend_schema(responses={200: dict, 404: dict})
    def get(self, request: Request, request_id: str) -> Response:
        _recipient_account(request)
        req = access_request_for_recipient(user=request.user, request_id=request_id)
        return Response(request_public(req))
