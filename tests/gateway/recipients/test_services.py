"""Demo and staff accounts."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User

from gateway.models import RecipientAccount
from gateway.recipients.roles import Role
from gateway.recipients.services import demo_accounts_create, user_create_with_role

pytestmark = pytest.mark.django_db


def test_role_groups_exist_after_migrations() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {str(role) for role in Role}


def test_demo_accounts_get_fresh_passwords_each_run() -> None:
    first = {a.username: a.password for a in demo_accounts_create()}
    second = {a.username: a.password for a in demo_accounts_create()}
    assert set(first) == {"clerk", "compliance", "vendor", "examiner"}
    assert all(first[name] != second[name] for name in first)
    for name, password in second.items():
        user = authenticate(username=name, password=password)
        assert user is not None
        assert list(user.groups.values_list("name", flat=True)) == [name]
    assert authenticate(username="clerk", password=first["clerk"]) is None


def test_user_holds_exactly_one_role() -> None:
    user = user_create_with_role(username="bob", password="another-long-password", role=Role.VENDOR)
    user = user_create_with_role(username="bob", password="another-long-password", role=Role.CLERK)
    assert list(user.groups.values_list("name", flat=True)) == ["clerk"]
    assert user.is_staff


def test_demo_vendor_is_registered_as_a_vendor_recipient() -> None:
    demo_accounts_create()
    demo_accounts_create()
    vendor = User.objects.get(username="vendor")
    assert RecipientAccount.objects.get(user=vendor).recipient_type == "vendor"
    assert not hasattr(User.objects.get(username="clerk"), "recipient_account")
