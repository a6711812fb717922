"""Legal documents: checked from the bytes, stored by hash, two verifiers besides the uploader (IM-01)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from PIL import Image

from gateway.audit.models import AuditAction, AuditEntry
from gateway.documents.files import DocumentRejectedError, document_file_check
from gateway.documents.selectors import documents_for_policy
from gateway.documents.services import DocumentVerifyRefusedError, document_upload, document_verify
from gateway.exceptions import NotFoundError
from gateway.recipients.roles import Role
from policies.rules import has_judicial_authority, order_scope
from tests.gateway.documents.helpers import pdf, staff

pytestmark = pytest.mark.django_db


def _png(width: int = 600, height: int = 800) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_type_is_read_from_the_bytes(settings) -> None:
    assert document_file_check(data=pdf(3)) == ("application/pdf", 3)
    assert document_file_check(data=_png()) == ("image/png", 1)
    for bad in (b"", b"PK\x03\x04 a zip named order.pdf", b"%PDF-1.4 no pages at all"):
        with pytest.raises(DocumentRejectedError):
            document_file_check(data=bad)
    with pytest.raises(DocumentRejectedError, match="active content"):
        document_file_check(data=pdf(1, extra=b"4 0 obj << /S /JavaScript /JS (x) >> endobj"))
    settings.LEGAL_DOCUMENT_MAX_PAGES = 2
    with pytest.raises(DocumentRejectedError, match="3 pages"):
        document_file_check(data=pdf(3))
    settings.LEGAL_DOCUMENT_MAX_BYTES = 100
    with pytest.raises(DocumentRejectedError, match="larger"):
        document_file_check(data=pdf(1))


def test_upload_stores_by_hash_and_audits_without_booking_numbers() -> None:
    clerk = staff("clerk.a")
    document = document_upload(
        user=clerk, kind="court_order", data=pdf(2), signed_by_judge=True, names_bookings=["B1"]
    )
    assert default_storage.exists(document.stored_name)
    assert document.sha256 in document.stored_name
    assert (document.pages, document.content_type, document.refusal_code) == (
        2,
        "application/pdf",
        "",
    )
    entry = AuditEntry.objects.get(action=AuditAction.DOCUMENT_UPLOAD)
    assert entry.actor == "clerk.a"
    assert f"document#{document.pk}" in entry.subject_refs
    assert "B1" not in str(entry.subject_refs) + str(entry.obligations)
    with pytest.raises(DocumentRejectedError):
        document_upload(user=clerk, kind="nonsense", data=pdf())


@pytest.mark.parametrize("kind", ["i-200", "i-247a", "administrative_subpoena", "detainer"])
def test_administrative_papers_are_marked_refused_at_intake(kind: str) -> None:
    document = document_upload(user=staff("clerk.a"), kind=kind, data=pdf())
    assert document.refusal_code == "DENY_ADMINISTRATIVE_WARRANT"
    assert AuditEntry.objects.get(action=AuditAction.DOCUMENT_UPLOAD).error_code == (
        "DENY_ADMINISTRATIVE_WARRANT"
    )


def test_two_verifiers_besides_the_uploader_make_it_count() -> None:
    uploader, first, second = (
        staff("clerk.a"),
        staff("clerk.b"),
        staff("officer.c", Role.COMPLIANCE),
    )
    document = document_upload(
        user=uploader,
        kind="judicial_warrant",
        data=pdf(),
        signed_by_judge=True,
        names_fields=["person"],
    )
    with pytest.raises(DocumentVerifyRefusedError):
        document_verify(user=uploader, document_id=document.pk)
    document_verify(user=first, document_id=document.pk)
    with pytest.raises(DocumentVerifyRefusedError):
        document_verify(user=first, document_id=document.pk)  # the same person twice is one
    assert not has_judicial_authority(documents_for_policy(documents=[document]))
    document_verify(user=second, document_id=document.pk)
    listed = documents_for_policy(documents=[document])
    assert has_judicial_authority(listed)
    assert sorted(listed[0]["verified_by"]) == ["clerk.b", "officer.c"]
    assert order_scope(listed).fields == frozenset({"person"})
    assert AuditEntry.objects.filter(action=AuditAction.DOCUMENT_VERIFY).count() == 2


def test_documents_for_policy_by_request_and_forms() -> None:
    clerk = staff("clerk.a")
    document_upload(user=clerk, kind="i-205", data=pdf(), request_ref="req_1")
    document_upload(user=clerk, kind="court_order", data=pdf(2), request_ref="req_2")
    listed = documents_for_policy(request_ref="req_1")
    assert [(d["kind"], d["form"]) for d in listed] == [("i-205", "I-205")]
    assert documents_for_policy(request_ref="") == []


def test_only_staff_reach_documents() -> None:
    document = document_upload(user=staff("clerk.a"), kind="court_order", data=pdf())
    outsider = User.objects.create_user(username="vendor.x", password="x")
    with pytest.raises(NotFoundError):
        document_verify(user=outsider, document_id=document.pk)
    with pytest.raises(NotFoundError):
        document_upload(user=outsider, kind="court_order", data=pdf())
    with pytest.raises(NotFoundError):
        document_verify(user=staff("clerk.b"), document_id=document.pk + 100)
