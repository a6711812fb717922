"""The request lifecycle: submit, approve, deny, withdraw, expire, fulfil (issue 9).

Conventions kept (formats-and-conventions.md, "Workflow conventions"): nobody approves their own request;
a purpose the policy marks ``approvers: 2`` needs two different clerks; any single denial ends the
request; pending requests expire. Permissions are checked inside each service and the row is locked
(``select_for_update``), because django-fsm's lessons are that declared permissions go unchecked and
unlocked transitions run twice. A refused attempt changes nothing but is recorded all the same, as its own
transition (``refused_code``) and audit entry, so two clerks acting at once leave two rows and one outcome.

The policy decides three times, each through the one release path: on submission and at approval in
preview mode (nothing leaves, audited as ``release_preview``), and at fulfilment for real, with the
bookings and fields the approvals narrowed to, so a booking sealed after approval never leaves (CJ-09,
README rule 5). ``release_records`` is durable: it is always called outside any ``transaction.atomic``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gateway.audit.models import AuditAction, AuditEntry, ReleaseEffect
from gateway.audit.services import audit_event_record
from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.releases.services import Release, ReleaseStatus, release_records
from gateway.requests.access import (
    access_request_for_recipient,
    access_request_for_staff,
    user_is_clerk,
)
from gateway.requests.models import (
    PublicOutcome,
    ReleaseRequest,
    RequestSource,
    RequestState,
    RequestTransition,
)

__all__ = [
    "PENDING_STATES",
    "RequestRefusedError",
    "request_approve",
    "request_create",
    "request_decide",
    "request_deny",
    "request_fulfil",
    "request_preview",
    "request_submit",
    "request_withdraw",
    "requests_expire",
]

S = RequestState
PENDING_STATES = (S.SUBMITTED, S.AWAITING_CLERK, S.AWAITING_SECOND_APPROVAL)
# Every legal step; anything else is refused with REQUEST_ILLEGAL_TRANSITION.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.AWAITING_CLERK, S.DENIED, S.EXPIRED, S.WITHDRAWN}),
    S.AWAITING_CLERK: frozenset(
        {S.AWAITING_SECOND_APPROVAL, S.APPROVED, S.DENIED, S.EXPIRED, S.WITHDRAWN}
    ),
    S.AWAITING_SECOND_APPROVAL: frozenset({S.APPROVED, S.DENIED, S.EXPIRED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.FULFILLED}),
}
_OUTCOME_BY_STATE: dict[str, str] = {
    S.DENIED: PublicOutcome.NOT_AVAILABLE,
    S.EXPIRED: PublicOutcome.NOT_AVAILABLE,
    S.WITHDRAWN: PublicOutcome.NOT_AVAILABLE,
}
_EFFECT_BY_STATE: dict[str, ReleaseEffect] = {
    S.APPROVED: ReleaseEffect.PERMIT,
    S.FULFILLED: ReleaseEffect.PERMIT,
    S.DENIED: ReleaseEffect.DENY,
    S.EXPIRED: ReleaseEffect.DENY,
    S.WITHDRAWN: ReleaseEffect.DENY,
}
SYSTEM_ACTOR = "system"


class RequestRefusedError(GatewayError):
    """An action on a request that the rules refuse; ``code`` says which rule."""

    code = GatewayErrorCode.REQUEST_ILLEGAL_TRANSITION


@dataclass(frozen=True)
class _Verdict:
    """What a preview decided, as the lifecycle needs it (read from its audit entry)."""

    preview_id: str
    effect: str
    policy_version: str
    approvers_required: int


def _username(user: Any) -> str:
    return str(user.get_username()) if user is not None else SYSTEM_ACTOR


def _policy_request(req: ReleaseRequest, *, fields: Sequence[str] | None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "recipient": req.as_recipient(),
        "on_behalf_of": req.on_behalf_of,
        "purpose": req.purpose,
        "case_number": req.case_number,
        "offense_statute": req.offense_statute,
        "narrative": req.narrative,
        "mode": req.mode,
        "documents": list(req.documents),
    }
    if fields is not None:
        request["fields"] = list(fields)
    return request


def _preview(
    req: ReleaseRequest,
    *,
    booking_numbers: Sequence[str],
    fields: Sequence[str] | None,
    reviewer: str | None,
) -> tuple[Release, _Verdict]:
    """Run the release path in preview mode and read back what it decided (never records)."""
    release = release_records(
        request=_policy_request(req, fields=fields),
        booking_numbers=list(booking_numbers),
        requested_by=req.requested_by_username,
        reviewed_by=reviewer,
        preview=True,
    )
    entry = AuditEntry.objects.get(public_id=release.release_id)
    effect = entry.effect
    if entry.error_code == "released_nothing":
        # The policy permits; only the bookings are missing or guarded. That must not show (CJ-09):
        # the request goes on like any other, and the clerk sees the true count.
        effect = ReleaseEffect.PERMIT
    approvers = int(entry.obligations.get("approvers_required") or 0)
    verdict = _Verdict(
        preview_id=entry.public_id,
        effect=str(effect),
        policy_version=entry.policy_version,
        approvers_required=approvers,
    )
    return release, verdict


def _audit(
    req: ReleaseRequest,
    *,
    action: AuditAction,
    actor: str,
    outcome: ReleaseEffect,
    detail: Mapping[str, Any],
    error_code: str = "",
) -> None:
    audit_event_record(
        action=action,
        actor=actor,
        outcome=outcome,
        recipient=req.as_recipient(),
        on_behalf_of=req.on_behalf_of,
        purpose=req.purpose,
        case_number=req.case_number,
        subject_refs=[f"request#{req.pk}"],
        detail={"request": req.public_id, **detail},
        policy_version=req.policy_version,
        error_code=error_code,
    )


def _transition(
    req: ReleaseRequest,
    *,
    actor: Any,
    to_state: str,
    reason_code: str,
    reason_text: str = "",
    verdict: _Verdict | None = None,
) -> RequestTransition:
    """Move ``req`` (locked by the caller) to ``to_state``, append the step and audit it."""
    from_state = req.state
    if to_state not in TRANSITIONS.get(from_state, frozenset()):
        raise RequestRefusedError(f"a request cannot go from {from_state} to {to_state}")
    req.state = to_state
    if verdict is not None:
        req.policy_version = verdict.policy_version
        req.latest_preview_id = verdict.preview_id
    req.outcome = _OUTCOME_BY_STATE.get(to_state, req.outcome)
    req.save()
    step = RequestTransition.objects.create(
        request=req,
        actor=actor,
        actor_username=_username(actor),
        from_state=from_state,
        to_state=to_state,
        reason_code=reason_code,
        reason_text=reason_text,
        policy_version=req.policy_version,
        effect=verdict.effect if verdict else "",
        preview_id=verdict.preview_id if verdict else "",
    )
    _audit(
        req,
        action=AuditAction.REQUEST_TRANSITION,
        actor=_username(actor),
        outcome=_EFFECT_BY_STATE.get(to_state, ReleaseEffect.REVIEW),
        # The clerk's free text stays on the transition: it may name people, the log must not.
        detail={"from_state": from_state, "to_state": to_state, "reason_code": reason_code},
    )
    return step


def _refuse(req: ReleaseRequest, *, actor: Any, to_state: str, error: RequestRefusedError) -> None:
    """Record a refused attempt (nothing changes); the caller raises ``error`` after its commit."""
    RequestTransition.objects.create(
        request=req,
        actor=actor,
        actor_username=_username(actor),
        from_state=req.state,
        to_state=to_state,
        reason_code="refused",
        policy_version=req.policy_version,
        refused_code=str(error.code),
    )
    _audit(
        req,
        action=AuditAction.REQUEST_REFUSED,
        actor=_username(actor),
        outcome=ReleaseEffect.DENY,
        detail={"from_state": req.state, "to_state": to_state},
        error_code=str(error.code),
    )


def _refusal(code: GatewayErrorCode, message: str) -> RequestRefusedError:
    return RequestRefusedError(message, code=code)


def _illegal(req: ReleaseRequest, to_state: str) -> RequestRefusedError | None:
    if to_state in TRANSITIONS.get(req.state, frozenset()):
        return None
    return _refusal(
        GatewayErrorCode.REQUEST_ILLEGAL_TRANSITION,
        f"a request cannot go from {req.state} to {to_state}",
    )


# --- submission -----------------------------------------------------------------------------------


def request_submit(**kwargs: Any) -> ReleaseRequest:
    """Create a request and let the policy decide on it now (``request_create``, ``request_decide``).

    Takes ``request_create``'s arguments. Must not be called inside a transaction (the release path
    is durable).
    """
    req = request_create(**kwargs)
    return request_decide(request_id=req.public_id)


def request_create(
    *,
    recipient: Mapping[str, str],
    requested_by: Any,
    purpose: str,
    booking_numbers: Sequence[str],
    on_behalf_of: Mapping[str, Any] | None = None,
    case_number: str = "",
    offense_statute: str = "",
    narrative: str = "",
    mode: str = "single",
    documents: Sequence[Mapping[str, Any]] = (),
    fields: Sequence[str] | None = None,
    source: RequestSource = RequestSource.API,
    now: datetime | None = None,
) -> ReleaseRequest:
    """Store a request as ``submitted``; ``request_decide`` (at once, or the worker) takes it on.

    ``recipient`` comes from the account (API) or the clerk (phone, paper), never from a request body.
    """
    now = now or timezone.now()
    with transaction.atomic():
        req = ReleaseRequest.objects.create(
            recipient_type=str(recipient.get("type") or ""),
            recipient_name=str(recipient.get("name") or ""),
            recipient_ori=str(recipient.get("ori") or ""),
            requested_by=requested_by,
            requested_by_username=_username(requested_by),
            on_behalf_of=dict(on_behalf_of) if on_behalf_of else None,
            purpose=purpose,
            case_number=case_number,
            offense_statute=offense_statute,
            narrative=narrative,
            mode=mode,
            documents=[dict(doc) for doc in documents],
            booking_numbers=[str(n) for n in booking_numbers],
            fields=list(fields) if fields is not None else None,
            source=source,
            expires_at=now + timedelta(days=settings.REQUEST_PENDING_DAYS),
        )
        RequestTransition.objects.create(
            request=req,
            actor=requested_by,
            actor_username=req.requested_by_username,
            to_state=S.SUBMITTED,
            reason_code=f"submitted_{source}",
        )
        _audit(
            req,
            action=AuditAction.REQUEST_TRANSITION,
            actor=req.requested_by_username,
            outcome=ReleaseEffect.REVIEW,
            detail={"from_state": "", "to_state": S.SUBMITTED, "source": str(source)},
        )
    return req


def request_decide(*, request_id: str) -> ReleaseRequest:
    """The policy's decision on a submitted request: to a clerk, or denied. Idempotent.

    What follows depends only on the request (recipient, purpose, case, documents), never on whether
    its bookings exist or are sealed: a permit with nothing releasable goes to the clerk like any
    other (CJ-09). Must not be called inside a transaction (the release path is durable).
    """
    req = ReleaseRequest.objects.get(public_id=request_id)
    if req.state != S.SUBMITTED:
        return req
    _, verdict = _preview(
        req, booking_numbers=req.booking_numbers, fields=req.fields, reviewer=None
    )
    with transaction.atomic():
        req = ReleaseRequest.objects.select_for_update().get(pk=req.pk)
        if req.state != S.SUBMITTED:  # withdrawn or expired meanwhile
            return req
        if verdict.effect == ReleaseEffect.DENY:
            _transition(
                req, actor=None, to_state=S.DENIED, reason_code="policy_deny", verdict=verdict
            )
        else:
            req.approvals_required = max(1, verdict.approvers_required)
            _transition(
                req,
                actor=None,
                to_state=S.AWAITING_CLERK,
                reason_code=f"policy_{verdict.effect}",
                verdict=verdict,
            )
    return req


# --- approval and denial --------------------------------------------------------------------------


def _narrowed(
    allowed: Sequence[str] | None, asked: Sequence[str] | None, what: str
) -> list[str] | None:
    """``asked`` if it only narrows ``allowed`` (None: no narrowing); a widening is refused."""
    if asked is None:
        return list(allowed) if allowed is not None else None
    asked = [str(a) for a in asked]
    if not asked:
        raise _refusal(
            GatewayErrorCode.REQUEST_WIDENED, f"an approval must keep at least one {what}"
        )
    if allowed is not None and not set(asked) <= set(allowed):
        raise _refusal(
            GatewayErrorCode.REQUEST_WIDENED, f"an approval can only drop {what}s, never add them"
        )
    return asked


def _current_bookings(req: ReleaseRequest) -> list[str]:
    approved = req.approved_booking_numbers
    return list(approved) if approved is not None else list(req.booking_numbers)


def _current_fields(req: ReleaseRequest) -> list[str] | None:
    approved = req.approved_fields
    return list(approved) if approved is not None else req.fields


def _same_person(user: Any, user_id: int | None, username: str) -> bool:
    """The same account, or the same name (an account re-created under the old name is the same person)."""
    if user_id is not None and user.pk == user_id:
        return True
    return bool(username) and _username(user).strip().casefold() == username.strip().casefold()


def _first_approver(req: ReleaseRequest) -> RequestTransition | None:
    return (
        req.transitions.filter(to_state=S.AWAITING_SECOND_APPROVAL, refused_code="")
        .order_by("-at", "-id")
        .first()
    )


def _approval_refusal(
    req: ReleaseRequest, *, user: Any, to_state: str
) -> RequestRefusedError | None:
    """Why ``user`` may not take this decision now, or None. Checked on the locked row.

    A denial needs only a clerk: refusing one's own (phone or paper) request widens nothing.
    """
    illegal = _illegal(req, to_state)
    if illegal is not None:
        return illegal
    if not user_is_clerk(user=user):
        return _refusal(GatewayErrorCode.REQUEST_NOT_CLERK, "only a clerk decides requests")
    if to_state == S.DENIED:
        return None
    if _same_person(user, req.requested_by_id, req.requested_by_username):
        return _refusal(
            GatewayErrorCode.REQUEST_SELF_APPROVAL, "nobody decides a request they submitted"
        )
    first = _first_approver(req) if req.state == S.AWAITING_SECOND_APPROVAL else None
    if first is not None and _same_person(user, first.actor_id, first.actor_username):
        return _refusal(
            GatewayErrorCode.REQUEST_SAME_APPROVER,
            "the second approval must come from a different clerk",
        )
    return None


def request_approve(
    *,
    user: Any,
    request_id: str,
    booking_numbers: Sequence[str] | None = None,
    fields: Sequence[str] | None = None,
    reason_code: str = "approved",
    reason_text: str = "",
) -> ReleaseRequest:
    """One clerk's approval, possibly narrowed to fewer bookings or fields; the policy decides again.

    The first of two required approvals moves the request to ``awaiting_second_approval``; the last
    to ``approved``. If the policy no longer permits (an agreement ended, a document withdrawn), the
    approval becomes a denial. Raises ``RequestRefusedError`` (recorded first) when a rule refuses it,
    and ``NotFoundError`` for a caller who is not clerk or compliance staff.
    """
    snapshot = access_request_for_staff(user=user, request_id=request_id)
    verdict: _Verdict | None = None
    widened: RequestRefusedError | None = None
    try:
        bookings = _narrowed(_current_bookings(snapshot), booking_numbers, "booking")
        chosen_fields = _narrowed(_current_fields(snapshot), fields, "field")
    except RequestRefusedError as exc:
        widened, bookings, chosen_fields = exc, [], None
    pending = snapshot.state in (S.AWAITING_CLERK, S.AWAITING_SECOND_APPROVAL)
    if (
        widened is None
        and pending
        and _approval_refusal(snapshot, user=user, to_state=S.APPROVED) is None
    ):
        _, verdict = _preview(
            snapshot, booking_numbers=bookings or [], fields=chosen_fields, reviewer=_username(user)
        )
    with transaction.atomic():
        req = access_request_for_staff(user=user, request_id=request_id, for_update=True)
        target = S.APPROVED
        if req.state == S.AWAITING_CLERK and req.approvals_required > 1:
            target = S.AWAITING_SECOND_APPROVAL
        refusal = _approval_refusal(req, user=user, to_state=target) or widened
        if refusal is None and (
            _current_bookings(req) != _current_bookings(snapshot)
            or _current_fields(req) != _current_fields(snapshot)
            or verdict is None
        ):
            # Another clerk narrowed it meanwhile: this approval was decided on a different request.
            refusal = _refusal(
                GatewayErrorCode.REQUEST_ILLEGAL_TRANSITION, "the request changed; look again"
            )
        if refusal is not None:
            _refuse(req, actor=user, to_state=target, error=refusal)
        elif verdict is not None and verdict.effect == ReleaseEffect.DENY:
            _transition(
                req,
                actor=user,
                to_state=S.DENIED,
                reason_code="policy_deny_at_approval",
                reason_text=reason_text,
                verdict=verdict,
            )
        else:
            req.approved_booking_numbers = bookings
            req.approved_fields = chosen_fields
            _transition(
                req,
                actor=user,
                to_state=target,
                reason_code=reason_code,
                reason_text=reason_text,
                verdict=verdict,
            )
    if refusal is not None:
        raise refusal
    return req


def request_deny(
    *, user: Any, request_id: str, reason_code: str, reason_text: str = ""
) -> ReleaseRequest:
    """One clerk's denial, which ends the request whatever other approvals it had."""
    with transaction.atomic():
        req = access_request_for_staff(user=user, request_id=request_id, for_update=True)
        refusal = _approval_refusal(req, user=user, to_state=S.DENIED)
        if refusal is None:
            _transition(
                req,
                actor=user,
                to_state=S.DENIED,
                reason_code=reason_code or "denied",
                reason_text=reason_text,
            )
        else:
            _refuse(req, actor=user, to_state=S.DENIED, error=refusal)
    if refusal is not None:
        raise refusal
    return req


