"""The Django admin behind the same second factor as every staff page (django-otp's ``OTPAdminSite``).

Its own login form is replaced by the staff sign-in page, so there is one place to sign in, one lockout
and one audit trail.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.admin import OTPAdminSite

__all__ = ["StaffAdminSite", "admin_site_protect"]


class StaffAdminSite(OTPAdminSite):
    site_header = "Custodian administration"
    site_title = "Custodian administration"

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:index", current_app=self.name)
        return redirect_to_login(target)


def admin_site_protect() -> None:
    """Make the default admin site (where every app registered its models) require a verified device."""
    admin.site.__class__ = StaffAdminSite
