"""The staff and recipient roles, as Django groups.

Roles are groups so a county can grant them in the admin; the names are stable because services check them.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CLERK = "clerk"  # approves or denies requests and transfers
    COMPLIANCE = "compliance"  # reviews denials, overrides, appeals, removals and the audit log
    EXAMINER = "examiner"  # trained face examiner: reviews candidate lists (rules.md FR-02)
    VENDOR = "vendor"  # an outside recipient that submits requests and pulls approved data
    AGENCY = "agency"  # a police or federal agency recipient
