"""What each staff role can do, as the home page and the header list it.

A task names the URL it will live at; until that page exists (other parts of issue 9 build them), the
task is shown as plain text, so the home page never links to a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from gateway.recipients.roles import ROLE_LABELS, Role
from gateway.recipients.selectors import staff_role_current, staff_roles_held

__all__ = ["TASKS", "RoleTasks", "Task", "role_tasks_for"]


@dataclass(frozen=True)
class Task:
    label: str
    description: str
    url_name: str | None = None

    @property
    def url(self) -> str | None:
        if self.url_name is None:
            return None
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


TASKS: dict[Role, tuple[Task, ...]] = {
    Role.CLERK: (
        Task(
            "Request queue",
            "Read each request, its documents and a preview of exactly what would leave; "
            "approve or deny with a reason.",
            "desk-queue",
        ),
        Task(
            "Enter a phone or paper request",
            "For agencies without API access, such as an immigration agency's paper request (IM-06).",
            "desk-new",
        ),
        Task(
            "Look up bookings",
            "By name and date of birth, for a phone request; every look is audited.",
            "desk-lookup",
        ),
        Task("Legal documents", "Verify warrants and court orders (IM-01).", "documents:list"),
    ),
    Role.COMPLIANCE: (
        Task(
            "Request queue",
            "Every request with its history and a preview of what would leave (read and review).",
            "desk-queue",
        ),
        Task(
            "Denials and reviews",
            "The true reason behind each uniform answer; requests routed to compliance.",
            "requests:compliance",
        ),
        Task(
            "Recipients and agreements",
            "Who may receive what, and until when (GOV-01, IM-03).",
            "recipients:list",
        ),
        Task("Audit log", "Every decision, release and sign-in (CJ-01).", "audit:log"),
    ),
    Role.EXAMINER: (
        Task(
            "Candidate lists to review",
            "Face-search candidate lists awaiting a trained examiner (FR-02).",
            "faces:review",
        ),
    ),
    Role.AUDITOR: (
        Task(
            "Audit log (read only)",
            "Decisions, releases and sign-ins; nothing here can be changed (CJ-01).",
            "audit:log",
        ),
        Task(
            "Dissemination log", "What left the county, to whom and why (CJ-03).", "audit:releases"
        ),
    ),
    Role.ADMINISTRATOR: (
        Task(
            "Staff accounts and roles",
            "Accounts, roles, authenticators and training and background-check records (CJ-06).",
            "admin:index",
        ),
    ),
}


@dataclass(frozen=True)
class RoleTasks:
    role: Role
    label: str
    current: bool
    tasks: tuple[Task, ...]


def role_tasks_for(*, user: Any) -> list[RoleTasks]:
    """The user's staff roles in a fixed order, each with its tasks and whether it works today (CJ-06)."""
    return [
        RoleTasks(
            role=role,
            label=ROLE_LABELS[role],
            current=staff_role_current(user=user, role=role),
            tasks=TASKS.get(role, ()),
        )
        for role in staff_roles_held(user=user)
    ]
