"""Writes of the recipient registry: organisations, signed agreements, IM-03 certifications, suspensions.

Every change is audited by the one writer. A change that grants or widens a recipient's access (a new
signed agreement, a reinstatement) is only proposed here, as a pending ``RegistryChange``; a different
staff member applies it with ``registry_change_approve`` (four eyes; the proposer is refused). Taking
access away (suspending) needs one person, as it should. Kept apart from ``services.py`` (the staff
and demo accounts) so each can change on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gateway.audit.models import AuditAction, ReleaseEffect
from gateway.audit.services import audit_event_record
from gateway.documents.access import staff_actor
from gateway.documents.files import document_file_store
from gateway.exceptions import GatewayError, GatewayErrorCode, NotFoundError
from gateway.recipients.models import (
    AgreementRecord,
    ImmigrationCertification,
    RecipientAccount,
    RecipientOrganisation,
    RegistryChange,
    RegistryChangeKind,
    RegistryChangeState,
)
from gateway.recipients.selectors import staff_member
from policies.services import policy_set_get
from policies.types import RecipientType

__all__ = [
    "RegistryChangeRefusedError",
    "RegistryInvalidError",
    "access_organisation_by_id",
    "access_registry_change_by_id",
    "agreement_record_add",
    "certification_add",
    "organisation_account_link",
    "organisation_create",
    "organisation_reinstate",
    "organisation_suspend",
    "registry_change_approve",
    "registry_change_refuse",
]

# IM-03: the certification is renewed yearly; a longer one is refused rather than trusted.
CERTIFICATION_MAX_DAYS = 366


class RegistryInvalidError(GatewayError):
    code = GatewayErrorCode.REGISTRY_INVALID


class RegistryChangeRefusedError(GatewayError):
    code = GatewayErrorCode.REGISTRY_CHANGE_REFUSED


def access_organisation_by_id(
    *, user: Any, organisation_id: int, for_update: bool = False
) -> RecipientOrganisation:
    """Staff only; a missing organisation and a caller who may not see it look the same."""
    if not staff_member(user=user):
        raise NotFoundError("no such organisation")
    rows = RecipientOrganisation.objects.all()
    if for_update:
        rows = rows.select_for_update()
    organisation = rows.filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFoundError("no such organisation")
    return organisation


def access_registry_change_by_id(
    *, user: Any, change_id: int, for_update: bool = False
) -> RegistryChange:
    if not staff_member(user=user):
        raise NotFoundError("no such change")
    rows = RegistryChange.objects.select_related("organisation")
    if for_update:
        rows = rows.select_for_update(of=("self",))
    change = rows.filter(pk=change_id).first()
    if change is None:
        raise NotFoundError("no such change")
    return change


def _audit(
    *,
    action: AuditAction,
    actor: str,
    organisation: RecipientOrganisation,
    outcome: ReleaseEffect = ReleaseEffect.PERMIT,
    refs: tuple[str, ...] = (),
    detail: Mapping[str, Any] | None = None,
    error_code: str = "",
) -> None:
    """Organisations are named (they are not people); signers and contacts never reach the log."""
    audit_event_record(
        action=action,
        actor=actor,
        outcome=outcome,
        recipient=organisation.as_recipient(),
        subject_refs=[f"organisation#{organisation.pk}", *refs],
        detail=detail,
        error_code=error_code,
    )


@transaction.atomic
def organisation_create(
    *,
    user: Any,
    recipient_type: str,
    name: str,
    ori: str = "",
    jurisdiction: str = "",
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    contact_address: str = "",
) -> RecipientOrganisation:
    """Register an organisation. It grants nothing by itself: until it has a current IM-03
    certification it stands ``certification_missing``, and the policy files say what it may ask."""
    actor = staff_actor(user=user)
    try:
        kind = str(RecipientType(recipient_type))
    except ValueError as exc:
        raise RegistryInvalidError(f"unknown recipient type {recipient_type!r}") from exc
    name, ori = name.strip(), ori.strip()
    same = RecipientOrganisation.objects.filter(recipient_type=kind, name__iexact=name)
    if ori:
        same = same | RecipientOrganisation.objects.filter(recipient_type=kind, ori__iexact=ori)
    if same.exists():
        raise RegistryInvalidError("an organisation of this type, name or ORI is registered")
    organisation = RecipientOrganisation(
        recipient_type=kind,
        name=name,
        ori=ori,
        jurisdiction=jurisdiction.strip(),
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip(),
        contact_phone=contact_phone.strip(),
        contact_address=contact_address.strip(),
    )
    organisation.full_clean()
    organisation.save()
    _audit(action=AuditAction.ORGANISATION_CREATE, actor=actor, organisation=organisation)
    return organisation


@transaction.atomic
def organisation_account_link(
    *, user: Any, organisation_id: int, account_id: int
) -> RecipientAccount:
    """Make a named account one of the organisation's (CJ-04: one person, one login).

    Linking only ever narrows: the account then also stands or falls with the organisation.
    """
    actor = staff_actor(user=user)
    organisation = access_organisation_by_id(user=user, organisation_id=organisation_id)
    account = RecipientAccount.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        raise NotFoundError("no such account")
    if account.recipient_type != organisation.recipient_type:
        raise RegistryInvalidError("the account's recipient type is not the organisation's")
    account.organisation = organisation
    account.save(update_fields=["organisation"])
    _audit(
        action=AuditAction.ORGANISATION_ACCOUNT_LINK,
        actor=actor,
        organisation=organisation,
        refs=(f"recipient_account#{account.pk}",),
    )
    return account


def _agreement_check(*, agreement_id: str, organisation: RecipientOrganisation) -> None:
    """The id must be an agreement of the county's policy files, for this kind of recipient."""
    policy_set = policy_set_get(dirs=[Path(d) for d in settings.POLICY_DIRS])
    agreement = next((a for a in policy_set.agreements if a.id == agreement_id), None)
    if agreement is None:
        raise RegistryInvalidError(f"no agreement {agreement_id!r} in the county's policy files")
    if agreement.recipient_type != organisation.recipient_type:
        raise RegistryInvalidError(f"agreement {agreement_id!r} is for another recipient type")


