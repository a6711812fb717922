"""Models, split by sub-domain."""

from gateway.audit.models import AuditEntry, ReleaseEffect
from gateway.faces.models import *  # noqa: F403  (face gallery and match requests)
from gateway.recipients.models import RecipientAccount, RecipientType
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
from gateway.requests.models import ReleaseRequest, RequestTransition

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
    "ReleaseRequest",
    "RequestTransition",
    "SensitivityTag",
    "Sex",
]
