"""Legal process attached to requests, and who verified it (IM-01: two people before it counts)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from policies.types import DocumentKind

__all__ = ["DocumentVerification", "LegalDocument"]

DOCUMENT_KIND_LABELS = {
    DocumentKind.JUDICIAL_WARRANT: "Judicial warrant",
    DocumentKind.COURT_ORDER: "Court order",
    DocumentKind.SUBPOENA: "Subpoena (court-issued)",
    DocumentKind.ADMINISTRATIVE_WARRANT: "Administrative warrant",
    DocumentKind.DETAINER: "Detainer",
    DocumentKind.ADMINISTRATIVE_SUBPOENA: "Administrative subpoena",
    DocumentKind.I_200: "I-200 Warrant for Arrest of Alien (administrative)",
    DocumentKind.I_203: "I-203 Order to Detain or Release Alien (administrative)",
    DocumentKind.I_205: "I-205 Warrant of Removal/Deportation (administrative)",
    DocumentKind.I_286: "I-286 Notice of Custody Determination (administrative)",
    DocumentKind.I_247A: "I-247A Immigration Detainer (administrative)",
    DocumentKind.I_247D: "I-247D Request for Voluntary Action (administrative)",
    DocumentKind.I_247N: "I-247N Request for Voluntary Notification (administrative)",
    DocumentKind.OTHER: "Other",
}


class LegalDocument(models.Model):
    """An uploaded warrant, order, subpoena or immigration paper, kept by its SHA-256.

    ``refusal_code`` is set at upload for an administrative paper (IM-01 to IM-04): staff see at once
    that it can never be a basis for release. ``request_ref`` is the request it was filed with, as
    the request lifecycle names it (text, so this table does not depend on that one).
    """

    kind = models.CharField(
        max_length=30, choices=[(str(k), v) for k, v in DOCUMENT_KIND_LABELS.items()]
    )
    stored_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    pages = models.PositiveIntegerField()
    signed_by_judge = models.BooleanField(default=False)
    issuing_court = models.CharField(max_length=200, blank=True)
    docket_number = models.CharField(max_length=80, blank=True)
    names_bookings = models.JSONField(null=True, blank=True)
    names_fields = models.JSONField(null=True, blank=True)
    request_ref = models.CharField(max_length=64, blank=True, db_index=True)
    refusal_code = models.CharField(max_length=60, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by_name = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"legal document #{self.pk}"


class DocumentVerification(models.Model):
    """One staff member's check of a document against its paper; two different ones make it count."""

    document = models.ForeignKey(
        LegalDocument, on_delete=models.CASCADE, related_name="verifications"
    )
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    verifier_name = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "verifier_name"], name="one_verification_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"verification #{self.pk} of document #{self.document_id}"