@transaction.atomic
def agreement_record_add(
    *,
    user: Any,
    organisation_id: int,
    agreement_id: str,
    signed_by: str,
    starts_on: date,
    ends_on: date,
    document: bytes,
) -> RegistryChange:
    """Propose a signed agreement; it binds only once another staff member approves it (it grants
    access). The signed document is checked, hashed and stored now, so the approver sees its hash."""
    actor = staff_actor(user=user)
    organisation = access_organisation_by_id(user=user, organisation_id=organisation_id)
    _agreement_check(agreement_id=agreement_id, organisation=organisation)
    if not signed_by.strip():
        raise RegistryInvalidError("who signed the agreement is required")
    if ends_on < starts_on:
        raise RegistryInvalidError("the agreement ends before it starts")
    stored = document_file_store(data=document, folder="agreements")
    change = RegistryChange.objects.create(
        kind=RegistryChangeKind.AGREEMENT_RECORD_ADD,
        organisation=organisation,
        payload={
            "agreement_id": agreement_id,
            "signed_by": signed_by.strip(),
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "document_name": stored.name,
            "document_sha256": stored.sha256,
        },
        proposer=user,
        proposer_name=actor,
    )
    _audit(
        action=AuditAction.AGREEMENT_RECORD_PROPOSE,
        actor=actor,
        organisation=organisation,
        outcome=ReleaseEffect.REVIEW,
        refs=(f"registry_change#{change.pk}",),
        detail={"agreement": agreement_id, "sha256": stored.sha256, "ends_on": ends_on.isoformat()},
    )
    return change


@transaction.atomic
def certification_add(
    *,
    user: Any,
    organisation_id: int,
    signed_by: str,
    signed_on: date,
    document: bytes,
    signer_title: str = "",
    valid_until: date | None = None,
) -> ImmigrationCertification:
    """Record the yearly no-immigration-use certification (IM-03), valid a year unless shorter."""
    actor = staff_actor(user=user)
    organisation = access_organisation_by_id(user=user, organisation_id=organisation_id)
    until = valid_until or signed_on + timedelta(days=365)
    if not signed_by.strip():
        raise RegistryInvalidError("who signed the certification is required")
    if until < signed_on or (until - signed_on).days > CERTIFICATION_MAX_DAYS:
        raise RegistryInvalidError("a certification runs at most a year from its signing (IM-03)")
    if signed_on > timezone.localdate():
        raise RegistryInvalidError("a certification cannot be signed in the future")
    stored = document_file_store(data=document, folder="certifications")
    certification = ImmigrationCertification.objects.create(
        organisation=organisation,
        signed_by=signed_by.strip(),
        signer_title=signer_title.strip(),
        signed_on=signed_on,
        valid_until=until,
        document_name=stored.name,
        document_sha256=stored.sha256,
        recorded_by=actor,
    )
    _audit(
        action=AuditAction.CERTIFICATION_ADD,
        actor=actor,
        organisation=organisation,
        refs=(f"certification#{certification.pk}",),
        detail={"sha256": stored.sha256, "valid_until": until.isoformat()},
    )
    return certification


@transaction.atomic
def organisation_suspend(*, user: Any, organisation_id: int, reason: str) -> RecipientOrganisation:
    """Stop serving an organisation at once; one staff member suffices (it only takes access away)."""
    actor = staff_actor(user=user)
    organisation = access_organisation_by_id(
        user=user, organisation_id=organisation_id, for_update=True
    )
    organisation.suspended = True
    organisation.suspended_reason = reason.strip()[:200]
    organisation.save(update_fields=["suspended", "suspended_reason"])
    _audit(action=AuditAction.ORGANISATION_SUSPEND, actor=actor, organisation=organisation)
    return organisation


