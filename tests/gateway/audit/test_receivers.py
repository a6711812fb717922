"""Sign-ins, failed sign-ins and sign-outs are audited; a failed one keeps no username in clear."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from gateway.audit.models import AuditEntry
from gateway.audit.services import subject_ref
from gateway.recipients.roles import Role
from gateway.recipients.services import user_create_with_role

pytestmark = pytest.mark.django_db


def test_web_sign_in_out_and_a_failure_are_each_one_entry() -> None:
    # A staff account with no authenticator yet: its first sign-in is the password (then enrolment).
    user_create_with_role(username="clerk.jones", password="a-long-password-1", role=Role.CLERK)
    client = Client()
    client.post("/login/", {"username": "clerk.jones", "password": "a-long-password-1"})
    client.post("/logout/")
    client.post("/login/", {"username": "hunter2-typed-in-the-wrong-box", "password": "nope"})
    entries = list(AuditEntry.objects.order_by("id"))
    assert [(e.action, e.effect, e.actor) for e in entries] == [
        ("sign_in", "permit", "clerk.jones"),
        ("sign_out", "permit", "clerk.jones"),
        ("sign_in_failed", "deny", "anonymous"),
    ]
    failed = entries[-1]
    assert failed.subject_refs == [
        subject_ref(kind="username", value="hunter2-typed-in-the-wrong-box")
    ]
    stored = str(AuditEntry.objects.filter(pk=failed.pk).values().get())
    assert "hunter2" not in stored
    assert failed.request_id.startswith("req_")


def test_wrong_api_credentials_are_a_failed_sign_in() -> None:
    token = base64.b64encode(b"vendor.api:wrong").decode()
    Client().post("/api/releases/", {}, HTTP_AUTHORIZATION=f"Basic {token}")
    entry = AuditEntry.objects.get(action="sign_in_failed")
    assert entry.obligations == {"channel": "api"}
