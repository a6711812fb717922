"""The jail-records model: people, bookings, charges and mugshots, as jails actually record them.

Citizenship, immigration status and place of birth are deliberately absent (rules.md IM-05, IM-06, IM-09):
what is never stored can never be released. Importers drop such columns and say so in their report.

Release-governing status (juvenile, sealed, expunged, removal under Wis. Stat. 165.84) lives on the booking,
because orders are made per arrest and a person can have one sealed booking and one public one.
"""

from __future__ import annotations

from django.db import models

from gateway.records.fields import KeyField


class Sex(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    OTHER = "X", "Other"
    UNKNOWN = "U", "Unknown"


class ChargeLevel(models.TextChoices):
    FELONY = "felony", "Felony"
    MISDEMEANOR = "misdemeanor", "Misdemeanor"
    CIVIL_HOLD = "civil_hold", "Civil / hold"
    UNKNOWN = "unknown", "Unknown"


class Disposition(models.TextChoices):
    PENDING = "pending", "Pending"
    CONVICTED = "convicted", "Convicted"
    DISMISSED = "dismissed", "Dismissed"
    ACQUITTED = "acquitted", "Acquitted"
    UNKNOWN = "unknown", "Unknown"


class CustodyStatus(models.TextChoices):
    IN_CUSTODY = "in_custody", "In custody"
    RELEASED = "released", "Released"
    UNKNOWN = "unknown", "Unknown"


class Pose(models.TextChoices):
    FRONTAL = "frontal", "Frontal"
    LEFT_PROFILE = "left_profile", "Left profile"
    RIGHT_PROFILE = "right_profile", "Right profile"
    UNKNOWN = "unknown", "Unknown"


class Person(models.Model):
    """A person as the jail knows them, keyed by the source system's person key.

    Date of birth is often unpublished: `age` with `age_recorded_on` keeps what the roster did say.
    """

    source = KeyField(max_length=40)
    source_key = KeyField(max_length=200)
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    suffix = models.CharField(max_length=20, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    age_recorded_on = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    race = models.CharField(max_length=40, blank=True)
    ethnicity = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=300, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    state_id = models.CharField(max_length=40, blank=True)
    fbi_number = models.CharField(max_length=40, blank=True)
    drivers_license = models.CharField(max_length=40, blank=True)
    ssn = models.CharField(max_length=11, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_key"], name="person_source_key_unique"
            ),
        ]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        # The id only: __str__ reaches logs, the admin and error messages, none of them a release.
        return f"Person #{self.pk}"


class Booking(models.Model):
    """One booking (arrest intake) with the status that governs whether it may ever be released."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="bookings")
    source = KeyField(max_length=40)
    source_key = KeyField(max_length=200)
    booking_number = KeyField(max_length=60)
    booked_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    arresting_agency = models.CharField(max_length=200, blank=True)
    booking_agency = models.CharField(max_length=200, blank=True)
    custody_status = models.CharField(
        max_length=20, choices=CustodyStatus.choices, default=CustodyStatus.UNKNOWN
    )
    housing = models.CharField(max_length=200, blank=True)
    # Release-governing status (rules.md WI-01..WI-03, CJ-08, FR-17): each with its date and order reference.
    juvenile = models.BooleanField(default=False)
    sealed_on = models.DateField(null=True, blank=True)
    sealed_order = models.CharField(max_length=100, blank=True)
    expunged_on = models.DateField(null=True, blank=True)
    expunged_order = models.CharField(max_length=100, blank=True)
    removed_on = models.DateField(null=True, blank=True)
    removal_order = models.CharField(max_length=100, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_key"], name="booking_source_key_unique"
            ),
        ]
        indexes = [models.Index(fields=["booking_number"]), models.Index(fields=["booked_at"])]

    def __str__(self) -> str:
        return f"Booking #{self.pk}"

    @property
    def sealed(self) -> bool:
        return self.sealed_on is not None or bool(self.sealed_order)

    @property
    def expunged(self) -> bool:
        return self.expunged_on is not None or bool(self.expunged_order)

    @property
    def removed(self) -> bool:
        return self.removed_on is not None or bool(self.removal_order)


class Charge(models.Model):
    """One charge on a booking, in the order the jail listed it."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="charges")
    sequence = models.PositiveSmallIntegerField(default=1)
    statute = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=300, blank=True)
    level = models.CharField(
        max_length=20, choices=ChargeLevel.choices, default=ChargeLevel.UNKNOWN
    )
    disposition = models.CharField(
        max_length=20, choices=Disposition.choices, default=Disposition.UNKNOWN
    )
    bond_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    bond_type = models.CharField(max_length=60, blank=True)
    case_number = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "sequence"], name="charge_booking_sequence_unique"
            ),
        ]
        ordering = ["booking_id", "sequence"]

    def __str__(self) -> str:
        return f"Charge #{self.pk}"


def mugshot_upload_to(instance: Mugshot, filename: str) -> str:
    """Store by content hash so the same image is kept once and a file name never matters."""
    return f"mugshots/{instance.sha256[:2]}/{instance.sha256}"


class Mugshot(models.Model):
    """A booking photo, decoded and validated before it was stored; the bytes stay in the county."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="mugshots")
    image = models.FileField(upload_to=mugshot_upload_to, max_length=200)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    image_format = models.CharField(max_length=10)
    pose = models.CharField(max_length=20, choices=Pose.choices, default=Pose.UNKNOWN)
    captured_at = models.DateTimeField(null=True, blank=True)
    synthetic = models.BooleanField(
        default=False, help_text="A placeholder or public SAMPLE image, never a real mugshot."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "sha256"], name="mugshot_booking_sha256_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"Mugshot #{self.pk}"
