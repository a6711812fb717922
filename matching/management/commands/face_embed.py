"""``manage.py face_embed IMAGE...``: print each image's faces as JSON, for checking a model.

It reads files given on the command line and touches no records, so it releases nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from matching.exceptions import MatchingError
from matching.services import face_models_load, faces_embed


class Command(BaseCommand):
    help = "Detect, align and embed the faces in image files; print box, landmarks, descriptor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("images", nargs="+", type=Path)
        parser.add_argument("--dir", type=Path, default=None, help="override FACE_MODEL_DIR")
        parser.add_argument(
            "--upsample", type=int, default=0, choices=(0, 1, 2),
            help="double the image before detection (finds smaller faces, 4x slower each)",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        models = face_models_load(directory=options["dir"] or Path(settings.FACE_MODEL_DIR))
        results: list[dict[str, Any]] = []
        for path in options["images"]:
            try:
                faces = faces_embed(
                    image=path.read_bytes(), models=models, upsample=options["upsample"]
                )
            except (OSError, MatchingError) as exc:
                code = getattr(exc, "code", "unreadable")
                results.append(
                    {"image": str(path), "error": {"code": str(code), "message": str(exc)}}
                )
                continue
            results.append({"image": str(path), "faces": [asdict(face) for face in faces]})
        self.stdout.write(json.dumps(results, indent=2))
