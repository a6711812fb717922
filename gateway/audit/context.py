"""The id of the HTTP request being served, so every audit entry and error answer can quote it.

Set by ``gateway.web.middleware.RequestIdMiddleware``; empty outside a request (commands, tasks).
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["request_id_get", "request_id_set"]

_REQUEST_ID: ContextVar[str] = ContextVar("custodian_request_id", default="")


def request_id_get() -> str:
    return _REQUEST_ID.get()


def request_id_set(value: str) -> None:
    _REQUEST_ID.set(value)
