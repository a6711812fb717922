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
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
    transaction,
)
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from gateway.api.codes import ApiErrorCode
from gateway.audit.context import request_id_get
from gateway.audit.models import AuditAction, ReleaseEffect
from gateway.audit.services import audit_event_record

__all__ = [
    "DatabaseUnavailableError",
    "RateLimitUnavailableError",
    "ServiceUnavailableError",
    "refusal_for",
    "refusal_record",
]

logger = logging.getLogger(__name__)
refusals_log = logging.getLogger("gateway.refusals")  # one JSON line per refusal, nothing else


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


class DatabaseUnavailableError(ServiceUnavailableError):
    default_detail = (
        "The database is unavailable or read-only, so nothing was released; try again later."
    )
    default_code = ApiErrorCode.DATABASE_UNAVAILABLE


# Database errors that are bugs in a query rather than a database that cannot serve: these stay a 500.
_QUERY_BUGS = (IntegrityError, DataError, ProgrammingError, NotSupportedError)


def refusal_for(exc: Exception) -> Exception:
    """The refusal a database error means (down, unreachable, read-only), else ``exc`` unchanged.

    PostgreSQL reports a read-only database as InternalError, SQLite as OperationalError, a lost
    connection as OperationalError or InterfaceError: all of them are a 503 ``database_unavailable``.
    """
    if isinstance(exc, DatabaseError) and not isinstance(exc, _QUERY_BUGS):
        refusal = DatabaseUnavailableError()
        refusal.__cause__ = exc
        return refusal
    return exc


def refusal_record(*, request: Request, refusal: ServiceUnavailableError) -> bool:
    """Audit one refusal (falling back to the ``gateway.refusals`` log); return whether it was audited.

    The caller still answers 503 whatever happens here: recording a refusal never turns it into a
    500. Only database errors are absorbed (they are the reason the log exists); anything else is a
    bug and propagates.
    """
    code = str(refusal.get_codes())
    cause = refusal.__cause__
    if cause is not None:
        # The refusal line says what was refused; this says why, with the traceback, for operators.
        logger.warning("%s: %s", code, type(cause).__name__, exc_info=cause)
    actor, recipient, database_up = _who(request)
    audited = database_up and _audited(request=request, code=code, actor=actor, recipient=recipient)
    line = {
        "event": "api_refused",
        "code": code,
        "request_id": request_id_get(),
        "path": request.path,  # the path only: a query string is the caller's text
        "method": request.method,
        "cause": type(cause).__name__ if cause is not None else "",
        "audited": audited,
    }
    level = logging.WARNING if audited else logging.ERROR
    refusals_log.log(level, json.dumps(line, sort_keys=True))
    return audited


def _audited(
    *, request: Request, code: str, actor: str, recipient: Mapping[str, Any] | None
) -> bool:
    """Write the api_refused entry; False when the database cannot take it."""
    try:
        # A savepoint: a failed write rolls back only itself, never work of the caller's.
        with transaction.atomic():
            audit_event_record(
                action=AuditAction.API_REFUSED,
                actor=actor,
                outcome=ReleaseEffect.DENY,
                recipient=recipient,
                detail={"path": request.path, "method": request.method},
                error_code=code,
            )
    except DatabaseError:
        return False
    return True


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
