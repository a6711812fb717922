"""Models, split by sub-domain."""

from gateway.models.faces import *  # noqa: F403  (face gallery and match requests)
from gateway.models.imports import ImportRejection, ImportRun, ImportStatus
from gateway.models.recipients import RecipientAccount, RecipientType
from gateway.models.records import (
    Booking,
    Charge,
    ChargeLevel,
    CustodyStatus,
    Disposition,
    Mugshot,
    Person,
    Pose,
    Sex,
)
from gateway.models.releases import AuditEntry, ReleaseEffect
from gateway.models.sensitivity import FieldSensitivity, SensitivityTag

__all__ = [
    "AuditEntry",
    "Booking",
    "Charge",
    "ChargeLevel",
    "CustodyStatus",
    "Disposition",
    "FieldSensitivity",
    "ImportRejection",
    "ImportRun",
    "ImportStatus",
    "Mugshot",
    "Person",
    "Pose",
    "RecipientAccount",
    "RecipientType",
    "ReleaseEffect",
    "SensitivityTag",
    "Sex",
]
