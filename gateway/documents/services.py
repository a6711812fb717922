"""Writes of legal documents: upload (checked, hashed, stored, classified) and two-person verification."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from gateway.audit.models import AuditAction, ReleaseEffect
from gateway.audit.services import audit_event_record, subject_ref
from gateway.documents.access import access_document_by_id, staff_actor
from gateway.documents.files import DocumentRejectedError, document_file_store
from gateway.documents.models import DocumentVerification, LegalDocument
from gateway.exceptions import GatewayError, GatewayErrorCode
from policies.services import document_refusal
from policies.types import DocumentKind

__all__ = ["DocumentVerifyRefusedError", "document_upload", "document_verify"]


class DocumentVerifyRefusedError(GatewayError):
    code = GatewayErrorCode.DOCUMENT_VERIFY_REFUSED


def _names(values: Sequence[str] | None) -> list[str] | None:
    if values is None:
        return None
    return sorted({str(v).strip() for v in values if str(v).strip()})


@transaction.atomic
def document_upload(
    *,
    user: Any,
    kind: str,
    data: bytes,
    signed_by_judge: bool = False,
    issuing_court: str = "",
    docket_number: str = "",
    names_bookings: Sequence[str] | None = None,
    names_fields: Sequence[str] | None = None,
    request_ref: str = "",
) -> LegalDocument:
    """Store one legal document, classified by ``kind`` and audited.

    An administrative paper is kept (the county must be able to show what it was sent) with its
    ``refusal_code`` set, so it is visibly refused as a basis for release (IM-01 to IM-04).
    """
    actor = staff_actor(user=user)
    try:
        kind = str(DocumentKind(kind))
    except ValueError as exc:
        raise DocumentRejectedError(f"unknown document kind {kind!r}") from exc
    stored = document_file_store(data=data, folder="legal")
    bookings = _names(names_bookings)
    document = LegalDocument(
        kind=kind,
        stored_name=stored.name,
        sha256=stored.sha256,
        content_type=stored.content_type,
        size=stored.size,
        pages=stored.pages,
        signed_by_judge=bool(signed_by_judge),
        issuing_court=issuing_court.strip(),
        docket_number=docket_number.strip(),
        names_bookings=bookings,
        names_fields=_names(names_fields),
        request_ref=request_ref.strip(),
        refusal_code=document_refusal(kind=kind),
        uploaded_by=user,
        uploaded_by_name=actor,
    )
    document.full_clean()
    document.save()
    audit_event_record(
        action=AuditAction.DOCUMENT_UPLOAD,
        actor=actor,
        outcome=ReleaseEffect.PERMIT,
        subject_refs=[
            f"document#{document.pk}",
            *(subject_ref(kind="booking", value=b) for b in bookings or ()),
        ],
        detail={"kind": kind, "sha256": stored.sha256, "pages": stored.pages, "bytes": stored.size},
        error_code=document.refusal_code,
    )
    return document


def document_verify(*, user: Any, document_id: int) -> LegalDocument:
    """Record that ``user`` checked the document against its paper.

    Two different staff members must verify before the policy counts it (IM-01), and neither may be
    the uploader: the person who brought a paper in is the one most likely to be wrong (or fooled)
    about it, so four eyes means two people besides them. Each person verifies once.
    """
    actor = staff_actor(user=user)
    with transaction.atomic():
        document = access_document_by_id(user=user, document_id=document_id, for_update=True)
        if (
            document.uploaded_by_id == user.pk
            or document.uploaded_by_name.casefold() == actor.casefold()
        ):
            raise DocumentVerifyRefusedError("the uploader cannot verify their own document")
        try:
            with transaction.atomic():
                DocumentVerification.objects.create(
                    document=document, verifier=user, verifier_name=actor
                )
        except IntegrityError as exc:
            raise DocumentVerifyRefusedError("already verified by this person") from exc
        audit_event_record(
            action=AuditAction.DOCUMENT_VERIFY,
            actor=actor,
            outcome=ReleaseEffect.PERMIT,
            subject_refs=[f"document#{document.pk}"],
            detail={"kind": document.kind, "verifications": document.verifications.count()},
            error_code=document.refusal_code,
        )
    return document
