"""A part the API depends on is down: the answer is a 503 with a stable code, and the refusal is counted."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from gateway.api.throttling import FailClosedScopedRateThrottle
from gateway.models import AuditEntry, RecipientAccount

pytestmark = pytest.mark.django_db
BODY: dict[str, Any] = {"on_behalf_of": None, "purpose": "x", "booking_numbers": ["B1"]}
CLOSED_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
    }
}


@pytest.fixture
def vendor() -> APIClient:
    user = User.objects.create_user(username="vendor-user", password="x" * 16)
    RecipientAccount.objects.create(user=user, recipient_type="vendor", name="Biometrica")
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


@pytest.fixture
def never_released(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fails the test if the release path is reached; returns the calls (always empty)."""
    from gateway.api import views

    calls: list[Any] = []

    def release(**kwargs: Any) -> Any:
        calls.append(kwargs)
        raise AssertionError("the release path was reached")

    monkeypatch.setattr(views, "release_records", release)
    return calls


def _refusal_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "gateway.refusals"]


def test_redis_down_is_a_503_audited_refusal_never_unthrottled_service(
    settings, vendor: APIClient, never_released: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHES = CLOSED_REDIS
    with caplog.at_level(logging.WARNING, logger="gateway.refusals"):
        response = vendor.post("/api/releases/", BODY, format="json")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "rate_limit_unavailable"
    assert body["request_id"] == response["X-Request-ID"]
    assert never_released == []
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.effect, entry.error_code) == (
        "api_refused",
        "deny",
        "rate_limit_unavailable",
    )
    assert (entry.actor, entry.recipient_type, entry.recipient_name) == (
        "vendor-user",
        "vendor",
        "Biometrica",
    )
    assert entry.request_id == response["X-Request-ID"]
    [line] = _refusal_lines(caplog)
    assert line["audited"] is True
    assert line["cause"] == "ConnectionError"


def test_a_cache_that_raises_os_errors_also_refuses(
    monkeypatch: pytest.MonkeyPatch, vendor: APIClient, never_released: list[Any]
) -> None:
    class BrokenCache:
        def get(self, *args: Any, **kwargs: Any) -> Any:
            raise TimeoutError("cache timed out")

    monkeypatch.setattr(FailClosedScopedRateThrottle, "cache", BrokenCache())
    response = vendor.post("/api/releases/", BODY, format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "rate_limit_unavailable"
    assert AuditEntry.objects.get().error_code == "rate_limit_unavailable"


def test_the_fail_closed_throttle_still_throttles(
    monkeypatch: pytest.MonkeyPatch, vendor: APIClient
) -> None:
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(FailClosedScopedRateThrottle, "THROTTLE_RATES", {"releases": "1/hour"})
    vendor.post("/api/releases/", {}, format="json")  # a 400, but it counts
    response = vendor.post("/api/releases/", {}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    cache.clear()
