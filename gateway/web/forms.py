"""The staff sign-in form: Django's ``username`` and ``password`` fields plus the authenticator code."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError

from gateway.recipients.selectors import user_has_authenticator, user_is_staff
from gateway.recipients.services import second_factor_verify

__all__ = ["EnrolForm", "StaffSignInForm"]


class StaffSignInForm(AuthenticationForm):
    """Password and code in one step, so a wrong password and a wrong code look alike to a guesser.

    A wrong code counts as a failed sign-in (django-axes locks after a few, CJ-04) and is audited like
    one. An account with no authenticator yet signs in with its password only and goes straight to the
    enrolment page, where every staff page sends it until it has one.
    """

    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=16,
        help_text="Six digits from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_token": "That code did not match. Enter the current code from your authenticator app.",
        "not_staff": "This account cannot sign in to the staff pages. Recipient accounts use the API.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.otp_device: Any = None

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not user_is_staff(user=user):
            raise ValidationError(self.error_messages["not_staff"], code="not_staff")
        if not user_has_authenticator(user=user):
            return  # first sign-in: enrolment next
        self.otp_device = second_factor_verify(
            user=user, token=self.cleaned_data.get("otp_token") or ""
        )
        if self.otp_device is None:
            user_login_failed.send(
                sender=__name__,
                credentials={"username": self.cleaned_data.get("username")},
                request=self.request,
            )
            raise ValidationError(self.error_messages["invalid_token"], code="invalid_token")


class EnrolForm(forms.Form):
    otp_token = forms.CharField(
        label="Code from your authenticator app",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )
