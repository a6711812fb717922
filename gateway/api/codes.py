"""The error codes the API itself answers with; DRF's own (``throttled``, ``invalid``, …) pass through.

A module of its own, importing nothing from DRF: the parser and throttle classes named in REST_FRAMEWORK
are imported while DRF builds APIView, so they cannot import the exception handler's module.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ApiErrorCode"]


class ApiErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    MALFORMED_JSON = (
        "malformed_json"  # the body is not JSON, or nests deeper than the parser allows
    )
    NOT_AUTHENTICATED = "not_authenticated"
    ACCOUNT_LOCKED = (
        "account_locked"  # 429: too many failed passwords for this username from this IP
    )
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REQUEST_TOO_LARGE = "request_too_large"
    SERVER_ERROR = "server_error"
    # 503 refusals, audited as api_refused (gateway.api.refusals): a part the API needs is down.
    SERVICE_UNAVAILABLE = "service_unavailable"
    RATE_LIMIT_UNAVAILABLE = "rate_limit_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"
    ERROR = "error"
