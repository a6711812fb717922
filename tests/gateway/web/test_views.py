"""The login page, the signed-in home page and the health check."""

from __future__ import annotations

import pytest
from django.test import Client

from gateway.recipients.roles import Role
from gateway.recipients.services import user_create_with_role

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


def test_signed_in_clerk_sees_their_role(client: Client) -> None:
    user_create_with_role(username="alice", password="a-long-test-password", role=Role.CLERK)
    assert client.login(username="alice", password="a-long-test-password")
    response = client.get("/")
    assert response.status_code == 200
    assert b"<strong>clerk</strong>" in response.content


def test_health_answers_json_without_records(client: Client) -> None:
    """What each part reports is tested in test_health.py."""
    response = client.get("/health/")
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"status", "checks"}
