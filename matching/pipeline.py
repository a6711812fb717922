"""Photo to descriptors: decode and validate, detect, landmarks, align, embed, judge quality.

Uploaded photos are untrusted input, so they are checked before any decoder touches the
pixels: size in bytes, a known image signature, declared dimensions and pixel count read
from the header (a decompression bomb is refused before it is expanded), and an end marker
(truncated uploads are refused with their own reason rather than half-decoded).
"""

from __future__ import annotations

import io
import math
import warnings
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from matching import alignment, detector, landmarks
from matching.engine import FaceModels
from matching.exceptions import ImageRejectedError, MatchingErrorCode, ModelFormatError
from matching.types import Face, FaceQuality, QualityReason

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 32
MAX_SIDE = 12_000
MAX_ASPECT = 8.0
MIN_FACE_WIDTH = 90
YAW_TOLERANCE = 0.18  # nose may sit 32%..68% of the way between the eye centres
PITCH_RANGE = (0.45, 1.15)

_SIGNATURES = {
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG\r\n\x1a\n": "png",
    b"BM": "bmp",
}


def _format(data: bytes) -> str:
    for magic, name in _SIGNATURES.items():
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise ImageRejectedError(
        "not a JPEG, PNG, WebP or BMP image", code=MatchingErrorCode.IMAGE_NOT_IMAGE
    )


def _check_complete(data: bytes, kind: str) -> None:
    """Refuse uploads cut short: OpenCV would otherwise fill the missing rows with grey.

    A JPEG must have an end-of-image marker after its last start-of-scan marker (entropy
    coded data cannot contain either, and an embedded EXIF thumbnail's markers come before
    the main scan); a PNG must end with its IEND chunk.
    """
    truncated = (kind == "jpeg" and data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda")) or (
        kind == "png" and b"IEND" not in data[-4096:]
    )
    if truncated:
        raise ImageRejectedError(
            "the image file is truncated", code=MatchingErrorCode.IMAGE_TRUNCATED
        )


