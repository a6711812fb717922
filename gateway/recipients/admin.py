"""Administrators record training and background checks here (CJ-06); each role checks them daily."""

from __future__ import annotations

from django.contrib import admin

from gateway.recipients.models import RecipientAccount, StaffQualification

__all__: list[str] = []


@admin.register(StaffQualification)
class StaffQualificationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "kind", "role", "completed_on", "valid_until", "recorded_by")
    list_filter = ("kind", "role")
    search_fields = ("user__username",)
    date_hierarchy = "valid_until"

    def save_model(
        self, request: object, obj: StaffQualification, form: object, change: bool
    ) -> None:
        if not obj.recorded_by:
            obj.recorded_by = request.user.get_username()  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)  # type: ignore[arg-type]


@admin.register(RecipientAccount)
class RecipientAccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "recipient_type", "ori", "active", "user")
    list_filter = ("recipient_type", "active")
