"""The only way a release request is reached: access functions (Zulip style, as gateway/faces/access.py).

Each answers one ``NotFoundError`` whether the request is missing or not the caller's, so a recipient
guessing ids learns nothing (CJ-09). Each condition sits on its own line, so coverage shows every branch.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from gateway.exceptions import NotFoundError
from gateway.recipients.roles import Role
from gateway.recipients.selectors import staff_role_current
from gateway.requests.models import ReleaseRequest

__all__ = [
    "access_request_for_recipient",
    "access_request_for_staff",
    "user_is_clerk",
    "user_is_request_staff",
]

_MISSING = "no such request"


def user_is_clerk(*, user: Any) -> bool:
    """A clerk whose role is current (CJ-06): the only people who approve or deny (FR-09)."""
    return staff_role_current(user=user, role=Role.CLERK)


def user_is_request_staff(*, user: Any) -> bool:
    """A clerk or compliance officer: who may read requests and use the clerk's desk."""
    return _is_staff_reader(user)


def _is_staff_reader(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return staff_role_current(user=user, role=Role.CLERK) or staff_role_current(
        user=user, role=Role.COMPLIANCE
    )


def _requests(for_update: bool) -> Any:
    requests = ReleaseRequest.objects.all()
    if for_update:
        requests = requests.select_for_update(of=("self",))
    return requests


def access_request_for_staff(
    *, user: Any, request_id: str, for_update: bool = False
) -> ReleaseRequest:
    """The request, for a clerk or compliance officer; anyone else gets the error a missing id gets."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotFoundError(_MISSING)
    if not _is_staff_reader(user):
        raise NotFoundError(_MISSING)
    found: ReleaseRequest | None = _requests(for_update).filter(public_id=request_id).first()
    if found is None:
        raise NotFoundError(_MISSING)
    return found


def access_request_for_recipient(
    *, user: Any, request_id: str, for_update: bool = False
) -> ReleaseRequest:
    """The request, for an account of the recipient that asked; another recipient's id looks missing."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotFoundError(_MISSING)
    try:
        account = user.recipient_account
    except ObjectDoesNotExist:
        raise NotFoundError(_MISSING) from None
    if not account.active:
        raise NotFoundError(_MISSING)
    found: ReleaseRequest | None = (
        _requests(for_update)
        .filter(
            public_id=request_id,
            recipient_type=account.recipient_type,
            recipient_name=account.name,
            recipient_ori=account.ori,
        )
        .first()
    )
    if found is None:
        raise NotFoundError(_MISSING)
    return found