def _check_dimensions(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as header:
                cols, rows = header.size
        except Image.DecompressionBombError as exc:
            raise ImageRejectedError(
                "image exceeds the pixel limit", code=MatchingErrorCode.IMAGE_PIXEL_LIMIT
            ) from exc
        except (OSError, ValueError) as exc:
            raise ImageRejectedError(
                "image header cannot be read", code=MatchingErrorCode.IMAGE_NOT_IMAGE
            ) from exc
    if rows * cols > MAX_PIXELS:
        raise ImageRejectedError(
            f"{cols}x{rows} exceeds the {MAX_PIXELS} pixel limit",
            code=MatchingErrorCode.IMAGE_PIXEL_LIMIT,
        )
    if (
        min(rows, cols) < MIN_SIDE
        or max(rows, cols) > MAX_SIDE
        or (max(rows, cols) / min(rows, cols) > MAX_ASPECT)
    ):
        raise ImageRejectedError(
            f"{cols}x{rows} is not a plausible photo size", code=MatchingErrorCode.IMAGE_DIMENSIONS
        )


def image_decode(*, image: bytes) -> npt.NDArray[np.uint8]:
    """Validate an uploaded photo and decode it to an RGB ``(rows, cols, 3)`` uint8 array."""
    if not image:
        raise ImageRejectedError("empty upload", code=MatchingErrorCode.IMAGE_EMPTY)
    if len(image) > MAX_IMAGE_BYTES:
        raise ImageRejectedError(
            f"upload exceeds {MAX_IMAGE_BYTES} bytes", code=MatchingErrorCode.IMAGE_TOO_LARGE
        )
    kind = _format(image)
    _check_complete(image, kind)
    _check_dimensions(image)
    bgr = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageRejectedError(
            "the image data is corrupt", code=MatchingErrorCode.IMAGE_TRUNCATED
        )
    rgb: npt.NDArray[np.uint8] = np.ascontiguousarray(bgr[:, :, ::-1])
    return rgb


def face_quality(
    *, box: tuple[int, int, int, int], points: tuple[tuple[int, int], ...]
) -> FaceQuality:
    """Judge one face from its box and 5 landmarks (0,1: image-right eye; 2,3: left; 4: nose)."""
    parts = np.asarray(points, np.float64)
    right_eye, left_eye, nose = parts[0:2].mean(axis=0), parts[2:4].mean(axis=0), parts[4]
    axis = right_eye - left_eye
    eye_distance = float(np.hypot(*axis))
    if eye_distance == 0:
        yaw, pitch = math.inf, math.inf
    else:
        unit = axis / eye_distance
        offset = nose - left_eye
        yaw = float(offset @ unit) / eye_distance
        pitch = float(unit[0] * offset[1] - unit[1] * offset[0]) / eye_distance
    width = box[2] - box[0] + 1
    reasons: list[QualityReason] = []
    if width < MIN_FACE_WIDTH:
        reasons.append(QualityReason.FACE_TOO_SMALL)
    if abs(yaw - 0.5) > YAW_TOLERANCE or not PITCH_RANGE[0] <= pitch <= PITCH_RANGE[1]:
        reasons.append(QualityReason.NOT_FRONTAL)
    return FaceQuality(
        usable=not reasons, reasons=tuple(reasons), face_width=width,
        yaw_ratio=round(yaw, 4), pitch_ratio=round(pitch, 4),
    )  # fmt: skip


def descriptor_input(chips: npt.NDArray[np.uint8], *, spec: dict[str, Any]) -> npt.NDArray[Any]:
    """Turn ``(N, size, size, 3)`` RGB uint8 chips into the tensor a descriptor model expects."""
    data: npt.NDArray[Any] = chips[..., ::-1] if spec["color"] == "BGR" else chips
    if spec["dtype"] == "float32":
        mean = np.asarray(spec["mean"], np.float32)
        data = (data.astype(np.float32) - mean) * np.float32(spec["scale"])
    elif spec["dtype"] != "uint8":
        raise ModelFormatError(f"unsupported descriptor input dtype {spec['dtype']!r}")
    if spec["layout"] == "NCHW":
        data = data.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(data)


def chips_embed(chips: npt.NDArray[np.uint8], *, models: FaceModels) -> npt.NDArray[np.float32]:
    """Descriptors for aligned RGB chips, in one ONNX Runtime call."""
    spec = models.record(models.descriptor).input
    if len(chips) == 0:
        return np.zeros((0, int(spec.get("output_dim", 128))), np.float32)
    session = models.descriptor_session()
    feed = descriptor_input(chips, spec=spec)
    out: npt.NDArray[np.float32] = session.run(None, {session.get_inputs()[0].name: feed})[0]
    return out.reshape(len(chips), -1)


def _chip_size(models: FaceModels) -> int:
    spec = models.record(models.descriptor).input
    rows, cols = spec["size"]
    if rows != cols or spec.get("alignment") != alignment.DLIB_ALIGNMENT:
        raise ModelFormatError(
            f"descriptor {models.descriptor!r} needs an alignment this pipeline does not make"
        )
    return int(rows)


def faces_from_rgb(
    rgb: npt.NDArray[np.uint8], *, models: FaceModels, upsample: int = 0
) -> list[Face]:
    """Run detection, landmarks, alignment and embedding on a decoded RGB image.

    ``upsample`` doubles the image that many times before detection, as dlib's
    ``upsample_num_times`` does (finds faces down to ~40 px, at four times the cost).
    """
    found = detector.detect(
        rgb,
        session=models.detector_session(),
        config=models.detector_config(),
        upsample=upsample,
    )
    if not found:
        return []
    size = _chip_size(models)
    predictor = models.shape_predictor()
    gray = (rgb.astype(np.uint16).sum(axis=2) // 3).astype(np.float32)
    shapes = [landmarks.predict(rgb, d.box, predictor=predictor, gray=gray) for d in found]
    chips = np.stack(
        [alignment.extract_chip(rgb, alignment.chip_details(s.points, size=size)) for s in shapes]
    )
    descriptors = chips_embed(chips, models=models)
    return [
        Face(
            box=d.box,
            detection_score=round(d.score, 6),
            landmarks=s.points,
            descriptor=tuple(float(v) for v in vector),
            quality=face_quality(box=d.box, points=s.points),
            model=models.descriptor,
        )
        for d, s, vector in zip(found, shapes, descriptors, strict=True)
    ]
