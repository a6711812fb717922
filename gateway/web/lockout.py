"""What a locked-out caller is told (django-axes' ``AXES_LOCKOUT_CALLABLE``).

Under /api/ it is the API's JSON error shape with the stable code ``account_locked`` (a 429, like a
rate limit: wait, or ask the county); elsewhere the sign-in page says the same in words. Neither says
how many attempts are left or names the account, so the answer helps a guesser no more than a refusal.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gateway.api.authentication import AccountLockedError
from gateway.api.codes import ApiErrorCode
from gateway.api.errors import error_response
from gateway.api.middleware import API_PREFIX

__all__ = ["LOCKED_STATUS", "lockout_response"]

LOCKED_STATUS = 429


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    if request.path_info.startswith(API_PREFIX):
        return error_response(
            status=LOCKED_STATUS,
            code=ApiErrorCode.ACCOUNT_LOCKED,
            message=str(AccountLockedError.default_detail),
        )
    return render(request, "registration/locked_out.html", status=LOCKED_STATUS)
