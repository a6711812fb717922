"""The lockout check in front of every password check that comes over HTTP (rules.md CJ-04).

django-axes refuses a locked username+IP before the password is looked at. It needs the request to know
the IP, so a call without one (a management command, a shell) is left to the next backend: lockout is
about guesses over the network, and such a caller already runs inside the county.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend

__all__ = ["LockoutBackend"]


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(
        self,
        request: Any,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
