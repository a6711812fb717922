"""Staff and recipient accounts: roles, qualification records (CJ-06), second factors (CJ-04), the demo set."""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from gateway.audit.models import AuditAction, ReleaseEffect
from gateway.audit.services import audit_event_record
from gateway.models import RecipientAccount, RecipientType
from gateway.recipients.models import QualificationKind, StaffQualification
from gateway.recipients.roles import Role

__all__ = [
    "RECOVERY_CODE_COUNT",
    "DemoAccount",
    "demo_accounts_create",
    "demo_accounts_write",
    "recovery_codes_issue",
    "second_factor_verify",
    "staff_qualification_record",
    "staff_role_qualify",
    "totp_device_confirm",
    "totp_device_create",
    "totp_key_new",
    "totp_secret_base32",
    "user_create_with_role",
]

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"
# What an administrator manages in the admin: accounts, roles, second factors, qualifications, recipients.
ADMINISTRATOR_MODELS = (
    ("auth", "user"),
    ("auth", "group"),
    ("otp_totp", "totpdevice"),
    ("otp_static", "staticdevice"),
    ("otp_static", "statictoken"),
    ("gateway", "staffqualification"),
    ("gateway", "recipientaccount"),
)


@transaction.atomic
def user_create_with_role(*, username: str, password: str, role: Role, full_name: str = "") -> User:
    """Create or update a user holding exactly one role; the password is always reset to the one given.

    Only administrators are Django "staff" (the admin site); the other staff roles work in the staff
    pages, and recipients in the API.
    """
    user, _ = User.objects.get_or_create(username=username)
    first, _, last = full_name.partition(" ")
    user.first_name, user.last_name = first, last
    user.set_password(password)
    user.is_staff = role is Role.ADMINISTRATOR
    user.full_clean()
    user.save()
    group = Group.objects.get_or_create(name=str(role))[0]
    if role is Role.ADMINISTRATOR:
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label__in={app for app, _ in ADMINISTRATOR_MODELS}
            ).filter(content_type__model__in={model for _, model in ADMINISTRATOR_MODELS})
        )
    user.groups.set([group])
    return user


def staff_qualification_record(
    *,
    user: User,
    kind: QualificationKind,
    completed_on: date,
    valid_until: date,
    role: Role | None = None,
    description: str = "",
    recorded_by: str = "",
) -> StaffQualification:
    """Record a training course (for one role) or a background check (for one role, or all when None)."""
    record = StaffQualification(
        user=user,
        kind=kind,
        role=str(role) if role is not None else "",
        completed_on=completed_on,
        valid_until=valid_until,
        description=description,
        recorded_by=recorded_by,
    )
    record.full_clean()
    record.save()
    return record


def staff_role_qualify(
    *, user: User, role: Role, days: int = 365, recorded_by: str = ""
) -> list[StaffQualification]:
    """A training record for ``role`` and a background check, both valid from today for ``days``.

    The demo and tests use it; a county records real courses and checks one by one in the admin.
    """
    today = timezone.localdate()
    until = today + timedelta(days=days)
    return [
        staff_qualification_record(
            user=user,
            kind=QualificationKind.TRAINING,
            role=role,
            completed_on=today,
            valid_until=until,
            description=f"{role} training",
            recorded_by=recorded_by,
        ),
        staff_qualification_record(
            user=user,
            kind=QualificationKind.BACKGROUND_CHECK,
            completed_on=today,
            valid_until=until,
            description="fingerprint-based background check",
            recorded_by=recorded_by,
        ),
    ]


def totp_key_new() -> str:
    """A new TOTP key as hex, the form ``TOTPDevice.key`` stores (20 random bytes, RFC 4226's length)."""
    return secrets.token_hex(20)


def totp_secret_base32(*, key_hex: str) -> str:
    """The key as authenticator apps and the demo file take it: base32, no padding."""
    return base64.b32encode(bytes.fromhex(key_hex)).decode().rstrip("=")


@transaction.atomic
def totp_device_create(*, user: User, key_hex: str | None = None) -> TOTPDevice:
    """Replace the user's authenticator with one for ``key_hex`` (a new key when None), confirmed."""
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(
        user=user, name=TOTP_DEVICE_NAME, key=key_hex or totp_key_new(), confirmed=True
    )


def totp_device_confirm(*, user: User, key_hex: str, token: str) -> TOTPDevice | None:
    """Enrol the key shown on the enrolment page once the user proves it with a code from their app.

    Returns None (and stores nothing) for a wrong code, so a typo never leaves a half-enrolled device.
    Only a user with no confirmed authenticator may enrol: replacing one takes an administrator.
    """
    token = "".join(token.split())
    if not token.isdigit():
        return None
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if TOTPDevice.objects.filter(user=locked, confirmed=True).exists():
            return None
        device = TOTPDevice(user=locked, name=TOTP_DEVICE_NAME, key=key_hex, confirmed=False)
        if not _totp_matches(device=device, token=int(token)):
            return None
        device.confirmed = True
        device.save()
    audit_event_record(
        action=AuditAction.MFA_ENROLLED,
        actor=user.get_username(),
        outcome=ReleaseEffect.PERMIT,
        detail={"device": "totp"},
    )
    return device


def _totp_matches(*, device: TOTPDevice, token: int) -> bool:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return bool(totp.verify(token, tolerance=device.tolerance))


