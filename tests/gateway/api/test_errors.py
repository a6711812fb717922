"""Every error under /api/ is JSON in the one shape, and quotes the request id of its X-Request-ID header."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from gateway.models import RecipientAccount

pytestmark = pytest.mark.django_db
SHAPE = {"code", "message", "extra", "request_id"}


def _assert_json_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == SHAPE
    assert body["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    assert body["request_id"].startswith("req_")
    return body


def _recipient_client() -> APIClient:
    user = User.objects.create_user(username="vendor-user", password="x" * 16)
    RecipientAccount.objects.create(user=user, recipient_type="vendor", name="Biometrica")
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_api_paths_answer_a_json_404(settings, debug: bool, method: str) -> None:
    settings.DEBUG = debug  # DEBUG's 404 page lists the URL patterns; it must never be served here
    client = Client(raise_request_exception=False)
    for path in ("/api/", "/api/nope/", "/api/releases", "/api/releases/x/y?z=1"):
        response = getattr(client, method)(path)
        body = _assert_json_error(response, 404, "not_found")
        assert body["extra"] == {}


def test_unknown_paths_outside_the_api_keep_the_html_404(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_schema_route_is_not_swallowed_by_the_catch_all(client: Client) -> None:
    user = User.objects.create_user(username="staff", password="x" * 16)
    client.force_login(user)
    assert client.get("/api/schema/").status_code == 200


def test_wrong_method_is_a_json_405_with_allow() -> None:
    response = _recipient_client().get("/api/releases/")
    _assert_json_error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_an_html_accept_header_still_gets_json() -> None:
    client = _recipient_client()
    browser = client.get("/api/releases/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    _assert_json_error(browser, 405, "method_not_allowed")
    html_only = client.get("/api/releases/", HTTP_ACCEPT="text/html")
    _assert_json_error(html_only, 406, "not_acceptable")


def test_validation_errors_carry_the_request_id() -> None:
    response = _recipient_client().post("/api/releases/", {}, format="json")
    body = _assert_json_error(response, 400, "invalid")
    assert "booking_numbers" in body["extra"]["fields"]


@pytest.mark.parametrize("debug", [False, True])
def test_a_crash_is_a_json_500_that_reveals_nothing(
    settings, monkeypatch: pytest.MonkeyPatch, debug: bool
) -> None:
    """DEBUG's 500 page prints the traceback, local variables and settings: never under /api/."""
    from gateway.api import views

    def crash(**kwargs: Any) -> Any:
        raise RuntimeError("secret detail: Jordan Doe 900-12-3456")

    settings.DEBUG = debug
    monkeypatch.setattr(views, "release_records", crash)
    response = _recipient_client().post(
        "/api/releases/",
        {"on_behalf_of": None, "purpose": "x", "booking_numbers": ["B1"]},
        format="json",
    )
    body = _assert_json_error(response, 500, "server_error")
    assert body["message"] == "Internal Server Error."
    assert b"900-12-3456" not in response.content
    assert b"Traceback" not in response.content
