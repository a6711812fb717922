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

from gateway.audit.models import AuditEntry, ReleaseEffect
from gateway.records.selectors import field_tags_get
from gateway.releases.selectors import booking_export
from policies.exceptions import KeyStoreError, TokenRevealError
from policies.services import KeyStore, decide, key_store_get, policy_set_get, token_reveal
from policies.types import Decision, Effect

__all__ = [
    "MAX_BOOKINGS_PER_RELEASE",
    "Release",
    "ReleaseStatus",
    "release_records",
    "release_token_reveal",
]

logger = logging.getLogger(__name__)

# Above the largest max_records any shipped agreement allows; larger asks are denied unread.
MAX_BOOKINGS_PER_RELEASE = 100_000
_JSON_FIELDS_MAY_BE_EMPTY = ["on_behalf_of", "reasons", "obligations", "excluded"]
_JSON_FIELDS_MAY_BE_EMPTY += ["released_fields", "booking_numbers"]


class ReleaseStatus(StrEnum):
    """What the requester is told. Never why: the reasons stay in the audit log (CJ-09)."""

    RELEASED = "released"
    NOT_AVAILABLE = "not_available"
    PENDING_REVIEW = "pending_review"


@dataclass(frozen=True)
class Release:
    """The requester-facing answer of one release; ``release_id`` is the audit entry."""

    release_id: int
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


def _clip(value: Any, length: int) -> str:
    return str(value or "")[:length]


def _keys() -> KeyStore | None:
    try:
        return key_store_get(path=Path(settings.POLICY_KEYS_FILE))
    except KeyStoreError:
        return None  # decide() then denies any permit with DENY_KEY_MISSING


def _decide(
    request: Mapping[str, Any], booking_numbers: Sequence[str], reviewer: str | None
) -> tuple[Decision, int]:
    """Export from the database and decide; also count the numbers no booking matched.

    Inline ``records`` from the caller are never trusted: they are replaced by the export.
    """
    policy_request = dict(request)
    records = booking_export(booking_numbers=booking_numbers)
    policy_request["records"] = records
    found = {record["booking_number"] for record in records}
    not_found = len({n for n in booking_numbers if n} - found)
    decision = decide(
        request=policy_request,
        policy_set=policy_set_get(dirs=[Path(d) for d in settings.POLICY_DIRS]),
        keys=_keys(),
        reviewed_by=reviewer,
        field_tags=field_tags_get(),
    )
    return decision, not_found


def _reviewer(requested_by: str, reviewed_by: str | None) -> str | None:
    """A review counts only if someone other than the requester did it (two-person rule)."""
    reviewer = (reviewed_by or "").strip()
    if not reviewer or reviewer.casefold() == requested_by.strip().casefold():
        return None
    return reviewer


def _audit(
    *,
    request: Mapping[str, Any],
    booking_numbers: Sequence[str],
    requested_by: str,
    effect: str,
    decision: Decision | None,
    released: Sequence[Mapping[str, Any]],
    extra_obligations: Mapping[str, Any],
    error_code: str = "",
    not_found: int = 0,
) -> AuditEntry:
    recipient = request.get("recipient") if isinstance(request, Mapping) else None
    recipient = recipient if isinstance(recipient, Mapping) else {}
    behalf = request.get("on_behalf_of") if isinstance(request, Mapping) else None
    excluded = dict(decision.excluded) if decision is not None else {}
    if not_found:
        excluded["not_found"] = not_found  # for compliance eyes only; requesters see not_available
    entry = AuditEntry(
        actor=_clip(requested_by, 150),
        action="release",
        # A malformed request still gets its audit row; "unknown" marks the missing recipient type.
        recipient_type=_clip(recipient.get("type"), 30) or "unknown",
        recipient_name=_clip(recipient.get("name"), 200),
        recipient_ori=_clip(recipient.get("ori"), 20),
        on_behalf_of=dict(behalf) if isinstance(behalf, Mapping) else None,
        purpose=_clip(request.get("purpose") if isinstance(request, Mapping) else "", 100),
        case_number=_clip(request.get("case_number") if isinstance(request, Mapping) else "", 60),
        effect=effect,
        reasons=[r.as_dict() for r in decision.reasons] if decision is not None else [],
        obligations={
            **(decision.obligations.as_dict() if decision is not None else {}),
            **extra_obligations,
        },
        excluded=excluded,
        requested_count=len(booking_numbers),
        released_count=len(released),
        released_fields=sorted(decision.obligations.fields) if released and decision else [],
        booking_numbers=[str(n) for n in booking_numbers],
        policy_version=_clip(decision.policy_version if decision is not None else "", 80),
        error_code=_clip(error_code, 60),
    )
    entry.full_clean(exclude=_JSON_FIELDS_MAY_BE_EMPTY)
    entry.save()
    return entry


