"""The one DRF exception handler: every error body is {"code", "message", "extra", "request_id"}.

Domain errors map to HTTP statuses through one dict; a part that is down is a 503 refusal, audited
(``gateway.api.refusals``); unknown exceptions stay 500 and are logged by Django (``ApiErrorMiddleware``
then gives that 500 the same shape). ``request_id`` equals the response's
X-Request-ID header and the audit entries' ``request_id``, so a caller can quote it and staff can find the
request in the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from gateway.api.codes import ApiErrorCode
from gateway.api.refusals import ServiceUnavailableError, refusal_for, refusal_record
from gateway.audit.context import request_id_get
from gateway.exceptions import GatewayError, GatewayErrorCode

__all__ = ["STATUS_BY_CODE", "ApiErrorCode", "error_body", "error_response", "exception_handler"]

STATUS_BY_CODE: dict[GatewayErrorCode, int] = {
    GatewayErrorCode.NOT_FOUND: 404,
    GatewayErrorCode.IMPORT_FORMAT_UNKNOWN: 400,
    GatewayErrorCode.IMPORT_FILE_UNREADABLE: 400,
    GatewayErrorCode.IMPORT_MAPPING_INVALID: 400,
    GatewayErrorCode.IMAGE_REJECTED: 400,
    GatewayErrorCode.XML_REFUSED: 400,
    GatewayErrorCode.REQUEST_ILLEGAL_TRANSITION: 409,
    GatewayErrorCode.REQUEST_SELF_APPROVAL: 403,
    GatewayErrorCode.REQUEST_SAME_APPROVER: 403,
    GatewayErrorCode.REQUEST_NOT_CLERK: 403,
    GatewayErrorCode.REQUEST_WIDENED: 400,
}


# What a bare HTTP status means when nothing more specific was said (Django's own error pages).
CODE_BY_STATUS: dict[int, ApiErrorCode] = {
    400: ApiErrorCode.BAD_REQUEST,
    401: ApiErrorCode.NOT_AUTHENTICATED,
    403: ApiErrorCode.PERMISSION_DENIED,
    404: ApiErrorCode.NOT_FOUND,
    405: ApiErrorCode.METHOD_NOT_ALLOWED,
    413: ApiErrorCode.REQUEST_TOO_LARGE,
    500: ApiErrorCode.SERVER_ERROR,
    503: ApiErrorCode.SERVICE_UNAVAILABLE,
}


def error_body(
    *, code: str, message: str, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The one error shape, with the id of the request being answered."""
    return {
        "code": str(code),
        "message": message,
        "extra": dict(extra or {}),
        "request_id": request_id_get(),
    }


def error_response(*, status: int, message: str = "", code: str = "") -> JsonResponse:
    """An error answer outside DRF (unknown paths, Django's own 404/405/500), in the one shape."""
    if not code:
        code = CODE_BY_STATUS.get(status) or (
            ApiErrorCode.SERVER_ERROR if status >= 500 else ApiErrorCode.ERROR
        )
    return JsonResponse(error_body(code=code, message=message or _phrase(status)), status=status)


def _phrase(status: int) -> str:
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:
        return "Error."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, GatewayError):
        body = error_body(code=exc.code, message=exc.message, extra=exc.extra)
        return Response(body, status=STATUS_BY_CODE.get(exc.code, 400))
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, RequestDataTooBig):  # DRF reads JSON bodies through request.body
        body = error_body(
            code=ApiErrorCode.REQUEST_TOO_LARGE,
            message=f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} "
            "bytes, the most the gateway accepts.",
        )
        return Response(body, status=413)
    exc = refusal_for(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ServiceUnavailableError):
        refusal_record(request=context["request"], refusal=exc)
    if isinstance(exc, drf_exceptions.APIException):
        detail = response.data
        message = (
            detail.get("detail", "Invalid request.") if isinstance(detail, dict) else str(detail)
        )
        extra = {} if isinstance(detail, dict) and set(detail) == {"detail"} else {"fields": detail}
        codes = exc.get_codes()
        response.data = error_body(
            code=codes if isinstance(codes, str) else "invalid", message=str(message), extra=extra
        )
    return response
