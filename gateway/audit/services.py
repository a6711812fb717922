"""The one audit writer: every audited event in the gateway is written by ``audit_event_record``.

One writer means one place that clips and validates, one closed list of actions, and one place that turns
people and bookings into keyed hashes (``subject_ref``), so no personal data reaches the log however a
caller phrases its event. The tamper-evident log will add its leaf here, in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from django.conf import settings

from gateway.audit.context import request_id_get
from gateway.audit.models import AuditAction, AuditEntry, ReleaseEffect

__all__ = ["audit_event_record", "case_ref", "subject_ref"]

_REF_DIGITS = 32


@cache
def _ref_key(secret: str) -> bytes:
    configured = getattr(settings, "AUDIT_SUBJECT_KEY", "")
    if configured:
        return str(configured).encode()
    # Derived, so a county that sets only SECRET_KEY still gets keyed (not guessable) references.
    return hmac.new(
        secret.encode(), b"custodian audit subject references v1", hashlib.sha256
    ).digest()


def _keyed(kind: str, value: str) -> str:
    key = _ref_key(str(settings.SECRET_KEY))
    digest = hmac.new(key, f"{kind}\n{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:_REF_DIGITS]}"


def subject_ref(*, kind: str, value: str) -> str:
    """A keyed hash naming a person or booking in the log without naming them to a reader of it.

    Staff who hold a booking number can find its entries by hashing it the same way; a reader of the log
    without the key learns nothing, and once the record is deleted nothing links back.
    """
    return _keyed(kind, value)


def case_ref(case_number: str) -> str:
    """The keyed hash a case number is kept as (empty stays empty)."""
    text = (case_number or "").strip()
    return _keyed("case", text) if text else ""


def _clip(value: Any, length: int) -> str:
    return str(value or "")[:length]


def _party(value: Any) -> dict[str, str] | None:
    """An organisation as the log keeps it: type, name and ORI only, whatever else a caller passed."""
    if not isinstance(value, Mapping):
        return None
    return {
        "type": _clip(value.get("type"), 30),
        "name": _clip(value.get("name"), 200),
        "ori": _clip(value.get("ori"), 20),
    }


def audit_event_record(
    *,
    action: AuditAction,
    actor: str,
    outcome: ReleaseEffect | str,
    recipient: Mapping[str, Any] | None = None,
    on_behalf_of: Mapping[str, Any] | None = None,
    purpose: str = "",
    case_number: str = "",
    subject_refs: Sequence[str] = (),
    reasons: Sequence[Mapping[str, Any]] = (),
    detail: Mapping[str, Any] | None = None,
    excluded: Mapping[str, int] | None = None,
    requested_count: int = 0,
    released_count: int = 0,
    released_fields: Sequence[str] = (),
    policy_version: str = "",
    error_code: str = "",
) -> AuditEntry:
    """Write one audit entry and return it; raises if the entry cannot be written.

    Callers that hand out data call this inside their own transaction, so a failed write releases
    nothing. ``subject_refs`` must already be references (``subject_ref`` or ``kind#id``): a raw value
    is refused rather than stored.
    """
    action = AuditAction(action)  # a free-text action is a ValueError, never a new kind of row
    outcome = ReleaseEffect(outcome)
    refs = [str(ref) for ref in subject_refs]
    for ref in refs:
        if ":" not in ref and "#" not in ref:
            raise ValueError(
                "subject_refs take references (subject_ref or kind#id), not raw values"
            )
    party = _party(recipient) or {}
    entry = AuditEntry(
        action=action,
        actor=_clip(actor, 150),
        # A malformed request still gets its row; "unknown" marks the missing recipient type.
        recipient_type=party.get("type") or "unknown",
        recipient_name=party.get("name", ""),
        recipient_ori=party.get("ori", ""),
        on_behalf_of=_party(on_behalf_of),
        purpose=_clip(purpose, 100),
        case_ref=case_ref(_clip(case_number, 200)),
        effect=outcome,
        reasons=[dict(reason) for reason in reasons],
        obligations=dict(detail or {}),
        excluded=dict(excluded or {}),
        requested_count=max(0, int(requested_count)),
        released_count=max(0, int(released_count)),
        released_fields=sorted(str(f) for f in released_fields),
        subject_refs=refs,
        policy_version=_clip(policy_version, 80),
        error_code=_clip(error_code, 60),
        request_id=_clip(request_id_get(), 40),
    )
    entry.full_clean(validate_unique=False)  # public_id is random and the database enforces it
    entry.save()
    return entry