@transaction.atomic
def recovery_codes_issue(*, user: User) -> list[str]:
    """Ten new one-time recovery codes; the old ones stop working. Shown once, stored only as tokens."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    audit_event_record(
        action=AuditAction.MFA_ENROLLED,
        actor=user.get_username(),
        outcome=ReleaseEffect.PERMIT,
        detail={"device": "recovery_codes", "count": len(codes)},
    )
    return codes


def second_factor_verify(*, user: User, token: str) -> Device | None:
    """The device that accepts ``token``: the authenticator first, then a recovery code (used up).

    Each device throttles itself after a wrong code, and a TOTP code is accepted once only.
    """
    token = "".join(token.split())
    if not token:
        return None
    with transaction.atomic():
        devices = sorted(
            devices_for_user(user, confirmed=True, for_verify=True),
            key=lambda device: not isinstance(device, TOTPDevice),
        )
        for device in devices:
            if device.verify_token(token):
                return device
    return None


# --- the demo ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoStaff:
    username: str
    role: Role
    full_name: str


@dataclass(frozen=True)
class DemoRecipient:
    username: str
    recipient_type: RecipientType
    name: str
    api_access: bool = (
        True  # IM-06: the immigration agency gets none; clerks enter its paper requests
    )


DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("admin", Role.ADMINISTRATOR, "Avery Administrator"),
    DemoStaff("clerk", Role.CLERK, "Casey Clerk"),
    DemoStaff("clerk2", Role.CLERK, "Corey Clerk"),
    DemoStaff("compliance", Role.COMPLIANCE, "Morgan Compliance"),
    DemoStaff("compliance2", Role.COMPLIANCE, "Jordan Compliance"),
    DemoStaff("compliance3", Role.COMPLIANCE, "Riley Compliance"),
    DemoStaff("examiner", Role.EXAMINER, "Emerson Examiner"),
    DemoStaff("examiner2", Role.EXAMINER, "Elliot Examiner"),
    DemoStaff("auditor", Role.AUDITOR, "Alex Auditor"),
)
DEMO_RECIPIENTS: tuple[DemoRecipient, ...] = (
    DemoRecipient("vendor", RecipientType.VENDOR, "Demo vendor (SAMPLE)"),
    DemoRecipient("police", RecipientType.LOCAL_LE, "Demo City Police Department (SAMPLE)"),
    DemoRecipient("federal", RecipientType.FEDERAL_LE, "Demo federal agency (SAMPLE)"),
    DemoRecipient("court", RecipientType.COURT, "Demo County Circuit Court (SAMPLE)"),
    DemoRecipient("defender", RecipientType.DEFENSE, "Demo public defender office (SAMPLE)"),
    DemoRecipient(
        "immigration",
        RecipientType.FEDERAL_IMMIGRATION,
        "Demo immigration agency (SAMPLE)",
        api_access=False,
    ),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str | None  # None: the account has no usable password (no API access, IM-06)
    roles: tuple[Role, ...]
    totp_secret: str | None = None  # base32, staff only
    recovery_codes: tuple[str, ...] = ()
    recipient: dict[str, Any] | None = None
    full_name: str = ""

    @property
    def role(self) -> Role:
        return self.roles[0]

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "username": self.username,
            "password": self.password,
            "roles": [str(role) for role in self.roles],
        }
        if self.totp_secret is not None:
            entry["totp_secret"] = self.totp_secret
            entry["recovery_codes"] = list(self.recovery_codes)
            entry["full_name"] = self.full_name
        if self.recipient is not None:
            entry["recipient"] = self.recipient
        return entry


def demo_accounts_create() -> list[DemoAccount]:
    """Create the demo accounts with fresh random passwords and TOTP keys, so none is shared or guessable.

    Every staff account gets an authenticator, recovery codes and current qualification records, so each
    role works from the first sign-in. Running it again resets all of them; the caller writes them once.
    """
    accounts = [_demo_staff_create(spec) for spec in DEMO_STAFF]
    accounts += [_demo_recipient_create(spec) for spec in DEMO_RECIPIENTS]
    return accounts


@transaction.atomic
def _demo_staff_create(spec: DemoStaff) -> DemoAccount:
    password = secrets.token_urlsafe(12)
    user = user_create_with_role(
        username=spec.username, password=password, role=spec.role, full_name=spec.full_name
    )
    RecipientAccount.objects.filter(user=user).delete()
    StaffQualification.objects.filter(user=user).delete()
    staff_role_qualify(user=user, role=spec.role, recorded_by="demo_setup")
    device = totp_device_create(user=user)
    codes = recovery_codes_issue(user=user)
    return DemoAccount(
        username=spec.username,
        password=password,
        roles=(spec.role,),
        totp_secret=totp_secret_base32(key_hex=device.key),
        recovery_codes=tuple(codes),
        full_name=spec.full_name,
    )


@transaction.atomic
def _demo_recipient_create(spec: DemoRecipient) -> DemoAccount:
    role = Role.VENDOR if spec.recipient_type is RecipientType.VENDOR else Role.AGENCY
    password: str | None = secrets.token_urlsafe(12)
    user = user_create_with_role(
        username=spec.username, password=str(password), role=role, full_name=""
    )
    if not spec.api_access:
        user.set_unusable_password()  # IM-06: no direct access; its paper requests are entered by clerks
        user.save(update_fields=["password"])
        password = None
    # The demo vendor may call the release API; whether it gets anything is the policy's (GOV-01).
    RecipientAccount.objects.update_or_create(
        user=user, defaults={"recipient_type": spec.recipient_type, "name": spec.name}
    )
    return DemoAccount(
        username=spec.username,
        password=password,
        roles=(role,),
        recipient={
            "type": str(spec.recipient_type),
            "name": spec.name,
            "api_access": spec.api_access,
        },
    )


def demo_accounts_write(*, accounts: list[DemoAccount], path: Path) -> Path:
    """Write the accounts as a JSON list a script or browser test can sign in from; readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps([account.as_json() for account in accounts], indent=2) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(data)
    os.chmod(path, 0o600)
    return path
