"""The audit entry: one row for every decision, release, refusal, review and sign-in.

An entry holds no personal data. People and bookings appear only as keyed hashes and internal ids
(``subject_refs``), so a sealing order can delete a record while the log stays whole, and the case number
is kept only as a keyed hash. The tamper-evident log hangs off the one writer,
``gateway.audit.services.audit_event_record``, in the same transaction as the event it records.
"""

from __future__ import annotations

import secrets

from django.db import models

__all__ = ["AuditAction", "AuditEntry", "ReleaseEffect", "public_id_new"]


class ReleaseEffect(models.TextChoices):
    """The outcome of an audited event (for a sign-in: permit is success, deny is failure)."""

    PERMIT = "permit", "Permit"
    DENY = "deny", "Deny"
    REVIEW = "review", "Review by a person"


class AuditAction(models.TextChoices):
    """Every kind of event the gateway audits; a free-text action is refused by the writer."""

    RELEASE = "release", "Release decision"
    RELEASE_PREVIEW = "release_preview", "Release preview (staff only, nothing released)"
    REQUEST_TRANSITION = "request_transition", "Request state change"
    REQUEST_REFUSED = "request_refused", "Request action refused"
    REQUEST_VIEW = "request_view", "Request read by staff"
    STAFF_LOOKUP = "staff_lookup", "Bookings looked up by name and date of birth (staff)"
    TOKEN_REVEAL = "token_reveal", "Token reveal"
    FACE_SEARCH = "face_search", "Face search"
    FACE_REVIEW = "face_review", "Face examiner review"
    FACE_CANDIDATES_VIEW = "face_candidates_view", "Candidate list viewed"
    FACE_DISCOVERY = "face_discovery", "Discovery bundle read"
    API_REFUSED = "api_refused", "API call refused"
    SIGN_IN = "sign_in", "Sign-in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
    SIGN_OUT = "sign_out", "Sign-out"
    ORGANISATION_CREATE = "organisation_create", "Recipient organisation registered"
    ORGANISATION_ACCOUNT_LINK = "organisation_account_link", "Account linked to an organisation"
    ORGANISATION_SUSPEND = "organisation_suspend", "Recipient organisation suspended"
    AGREEMENT_RECORD_PROPOSE = "agreement_record_propose", "Signed agreement proposed"
    REINSTATE_PROPOSE = "reinstate_propose", "Reinstatement proposed"
    CERTIFICATION_ADD = "certification_add", "No-immigration-use certification recorded"
    REGISTRY_CHANGE_APPROVE = "registry_change_approve", "Registry change approved"
    REGISTRY_CHANGE_REFUSE = "registry_change_refuse", "Registry change refused"
    DOCUMENT_UPLOAD = "document_upload", "Legal document uploaded"
    DOCUMENT_VERIFY = "document_verify", "Legal document verified"
    MFA_ENROLLED = "mfa_enrolled", "Second factor enrolled"
    ACCOUNT_LOCKED = "account_locked", "Account locked after failed sign-ins"


def public_id_new() -> str:
    """An identifier to show outside the county: random, so its gaps reveal no volume (issue 8.11)."""
    return f"rel_{secrets.token_urlsafe(15)}"


class AuditEntry(models.Model):
    """One audited event: who acted, for which recipient and purpose, what came of it, and why."""

    public_id = models.CharField(max_length=40, unique=True, default=public_id_new, editable=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    actor = models.CharField(max_length=150)
    recipient_type = models.CharField(max_length=30)
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_ori = models.CharField(max_length=20, blank=True)
    on_behalf_of = models.JSONField(null=True, blank=True)
    purpose = models.CharField(max_length=100, blank=True)
    case_ref = models.CharField(
        max_length=80, blank=True, help_text="Keyed hash of the case number"
    )
    effect = models.CharField(max_length=10, choices=ReleaseEffect.choices)
    reasons = models.JSONField(default=list, blank=True)
    obligations = models.JSONField(default=dict, blank=True)
    excluded = models.JSONField(default=dict, blank=True)
    requested_count = models.PositiveIntegerField(default=0)
    released_count = models.PositiveIntegerField(default=0)
    released_fields = models.JSONField(default=list, blank=True)
    subject_refs = models.JSONField(
        default=list, blank=True, help_text="Keyed hashes and internal ids of people and bookings"
    )
    policy_version = models.CharField(max_length=80, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    request_id = models.CharField(max_length=40, blank=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"audit {self.public_id}"
