"""Which recipient an account speaks for.

A vendor or agency account may only ask as the recipient it was registered as: the API takes the recipient
from this row, never from the request body, so an account cannot pose as a court or the county.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RecipientType(models.TextChoices):
    COUNTY = "county", "County"
    LOCAL_LE = "local_le", "Local law enforcement"
    STATE_LE = "state_le", "State law enforcement"
    FEDERAL_LE = "federal_le", "Federal law enforcement"
    FEDERAL_IMMIGRATION = "federal_immigration", "Federal immigration"
    VENDOR = "vendor", "Vendor"
    COURT = "court", "Court"
    DEFENSE = "defense", "Defense"
    PUBLIC = "public", "Public"


class RecipientAccount(models.Model):
    """The recipient identity (type, name, ORI) bound to one API account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recipient_account"
    )
    recipient_type = models.CharField(max_length=30, choices=RecipientType.choices)
    name = models.CharField(max_length=200)
    ori = models.CharField(
        max_length=20, blank=True, help_text="NCIC Originating Agency Identifier"
    )
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.recipient_type})"

    def as_recipient(self) -> dict[str, str]:
        return {"type": self.recipient_type, "name": self.name, "ori": self.ori}
