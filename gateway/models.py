"""Models, split by sub-domain."""

from gateway.audit.models import AuditEntry, ReleaseEffect
from gateway.faces.models import *  # noqa: F403  (face gallery and match requests)
from gateway.recipients.models import (
    QualificationKind,
    RecipientAccount,
    RecipientType,
    StaffQualification,
)
from gateway.records.importing.models import ImportRejection, ImportRun, ImportStatus
from gateway.records.models import (
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
from gateway.records.sensitivity import FieldSensitivity, SensitivityTag

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
    "QualificationKind",
    "RecipientAccount",
    "RecipientType",
    "ReleaseEffect",
    "SensitivityTag",
    "Sex",
    "StaffQualification",
]
