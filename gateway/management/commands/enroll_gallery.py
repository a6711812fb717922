"""Enroll every eligible mugshot into the face gallery, in chunks run by Celery workers."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gateway.faces.gallery import gallery_enroll_start, gallery_enrollment_progress
from gateway.faces.models import EnrollmentStatus


class Command(BaseCommand):
    help = (
        "Queue enrollment of every policy-eligible mugshot (no juvenile, sealed, expunged or removed "
        "records). Chunks run on as many Celery workers as are started; re-running skips what is done."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=500)
        parser.add_argument(
            "--embedder", default=None, help="dlib (default) or synthetic (DEBUG only)"
        )
        parser.add_argument(
            "--wait", action="store_true", help="print progress until the run is done"
        )
        parser.add_argument(
            "--timeout", type=float, default=0.0, help="with --wait: stop waiting after this many s"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = gallery_enroll_start(
            embedder=options["embedder"],
            chunk_size=options["chunk_size"],
            requested_by="enroll_gallery",
        )
        self.stdout.write(
            f"run {run.pk}: model {run.model_id}, {run.total} eligible mugshots in {run.chunks} chunks"
        )
        deadline = time.monotonic() + options["timeout"] if options["timeout"] > 0 else None
        while options["wait"]:
            progress = gallery_enrollment_progress(run_id=run.pk)
            self.stdout.write(
                f"  {progress['chunks_done']}/{progress['chunks']} chunks ({progress['percent']}%), "
                f"{progress['enrolled']} enrolled by this run, {progress['failed']} failed, "
                f"{progress['in_gallery']} faces in the gallery"
            )
            if progress["status"] == EnrollmentStatus.DONE:
                break
            if deadline is not None and time.monotonic() >= deadline:
                self.stdout.write(f"run {run.pk} still running; the workers carry on without us")
                break
            time.sleep(min(2.0, options["timeout"] or 2.0))
