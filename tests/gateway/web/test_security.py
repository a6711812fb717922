"""Lockout on the login page and on API passwords (django-axes, CJ-04), the CSP, sessions, local assets."""

from __future__ import annotations

import base64

import pytest
from django.conf import settings
from django.test import Client

from gateway.audit.models import AuditEntry
from gateway.audit.services import subject_ref
from gateway.models import RecipientAccount
from gateway.recipients.roles import Role
from gateway.recipients.services import user_create_with_role
from tests.gateway.web.staff import PASSWORD, staff_create, totp_code

pytestmark = pytest.mark.django_db


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_the_login_page_locks_after_the_failure_limit_even_for_the_right_password() -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/login/", {"username": staff.username, "password": "wrong"})
        assert response.status_code == 200
    locked = client.post("/login/", {"username": staff.username, "password": "wrong"})
    assert locked.status_code == 429
    assert b"Sign-in locked" in locked.content
    right = client.post(
        "/login/",
        {"username": staff.username, "password": PASSWORD, "otp_token": totp_code(staff.secret)},
    )
    assert right.status_code == 429
    assert not client.get("/").wsgi_request.user.is_authenticated
    assert AuditEntry.objects.filter(
        action="account_locked", subject_refs=[subject_ref(kind="username", value=staff.username)]
    ).exists()
    # Keyed on username and IP together: the same account from another address still signs in.
    assert staff.sign_in(Client(REMOTE_ADDR="198.51.100.9")).status_code == 302


def test_wrong_codes_count_towards_the_lockout() -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    client = Client(REMOTE_ADDR="203.0.113.8")
    statuses = [
        staff.sign_in(client, code="999999x").status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[-1] == 429
    assert set(statuses[:-1]) == {200}


def test_api_passwords_lock_with_a_json_error_and_a_stable_code() -> None:
    user = user_create_with_role(username="vendor.api", password=PASSWORD, role=Role.VENDOR)
    RecipientAccount.objects.create(user=user, recipient_type="vendor", name="Vendor")
    client = Client(REMOTE_ADDR="203.0.113.9")
    answers = [
        client.post("/api/releases/", {}, HTTP_AUTHORIZATION=_basic("vendor.api", "wrong"))
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert [a.status_code for a in answers[:-1]] == [401] * (settings.AXES_FAILURE_LIMIT - 1)
    last = answers[-1]
    assert last.status_code == 429
    assert last["Content-Type"] == "application/json"
    body = last.json()
    assert body["code"] == "account_locked"
    assert set(body) == {"code", "message", "extra", "request_id"}
    assert body["request_id"] == last["X-Request-ID"]
    right = client.post(
        "/api/releases/",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=_basic("vendor.api", PASSWORD),
    )
    assert right.status_code == 429
    assert right.json()["code"] == "account_locked"
    other_ip = Client(REMOTE_ADDR="198.51.100.10").get(
        "/api/releases/", HTTP_AUTHORIZATION=_basic("vendor.api", PASSWORD)
    )
    assert other_ip.status_code != 429


@pytest.mark.parametrize("path", ["/login/", "/account/two-factor/", "/"])
def test_every_page_has_a_strict_content_security_policy(client: Client, path: str) -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    if path == "/":
        staff.sign_in(client)
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_pages_have_no_inline_script_or_style_and_load_assets_from_here(client: Client) -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    pages = [client.get("/login/").content.decode()]
    staff.sign_in(client)
    pages += [client.get(p).content.decode() for p in ("/", "/account/")]
    for html in pages:
        assert "<style" not in html
        assert "style=" not in html
        assert "<script" not in html  # no JS at all today; any later one comes from /static/
        assert "//" not in html.replace("http://www.w3.org/", "").split("<body", 1)[0].replace(
            "<!doctype", ""
        )
    assert '<link rel="stylesheet" href="/static/css/custodian.css">' in pages[0]


def test_the_stylesheet_is_served_by_the_gateway(client: Client) -> None:
    response = client.get("/static/css/custodian.css")
    assert response.status_code == 200
    assert b":focus-visible" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_sessions_end_after_thirty_idle_minutes() -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_COOKIE_HTTPONLY
    assert (
        "gateway.api.authentication.LockoutAwareBasicAuthentication"
        in settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    )
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_the_login_form_still_needs_its_csrf_token() -> None:
    staff = staff_create("clerk.one", Role.CLERK)
    client = Client(enforce_csrf_checks=True)
    response = staff.sign_in(client)
    assert response.status_code == 403
