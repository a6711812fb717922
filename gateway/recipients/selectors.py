"""Reads of the recipient registry: who a party is, and whether it may be served today.

The compatible rule (issue 9): the registry's organisations, agreements and certifications only ever
take access away. A party with an organisation record is served only while it is not suspended, its
IM-03 certification is current and every agreement it signed is current (an agreement not renewed
suspends it until it is). A party known only by a ``RecipientAccount`` (no organisation record yet)
stands as before: registered, active, and decided by the policy alone. Nobody at all is
``not_registered``; whether such a party may ask is for the caller (the API takes the recipient from
the signed-in account), and the release path then decides it by policy as it always has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from gateway.faces.models import ExaminerTraining
from gateway.recipients.models import (
    QualificationKind,
    RecipientAccount,
    RecipientOrganisation,
    StaffQualification,
)
from gateway.recipients.roles import STAFF_ROLES, Role

__all__ = [
    "Standing",
    "StandingReason",
    "organisations_for_party",
    "proxy_registered",
    "recipient_registered",
    "recipient_standing",
    "staff_member",
    "staff_role_current",
    "staff_roles_held",
    "user_has_authenticator",
    "user_holds_role",
    "user_is_staff",
]


class StandingReason(StrEnum):
    """Stable codes; the suspending ones are what staff see in the audit entry's ``error_code``."""

    ACTIVE = "active"
    ACCOUNT_ONLY = "account_only"  # known by an account alone: as before the registry existed
    NOT_REGISTERED = "not_registered"
    SUSPENDED = "suspended"
    AGREEMENT_EXPIRED = "agreement_expired"
    AGREEMENT_NOT_STARTED = "agreement_not_started"
    CERTIFICATION_MISSING = "certification_missing"
    CERTIFICATION_EXPIRED = "certification_expired"


@dataclass(frozen=True)
class Standing:
    """Whether a party may be served today, and if not, why (one code)."""

    active: bool
    reason: StandingReason
    registered: bool
    organisation_id: int | None = None

    @property
    def suspended(self) -> bool:
        """Registered but stopped: the release path denies without asking the policy."""
        return self.registered and not self.active


def _party(party: Mapping[str, Any]) -> tuple[str, str, str]:
    return (
        str(party.get("type") or "").strip(),
        str(party.get("name") or "").strip(),
        str(party.get("ori") or "").strip(),
    )


def _identity(kind: str, name: str, ori: str) -> Q:
    """Same type, and the same ORI or the same name (case-insensitive); an empty one matches nothing.

    Generous on purpose: every organisation a party might be must be in good standing.
    """
    same = Q(pk__in=[])
    if ori:
        same |= Q(ori__iexact=ori)
    if name:
        same |= Q(name__iexact=name)
    return Q(recipient_type=kind) & same


def organisations_for_party(*, party: Mapping[str, Any]) -> list[RecipientOrganisation]:
    """The organisations a party is: by its identity, or through an active account linked to one."""
    kind, name, ori = _party(party)
    if not kind or not (name or ori):
        return []
    linked = RecipientAccount.objects.filter(
        _identity(kind, name, ori), active=True, organisation__isnull=False
    ).values("organisation_id")
    return list(
        RecipientOrganisation.objects.filter(_identity(kind, name, ori) | Q(pk__in=linked))
        .prefetch_related("agreements", "certifications")
        .order_by("id")
    )


def _organisation_reason(organisation: RecipientOrganisation, today: date) -> StandingReason:
    if organisation.suspended:
        return StandingReason.SUSPENDED
    certifications = list(organisation.certifications.all())
    if not certifications:
        return StandingReason.CERTIFICATION_MISSING
    if not any(c.signed_on <= today <= c.valid_until for c in certifications):
        return StandingReason.CERTIFICATION_EXPIRED
    by_agreement: dict[str, list[Any]] = {}
    for record in organisation.agreements.all():
        by_agreement.setdefault(record.agreement_id, []).append(record)
    for records in by_agreement.values():
        if any(r.starts_on <= today <= r.ends_on for r in records):
            continue
        if all(r.ends_on < today for r in records):
            return StandingReason.AGREEMENT_EXPIRED
        return StandingReason.AGREEMENT_NOT_STARTED
    return StandingReason.ACTIVE


def recipient_standing(*, party: Mapping[str, Any], today: date | None = None) -> Standing:
    """The party's standing today (see the module docstring for the rule).

    Several organisations matching one party (the same name twice) must all be in good standing:
    the first that is not decides, so a doubtful match fails closed.
    """
    today = today or timezone.localdate()
    organisations = organisations_for_party(party=party) if isinstance(party, Mapping) else []
    for organisation in organisations:
        why = _organisation_reason(organisation, today)
        if why is not StandingReason.ACTIVE:
            return Standing(
                active=False, reason=why, registered=True, organisation_id=organisation.pk
            )
    if organisations:
        return Standing(
            active=True,
            reason=StandingReason.ACTIVE,
            registered=True,
            organisation_id=organisations[0].pk,
        )
    if isinstance(party, Mapping) and _account_active(party):
        return Standing(active=True, reason=StandingReason.ACCOUNT_ONLY, registered=True)
    return Standing(active=False, reason=StandingReason.NOT_REGISTERED, registered=False)


def _account_active(party: Mapping[str, Any]) -> bool:
    kind, name, ori = _party(party)
    if not kind or not (name or ori):
        return False
    same = Q(pk__in=[])
    if ori:
        same |= Q(ori__iexact=ori)
    if name:
        same |= Q(name__iexact=name)
    return RecipientAccount.objects.filter(same, recipient_type=kind, active=True).exists()


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


def user_has_authenticator(*, user: Any) -> bool:
    """Whether the user has enrolled a TOTP authenticator (else their next stop is the enrolment page)."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def recipient_registered(*, party: Mapping[str, Any]) -> bool:
    """Whether ``party`` (type, name, ORI) is a registered recipient in good standing.

    An organisation record in good standing, or (as before the registry) an active account. Used for
    proxies and for reveals, where the gateway must know, not trust, who a party is; a suspended
    organisation is not registered for either.
    """
    return recipient_standing(party=party).active


def proxy_registered(*, request: Mapping[str, Any]) -> bool:
    """Whether the request's ``on_behalf_of`` party is itself a recipient in good standing.

    What ``policies.services.decide`` takes as ``proxy_registered``: looked up here, never read from the
    request body, so a proxy nobody registered goes to review (IM-11).
    """
    behalf = request.get("on_behalf_of")
    return isinstance(behalf, Mapping) and recipient_registered(party=behalf)


def staff_member(*, user: Any) -> bool:
    """Signed-in county staff (a clerk or compliance officer, role current, CJ-06) who may keep the registry."""
    return any(staff_role_current(user=user, role=role) for role in (Role.CLERK, Role.COMPLIANCE))
