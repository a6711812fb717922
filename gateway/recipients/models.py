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
    "AgreementRecord",
    "ImmigrationCertification",
    "QualificationKind",
    "RecipientAccount",
    "RecipientOrganisation",
    "RecipientType",
    "RegistryChange",
    "RegistryChangeKind",
    "RegistryChangeState",
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


_TYPE_CHOICES = [(str(t), RECIPIENT_TYPE_LABELS[t]) for t in RecipientType]


class RecipientOrganisation(models.Model):
    """An organisation the county shares with: several named accounts, never a shared login (CJ-04).

    ``suspended`` is the staff's own stop; expired agreements and certifications suspend it too
    (``gateway.recipients.selectors.recipient_standing``) without anyone touching this row.
    """

    recipient_type = models.CharField(max_length=30, choices=_TYPE_CHOICES)
    name = models.CharField(max_length=200)
    ori = models.CharField(
        max_length=20, blank=True, help_text="NCIC Originating Agency Identifier"
    )
    jurisdiction = models.CharField(max_length=200, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.CharField(max_length=200, blank=True)
    contact_phone = models.CharField(max_length=50, blank=True)
    contact_address = models.TextField(blank=True)
    suspended = models.BooleanField(default=False)
    suspended_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"organisation #{self.pk}"

    def as_recipient(self) -> dict[str, str]:
        return {"type": self.recipient_type, "name": self.name, "ori": self.ori}


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
    organisation = models.ForeignKey(
        RecipientOrganisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )

    def __str__(self) -> str:
        return f"{self.name} ({self.recipient_type})"

    def as_recipient(self) -> dict[str, str]:
        return {"type": self.recipient_type, "name": self.name, "ori": self.ori}


class AgreementRecord(models.Model):
    """The signed copy of an agreement of the county's policy files, for one organisation.

    The policy file stays the source of truth for what the agreement permits; this row says who
    signed, when it runs, and which bytes were signed (stored and hashed). Created only when a second
    staff member approves the ``RegistryChange`` that proposed it: it grants access.
    """

    organisation = models.ForeignKey(
        RecipientOrganisation, on_delete=models.PROTECT, related_name="agreements"
    )
    agreement_id = models.CharField(max_length=100)
    signed_by = models.CharField(max_length=200)
    starts_on = models.DateField()
    ends_on = models.DateField()
    document_name = models.CharField(max_length=200)
    document_sha256 = models.CharField(max_length=64)
    proposed_by = models.CharField(max_length=150)
    approved_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation_id", "agreement_id", "-ends_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="agreement_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"agreement record #{self.pk}"


class ImmigrationCertification(models.Model):
    """The yearly certification that the recipient will not use or pass on data for immigration
    enforcement (IM-03), with its signed document; when it lapses the recipient is suspended."""

    organisation = models.ForeignKey(
        RecipientOrganisation, on_delete=models.PROTECT, related_name="certifications"
    )
    signed_by = models.CharField(max_length=200)
    signer_title = models.CharField(max_length=200, blank=True)
    signed_on = models.DateField()
    valid_until = models.DateField()
    document_name = models.CharField(max_length=200)
    document_sha256 = models.CharField(max_length=64)
    recorded_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation_id", "-valid_until", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("signed_on")),
                name="certification_valid_after_signing",
            )
        ]

    def __str__(self) -> str:
        return f"certification #{self.pk}"


class RegistryChangeKind(models.TextChoices):
    """Changes that grant or widen access, so they wait for a second staff member."""

    AGREEMENT_RECORD_ADD = "agreement_record_add", "Add a signed agreement"
    ORGANISATION_REINSTATE = "organisation_reinstate", "Reinstate a suspended organisation"


class RegistryChangeState(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPLIED = "applied", "Approved and applied"
    REFUSED = "refused", "Refused"


class RegistryChange(models.Model):
    """A proposed change waiting for a second staff member; applied only by ``registry_change_approve``.

    Proposer and approver are kept as text too, so the record survives the deletion of either account.
    """

    kind = models.CharField(max_length=40, choices=RegistryChangeKind.choices)
    organisation = models.ForeignKey(
        RecipientOrganisation, on_delete=models.PROTECT, related_name="changes"
    )
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=20, choices=RegistryChangeState.choices, default=RegistryChangeState.PENDING
    )
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposer_name = models.CharField(max_length=150)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approver_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"registry change #{self.pk}"


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
