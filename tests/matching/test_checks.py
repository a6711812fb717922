"""The startup check that tells operators the face models are missing."""

from __future__ import annotations

from pathlib import Path

from django.test import override_settings

from matching.checks import face_models_check


def test_missing_models_warn(tmp_path: Path) -> None:
    with override_settings(FACE_MODEL_DIR=tmp_path):
        messages = face_models_check()
    assert [m.id for m in messages] == ["matching.W002"]
    assert "build_face_models" in (messages[0].hint or "")


def test_built_models_pass(model_dir: Path) -> None:
    with override_settings(FACE_MODEL_DIR=model_dir):
        assert face_models_check() == []
