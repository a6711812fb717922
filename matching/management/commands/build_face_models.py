"""``manage.py build_face_models``: convert dlib's face models into FACE_MODEL_DIR (idempotent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from matching.services import face_models_build


class Command(BaseCommand):
    help = (
        "Read dlib's public-domain face models from the face_recognition_models package, "
        "write them as ONNX (+ the landmark cascade as .npz) into FACE_MODEL_DIR with a "
        "registry of hashes and licences. Does nothing when already built from the same files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=None, help="override FACE_MODEL_DIR")
        parser.add_argument("--force", action="store_true", help="rebuild even if current")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = options["dir"] or Path(settings.FACE_MODEL_DIR)
        hashes = face_models_build(directory=directory, force=options["force"])
        self.stdout.write(json.dumps({"directory": str(directory), "models": hashes}, indent=2))
