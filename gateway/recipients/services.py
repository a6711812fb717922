"""Staff and recipient accounts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction

from gateway.models import RecipientAccount, RecipientType
from gateway.recipients.roles import Role

__all__ = ["DemoAccount", "demo_accounts_create", "user_create_with_role"]

DEMO_USERS: tuple[tuple[str, Role, str], ...] = (
    ("clerk", Role.CLERK, "Records clerk (demo)"),
    ("compliance", Role.COMPLIANCE, "Compliance officer (demo)"),
    ("vendor", Role.VENDOR, "Vendor recipient (demo)"),
    ("examiner", Role.EXAMINER, "Trained face examiner (demo)"),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role


@transaction.atomic
def user_create_with_role(*, username: str, password: str, role: Role, full_name: str = "") -> User:
    """Create or update a user holding exactly one role; the password is always reset to the one given."""
    user, _ = User.objects.get_or_create(username=username)
    first, _, last = full_name.partition(" ")
    user.first_name, user.last_name = first, last
    user.set_password(password)
    user.is_staff = role in (Role.CLERK, Role.COMPLIANCE)
    user.full_clean()
    user.save()
    user.groups.set([Group.objects.get_or_create(name=str(role))[0]])
    return user


def demo_accounts_create() -> list[DemoAccount]:
    """Create the demo accounts with fresh random passwords, so no demo password is ever shared or guessable.

    Running it again resets the passwords; the caller prints them once.
    """
    accounts = []
    for username, role, full_name in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        user = user_create_with_role(
            username=username, password=password, role=role, full_name=full_name
        )
        if role == Role.VENDOR:
            # The demo vendor may call the release API; its agreement is a draft, so it is denied until
            # the county activates one (GOV-01).
            RecipientAccount.objects.update_or_create(
                user=user,
                defaults={"recipient_type": RecipientType.VENDOR, "name": "Demo vendor (SAMPLE)"},
            )
        accounts.append(DemoAccount(username=username, password=password, role=role))
    return accounts