def request_withdraw(*, user: Any, request_id: str) -> ReleaseRequest:
    """The recipient takes back a request nobody has decided yet."""
    with transaction.atomic():
        req = access_request_for_recipient(user=user, request_id=request_id, for_update=True)
        refusal = _illegal(req, S.WITHDRAWN)
        if refusal is None:
            _transition(req, actor=user, to_state=S.WITHDRAWN, reason_code="withdrawn")
        else:
            _refuse(req, actor=user, to_state=S.WITHDRAWN, error=refusal)
    if refusal is not None:
        raise refusal
    return req


def requests_expire(*, now: datetime) -> int:
    """Expire every pending request whose time is up; return how many. Safe to run concurrently."""
    due = ReleaseRequest.objects.filter(state__in=PENDING_STATES, expires_at__lte=now)
    expired = 0
    for pk in due.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            req = (
                ReleaseRequest.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, state__in=PENDING_STATES, expires_at__lte=now)
                .first()
            )
            if req is None:  # decided or being decided meanwhile
                continue
            _transition(req, actor=None, to_state=S.EXPIRED, reason_code="expired")
            expired += 1
    return expired


# --- preview and fulfilment -----------------------------------------------------------------------


def request_preview(*, user: Any, request_id: str) -> Release:
    """Exactly what would leave now, for the clerk's eyes (the release path's preview; audited)."""
    req = access_request_for_staff(user=user, request_id=request_id)
    release, verdict = _preview(
        req,
        booking_numbers=_current_bookings(req),
        fields=_current_fields(req),
        reviewer=_username(user),
    )
    ReleaseRequest.objects.filter(pk=req.pk).update(latest_preview_id=verdict.preview_id)
    return release


