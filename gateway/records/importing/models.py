"""Import runs and their rejected rows.

Every run is recorded with its counts, and read = created + updated + unchanged + rejected always holds
(a check constraint on completed runs). `resume_line` lets a killed run continue where it stopped.
"""

from __future__ import annotations

from django.db import models


class ImportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class ImportRun(models.Model):
    """One run of `import_bookings` over one file or folder."""

    source_format = models.CharField(max_length=20)
    path = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    resume_line = models.PositiveIntegerField(default=0)
    dropped_fields = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="completed")
                | models.Q(
                    read=models.F("created")
                    + models.F("updated")
                    + models.F("unchanged")
                    + models.F("rejected")
                ),
                name="import_run_counts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_format} import of {self.path} ({self.status})"


class ImportRejection(models.Model):
    """A row the importer could not take: where it is, which field, and why; never the raw value."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejections")
    line = models.PositiveIntegerField()
    location = models.CharField(
        max_length=200, blank=True, help_text="Where, when not a line of the file"
    )
    field = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["run_id", "line"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"
