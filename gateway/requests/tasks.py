"""Celery tasks of the request lifecycle: thin, each calls one service (house style)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="gateway.requests.expire")
def requests_expire_task() -> int:
    """Expire pending requests past REQUEST_PENDING_DAYS (not scheduled yet: beat is another issue)."""
    from gateway.requests.services import requests_expire

    return requests_expire(now=timezone.now())


@shared_task(name="gateway.requests.decide")
def request_decide_task(request_id: str) -> str:
    """The policy's first decision on a request submitted through the API; returns its state."""
    from gateway.requests.services import request_decide

    return str(request_decide(request_id=request_id).state)
