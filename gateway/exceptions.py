"""Gateway errors: one base class, each with a stable code that API clients and logs can rely on."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class GatewayErrorCode(StrEnum):
    NOT_FOUND = "not_found"  # also what a denied release looks like to the requester
    IMPORT_FORMAT_UNKNOWN = "import_format_unknown"
    IMPORT_FILE_UNREADABLE = "import_file_unreadable"
    IMPORT_MAPPING_INVALID = "import_mapping_invalid"
    IMAGE_REJECTED = "image_rejected"
    XML_REFUSED = "xml_refused"
    REVEAL_REFUSED = "reveal_refused"
    # The request lifecycle (gateway.requests): an action refused, with why.
    REQUEST_ILLEGAL_TRANSITION = "request_illegal_transition"
    REQUEST_SELF_APPROVAL = "request_self_approval"
    REQUEST_SAME_APPROVER = "request_same_approver"
    REQUEST_NOT_CLERK = "request_not_clerk"
    REQUEST_WIDENED = "request_widened"
    # Recipient registry and legal documents.
    DOCUMENT_REJECTED = "document_rejected"
    DOCUMENT_VERIFY_REFUSED = "document_verify_refused"
    REGISTRY_INVALID = "registry_invalid"
    REGISTRY_CHANGE_REFUSED = "registry_change_refused"


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""

    code: GatewayErrorCode = GatewayErrorCode.NOT_FOUND

    def __init__(
        self,
        message: str,
        *,
        code: GatewayErrorCode | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra or {}


class NotFoundError(GatewayError):
    """Raised for a missing record and, identically, for a denied one (the requester cannot tell which)."""

    code = GatewayErrorCode.NOT_FOUND
