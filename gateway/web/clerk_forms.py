"""The clerk's desk forms: they parse and bound input; the services decide (issue 9)."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.db import models

from gateway.requests.models import RequestSource, RequestState

__all__ = [
    "ORDER_LABELS",
    "ApproveForm",
    "DenialReason",
    "DenyForm",
    "EntryForm",
    "LookupForm",
    "QueueForm",
]

ORDER_LABELS = {
    "-created_at": "Newest first",
    "created_at": "Oldest first",
    "expires_at": "Expiring soonest",
    "purpose": "Purpose A–Z",
    "state": "State",
}


class DenialReason(models.TextChoices):
    """The fixed list a clerk denies with (NextRequest convention); the free text says the rest."""

    NO_LEGAL_BASIS = "no_legal_basis", "No legal basis for this purpose"
    DOCUMENT_MISSING = "document_missing", "A required document is missing or unverified"
    NOT_CASE_BOUND = "not_case_bound", "Not tied to a specific case or person"
    IMMIGRATION = "immigration_enforcement", "Civil immigration enforcement (IM-01..IM-04)"
    OVERBROAD = "overbroad", "Asks for more than the purpose needs"
    REQUESTER_UNVERIFIED = "requester_unverified", "The requester could not be verified"
    DUPLICATE = "duplicate", "Duplicate of another request"
    OTHER = "other", "Other (explain below)"


class QueueForm(forms.Form):
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *RequestState.choices])
    recipient = forms.CharField(required=False, max_length=200, label="Recipient (name or ORI)")
    purpose = forms.CharField(required=False, max_length=100)
    older_than = forms.IntegerField(
        required=False, min_value=0, max_value=3650, label="Older than (days)"
    )
    q = forms.CharField(required=False, max_length=100, label="Search")
    order = forms.ChoiceField(required=False, choices=list(ORDER_LABELS.items()), label="Sort")
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)


def _choices(values: list[str]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class ApproveForm(forms.Form):
    """Which of the current bookings and fields the approval keeps: it can only narrow (CJ-03)."""

    keep = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    keep_fields = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    reason_text = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)

    def __init__(self, *args: Any, bookings: list[str], fields: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["keep"]).choices = _choices(bookings)
        cast(forms.MultipleChoiceField, self.fields["keep_fields"]).choices = _choices(fields)


class DenyForm(forms.Form):
    reason_code = forms.ChoiceField(choices=DenialReason.choices, label="Reason")
    reason_text = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("reason_code") == DenialReason.OTHER
            and not data.get("reason_text", "").strip()
        ):
            raise forms.ValidationError("“Other” needs a sentence saying why.", code="text_needed")
        return data


_SPLIT = re.compile(r"[\s,;]+")


class EntryForm(forms.Form):
    """A request taken by phone or on paper, entered by a clerk on the requester's behalf."""

    organisation = forms.TypedChoiceField(coerce=int, label="Recipient organisation")
    source = forms.ChoiceField(
        choices=[
            (RequestSource.CLERK_PHONE, RequestSource.CLERK_PHONE.label),
            (RequestSource.CLERK_PAPER, RequestSource.CLERK_PAPER.label),
        ]
    )
    purpose = forms.CharField(max_length=100)
    case = forms.CharField(required=False, max_length=60, label="Case number")
    statute = forms.CharField(required=False, max_length=100, label="Offense statute")
    narrative = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    bookings = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One or more booking numbers, separated by spaces, commas or new lines.",
    )

    def __init__(self, *args: Any, organisations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["organisation"])
        field.choices = [("", "Choose…"), *organisations]

    def clean_bookings(self) -> list[str]:
        numbers = [n for n in _SPLIT.split(self.cleaned_data["bookings"]) if n]
        if not numbers:
            raise forms.ValidationError("At least one booking number.", code="required")
        if len(numbers) > 100:
            raise forms.ValidationError("At most 100 booking numbers.", code="too_many")
        return list(dict.fromkeys(numbers))


class LookupForm(forms.Form):
    surname = forms.CharField(max_length=100)
    given = forms.CharField(required=False, max_length=100, label="Given name (or its start)")
    born = forms.DateField(label="Date of birth", widget=forms.DateInput(attrs={"type": "date"}))
