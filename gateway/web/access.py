"""The gate in front of every staff page: signed in, staff, and verified with a second factor (CJ-04).

``django_otp.decorators.otp_required`` only sends everyone to the login page; here an account that has not
enrolled an authenticator yet is sent to enrolment instead, and a recipient account is refused outright.
Which role a page needs is the page's own check (``staff_role_current``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from gateway.recipients.selectors import user_has_authenticator, user_is_staff

__all__ = ["staff_required"]

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_is_staff(user=user):
            raise PermissionDenied("not a staff account")
        if not user.is_verified():  # type: ignore[attr-defined]
            if not user_has_authenticator(user=user):
                return redirect("enrol")
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped
