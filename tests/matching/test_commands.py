"""The management commands, through ``call_command``."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from matching.registry import DESCRIPTOR
from matching.samples import sample_faces


def test_build_face_models_reports_hashes(model_dir: Path) -> None:
    out = StringIO()
    call_command("build_face_models", "--dir", str(model_dir), stdout=out)
    report = json.loads(out.getvalue())
    assert report["directory"] == str(model_dir)
    assert len(report["models"][DESCRIPTOR]) == 64


def test_face_embed_prints_faces_and_errors(model_dir: Path, tmp_path: Path) -> None:
    photo = tmp_path / "sample.png"
    photo.write_bytes(sample_faces()[0].png)
    junk = tmp_path / "notes.txt"
    junk.write_text("not a photo")
    out = StringIO()
    call_command("face_embed", str(photo), str(junk), "--dir", str(model_dir), stdout=out)
    results = json.loads(out.getvalue())
    face = results[0]["faces"][0]
    assert face["box"] == [168, 69, 263, 164]
    assert len(face["descriptor"]) == 128
    assert len(face["landmarks"]) == 5
    assert results[1]["error"]["code"] == "image_not_image"
