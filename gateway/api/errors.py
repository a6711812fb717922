"""The one DRF exception handler: every error body is {"code", "message", "extra"}.

Domain errors map to HTTP statuses through one dict; unknown exceptions stay 500 and are logged by Django.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from gateway.exceptions import GatewayError, GatewayErrorCode

STATUS_BY_CODE: dict[GatewayErrorCode, int] = {
    GatewayErrorCode.NOT_FOUND: 404,
    GatewayErrorCode.IMPORT_FORMAT_UNKNOWN: 400,
    GatewayErrorCode.IMPORT_FILE_UNREADABLE: 400,
    GatewayErrorCode.IMPORT_MAPPING_INVALID: 400,
    GatewayErrorCode.IMAGE_REJECTED: 400,
    GatewayErrorCode.XML_REFUSED: 400,
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, GatewayError):
        body = {"code": str(exc.code), "message": exc.message, "extra": exc.extra}
        return Response(body, status=STATUS_BY_CODE.get(exc.code, 400))
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.APIException):
        detail = response.data
        message = (
            detail.get("detail", "Invalid request.") if isinstance(detail, dict) else str(detail)
        )
        extra = {} if isinstance(detail, dict) and set(detail) == {"detail"} else {"fields": detail}
        response.data = {
            "code": str(exc.get_codes()) if isinstance(exc.get_codes(), str) else "invalid",
            "message": str(message),
            "extra": extra,
        }
    return response
