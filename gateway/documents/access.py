"""Legal documents are reached only through these access functions (Zulip style, as gateway/faces/access.py).

Staff only; a missing document and one the caller may not see raise the same ``NotFoundError``.
"""

from __future__ import annotations

from typing import Any

from gateway.documents.models import LegalDocument
from gateway.exceptions import NotFoundError
from gateway.recipients.selectors import staff_member

__all__ = ["access_document_by_id", "staff_actor"]


def staff_actor(*, user: Any) -> str:
    """The acting staff member's name for the log; anyone else gets the uniform not-found."""
    if not staff_member(user=user):
        raise NotFoundError("not found")
    return str(user.get_username())


def access_document_by_id(
    *, user: Any, document_id: int, for_update: bool = False
) -> LegalDocument:
    if not staff_member(user=user):
        raise NotFoundError("no such document")
    documents = LegalDocument.objects.all()
    if for_update:
        documents = documents.select_for_update()
    document = documents.filter(pk=document_id).first()
    if document is None:
        raise NotFoundError("no such document")
    return document
