"""The login page, the signed-in home page and the health check."""

from __future__ import annotations

import pytest
from django.test import Client

from gateway.recipients.roles import Role
from tests.gateway.web.staff import staff_create

pytestmark = pytest.mark.django_db


def test_login_page_is_served(client: Client) -> None:
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"Sign in" in response.content
    assert b'name="password"' in response.content


def test_home_redirects_anonymous_users_to_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_signed_in_clerk_sees_their_role_and_what_it_can_do(client: Client) -> None:
    staff = staff_create("alice", Role.CLERK)
    assert staff.sign_in(client).status_code == 302
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="role-badge">Records clerk</span>' in html
    assert "Request queue" in html
    assert "Audit log" not in html  # a compliance task: not shown to a clerk
    assert 'href="#main"' in html  # skip link
    assert '<main id="main"' in html


def test_tasks_link_only_to_pages_that_exist(client: Client) -> None:
    staff = staff_create("root", Role.ADMINISTRATOR)
    staff.sign_in(client)
    html = client.get("/").content.decode()
    assert '<a class="task__label" href="/admin/">Staff accounts and roles</a>' in html
    clerk = staff_create("bob", Role.CLERK)
    other = Client()
    clerk.sign_in(other)
    html = other.get("/").content.decode()
    assert '<a class="task__label" href="/desk/requests/">Request queue</a>' in html
    assert '<span class="task__label">Legal documents</span>' in html  # no page yet: plain text


def test_health_answers_json_without_records(client: Client) -> None:
    """What each part reports is tested in test_health.py."""
    response = client.get("/health/")
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"status", "checks"}
