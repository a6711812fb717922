"""The management commands, through ``call_command``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from matching.registry import DESCRIPTOR, REGISTRY_FILE
from matching.samples import sample_faces


def test_build_face_models_reports_hashes(model_dir: Path) -> None:
    out = StringIO()
    call_command("build_face_models", "--dir", str(model_dir), stdout=out)
    report = json.loads(out.getvalue())
    assert report["directory"] == str(model_dir)
    assert len(report["models"][DESCRIPTOR]) == 64


def test_face_embed_prints_faces_and_fails_on_a_file_that_is_not_an_image(
    model_dir: Path, tmp_path: Path
) -> None:
    """The faces found are still printed; the run then fails, naming the file and the problem."""
    photo = tmp_path / "sample.png"
    photo.write_bytes(sample_faces()[0].png)
    junk = tmp_path / "notes.txt"
    junk.write_text("not a photo")
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("face_embed", str(photo), str(junk), "--dir", str(model_dir), stdout=out)
    message = str(caught.value)
    assert "\n" not in message
    assert f"{junk}: image_not_image" in message
    assert "not a JPEG, PNG or JPEG 2000 image" in message
    assert str(photo) not in message
    results = json.loads(out.getvalue())
    face = results[0]["faces"][0]
    assert face["box"] == [168, 69, 263, 164]
    assert len(face["descriptor"]) == 128
    assert len(face["landmarks"]) == 5
    assert results[1]["error"]["code"] == "image_not_image"


def test_face_embed_names_a_missing_file(model_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jpg"
    with pytest.raises(CommandError, match=re.escape(f"{missing}: unreadable")):
        call_command("face_embed", str(missing), "--dir", str(model_dir), stdout=StringIO())


def test_face_embed_without_models_says_so_and_how_to_build_them(tmp_path: Path) -> None:
    photo = tmp_path / "sample.png"
    photo.write_bytes(sample_faces()[0].png)
    empty = tmp_path / "no-models"
    empty.mkdir()
    with pytest.raises(
        CommandError, match=re.escape(f"no face models in {empty}") + ".*build_face_models"
    ):
        call_command("face_embed", str(photo), "--dir", str(empty), stdout=StringIO())


def test_face_embed_with_a_damaged_model_registry_says_so(tmp_path: Path) -> None:
    photo = tmp_path / "sample.png"
    photo.write_bytes(sample_faces()[0].png)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / REGISTRY_FILE).write_text('{"models": {"descriptor": ')
    with pytest.raises(
        CommandError, match=r"registry in .* cannot be read .*build_face_models --force"
    ):
        call_command("face_embed", str(photo), "--dir", str(damaged), stdout=StringIO())


def _manage(*args: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, str(root / "manage.py"), *args],
        cwd=root,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_face_embed_errors_are_one_line_and_a_failing_exit_status(
    model_dir: Path, tmp_path: Path
) -> None:
    """What an operator sees in a shell: no traceback, one line on stderr, exit status 1."""
    junk = tmp_path / "notes.txt"
    junk.write_text("not a photo")
    empty = tmp_path / "no-models"
    empty.mkdir()
    for args, expected in (
        ((str(junk), "--dir", str(empty)), "no face models in"),
        ((str(junk), "--dir", str(model_dir)), "image_not_image"),
    ):
        run = _manage("face_embed", *args)
        assert run.returncode == 1, run.stderr
        assert "Traceback" not in run.stderr
        assert run.stderr.strip().count("\n") == 0, run.stderr
        assert expected in run.stderr
