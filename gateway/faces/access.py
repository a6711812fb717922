"""The only way face-matching objects are reached for a person: access functions (Zulip style).

Each answers one error, ``NotFoundError``, whether the object is missing or is not the caller's to see, so
guessing ids teaches nothing. Each condition sits on its own line, so coverage shows every branch tested.
The callers audit the read (rules.md FR-07, FR-08: a discovery bundle carries examiners' rationales).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from gateway.exceptions import NotFoundError
from gateway.faces.models import MatchRequest
from gateway.recipients.roles import Role
from gateway.recipients.selectors import staff_role_current

__all__ = ["MatchAccess", "access_match_request_by_id", "examiner_is_current"]


class MatchAccess(StrEnum):
    """Why the caller wants the request: each reason has its own rule of who may."""

    REQUESTER = "requester"  # the person who submitted it: status and released leads only
    EXAMINER = "examiner"  # a trained examiner who did not submit it: the candidate list (FR-02)
    OVERSIGHT = "oversight"  # compliance: everything, for review and discovery (FR-07)


def examiner_is_current(*, user: Any) -> bool:
    """FR-02, FR-09, CJ-06: an examiner whose training and background check cover today."""
    return staff_role_current(user=user, role=Role.EXAMINER)


def _may(*, user: Any, match: MatchRequest, reason: MatchAccess) -> bool:
    if reason is MatchAccess.REQUESTER:
        return bool(match.requester_id == user.pk)
    if reason is MatchAccess.EXAMINER:
        if match.requester_id == user.pk:
            return False  # nobody examines their own search
        return examiner_is_current(user=user)
    return staff_role_current(user=user, role=Role.COMPLIANCE)


def access_match_request_by_id(
    *,
    user: Any,
    match_request_id: int,
    reasons: tuple[MatchAccess, ...],
    for_update: bool = False,
) -> MatchRequest:
    """The match request, if ``user`` may reach it for one of ``reasons``; else the same error as a
    missing id. The row is read (and locked) once, whichever reason admits the caller."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotFoundError("no such match request")
    requests = MatchRequest.objects.select_related("requester", "snapshot")
    if for_update:
        requests = requests.select_for_update(of=("self",))
    match = requests.filter(pk=match_request_id).first()
    if match is None:
        raise NotFoundError("no such match request")
    if not any(_may(user=user, match=match, reason=reason) for reason in reasons):
        raise NotFoundError("no such match request")
    return match
