"""Photo validation, quality reasons, the public services and the SAMPLE faces."""

from __future__ import annotations

import io
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from matching import pipeline
from matching.engine import FaceModels
from matching.exceptions import FaceQualityError, ImageRejectedError, MatchingErrorCode
from matching.services import face_embed_one, faces_embed, sample_faces, sample_mated_variants
from matching.types import ImageLimits, QualityReason


def _png(rgb: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    assert ok
    return buffer.tobytes()


def _jpeg(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=90)
    return out.getvalue()


def _png_header_only(cols: int, rows: int) -> bytes:
    """A PNG whose header declares a huge image (a decompression-bomb shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = cols.to_bytes(4, "big") + rows.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def astronaut_png() -> bytes:
    return sample_faces()[0].png


def _decode(png: bytes) -> np.ndarray:
    return pipeline.image_decode(image=png)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"", MatchingErrorCode.IMAGE_EMPTY),
        (b"%PDF-1.4 not a photo", MatchingErrorCode.IMAGE_NOT_IMAGE),
        (_png_header_only(20_000, 20_000), MatchingErrorCode.IMAGE_PIXEL_LIMIT),
        (_png_header_only(9_000, 100), MatchingErrorCode.IMAGE_DIMENSIONS),
        (_png_header_only(10, 10), MatchingErrorCode.IMAGE_DIMENSIONS),
    ],
)
def test_uploads_are_refused_with_a_reason(payload: bytes, code: MatchingErrorCode) -> None:
    with pytest.raises(ImageRejectedError) as caught:
        pipeline.image_decode(image=payload)
    assert caught.value.code == code


def test_truncated_jpeg_is_refused(astronaut_png: bytes) -> None:
    jpeg = _jpeg(_decode(astronaut_png))
    with pytest.raises(ImageRejectedError) as caught:
        pipeline.image_decode(image=jpeg[: len(jpeg) // 2])
    assert caught.value.code == MatchingErrorCode.IMAGE_TRUNCATED


def test_a_probe_cut_short_and_closed_with_an_end_marker_is_refused(astronaut_png: bytes) -> None:
    """OpenCV decodes it without complaint, the missing half grey: a half face would be searched."""
    jpeg = _jpeg(_decode(astronaut_png))
    with pytest.raises(ImageRejectedError) as caught:
        pipeline.image_decode(image=jpeg[: len(jpeg) // 2] + b"\xff\xd9")
    assert caught.value.code == MatchingErrorCode.IMAGE_TRUNCATED


def test_oversized_upload_is_refused() -> None:
    with pytest.raises(ImageRejectedError) as caught:
        pipeline.image_decode(image=b"\xff\xd8\xff" + b"\0" * ImageLimits().max_bytes)
    assert caught.value.code == MatchingErrorCode.IMAGE_TOO_LARGE


def test_decode_returns_rgb(astronaut_png: bytes) -> None:
    rgb = _decode(astronaut_png)
    assert rgb.shape == (512, 512, 3)
    # The astronaut's suit is white and the flag's red stripe is red, not blue: RGB order.
    red_patch = rgb[430:440, 20:30].reshape(-1, 3).mean(axis=0)
    assert red_patch[0] > red_patch[2]


def test_quality_flags_small_and_turned_faces() -> None:
    frontal = ((150, 100), (130, 101), (70, 100), (90, 101), (110, 145))
    assert pipeline.face_quality(box=(50, 40, 170, 160), points=frontal).usable
    small = pipeline.face_quality(box=(50, 40, 100, 90), points=frontal)
    assert small.reasons == (QualityReason.FACE_TOO_SMALL,)
    turned = ((150, 100), (130, 101), (70, 100), (90, 101), (142, 145))
    assert (
        QualityReason.NOT_FRONTAL
        in pipeline.face_quality(box=(50, 40, 170, 160), points=turned).reasons
    )


def test_one_face_found_with_descriptor(face_models: FaceModels, astronaut_png: bytes) -> None:
    face = face_embed_one(image=astronaut_png, models=face_models)
    assert face.box == (168, 69, 263, 164)
    assert len(face.descriptor) == 128
    assert len(face.landmarks) == 5
    assert face.quality.usable


def test_no_face_and_several_faces_are_reasons(
    face_models: FaceModels, astronaut_png: bytes
) -> None:
    blank = np.full((200, 200, 3), 128, np.uint8)
    with pytest.raises(FaceQualityError) as caught:
        face_embed_one(image=_png(blank), models=face_models)
    assert caught.value.code == MatchingErrorCode.NO_FACE
    rgb = _decode(astronaut_png)[:300, 100:360]
    pair = np.ascontiguousarray(np.hstack([rgb, rgb[:, ::-1]]))
    assert len(faces_embed(image=_png(pair), models=face_models)) == 2
    with pytest.raises(FaceQualityError) as caught:
        face_embed_one(image=_png(pair), models=face_models)
    assert caught.value.code == MatchingErrorCode.MULTIPLE_FACES


def test_samples_are_labelled_and_mated_variants_match_first(face_models: FaceModels) -> None:
    originals = sample_faces(lfw_count=6)
    assert all(s.label.startswith("SAMPLE") for s in originals)
    gallery = {}
    for sample in originals:
        faces = faces_embed(image=sample.png, models=face_models)
        if len(faces) == 1:
            gallery[sample.subject] = np.asarray(faces[0].descriptor)
    assert "sample-astronaut" in gallery
    assert len(gallery) >= 4
    for probe in sample_mated_variants(sample=originals[0]):
        assert probe.label.startswith("SAMPLE")
        vector = np.asarray(face_embed_one(image=probe.png, models=face_models).descriptor)
        ranked = sorted(gallery, key=lambda subject: np.linalg.norm(gallery[subject] - vector))
        assert ranked[0] == "sample-astronaut", probe.variant
        assert np.linalg.norm(gallery["sample-astronaut"] - vector) < 0.6


def test_jpeg_with_trailer_is_accepted_and_cut_png_is_not(astronaut_png: bytes) -> None:
    rgb = _decode(astronaut_png)
    jpeg = _jpeg(rgb) + b"vendor trailer after the end-of-image marker" * 100
    assert pipeline.image_decode(image=jpeg).shape == rgb.shape
    with pytest.raises(ImageRejectedError) as caught:
        pipeline.image_decode(image=astronaut_png[:-5000])
    assert caught.value.code == MatchingErrorCode.IMAGE_TRUNCATED
