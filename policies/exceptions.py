"""Errors raised by the policy engine.

Every error carries a stable ``code`` so callers (the gateway's API error handler, the audit log, the
management command) can branch on it without parsing messages.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "KeyStoreError",
    "PolicyError",
    "PolicyErrorCode",
    "TokenRevealError",
]


class PolicyErrorCode(StrEnum):
    """Stable machine-readable error codes of the ``policies`` app."""

    POLICY_INVALID = "POLICY_INVALID"
    KEY_MISSING = "KEY_MISSING"
    KEY_FILE_INVALID = "KEY_FILE_INVALID"
    TOKEN_INVALID = "TOKEN_INVALID"  # noqa: S105 - an error code, not a secret
    TWO_PERSON_APPROVAL_REQUIRED = "TWO_PERSON_APPROVAL_REQUIRED"
    REQUEST_INVALID = "REQUEST_INVALID"


class PolicyError(Exception):
    """Base class: something in the policy engine could not be done."""

    code: PolicyErrorCode = PolicyErrorCode.POLICY_INVALID

    def __init__(self, message: str, *, code: PolicyErrorCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class KeyStoreError(PolicyError):
    """A key is missing or the key file is unusable; releases that need keys must then be denied."""

    code = PolicyErrorCode.KEY_MISSING


class TokenRevealError(PolicyError):
    """A deterministic-encryption token could not be reversed (bad token or no two-person approval)."""

    code = PolicyErrorCode.TOKEN_INVALID
