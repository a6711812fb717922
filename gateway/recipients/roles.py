"""The staff and recipient roles, as Django groups.

Roles are groups so a county can grant them in the admin; the names are stable because services check them.
Holding a staff role's group is not enough to use it: ``gateway.recipients.selectors.staff_role_current``
also asks for a current training and background-check record (rules.md CJ-06).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RECIPIENT_ROLES", "ROLE_LABELS", "STAFF_ROLES", "Role"]


class Role(StrEnum):
    CLERK = "clerk"  # approves or denies requests and transfers
    COMPLIANCE = "compliance"  # reviews denials, overrides, appeals, removals and the audit log
    EXAMINER = "examiner"  # trained face examiner: reviews candidate lists (rules.md FR-02)
    AUDITOR = "auditor"  # independent oversight: reads the audit and dissemination logs, changes nothing (CJ-01)
    ADMINISTRATOR = "administrator"  # manages staff accounts, roles and qualification records
    VENDOR = "vendor"  # an outside recipient that submits requests and pulls approved data
    AGENCY = "agency"  # a police or federal agency recipient


# County staff sign in to the web pages with a second factor; recipients use the API only.
STAFF_ROLES = frozenset(
    {Role.CLERK, Role.COMPLIANCE, Role.EXAMINER, Role.AUDITOR, Role.ADMINISTRATOR}
)
RECIPIENT_ROLES = frozenset({Role.VENDOR, Role.AGENCY})

ROLE_LABELS = {
    Role.CLERK: "Records clerk",
    Role.COMPLIANCE: "Compliance officer",
    Role.EXAMINER: "Face examiner",
    Role.AUDITOR: "Auditor",
    Role.ADMINISTRATOR: "Administrator",
    Role.VENDOR: "Vendor recipient",
    Role.AGENCY: "Agency recipient",
}
