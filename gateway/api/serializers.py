"""Input shapes of the API. They validate requests; they never serialize records (the release path does)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from policies.types import DocumentKind, Mode

MODES = [str(mode) for mode in Mode]
DOCUMENT_KINDS = [str(kind) for kind in DocumentKind]


class PartySerializer(serializers.Serializer[dict[str, Any]]):
    type = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    ori = serializers.CharField(max_length=20, allow_blank=True, required=False, default="")


class DocumentSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.ChoiceField(choices=DOCUMENT_KINDS)
    form = serializers.CharField(max_length=40, allow_blank=True, required=False, default="")
    signed_by_judge = serializers.BooleanField(required=False, default=False)
    reference = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")


class ReleaseRequestSerializer(serializers.Serializer[dict[str, Any]]):
    """A recipient's request. `recipient` is not accepted: it comes from the account.

    `on_behalf_of` is required (null means "on our own behalf"), so a proxy request must say so (IM-11).
    Documents carry no `verified_by`: verification is done by two county staff, never asserted by the
    requester, so an immigration request through the API is denied until staff verify its warrant.
    """

    on_behalf_of = PartySerializer(allow_null=True)
    purpose = serializers.CharField(max_length=100)
    case_number = serializers.CharField(max_length=60, allow_blank=True, required=False, default="")
    offense_statute = serializers.CharField(
        max_length=100, allow_blank=True, required=False, default=""
    )
    narrative = serializers.CharField(
        max_length=10_000, allow_blank=True, required=False, default=""
    )
    mode = serializers.ChoiceField(choices=MODES, default="single")
    documents = DocumentSerializer(many=True, required=False, default=list)
    booking_numbers = serializers.ListField(
        child=serializers.CharField(max_length=60), min_length=1, max_length=10_000
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # The request key is "fields" (docs/policies.md), which a class attribute cannot be named:
        # Serializer.fields is DRF's own mapping of declared fields. Absent means "the agreement's
        # allow-list" (as `policy explain` reads it), so there is no default; an empty list asks for
        # nothing and is refused, rather than answered with empty records (issue 8.1).
        declared = super().get_fields()
        declared["fields"] = serializers.ListField(
            child=serializers.CharField(max_length=80),
            required=False,
            allow_empty=False,
            max_length=200,
        )
        return declared
