"""Which recipient an account speaks for.

A vendor or agency account may only ask as the recipient it was registered as: the API takes the recipient
from this row, never from the request body, so an account cannot pose as a court or the county.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from policies.types import RecipientType

__all__ = [
    "RECIPIENT_TYPE_LABELS",
    "QualificationKind",
    "RecipientAccount",
    "RecipientType",
    "StaffQualification",
]

# Labels for the policy engine's recipient types (policies.types.RecipientType is the one list).
RECIPIENT_TYPE_LABELS = {
    RecipientType.COUNTY: "County",
    RecipientType.LOCAL_LE: "Local law enforcement",
    RecipientType.STATE_LE: "State law enforcement",
    RecipientType.FEDERAL_LE: "Federal law enforcement",
    RecipientType.FEDERAL_IMMIGRATION: "Federal immigration",
    RecipientType.VENDOR: "Vendor",
    RecipientType.COURT: "Court",
    RecipientType.DEFENSE: "Defense",
    RecipientType.PUBLIC: "Public",
}


class RecipientAccount(models.Model):
    """The recipient identity (type, name, ORI) bound to one API account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recipient_account"
    )
    recipient_type = models.CharField(
        max_length=30, choices=[(str(t), RECIPIENT_TYPE_LABELS[t]) for t in RecipientType]
    )
    name = models.CharField(max_length=200)
    ori = models.CharField(
        max_length=20, blank=True, help_text="NCIC Originating Agency Identifier"
    )
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.recipient_type})"

    def as_recipient(self) -> dict[str, str]:
        return {"type": self.recipient_type, "name": self.name, "ori": self.ori}


class QualificationKind(models.TextChoices):
    """What CJ-06 asks of everyone who can reach criminal justice information."""

    TRAINING = "training", "Training for the role"
    BACKGROUND_CHECK = "background_check", "Background check"


class StaffQualification(models.Model):
    """A staff member's training or background check, valid between two dates (rules.md CJ-06).

    A training record belongs to one role (the clerk's course does not qualify an examiner). A background
    check may name a role or leave it blank: blank means it covers every role its holder has.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_qualifications"
    )
    role = models.CharField(max_length=30, blank=True)
    kind = models.CharField(max_length=30, choices=QualificationKind.choices)
    description = models.CharField(max_length=200, blank=True)
    completed_on = models.DateField()
    valid_until = models.DateField()
    recorded_by = models.CharField(
        max_length=150, blank=True
    )  # text: survives the recorder's deletion
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("completed_on")),
                name="staff_qualification_valid_after_completed",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="training") | ~models.Q(role=""),
                name="staff_qualification_training_names_a_role",
            ),
        ]
        indexes = [models.Index(fields=["user", "valid_until"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.role or 'any role'} for {self.user_id} until {self.valid_until}"