@transaction.atomic
def organisation_reinstate(*, user: Any, organisation_id: int) -> RegistryChange:
    """Propose lifting a suspension; it takes effect when a different staff member approves."""
    actor = staff_actor(user=user)
    organisation = access_organisation_by_id(user=user, organisation_id=organisation_id)
    if not organisation.suspended:
        raise RegistryInvalidError("the organisation is not suspended")
    change = RegistryChange.objects.create(
        kind=RegistryChangeKind.ORGANISATION_REINSTATE,
        organisation=organisation,
        proposer=user,
        proposer_name=actor,
    )
    _audit(
        action=AuditAction.REINSTATE_PROPOSE,
        actor=actor,
        organisation=organisation,
        outcome=ReleaseEffect.REVIEW,
        refs=(f"registry_change#{change.pk}",),
    )
    return change


def _apply(change: RegistryChange, approver: str) -> None:
    organisation = change.organisation
    if change.kind == RegistryChangeKind.AGREEMENT_RECORD_ADD:
        payload = change.payload
        # The policy files may have changed since the proposal: check the id again.
        _agreement_check(agreement_id=payload["agreement_id"], organisation=organisation)
        AgreementRecord.objects.create(
            organisation=organisation,
            agreement_id=payload["agreement_id"],
            signed_by=payload["signed_by"],
            starts_on=date.fromisoformat(payload["starts_on"]),
            ends_on=date.fromisoformat(payload["ends_on"]),
            document_name=payload["document_name"],
            document_sha256=payload["document_sha256"],
            proposed_by=change.proposer_name,
            approved_by=approver,
        )
    else:
        RecipientOrganisation.objects.filter(pk=organisation.pk).update(
            suspended=False, suspended_reason=""
        )


def _refuse(*, actor: str, change: RegistryChange, code: str, message: str) -> None:
    """Audit the refused attempt, then raise; not inside the caller's transaction, so it stays."""
    _audit(
        action=AuditAction.REGISTRY_CHANGE_REFUSE,
        actor=actor,
        organisation=change.organisation,
        outcome=ReleaseEffect.DENY,
        refs=(f"registry_change#{change.pk}",),
        detail={"kind": change.kind, "attempt": "approve"},
        error_code=code,
    )
    raise RegistryChangeRefusedError(message, extra={"reason": code})


def registry_change_approve(*, user: Any, change_id: int) -> RegistryChange:
    """Apply a pending change as its second pair of eyes: refused (and audited) for its proposer,
    and for a change no longer pending. The row is locked, so two approvers give one outcome."""
    actor = staff_actor(user=user)
    refusal: tuple[str, str] | None = None
    with transaction.atomic():
        change = access_registry_change_by_id(user=user, change_id=change_id, for_update=True)
        if change.state != RegistryChangeState.PENDING:
            refusal = ("not_pending", f"the change is {change.state}")
        elif change.proposer_id == user.pk or change.proposer_name.casefold() == actor.casefold():
            refusal = ("self_approval", "nobody approves their own change")
        else:
            _apply(change, actor)
            change.state = RegistryChangeState.APPLIED
            change.approver, change.approver_name = user, actor
            change.decided_at = timezone.now()
            change.save(update_fields=["state", "approver", "approver_name", "decided_at"])
            _audit(
                action=AuditAction.REGISTRY_CHANGE_APPROVE,
                actor=actor,
                organisation=change.organisation,
                refs=(f"registry_change#{change.pk}",),
                detail={"kind": change.kind, "proposed_by": change.proposer_name},
            )
    if refusal is not None:
        _refuse(actor=actor, change=change, code=refusal[0], message=refusal[1])
    return change


@transaction.atomic
def registry_change_refuse(*, user: Any, change_id: int, reason: str = "") -> RegistryChange:
    """End a pending change unapplied; any staff member may, its proposer too (a withdrawal), and
    one refusal ends it for good (a new proposal starts again)."""
    actor = staff_actor(user=user)
    change = access_registry_change_by_id(user=user, change_id=change_id, for_update=True)
    if change.state != RegistryChangeState.PENDING:
        raise RegistryChangeRefusedError(
            f"the change is {change.state}", extra={"reason": "not_pending"}
        )
    change.state = RegistryChangeState.REFUSED
    change.approver, change.approver_name = user, actor
    change.decided_at = timezone.now()
    change.save(update_fields=["state", "approver", "approver_name", "decided_at"])
    _audit(
        action=AuditAction.REGISTRY_CHANGE_REFUSE,
        actor=actor,
        organisation=change.organisation,
        refs=(f"registry_change#{change.pk}",),
        detail={"kind": change.kind, "reason": reason.strip()[:200]},
    )
    return change
