"""Sensitivity tags for every released field, kept as data so policies can be written against them.

The rows are created by a data migration and may be edited by the county (for example to tag `housing` as
immigration-sensitive when its unit names reveal ICE holds).
"""

from __future__ import annotations

from django.db import models


class SensitivityTag(models.TextChoices):
    DIRECT_IDENTIFIER = "direct_identifier", "Direct identifier"
    QUASI_IDENTIFIER = "quasi_identifier", "Quasi-identifier"
    PROTECTED_TRAIT = "protected_trait", "Protected trait"
    IMMIGRATION_SENSITIVE = "immigration_sensitive", "Immigration-sensitive"


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
