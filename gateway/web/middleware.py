"""Request ids: every response says which request it answered, and the audit log can be searched by it."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from gateway.audit.context import request_id_set

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware"]

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Gives each request a fresh random id (never the caller's: a client could forge a colleague's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = f"req_{secrets.token_hex(8)}"
        request.request_id = request_id  # type: ignore[attr-defined]
        request_id_set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_set("")
        response[REQUEST_ID_HEADER] = request_id
        return response
