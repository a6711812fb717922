"""Django system check: warn at startup when the face models have not been built.

Matching is optional for most of the gateway, so a missing model directory is a warning,
not an error; the match request itself answers ``model_missing`` until the models exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

from matching.exceptions import MatchingError
from matching.registry import registry_load


@register()
def face_models_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report a missing or unreadable model registry in ``FACE_MODEL_DIR``."""
    directory = getattr(settings, "FACE_MODEL_DIR", None)
    if directory is None:
        return [Warning("FACE_MODEL_DIR is not set", id="matching.W001")]
    try:
        registry_load(directory=Path(directory))
    except (MatchingError, OSError, ValueError, TypeError) as exc:
        return [
            Warning(
                f"face models unavailable: {exc}",
                hint="run `manage.py build_face_models`",
                id="matching.W002",
            )
        ]
    return []
