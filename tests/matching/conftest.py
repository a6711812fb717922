"""Fixtures for matching tests: the converted models, built once per test session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matching.engine import FaceModels
from matching.services import face_models_build, face_models_load

GOLDEN = Path(__file__).parent / "golden" / "golden.json"


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("face-models")
    face_models_build(directory=directory)
    return directory


@pytest.fixture(scope="session")
def face_models(model_dir: Path) -> FaceModels:
    return face_models_load(directory=model_dir)


@pytest.fixture(scope="session")
def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text())
