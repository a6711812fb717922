"""Reads of legal documents: the ``documents`` list the policy engine decides on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.documents.models import LegalDocument
from policies.types import CIVIL_IMMIGRATION_KINDS

__all__ = ["documents_for_policy"]


def _as_policy(document: LegalDocument) -> dict[str, Any]:
    """One document as the engine reads it; ``verified_by`` from the verification rows only, so a
    document counts once two different staff members checked it (the engine counts the names)."""
    entry: dict[str, Any] = {
        "kind": document.kind,
        "signed_by_judge": document.signed_by_judge,
        "verified_by": [v.verifier_name for v in document.verifications.all()],
        "document_id": document.pk,
    }
    if document.kind in CIVIL_IMMIGRATION_KINDS:
        entry["form"] = document.kind.upper()
    if document.names_bookings is not None:
        entry["names_bookings"] = list(document.names_bookings)
    if document.names_fields is not None:
        entry["names_fields"] = list(document.names_fields)
    return entry


def documents_for_policy(
    *, request_ref: str | None = None, documents: Sequence[LegalDocument] | None = None
) -> list[dict[str, Any]]:
    """The request's documents (by ``request_ref``, or the ones given) for ``decide``'s request.

    Administrative papers are included: the engine refuses a request that leans on one and says so.
    """
    if documents is None:
        if not request_ref:
            return []
        documents = list(
            LegalDocument.objects.filter(request_ref=request_ref).prefetch_related("verifications")
        )
    return [_as_policy(document) for document in documents]
