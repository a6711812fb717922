"""Sensitivity tags for every released field, kept as data so policies can be written against them.

The rows are created by a data migration and may be edited by the county (for example to tag `housing` as
immigration-sensitive when its unit names reveal ICE holds). The tag names are the policy engine's
(`policies.types.FieldTag`): one list, so a tag the engine does not know cannot be stored.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from policies.types import FieldTag

SensitivityTag = FieldTag

__all__ = ["FieldSensitivity", "SensitivityTag"]


class FieldSensitivity(models.Model):
    """The tags of one field of the exported record shape (`person.address`, `released_at`, …)."""

    field = models.CharField(max_length=80, unique=True)
    tags = models.JSONField(default=list)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "field sensitivities"
        ordering = ["field"]

    def __str__(self) -> str:
        return f"{self.field}: {', '.join(self.tags)}"

    def clean(self) -> None:
        known = {str(tag) for tag in FieldTag}
        if not isinstance(self.tags, list) or not all(isinstance(t, str) for t in self.tags):
            raise ValidationError({"tags": "Tags must be a list of tag names."})
        unknown = sorted(set(self.tags) - known)
        if unknown:
            raise ValidationError(
                {"tags": f"Unknown tag(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."}
            )
