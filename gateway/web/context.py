"""The header's account line and navigation, on every page, for a verified staff member only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from gateway.recipients.selectors import user_is_staff
from gateway.web.navigation import role_tasks_for

__all__ = ["staff_navigation"]


def staff_navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user_is_staff(user=user):
        return {"staff_signed_in": False}
    verified = bool(getattr(user, "is_verified", lambda: False)())
    role_tasks = role_tasks_for(user=user) if verified else []
    links: dict[str, str] = {}
    for entry in role_tasks:
        if not entry.current:
            continue
        for task in entry.tasks:
            if task.url is not None:
                links.setdefault(task.url, task.label)
    return {
        "staff_signed_in": verified,
        "staff_role_tasks": role_tasks,
        "staff_links": [{"url": url, "label": label} for url, label in links.items()],
    }
