"""API Basic auth that says when an account is locked, in the API's own error shape.

django-axes marks a locked-out request and refuses the password, but DRF turns any refusal into a 401
"invalid username/password", so a caller would retry forever without learning why. The mark is on the
request DRF handed to ``authenticate`` (its own ``Request`` wrapper), so it is read there.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import BasicScheme
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication

from gateway.api.codes import ApiErrorCode

__all__ = ["AccountLockedError", "LockoutAwareBasicAuthentication", "LockoutAwareBasicScheme"]


class AccountLockedError(exceptions.APIException):
    status_code = 429
    default_code = ApiErrorCode.ACCOUNT_LOCKED
    default_detail = (
        "Too many failed sign-ins for this account from this address; it is locked for a while. "
        "Ask the county's administrator if this was not you."
    )


class LockoutAwareBasicAuthentication(BasicAuthentication):
    def authenticate_credentials(
        self, userid: str, password: str, request: Any = None
    ) -> tuple[Any, None]:
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            if request is not None and getattr(request, "axes_locked_out", False):
                raise AccountLockedError() from None
            raise


class LockoutAwareBasicScheme(BasicScheme):  # type: ignore[no-untyped-call]
    """The OpenAPI schema describes it as the plain HTTP Basic scheme it is."""

    target_class = "gateway.api.authentication.LockoutAwareBasicAuthentication"
