"""Thin web views: sign-in with a second factor, enrolment, the staff home page and a health check."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from gateway.recipients.selectors import user_has_authenticator, user_is_staff
from gateway.recipients.services import (
    recovery_codes_issue,
    totp_device_confirm,
    totp_key_new,
    totp_secret_base32,
)
from gateway.web.access import staff_required
from gateway.web.forms import EnrolForm, StaffSignInForm
from gateway.web.health import health_report_get
from gateway.web.navigation import role_tasks_for

ENROL_SESSION_KEY = "custodian_enrol_totp_key"


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """What each of the user's roles can do, and which roles do not work today and why (CJ-06)."""
    return render(request, "gateway/home.html", {"role_tasks": role_tasks_for(user=request.user)})


class StaffLoginView(LoginView):
    form_class = StaffSignInForm

    def form_valid(self, form: StaffSignInForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_valid(form)
        if form.otp_device is None:
            return redirect("enrol")
        otp_login(self.request, form.otp_device)
        return response


@never_cache
@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: a QR code drawn here (SVG, no outside service sees the key), then a code.

    The key waits in the session until a code proves the app has it, so nothing is stored for a user who
    leaves half way. On success the user is verified and sees ten recovery codes, once.
    """
    user = request.user
    if not user_is_staff(user=user):
        raise PermissionDenied("not a staff account")
    if user_has_authenticator(user=user):
        return redirect("home")
    key = request.session.get(ENROL_SESSION_KEY) or totp_key_new()
    request.session[ENROL_SESSION_KEY] = key
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = totp_device_confirm(user=user, key_hex=key, token=form.cleaned_data["otp_token"])  # type: ignore[arg-type]
        if device is not None:
            request.session.pop(ENROL_SESSION_KEY, None)
            otp_login(request, device)
            codes = recovery_codes_issue(user=user)  # type: ignore[arg-type]
            return render(request, "gateway/account/recovery_codes.html", {"codes": codes})
        form.add_error("otp_token", "That code did not match. Try the current one.")
    secret = totp_secret_base32(key_hex=key)
    return render(
        request,
        "gateway/account/enrol.html",
        {
            "form": form,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr_svg": _qr_svg(uri=_provisioning_uri(username=user.get_username(), secret=secret)),
        },
    )


@never_cache
@require_POST
@staff_required
def recovery_codes_renew(request: HttpRequest) -> HttpResponse:
    """New recovery codes for a verified user; the old ones stop working."""
    codes = recovery_codes_issue(user=request.user)  # type: ignore[arg-type]
    return render(request, "gateway/account/recovery_codes.html", {"codes": codes})


@never_cache
@staff_required
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "gateway/account/account.html")


def _provisioning_uri(*, username: str, secret: str) -> str:
    issuer = quote(settings.OTP_TOTP_ISSUER)
    label = f"{issuer}:{quote(username)}"
    return f"otpauth://totp/{label}?secret={secret}&issuer={issuer}&digits=6&period=30"


def _qr_svg(*, uri: str) -> Any:
    """segno's SVG: paths with presentation attributes only, so the strict CSP lets it draw."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#111111", light="#ffffff", title="Authenticator QR code"
    )
    return mark_safe(svg)  # noqa: S308 (segno's own markup; the URI inside is escaped by segno)


def health(request: HttpRequest) -> JsonResponse:
    """Each part's state for the county's monitoring: 200 when every required part is ok, else 503.

    Reveals no records, paths or keys (see gateway.web.health).
    """
    report = health_report_get()
    return JsonResponse(report.as_dict(), status=200 if report.healthy else 503)


__all__ = [
    "StaffLoginView",
    "account",
    "enrol",
    "health",
    "home",
    "recovery_codes_renew",
]
