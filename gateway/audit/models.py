"""The audit of every release decision.

This is a plain table for now; the tamper-evident log will hang off the same write in the release path.
A row is written inside the release transaction for every decision, permit or deny.
"""

from __future__ import annotations

from django.db import models


class ReleaseEffect(models.TextChoices):
    PERMIT = "permit", "Permit"
    DENY = "deny", "Deny"
    REVIEW = "review", "Review by a person"


class AuditEntry(models.Model):
    """One decision of the release path: who asked, for whom, for what, and what came of it."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=40, default="release")
    recipient_type = models.CharField(max_length=30)
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_ori = models.CharField(max_length=20, blank=True)
    on_behalf_of = models.JSONField(null=True, blank=True)
    purpose = models.CharField(max_length=100, blank=True)
    case_number = models.CharField(max_length=60, blank=True)
    effect = models.CharField(max_length=10, choices=ReleaseEffect.choices)
    reasons = models.JSONField(default=list)
    obligations = models.JSONField(default=dict)
    excluded = models.JSONField(default=dict)
    requested_count = models.PositiveIntegerField(default=0)
    released_count = models.PositiveIntegerField(default=0)
    released_fields = models.JSONField(default=list)
    booking_numbers = models.JSONField(default=list)
    policy_version = models.CharField(max_length=80, blank=True)
    error_code = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} -> {self.recipient_type}: {self.effect}"