@transaction.atomic
def release_records(
    *,
    request: Mapping[str, Any],
    booking_numbers: Sequence[str],
    requested_by: str,
    reviewed_by: str | None = None,
) -> Release:
    """Decide and release bookings for one request; every call writes exactly one audit entry.

    ``request`` is the documented policy request (recipient, on_behalf_of, purpose, case_number, …)
    without records: the records are always loaded here, from the database. If the decision obliges
    human review, or the keyword backstop flagged the request, ``reviewed_by`` must name someone
    other than ``requested_by`` or the answer is ``pending_review``. Any error while loading or
    deciding is a deny, audited with its error code.
    """
    if isinstance(booking_numbers, str):  # a bare string is one number, not a list of characters
        booking_numbers = [booking_numbers]
    numbers = [str(n) for n in booking_numbers][: MAX_BOOKINGS_PER_RELEASE + 1]
    reviewer = _reviewer(requested_by, reviewed_by)
    decision: Decision | None = None
    error_code, not_found = "", 0
    try:
        if len(numbers) > MAX_BOOKINGS_PER_RELEASE:
            raise ValueError(f"more than {MAX_BOOKINGS_PER_RELEASE} bookings in one release")
        with transaction.atomic():
            decision, not_found = _decide(request, numbers, reviewer)
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
        else:
            released = decision.released
            extra = {"reviewed_by": reviewer} if reviewer else {}
    entry = _audit(
        request=request,
        booking_numbers=numbers,
        requested_by=requested_by,
        effect=effect,
        decision=decision,
        released=released,
        extra_obligations=extra,
        error_code=error_code,
        not_found=not_found,
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
        return Release(release_id=entry.pk, status=ReleaseStatus.PENDING_REVIEW)
    if not released or decision is None:
        # Deny, nothing found and everything excluded must be indistinguishable (CJ-09).
        return Release(release_id=entry.pk, status=ReleaseStatus.NOT_AVAILABLE)
    return Release(
        release_id=entry.pk,
        status=ReleaseStatus.RELEASED,
        records=released,
        labels=decision.obligations.labels,
        retention_days=decision.obligations.retention_days,
        policy_version=decision.policy_version,
    )


def release_token_reveal(
    *,
    token: str,
    recipient: Mapping[str, Any],
    purpose: str,
    field_path: str,
    approvers: Sequence[str],
    requested_by: str,
) -> str:
    """Reverse a deterministic-encryption token under two-person approval, audited either way.

    The two approvers must be different people and neither may be the requester. Raises
    ``TokenRevealError`` (or ``KeyStoreError``) when refused; the refusal is audited too, so this
    function is deliberately not atomic (a rollback would erase the record of the refusal).
    """
    people = {a.strip().casefold() for a in approvers if a and a.strip()}
    requester = requested_by.strip().casefold()
    entry = AuditEntry(
        actor=_clip(requested_by, 150),
        action="token_reveal",
        recipient_type=_clip(recipient.get("type"), 30) or "unknown",
        recipient_name=_clip(recipient.get("name"), 200),
        recipient_ori=_clip(recipient.get("ori"), 20),
        purpose=_clip(purpose, 100),
        effect=str(ReleaseEffect.DENY),
        obligations={"field": field_path, "approvers": sorted(people)},
    )
    try:
        if requester in people:
            raise TokenRevealError("the requester cannot approve their own reveal")
        value = token_reveal(
            token=token,
            recipient=recipient,
            purpose=purpose,
            field=field_path,
            approvers=list(approvers),
            keys=key_store_get(path=Path(settings.POLICY_KEYS_FILE)),
        )
    except (TokenRevealError, KeyStoreError) as exc:
        entry.error_code = str(exc.code)
        entry.full_clean(exclude=_JSON_FIELDS_MAY_BE_EMPTY)
        entry.save()
        raise
    entry.effect = str(ReleaseEffect.PERMIT)
    entry.full_clean(exclude=_JSON_FIELDS_MAY_BE_EMPTY)
    entry.save()
    return value
