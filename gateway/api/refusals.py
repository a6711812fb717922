"""Refusals because a part the API depends on is down: a 503 with a stable code, and the refusal counted.

A request the gateway cannot serve safely (no rate limiter, no database) is refused, never served anyway:
serving unthrottled would let one account pull records as fast as it can ask, and a release nobody could
audit must not happen. Each refusal is written by the one audit writer as ``AuditAction.API_REFUSED``
when the database can take it; when it cannot (the database is what is down), one JSON line goes to the
``gateway.refusals`` log instead, with ``"audited": false``.

TODO: count log-only refusals into the audit log once the database is back (a replay of the
``gateway.refusals`` lines with ``"audited": false``); until then they are only in the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError, transaction
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from gateway.api.codes import ApiErrorCode
from gateway.audit.context import request_id_get
from gateway.audit.models import AuditAction, ReleaseEffect
from gateway.audit.services import audit_event_record

__all__ = [
    "RateLimitUnavailableError",
    "ServiceUnavailableError",
    "refusal_record",
]

logger = logging.getLogger("gateway.refusals")


class ServiceUnavailableError(APIException):
    """A part the API needs is down, so the request is refused (503) and the refusal recorded."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service the gateway depends on is unavailable; try again later."
    default_code = ApiErrorCode.SERVICE_UNAVAILABLE


class RateLimitUnavailableError(ServiceUnavailableError):
    default_detail = (
        "The rate limiter is unavailable, so the request was refused rather than served "
        "unthrottled; try again later."
    )
    default_code = ApiErrorCode.RATE_LIMIT_UNAVAILABLE


def refusal_record(*, request: Request, code: str, cause: str = "") -> bool:
    """Audit one refusal (falling back to the ``gateway.refusals`` log); return whether it was audited.

    The caller still answers 503 whatever happens here: recording a refusal never turns it into a
    500. Only database errors are absorbed (they are the reason the log exists); anything else is a
    bug and propagates.
    """
    actor, recipient, database_up = _who(request)
    audited = False
    if database_up:
        try:
            with (
                transaction.atomic()
            ):  # a failed write rolls back its savepoint, not the caller's work
                audit_event_record(
                    action=AuditAction.API_REFUSED,
                    actor=actor,
                    outcome=ReleaseEffect.DENY,
                    recipient=recipient,
                    detail={"path": request.path, "method": request.method},
                    error_code=code,
                )
            audited = True
        except DatabaseError:
            audited = False
    line = {
        "event": "api_refused",
        "code": str(code),
        "request_id": request_id_get(),
        "path": request.path,  # the path only: a query string is the caller's text
        "method": request.method,
        "cause": cause,
        "audited": audited,
    }
    logger.log(logging.WARNING if audited else logging.ERROR, json.dumps(line, sort_keys=True))
    return audited


def _who(request: Request) -> tuple[str, Mapping[str, Any] | None, bool]:
    """The actor and recipient to audit, and whether the database answered while finding them.

    Asking who the user is may need the database (authentication, the recipient account); when that
    fails there is no point trying to write the audit entry as well.
    """
    try:
        user = request.user
        if user is None or not user.is_authenticated:
            return "anonymous", None, True
        try:
            account = user.recipient_account
        except ObjectDoesNotExist:
            return user.get_username(), None, True
        return user.get_username(), account.as_recipient(), True
    except DatabaseError:
        return "anonymous", None, False
