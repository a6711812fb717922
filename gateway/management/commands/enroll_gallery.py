"""Enroll every eligible mugshot into the face gallery, in chunks run by Celery workers."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gateway.models.faces import EnrollmentRun, EnrollmentStatus
from gateway.services.gallery import gallery_enroll_start


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

    def handle(self, *args: Any, **options: Any) -> None:
        run = gallery_enroll_start(
            embedder=options["embedder"],
            chunk_size=options["chunk_size"],
            requested_by="enroll_gallery",
        )
        self.stdout.write(
            f"run {run.pk}: model {run.model_id}, {run.total} eligible mugshots in {run.chunks} chunks"
        )
        while options["wait"]:
            run = EnrollmentRun.objects.get(pk=run.pk)
            self.stdout.write(
                f"  {run.chunks_done}/{run.chunks} chunks, {run.enrolled} enrolled, {run.failed} failed"
            )
            if run.status == EnrollmentStatus.DONE:
                break
            time.sleep(2)
