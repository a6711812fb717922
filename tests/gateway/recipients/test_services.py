"""Demo and staff accounts: every role, a recipient of each kind, and the accounts file (issue 9)."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from django.test import Client

from gateway.models import RecipientAccount
from gateway.recipients.roles import STAFF_ROLES, Role
from gateway.recipients.selectors import staff_role_current
from gateway.recipients.services import (
    demo_accounts_create,
    demo_accounts_write,
    user_create_with_role,
)
from tests.gateway.web.staff import totp_code

pytestmark = pytest.mark.django_db

STAFF_COUNTS = {"administrator": 1, "clerk": 2, "compliance": 3, "examiner": 2, "auditor": 1}
RECIPIENT_TYPES = {"vendor", "local_le", "federal_le", "court", "defense", "federal_immigration"}
BASE32 = re.compile(r"^[A-Z2-7]{16,}$")


def test_role_groups_exist_after_migrations() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {str(role) for role in Role}


def test_demo_accounts_get_fresh_passwords_each_run() -> None:
    first = {a.username: a for a in demo_accounts_create()}
    second = {a.username: a for a in demo_accounts_create()}
    with_password = [name for name in first if first[name].password]
    assert all(first[name].password != second[name].password for name in with_password)
    assert all(
        first[name].totp_secret != second[name].totp_secret
        for name in first
        if first[name].totp_secret
    )
    for name in with_password:
        user = authenticate(username=name, password=second[name].password)
        assert user is not None
        assert list(user.groups.values_list("name", flat=True)) == [str(second[name].role)]
    assert authenticate(username="clerk", password=first["clerk"].password) is None


def test_the_demo_has_every_role_current_and_a_recipient_of_each_kind() -> None:
    accounts = demo_accounts_create()
    staff = [a for a in accounts if a.recipient is None]
    counts: dict[str, int] = {}
    for account in staff:
        counts[str(account.role)] = counts.get(str(account.role), 0) + 1
        user = User.objects.get(username=account.username)
        assert staff_role_current(user=user, role=account.role)
        assert not hasattr(user, "recipient_account")
    assert counts == STAFF_COUNTS
    recipients = {a.recipient["type"]: a.recipient for a in accounts if a.recipient is not None}
    usernames = {a.recipient["type"]: a.username for a in accounts if a.recipient is not None}
    assert set(recipients) == RECIPIENT_TYPES
    for kind, recipient in recipients.items():
        row = RecipientAccount.objects.get(user__username=usernames[kind])
        assert (row.recipient_type, row.name) == (kind, recipient["name"])
        assert not row.user.groups.filter(name__in=[str(r) for r in STAFF_ROLES]).exists()


def test_the_immigration_agency_gets_no_api_access() -> None:
    """IM-06: no direct access for DHS; clerks enter its paper requests."""
    immigration = next(
        a
        for a in demo_accounts_create()
        if a.recipient and a.recipient["type"] == "federal_immigration"
    )
    assert immigration.password is None
    assert immigration.recipient is not None
    assert immigration.recipient["api_access"] is False
    user = User.objects.get(username=immigration.username)
    assert not user.has_usable_password()
    answer = Client().get("/api/releases/", HTTP_AUTHORIZATION="Basic aW1taWdyYXRpb246")
    assert answer.status_code == 401


def test_the_accounts_file_has_the_promised_shape_and_only_the_owner_reads_it(
    tmp_path: Path,
) -> None:
    path = demo_accounts_write(accounts=demo_accounts_create(), path=tmp_path / "a.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    entries = json.loads(path.read_text())
    assert isinstance(entries, list)
    for entry in entries:
        assert {"username", "password", "roles"} <= set(entry)
        assert isinstance(entry["roles"], list)
        if "recipient" in entry:
            assert {"type", "name"} <= set(entry["recipient"])
            assert "totp_secret" not in entry
        else:
            assert BASE32.match(entry["totp_secret"])
            assert set(entry["roles"]) <= {str(r) for r in STAFF_ROLES}


def test_a_demo_staff_account_signs_in_from_the_file_alone(tmp_path: Path) -> None:
    path = demo_accounts_write(accounts=demo_accounts_create(), path=tmp_path / "a.json")
    clerk = next(e for e in json.loads(path.read_text()) if e["username"] == "clerk")
    client = Client()
    response = client.post(
        "/login/",
        {
            "username": clerk["username"],
            "password": clerk["password"],
            "otp_token": totp_code(clerk["totp_secret"]),
        },
    )
    assert response["Location"] == "/"
    assert b"Request queue" in client.get("/").content


def test_user_holds_exactly_one_role() -> None:
    user = user_create_with_role(username="bob", password="another-long-password", role=Role.VENDOR)
    user = user_create_with_role(username="bob", password="another-long-password", role=Role.CLERK)
    assert list(user.groups.values_list("name", flat=True)) == ["clerk"]
    assert not user.is_staff  # Django "staff" (the admin site) is for administrators only
    admin = user_create_with_role(
        username="root", password="another-long-password", role=Role.ADMINISTRATOR
    )
    assert admin.is_staff
    assert not admin.is_superuser
    assert admin.has_perm("gateway.add_staffqualification")
    assert not admin.has_perm("gateway.view_booking")


def test_demo_vendor_is_registered_as_a_vendor_recipient() -> None:
    demo_accounts_create()
    demo_accounts_create()
    vendor = User.objects.get(username="vendor")
    assert RecipientAccount.objects.get(user=vendor).recipient_type == "vendor"
    assert not hasattr(User.objects.get(username="clerk"), "recipient_account")
