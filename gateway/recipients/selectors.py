"""Reads of the recipient registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from gateway.faces.models import ExaminerTraining
from gateway.recipients.models import QualificationKind, RecipientAccount, StaffQualification
from gateway.recipients.roles import STAFF_ROLES, Role

__all__ = [
    "recipient_registered",
    "staff_role_current",
    "staff_roles_held",
    "user_has_authenticator",
    "user_holds_role",
    "user_is_staff",
]


def user_holds_role(*, user: Any, role: Role) -> bool:
    """Group membership only. A staff role is used through ``staff_role_current``, never this alone."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", False):
        return False
    return bool(user.groups.filter(name=str(role)).exists())


def staff_roles_held(*, user: Any) -> list[Role]:
    """The staff roles whose group ``user`` is in, current or not (the home page says which are not)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    names = set(user.groups.values_list("name", flat=True))
    return [role for role in Role if role in STAFF_ROLES and str(role) in names]


def user_is_staff(*, user: Any) -> bool:
    """Signs in to the staff pages: holds a staff role (or is the county's superuser) and is no recipient.

    Recipient accounts use the API only; a recipient that also held a staff group would speak for two
    sides of one request, so it is not staff.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", False):
        return False
    if RecipientAccount.objects.filter(user_id=user.pk).exists():
        return False
    return bool(getattr(user, "is_superuser", False)) or bool(staff_roles_held(user=user))


def staff_role_current(*, user: Any, role: Role) -> bool:
    """CJ-06: the role works only while a training record for it and a background check cover today.

    Every staff role check goes through here. An examiner's face-comparison course recorded as an
    ``ExaminerTraining`` (the older, examiner-only record) counts as that role's training. Recipient roles
    are never "current" staff roles: recipients are checked through their ``RecipientAccount``.
    """
    if role not in STAFF_ROLES:
        return False
    if not user_holds_role(user=user, role=role):
        return False
    today = timezone.localdate()
    valid = StaffQualification.objects.filter(
        user_id=user.pk, completed_on__lte=today, valid_until__gte=today
    )
    checked = (
        valid.filter(kind=QualificationKind.BACKGROUND_CHECK)
        .filter(Q(role="") | Q(role=str(role)))
        .exists()
    )
    if not checked:
        return False
    if valid.filter(kind=QualificationKind.TRAINING, role=str(role)).exists():
        return True
    if role is not Role.EXAMINER:
        return False
    return ExaminerTraining.objects.filter(
        examiner_id=user.pk, completed_on__lte=today, valid_until__gte=today
    ).exists()


def recipient_registered(*, party: Mapping[str, Any]) -> bool:
    """Whether ``party`` (type, name, ORI) is a registered recipient with an active account.

    An ORI, when both sides have one, must match; otherwise type and name must (case-insensitive).
    Used for proxies and for reveals, where the gateway must know, not trust, who a party is.
    """
    kind = str(party.get("type") or "").strip()
    name = str(party.get("name") or "").strip()
    ori = str(party.get("ori") or "").strip()
    if not kind or not (name or ori):
        return False
    active = RecipientAccount.objects.filter(recipient_type=kind, active=True)
    if ori and active.filter(ori__iexact=ori).exists():
        return True
    return bool(name) and active.filter(name__iexact=name).exists()


def user_has_authenticator(*, user: Any) -> bool:
    """Whether the user has enrolled a TOTP authenticator (else their next stop is the enrolment page)."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()
