"""A recipient's request and its append-only history of transitions (issue 9).

The request keeps the recipient and the requester as text as well as a key (django-fsm lesson: a log must
not lose its actor when an account goes), and its public id is random (``req_…``), so a recipient cannot
read the county's volume from its own ids. ``booking_numbers`` are county-internal: the requester sent
them, but nothing about them is ever answered back except through the release path.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

__all__ = [
    "PublicOutcome",
    "ReleaseRequest",
    "RequestSource",
    "RequestState",
    "RequestTransition",
    "request_public_id_new",
]


class RequestState(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    AWAITING_CLERK = "awaiting_clerk", "Awaiting a clerk"
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval", "Awaiting a second approval"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    FULFILLED = "fulfilled", "Fulfilled"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


class RequestSource(models.TextChoices):
    API = "api", "API"
    CLERK_PHONE = "clerk_phone", "Entered by a clerk (phone)"
    CLERK_PAPER = "clerk_paper", "Entered by a clerk (paper)"


class PublicOutcome(models.TextChoices):
    """What the requester is told: the release path's uniform statuses, never a reason (CJ-09)."""

    RELEASED = "released", "Released"
    NOT_AVAILABLE = "not_available", "Not available"
    PENDING_REVIEW = "pending_review", "Pending review"


def request_public_id_new() -> str:
    return f"req_{secrets.token_urlsafe(15)}"


class ReleaseRequest(models.Model):
    """One request for bookings, from its submission to its end (fulfilled, denied, expired, withdrawn)."""

    public_id = models.CharField(
        max_length=40, unique=True, default=request_public_id_new, editable=False
    )
    recipient_type = models.CharField(max_length=30)
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_ori = models.CharField(max_length=20, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="release_requests"
    )
    requested_by_username = models.CharField(max_length=150)
    on_behalf_of = models.JSONField(null=True, blank=True)
    purpose = models.CharField(max_length=100)
    case_number = models.CharField(max_length=60, blank=True)
    offense_statute = models.CharField(max_length=100, blank=True)
    narrative = models.TextField(blank=True)
    mode = models.CharField(max_length=10, default="single")
    documents = models.JSONField(default=list, blank=True)
    booking_numbers = models.JSONField(default=list)
    fields = models.JSONField(null=True, blank=True)
    # What the approvals narrowed the request to (never wider than booking_numbers / fields).
    approved_booking_numbers = models.JSONField(null=True, blank=True)
    approved_fields = models.JSONField(null=True, blank=True)
    approvals_required = models.PositiveSmallIntegerField(default=1)
    source = models.CharField(
        max_length=20, choices=RequestSource.choices, default=RequestSource.API
    )
    state = models.CharField(
        max_length=30, choices=RequestState.choices, default=RequestState.SUBMITTED, db_index=True
    )
    policy_version = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    outcome = models.CharField(
        max_length=20, choices=PublicOutcome.choices, default=PublicOutcome.PENDING_REVIEW
    )
    release_public_id = models.CharField(max_length=40, blank=True)
    # The release_preview audit entry of the latest decision (submission, approval, a clerk's look).
    latest_preview_id = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "created_at"], name="request_state_created")]

    def __str__(self) -> str:
        return f"request {self.public_id}"

    def as_recipient(self) -> dict[str, str]:
        return {"type": self.recipient_type, "name": self.recipient_name, "ori": self.recipient_ori}


class RequestTransition(models.Model):
    """One step of a request, or one refused attempt at a step (``refused_code`` set): never edited."""

    request = models.ForeignKey(
        ReleaseRequest, on_delete=models.PROTECT, related_name="transitions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30)
    reason_code = models.CharField(max_length=60, blank=True)
    reason_text = models.TextField(blank=True)
    policy_version = models.CharField(max_length=80, blank=True)
    effect = models.CharField(max_length=10, blank=True, help_text="The policy's effect then")
    refused_code = models.CharField(
        max_length=60, blank=True, help_text="Set when the attempt was refused (nothing changed)"
    )
    preview_id = models.CharField(
        max_length=40, blank=True, help_text="The release_preview audit entry decided on"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"transition {self.pk} of request {self.request_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("request transitions are append-only")
        super().save(*args, **kwargs)
