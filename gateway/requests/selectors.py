"""Reads of the request lifecycle for county staff: the clerk's queue and one request's page.

Staff see the true counts (issue 9): the queue shows every request, whatever the requester was told.
Neither read serializes a person or booking: the records a clerk sees come only from the release path's
preview (``gateway.requests.services.request_preview``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from gateway.audit.models import AuditAction, AuditEntry, ReleaseEffect
from gateway.audit.services import audit_event_record
from gateway.requests.access import access_request_for_staff
from gateway.requests.models import ReleaseRequest, RequestTransition

__all__ = [
    "QUEUE_ORDERS",
    "QueuePage",
    "RequestDetail",
    "request_detail_for_staff",
    "requests_queue",
]

QUEUE_ORDERS = frozenset(
    {"created_at", "-created_at", "expires_at", "-expires_at", "purpose", "-purpose", "state"}
)
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class QueuePage:
    rows: list[ReleaseRequest]
    total: int
    page: int
    per_page: int

    @property
    def has_more(self) -> bool:
        return self.page * self.per_page < self.total


@dataclass(frozen=True)
class RequestDetail:
    request: ReleaseRequest
    transitions: list[RequestTransition]
    latest_preview: AuditEntry | None  # counts, reasons and exclusions; never the records


def requests_queue(
    *,
    state: str | None = None,
    recipient: str | None = None,
    purpose: str | None = None,
    older_than: datetime | None = None,
    search: str = "",
    order: str = "-created_at",
    page: int = 1,
    per_page: int = 50,
) -> QueuePage:
    """One page of the clerk queue, in two queries whatever the number of rows (count and page).

    ``recipient`` matches the recipient's name or ORI; ``purpose`` covers sub-purposes; ``search`` looks
    in the public id, recipient, purpose and case number (never the booking numbers: the queue is
    not a way to ask whether a booking exists).
    """
    rows: QuerySet[ReleaseRequest] = ReleaseRequest.objects.all()
    if state:
        rows = rows.filter(state=state)
    if recipient:
        rows = rows.filter(Q(recipient_name__iexact=recipient) | Q(recipient_ori__iexact=recipient))
    if purpose:
        rows = rows.filter(Q(purpose=purpose) | Q(purpose__startswith=f"{purpose}."))
    if older_than is not None:
        rows = rows.filter(created_at__lt=older_than)
    text = search.strip()
    if text:
        rows = rows.filter(
            Q(public_id__iexact=text)
            | Q(recipient_name__icontains=text)
            | Q(purpose__icontains=text)
            | Q(case_number__iexact=text)
        )
    order = order if order in QUEUE_ORDERS else "-created_at"
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    total = rows.count()
    start = (page - 1) * per_page
    listed = list(rows.order_by(order, "-id").defer("narrative")[start : start + per_page])
    return QueuePage(rows=listed, total=total, page=page, per_page=per_page)


def request_detail_for_staff(*, user: Any, request_id: str) -> RequestDetail:
    """One request for a clerk or compliance officer, with its history; the read is audited (CJ-01)."""
    req = access_request_for_staff(user=user, request_id=request_id)
    audit_event_record(
        action=AuditAction.REQUEST_VIEW,
        actor=str(user.get_username()),
        outcome=ReleaseEffect.PERMIT,
        recipient=req.as_recipient(),
        purpose=req.purpose,
        subject_refs=[f"request#{req.pk}"],
        detail={"request": req.public_id},
    )
    preview = (
        AuditEntry.objects.filter(
            public_id=req.latest_preview_id, action=AuditAction.RELEASE_PREVIEW
        ).first()
        if req.latest_preview_id
        else None
    )
    return RequestDetail(
        request=req,
        transitions=list(req.transitions.order_by("at", "id")),
        latest_preview=preview,
    )
