"""The single release path: the only way person or booking data leave the county.

``release_records`` loads the bookings, asks ``policies`` for the decision, takes the transformed
records the decision permits, and writes the audit entry, all in one transaction (house style B2,
rules.md CJ-01, CJ-03). Nothing else in ``gateway`` may serialize person or booking data for a
recipient; tests/test_architecture.py fails if anything tries.

What the requester sees is deliberately uniform (CJ-09): a denied request, a booking that does not
exist and a booking that is sealed, juvenile, expunged or removed all come back as
``not_available`` with no records. The true reasons are only in the audit entry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from gateway.audit.models import AuditAction, AuditEntry, ReleaseEffect
from gateway.audit.services import audit_event_record, subject_ref
from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.recipients.selectors import (
    proxy_registered,
    recipient_registered,
    recipient_standing,
)
from gateway.records.selectors import field_tags_get
from gateway.releases.selectors import booking_export
from policies.exceptions import KeyStoreError, TokenRevealError
from policies.services import KeyStore, decide, key_store_get, policy_set_get, token_reveal
from policies.types import Decision, Effect

__all__ = [
    "MAX_BOOKINGS_PER_RELEASE",
    "Release",
    "ReleaseStatus",
    "RevealRefusedError",
    "release_records",
    "release_token_reveal",
]

logger = logging.getLogger(__name__)

# Above the largest max_records any shipped agreement allows; larger asks are denied unread.
MAX_BOOKINGS_PER_RELEASE = 100_000


class ReleaseStatus(StrEnum):
    """What the requester is told. Never why: the reasons stay in the audit log (CJ-09)."""

    RELEASED = "released"
    NOT_AVAILABLE = "not_available"
    PENDING_REVIEW = "pending_review"


@dataclass(frozen=True)
class Release:
    """The requester-facing answer of one release.

    ``release_id`` is the audit entry's opaque public id: random, so a recipient cannot read the county's
    volume from the gaps between its own ids (issue 8.11).
    """

    release_id: str
    status: ReleaseStatus
    records: tuple[dict[str, Any], ...] = ()
    labels: tuple[str, ...] = ()
    retention_days: int = 0
    policy_version: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "release_id": self.release_id,
            "status": str(self.status),
            "records": list(self.records),
            "labels": list(self.labels),
            "retention_days": self.retention_days,
            "policy_version": self.policy_version,
        }


def _keys() -> KeyStore | None:
    try:
        return key_store_get(path=Path(settings.POLICY_KEYS_FILE))
    except KeyStoreError:
        return None  # decide() then denies any permit with DENY_KEY_MISSING


def _decide(
    request: Mapping[str, Any], booking_numbers: Sequence[str], reviewer: str | None
) -> tuple[Decision, list[dict[str, Any]]]:
    """Export from the database and decide; also return the export (for the audit's references).

    Inline ``records`` from the caller are never trusted: they are replaced by the export.
    """
    policy_request = dict(request)
    records = booking_export(booking_numbers=booking_numbers)
    policy_request["records"] = records
    decision = decide(
        request=policy_request,
        policy_set=policy_set_get(dirs=[Path(d) for d in settings.POLICY_DIRS]),
        keys=_keys(),
        reviewed_by=reviewer,
        field_tags=field_tags_get(),
        proxy_registered=proxy_registered(request=request),
    )
    return decision, records


def _suspension(request: Mapping[str, Any]) -> str:
    """The standing code that suspends the request's recipient, or "" (see recipients.selectors)."""
    recipient = request.get("recipient") if isinstance(request, Mapping) else None
    if not isinstance(recipient, Mapping):
        return ""  # malformed: the policy denies it, with its own reason
    standing = recipient_standing(party=recipient)
    return str(standing.reason) if standing.suspended else ""


def _reviewer(requested_by: str, reviewed_by: str | None) -> str | None:
    """A review counts only if someone other than the requester did it (two-person rule)."""
    reviewer = (reviewed_by or "").strip()
    if not reviewer or reviewer.casefold() == requested_by.strip().casefold():
        return None
    return reviewer


def _subject_refs(numbers: Sequence[str]) -> list[str]:
    """Every booking asked for, as a keyed hash (no number in clear; found or not looks the same)."""
    return [subject_ref(kind="booking", value=n) for n in dict.fromkeys(numbers) if n]


def _audit(
    *,
    request: Mapping[str, Any],
    booking_numbers: Sequence[str],
    records: Sequence[Mapping[str, Any]],
    requested_by: str,
    effect: str,
    decision: Decision | None,
    released: Sequence[Mapping[str, Any]],
    extra_obligations: Mapping[str, Any],
    error_code: str = "",
    preview: bool = False,
) -> AuditEntry:
    request = request if isinstance(request, Mapping) else {}
    excluded = dict(decision.excluded) if decision is not None else {}
    found = {str(r.get("booking_number")) for r in records}
    not_found = len({n for n in booking_numbers if n} - found)
    if not_found:
        excluded["not_found"] = not_found  # for compliance eyes only; requesters see not_available
    if preview:  # shown to county staff only: counted as previewed, never as released
        extra_obligations = {**extra_obligations, "previewed_count": len(released)}
        released = ()
    return audit_event_record(
        action=AuditAction.RELEASE_PREVIEW if preview else AuditAction.RELEASE,
        actor=requested_by,
        outcome=effect,
        recipient=request.get("recipient")
        if isinstance(request.get("recipient"), Mapping)
        else None,
        on_behalf_of=request.get("on_behalf_of"),
        purpose=str(request.get("purpose") or ""),
        case_number=str(request.get("case_number") or ""),
        subject_refs=_subject_refs(booking_numbers),
        reasons=[r.as_dict() for r in decision.reasons] if decision is not None else [],
        detail={
            **(decision.obligations.as_dict() if decision is not None else {}),
            **extra_obligations,
        },
        excluded=excluded,
        requested_count=len(booking_numbers),
        released_count=len(released),
        released_fields=sorted(decision.obligations.fields) if released and decision else [],
        policy_version=decision.policy_version if decision is not None else "",
        error_code=error_code,
    )


@transaction.atomic(durable=True)
def release_records(
    *,
    request: Mapping[str, Any],
    booking_numbers: Sequence[str],
    requested_by: str,
    reviewed_by: str | None = None,
    preview: bool = False,
) -> Release:
    """Decide and release bookings for one request; every call writes exactly one audit entry.

    ``request`` is the documented policy request (recipient, on_behalf_of, purpose, case_number, …)
    without records: the records are always loaded here, from the database. If the decision obliges
    human review, or the keyword backstop flagged the request, ``reviewed_by`` must name someone
    other than ``requested_by`` or the answer is ``pending_review``. Any error while loading or
    deciding is a deny, audited with its error code.

    Durable: this is the outermost transaction, so the audit entry is committed when the records are
    handed back, and no caller's rollback can erase it afterwards (calling it inside a transaction
    raises). If the audit entry cannot be written, the exception propagates and nothing is released.

    ``preview=True`` is the clerk's view of the same decision (issue 9): identical load, decide and
    transform, but the answer goes to county staff, never to the recipient, so the entry is a
    ``release_preview`` that counts nothing as released (its ``previewed_count`` says what would leave).
    """
    if isinstance(booking_numbers, str):  # a bare string is one number, not a list of characters
        booking_numbers = [booking_numbers]
    numbers = [str(n) for n in booking_numbers][: MAX_BOOKINGS_PER_RELEASE + 1]
    reviewer = _reviewer(requested_by, reviewed_by)
    decision: Decision | None = None
    records: list[dict[str, Any]] = []
    error_code = ""
    try:
        if len(numbers) > MAX_BOOKINGS_PER_RELEASE:
            raise ValueError(f"more than {MAX_BOOKINGS_PER_RELEASE} bookings in one release")
        # The registry's pre-check: a suspended recipient (expired agreement or IM-03 certification,
        # or stopped by staff) is denied unasked, its reason for staff only (CJ-09).
        error_code = _suspension(request)
        if not error_code:
            with transaction.atomic():
                decision, records = _decide(request, numbers, reviewer)
    # Fail closed: the release path must answer (and audit) a deny rather than crash or leak.
    except Exception as exc:
        logger.exception("release failed; denying")
        decision, error_code = None, type(exc).__name__
    effect = str(decision.effect) if decision is not None else str(ReleaseEffect.DENY)
    released: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = {}
    if decision is not None and decision.effect is Effect.PERMIT:
        if decision.obligations.human_review_required and reviewer is None:
            effect, extra = str(ReleaseEffect.REVIEW), {"awaiting": "human_review"}
        elif not any(decision.released):
            # A permit whose transformed records are all empty hands out nothing: not a release.
            effect, error_code = str(ReleaseEffect.DENY), "released_nothing"
        else:
            released = decision.released
            extra = {"reviewed_by": reviewer} if reviewer else {}
    entry = _audit(
        request=request,
        booking_numbers=numbers,
        records=records,
        requested_by=requested_by,
        effect=effect,
        decision=decision,
        released=released,
        extra_obligations=extra,
        error_code=error_code,
        preview=preview,
    )
    return _answer(entry=entry, effect=effect, released=released, decision=decision)


def _answer(
    *,
    entry: AuditEntry,
    effect: str,
    released: tuple[dict[str, Any], ...],
    decision: Decision | None,
) -> Release:
    if effect == ReleaseEffect.REVIEW:
        return Release(release_id=entry.public_id, status=ReleaseStatus.PENDING_REVIEW)
    if not released or decision is None:
        # Deny, nothing found and everything excluded must be indistinguishable (CJ-09).
        return Release(release_id=entry.public_id, status=ReleaseStatus.NOT_AVAILABLE)
    return Release(
        release_id=entry.public_id,
        status=ReleaseStatus.RELEASED,
        records=released,
        labels=decision.obligations.labels,
        retention_days=decision.obligations.retention_days,
        policy_version=decision.policy_version,
    )


class RevealRefusedError(GatewayError):
    """A token reveal refused because the recipient or its purpose is no longer permitted."""

    code = GatewayErrorCode.REVEAL_REFUSED


def release_token_reveal(
    *,
    token: str,
    request: Mapping[str, Any],
    field_path: str,
    approvers: Sequence[str],
    requested_by: str,
) -> str:
    """Reverse a deterministic-encryption token under two-person approval, audited either way.

    ``request`` is the reveal's own request (recipient, purpose, case, documents), decided again now:
    a recipient suspended, an agreement ended or a purpose withdrawn since the token was issued gets no
    reveal (issue 8.5). The two approvers must be different people and neither may be the requester.
    Raises ``RevealRefusedError``, ``TokenRevealError`` or ``KeyStoreError`` when refused; the refusal
    is audited too, so this function is deliberately not atomic (a rollback would erase the record of
    the refusal).
    """
    recipient = request.get("recipient")
    recipient = dict(recipient) if isinstance(recipient, Mapping) else {}
    purpose = str(request.get("purpose") or "")
    people = {a.strip().casefold() for a in approvers if a and a.strip()}
    audit: dict[str, Any] = {
        "action": AuditAction.TOKEN_REVEAL,
        "actor": requested_by,
        "recipient": recipient,
        "on_behalf_of": request.get("on_behalf_of"),
        "purpose": purpose,
        "case_number": str(request.get("case_number") or ""),
    }
    decision: Decision | None = None
    try:
        if requested_by.strip().casefold() in people:
            raise TokenRevealError("the requester cannot approve their own reveal")
        if not recipient_registered(party=recipient):
            raise RevealRefusedError("the recipient is not a registered, active recipient")
        decision = decide(
            request={**request, "records": []},
            policy_set=policy_set_get(dirs=[Path(d) for d in settings.POLICY_DIRS]),
            keys=_keys(),
            field_tags=field_tags_get(),
        )
        if decision.effect is not Effect.PERMIT:
            raise RevealRefusedError("the policy no longer permits this recipient and purpose")
        value = token_reveal(
            token=token,
            recipient=recipient,
            purpose=purpose,
            field=field_path,
            approvers=list(approvers),
            keys=key_store_get(path=Path(settings.POLICY_KEYS_FILE)),
        )
    except (TokenRevealError, KeyStoreError, RevealRefusedError) as exc:
        audit_event_record(
            **audit,
            outcome=ReleaseEffect.DENY,
            reasons=[r.as_dict() for r in decision.reasons] if decision is not None else [],
            detail={"field": field_path, "approvers": sorted(people)},
            policy_version=decision.policy_version if decision is not None else "",
            error_code=str(exc.code),
        )
        raise
    audit_event_record(
        **audit,
        outcome=ReleaseEffect.PERMIT,
        detail={"field": field_path, "approvers": sorted(people)},
        policy_version=decision.policy_version,
    )
    return value
