"""Models, split by sub-domain."""

from gateway.audit.models import AuditEntry, ReleaseEffect
from gateway.documents.models import DocumentVerification, LegalDocument
from gateway.faces.models import *  # noqa: F403  (face gallery and match requests)
from gateway.recipients.models import (
    AgreementRecord,
    ImmigrationCertification,
    QualificationKind,
    RecipientAccount,
    RecipientOrganisation,
    RecipientType,
    RegistryChange,
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
from gateway.requests.models import ReleaseRequest, RequestTransition

__all__ = [
    "AgreementRecord",
    "AuditEntry",
    "Booking",
    "Charge",
    "ChargeLevel",
    "CustodyStatus",
    "Disposition",
    "DocumentVerification",
    "FieldSensitivity",
    "ImmigrationCertification",
    "ImportRejection",
    "ImportRun",
    "ImportStatus",
    "LegalDocument",
    "Mugshot",
    "Person",
    "Pose",
    "QualificationKind",
    "RecipientAccount",
    "RecipientOrganisation",
    "RecipientType",
    "RegistryChange",
    "ReleaseEffect",
    "ReleaseRequest",
    "RequestTransition",
    "SensitivityTag",
    "Sex",
    "StaffQualification",
]
