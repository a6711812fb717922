"""Which recipient an account speaks for.

A vendor or agency account may only ask as the recipient it was registered as: the API takes the recipient
from this row, never from the request body, so an account cannot pose as a court or the county.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from policies.types import RecipientType

__all__ = ["RECIPIENT_TYPE_LABELS", "RecipientAccount", "RecipientType"]

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