def _last_approver(req: ReleaseRequest) -> str:
    step = (
        req.transitions.filter(to_state=S.APPROVED, refused_code="").order_by("-at", "-id").first()
    )
    return step.actor_username if step is not None else ""


def request_fulfil(*, user: Any, request_id: str) -> Release:
    """The requester's pull of an approved request: the state change commits, then the release runs.

    The release path decides once more, on the bookings and fields the approvals kept, so a booking
    sealed since approval never leaves. A second pull of the same request is refused (and recorded).
    """
    with transaction.atomic():
        req = access_request_for_recipient(user=user, request_id=request_id, for_update=True)
        refusal = _illegal(req, S.FULFILLED)
        if refusal is None:
            _transition(req, actor=user, to_state=S.FULFILLED, reason_code="fulfilled")
        else:
            _refuse(req, actor=user, to_state=S.FULFILLED, error=refusal)
    if refusal is not None:
        raise refusal
    release = release_records(
        request=_policy_request(req, fields=_current_fields(req)),
        booking_numbers=_current_bookings(req),
        requested_by=req.requested_by_username,
        reviewed_by=_last_approver(req),
    )
    outcome = (
        PublicOutcome.RELEASED
        if release.status is ReleaseStatus.RELEASED
        else PublicOutcome.NOT_AVAILABLE
    )
    ReleaseRequest.objects.filter(pk=req.pk).update(
        outcome=outcome, release_public_id=release.release_id
    )
    req.refresh_from_db()
    return release
