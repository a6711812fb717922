"""Under /api/ every error answer is JSON in the one shape, whoever produced it.

DRF views answer through ``gateway.api.errors.exception_handler``; this covers the rest: Django's own error
pages (the HTML 404 and 500 pages, the DEBUG pages that print settings, tracebacks and local variables,
which can hold personal data, and the CSRF failure page). Their body is dropped and replaced, never
forwarded; the exception itself has already been logged by Django.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from gateway.api.errors import error_response

__all__ = ["API_PREFIX", "ApiErrorMiddleware"]

API_PREFIX = "/api/"
# Headers that still mean something on the replacement answer (how to authenticate, what is allowed).
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


class ApiErrorMiddleware:
    """Replace any non-JSON error answer under /api/ with the JSON error shape of the same status.

    Sits just inside ``RequestIdMiddleware`` so the replacement carries the request id in its body and
    the X-Request-ID header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path_info.startswith(API_PREFIX):
            return response
        if str(response.get("Content-Type", "")).startswith("application/json"):
            return response
        replacement: HttpResponse = error_response(status=response.status_code)
        for header in _KEPT_HEADERS:
            if response.has_header(header):
                replacement[header] = response[header]
        return replacement
