"""`manage.py import_bookings PATH --format FORMAT`: a thin wrapper around services.imports.bookings_import."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gateway.exceptions import GatewayError
from gateway.records.importers.registry import FORMATS
from gateway.records.importing.services import BATCH_SIZE, bookings_import


class Command(BaseCommand):
    help = (
        "Import a jail roster (file, or folder for multnomah) into people, bookings and charges. "
        "Idempotent: re-importing the same file changes nothing; a killed run is continued by re-running it. "
        f"Formats: {', '.join(sorted(FORMATS))}. See docs/importing.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", required=True, dest="format_name")
        parser.add_argument(
            "--mapping", type=Path, help="mapping file (YAML or JSON) for --format csv"
        )
        parser.add_argument("--report", type=Path, help="write the JSON report to this file")
        parser.add_argument("--encoding", default="utf-8", help="file encoding, e.g. cp1252")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = bookings_import(
                path=options["path"],
                format_name=options["format_name"],
                mapping=options["mapping"],
                encoding=options["encoding"],
                batch_size=options["batch_size"],
                progress=not options["no_progress"] and sys.stderr.isatty(),
            )
        except GatewayError as error:
            raise CommandError(f"[{error.code}] {error.message}") from error
        payload = report.as_dict()
        if options["report"] is not None:
            options["report"].write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        summary = {
            k: payload[k]
            for k in ("read", "created", "updated", "unchanged", "rejected", "mugshots_rejected")
        }
        self.stdout.write(
            f"{report.format} import of {report.path}: "
            + ", ".join(f"{k} {v}" for k, v in summary.items())
            + (
                f"; dropped columns: {', '.join(report.dropped_fields)}"
                if report.dropped_fields
                else ""
            )
            + (
                f" (continued after line {report.resumed_after_line})"
                if report.resumed_after_line
                else ""
            )
        )
        listed = [*report.rejections, *report.mugshot_rejections]
        for rejection in listed[:20]:
            self.stdout.write(
                f"  {rejection['where']}: {rejection['field']}: {rejection['reason']}"
            )
        if len(listed) > 20:
            self.stdout.write(f"  ... and {len(listed) - 20} more (see --report)")
