"""The recipient API: thin views that hand requests to the release path and return what it answers."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.api.errors import error_response
from gateway.api.serializers import ReleaseRequestSerializer
from gateway.models import RecipientAccount
from gateway.releases.services import ReleaseStatus, release_records

HTTP_STATUS = {
    ReleaseStatus.RELEASED: status.HTTP_200_OK,
    ReleaseStatus.PENDING_REVIEW: status.HTTP_202_ACCEPTED,
    ReleaseStatus.NOT_AVAILABLE: status.HTTP_404_NOT_FOUND,
}


def _recipient_account(request: Request) -> RecipientAccount:
    try:
        account: RecipientAccount = request.user.recipient_account  # type: ignore[union-attr]
    except ObjectDoesNotExist:
        account = None  # type: ignore[assignment]
    if account is None or not account.active:
        raise PermissionDenied("This account is not registered as an active recipient.")
    return account


class ReleaseView(APIView):
    """POST a release request for bookings; the answer is the release path's, status for status.

    A denied request, a missing booking and a sealed one are the same 404 `not_available` answer, sent no
    sooner than RELEASE_NOT_AVAILABLE_SECONDS after the request arrived (rules.md CJ-09: the same shape and
    the same timing; looking up a sealed booking and deciding on it takes longer than finding none).
    """

    throttle_scope = "releases"

    @extend_schema(request=ReleaseRequestSerializer, responses={200: dict, 202: dict, 404: dict})
    def post(self, request: Request) -> Response:
        arrived = time.monotonic()
        account = _recipient_account(request)
        serializer = ReleaseRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(serializer.validated_data)
        booking_numbers = data.pop("booking_numbers")
        data["recipient"] = account.as_recipient()
        data["documents"] = [{**doc, "verified_by": []} for doc in data["documents"]]
        release = release_records(
            request=data, booking_numbers=booking_numbers, requested_by=request.user.get_username()
        )
        if release.status is ReleaseStatus.NOT_AVAILABLE:
            _not_before(arrived + settings.RELEASE_NOT_AVAILABLE_SECONDS)
        return Response(release.as_dict(), status=HTTP_STATUS[release.status])


def _not_before(moment: float) -> None:
    """Wait until `moment` (time.monotonic) if it is still ahead."""
    remaining = moment - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Every path under /api/ that no route matches: a JSON 404, never Django's (debug) page.

    Any method: a POST to a mistyped path is answered 404, not a CSRF failure or a slash redirect.
    """
    return error_response(status=404, message="No API endpoint at this path.")
