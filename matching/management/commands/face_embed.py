"""``manage.py face_embed IMAGE...``: print each image's faces as JSON, for checking a model.

It reads files given on the command line and touches no records, so it releases nothing.

Errors are one line naming the problem and fail the run (exit status 1): missing or damaged models stop it
before any image is read; a file that cannot be read or is not an acceptable image is reported in the JSON
and named in the error after the other images are done, so a shell script or an operator cannot mistake a
run that embedded nothing for one that worked.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching.engine import FaceModels
from matching.exceptions import ImageRejectedError, MatchingError
from matching.services import face_models_load, faces_embed


class Command(BaseCommand):
    help = "Detect, align and embed the faces in image files; print box, landmarks, descriptor."
    # The system check warns about FACE_MODEL_DIR even when --dir names another directory; this command
    # reports the models it actually uses, in one line.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("images", nargs="+", type=Path)
        parser.add_argument("--dir", type=Path, default=None, help="override FACE_MODEL_DIR")
        parser.add_argument(
            "--upsample", type=int, default=0, choices=(0, 1, 2),
            help="double the image before detection (finds smaller faces, 4x slower each)",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        models = _models(options["dir"])
        results: list[dict[str, Any]] = []
        failures: list[str] = []
        for path in options["images"]:
            try:
                faces = faces_embed(
                    image=path.read_bytes(), models=models, upsample=options["upsample"]
                )
            except OSError as exc:
                code, message = "unreadable", exc.strerror or str(exc)
            except ImageRejectedError as exc:
                code, message = str(exc.code), str(exc)
            except MatchingError as exc:  # the models, not the image: no point trying the others
                raise CommandError(f"face models in {models.directory} not usable: {exc}") from exc
            else:
                results.append({"image": str(path), "faces": [asdict(face) for face in faces]})
                continue
            results.append({"image": str(path), "error": {"code": code, "message": message}})
            failures.append(f"{path}: {code}: {_one_line(message)}")
        self.stdout.write(json.dumps(results, indent=2))
        if failures:
            count = len(options["images"])
            raise CommandError(f"{len(failures)} of {count} images failed: " + "; ".join(failures))


def _models(directory: Path | None) -> FaceModels:
    if directory is None:
        configured = getattr(settings, "FACE_MODEL_DIR", None)
        if configured is None:
            raise CommandError("FACE_MODEL_DIR is not set; pass --dir")
        directory = Path(configured)
    try:
        return face_models_load(directory=directory)
    except MatchingError as exc:  # never built, or built by another version
        raise CommandError(f"face models not usable: {exc}") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CommandError(
            f"face models not usable: the registry in {directory} cannot be read "
            f"({type(exc).__name__}: {_one_line(str(exc))}); "
            "rebuild it with manage.py build_face_models --force"
        ) from exc


def _one_line(text: str) -> str:
    return " ".join(text.split())
