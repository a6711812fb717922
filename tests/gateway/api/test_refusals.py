"""A part the API depends on is down: the answer is a 503 with a stable code, and the refusal is counted."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, IntegrityError, OperationalError, connection
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


# --- The database read-only or down: 503 database_unavailable; audited when the database can take it.


def _raise(exc: Exception) -> Any:
    def raiser(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return raiser


def _assert_database_refusal(response: Any) -> None:
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "database_unavailable"
    assert body["request_id"] == response["X-Request-ID"]
    assert "nothing was released" in body["message"]


def test_a_database_error_in_the_release_path_is_an_audited_503(
    monkeypatch: pytest.MonkeyPatch, vendor: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A read that failed (the database recovered by the time the refusal is written)."""
    from gateway.api import views

    monkeypatch.setattr(views, "release_records", _raise(OperationalError("database is locked")))
    with caplog.at_level(logging.WARNING, logger="gateway.refusals"):
        response = vendor.post("/api/releases/", BODY, format="json")
    _assert_database_refusal(response)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.effect, entry.error_code, entry.actor) == (
        "api_refused",
        "deny",
        "database_unavailable",
        "vendor-user",
    )
    assert entry.request_id == response["X-Request-ID"]
    [line] = _refusal_lines(caplog)
    assert (line["audited"], line["cause"]) == (True, "OperationalError")


def test_a_database_that_cannot_take_the_refusal_gets_a_log_line(
    monkeypatch: pytest.MonkeyPatch, vendor: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    from gateway.api import refusals, views

    monkeypatch.setattr(views, "release_records", _raise(DatabaseError("server closed")))
    monkeypatch.setattr(refusals, "audit_event_record", _raise(OperationalError("down")))
    with caplog.at_level(logging.WARNING, logger="gateway.refusals"):
        response = vendor.post("/api/releases/", BODY, format="json")
    _assert_database_refusal(response)
    assert not AuditEntry.objects.exists()
    [line] = _refusal_lines(caplog)
    assert line == {
        "event": "api_refused",
        "code": "database_unavailable",
        "request_id": response["X-Request-ID"],
        "path": "/api/releases/",
        "method": "POST",
        "cause": "DatabaseError",
        "audited": False,
    }
    [record] = [r for r in caplog.records if r.name == "gateway.refusals"]
    assert record.levelno == logging.ERROR


def test_the_database_down_during_authentication_is_a_503_not_a_500(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Basic authentication reads the user table first; nothing else is tried once it fails."""
    from django.contrib.auth.backends import ModelBackend

    from gateway.api import refusals

    monkeypatch.setattr(ModelBackend, "authenticate", _raise(OperationalError("no connection")))
    written: list[Any] = []
    monkeypatch.setattr(refusals, "audit_event_record", lambda **kw: written.append(kw))
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"someone:pw").decode())
    with caplog.at_level(logging.WARNING, logger="gateway.refusals"):
        response = client.post("/api/releases/", BODY, format="json")
    _assert_database_refusal(response)
    assert written == []
    [line] = _refusal_lines(caplog)
    assert line["audited"] is False


def test_a_read_only_sqlite_database_is_a_503(
    vendor: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The real thing on SQLite: writes refused by the database itself (PRAGMA query_only)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only; PostgreSQL has its own test below")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA query_only = ON")
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.refusals"):
            response = vendor.post("/api/releases/", BODY, format="json")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = OFF")
    _assert_database_refusal(response)
    assert not AuditEntry.objects.exists()
    [line] = _refusal_lines(caplog)
    assert (line["audited"], line["cause"]) == (False, "OperationalError")


def test_a_query_bug_stays_a_500(monkeypatch: pytest.MonkeyPatch, vendor: APIClient) -> None:
    from gateway.api import views

    monkeypatch.setattr(views, "release_records", _raise(IntegrityError("duplicate key")))
    response = vendor.post("/api/releases/", BODY, format="json")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert not AuditEntry.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_read_only_postgres_database_is_a_503(caplog: pytest.LogCaptureFixture) -> None:
    user = User.objects.create_user(username="vendor-user", password="x" * 16)
    RecipientAccount.objects.create(user=user, recipient_type="vendor", name="Biometrica")
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.refusals"):
            response = client.post("/api/releases/", BODY, format="json")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")
    _assert_database_refusal(response)
    assert not AuditEntry.objects.exists()
    [line] = _refusal_lines(caplog)
    assert (line["audited"], line["cause"]) == (False, "InternalError")
