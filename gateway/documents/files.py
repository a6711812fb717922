"""The bytes of an uploaded legal document: checked from the bytes (never the name), hashed, stored.

One place for every upload the registry keeps (legal process, signed agreements, IM-03 certifications),
so a file that is not a small, plain PDF or a decodable image is refused the same way everywhere.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from gateway.exceptions import GatewayError, GatewayErrorCode
from matching.exceptions import ImageRejectedError
from matching.services import image_check
from matching.types import ImageLimits

__all__ = ["DocumentRejectedError", "StoredFile", "document_file_check", "document_file_store"]

# A page object ("/Type /Page", not "/Pages"); written out by every PDF producer we have seen.
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
# Active content has no place in a court order: refused rather than stored for a clerk to open.
_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA)(?![A-Za-z])")


class DocumentRejectedError(GatewayError):
    """An upload refused: too large, not a PDF or image by its bytes, too many pages, active content."""

    code = GatewayErrorCode.DOCUMENT_REJECTED


@dataclass(frozen=True)
class StoredFile:
    name: str  # storage name under MEDIA_ROOT
    sha256: str
    content_type: str
    size: int
    pages: int


def _pdf_pages(data: bytes) -> int:
    """Pages by a light scan: enough for a limit, not a PDF parser (no object streams decoded).

    A PDF whose pages cannot be counted this way (all in compressed object streams) is refused: the
    county can print it to a plain PDF, and an uncountable file is not one a clerk should trust.
    """
    if _ACTIVE.search(data):
        raise DocumentRejectedError(
            "the PDF carries active content (scripts, launch actions, files)"
        )
    pages = len(_PAGE.findall(data))
    if pages == 0:
        raise DocumentRejectedError("the PDF's pages cannot be counted")
    return pages


def document_file_check(*, data: bytes) -> tuple[str, int]:
    """The real type (``application/pdf``, ``image/jpeg`` ...) and page count, from the bytes alone."""
    limit = int(settings.LEGAL_DOCUMENT_MAX_BYTES)
    if not data:
        raise DocumentRejectedError("the file is empty")
    if len(data) > limit:
        raise DocumentRejectedError(f"the file is larger than {limit} bytes")
    if data.startswith(b"%PDF-"):
        pages = _pdf_pages(data)
        if pages > int(settings.LEGAL_DOCUMENT_MAX_PAGES):
            raise DocumentRejectedError(
                f"the PDF has {pages} pages; at most {settings.LEGAL_DOCUMENT_MAX_PAGES}"
            )
        return "application/pdf", pages
    limits = ImageLimits(max_bytes=limit, max_pixels=int(settings.LEGAL_DOCUMENT_MAX_PIXELS))
    try:
        checked = image_check(data=data, limits=limits)
    except ImageRejectedError as exc:
        raise DocumentRejectedError(f"neither a PDF nor an accepted image: {exc}") from exc
    return f"image/{checked.format}", 1


def document_file_store(*, data: bytes, folder: str) -> StoredFile:
    """Check, hash and store the bytes under ``MEDIA_ROOT/<folder>/``, named by their SHA-256.

    Named by the hash, so the same bytes uploaded twice are kept once and a name reveals nothing.
    """
    content_type, pages = document_file_check(data=data)
    digest = hashlib.sha256(data).hexdigest()
    extension = {"application/pdf": "pdf"}.get(content_type, content_type.split("/")[-1])
    name = f"{folder}/{digest[:2]}/{digest}.{extension}"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(data))
    return StoredFile(
        name=name, sha256=digest, content_type=content_type, size=len(data), pages=pages
    )
