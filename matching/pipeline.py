"""Photo to descriptors: decode and validate, detect, landmarks, align, embed, judge quality.

Uploaded photos are untrusted input, so they pass `matching.images.image_check` (the same checks, with the
same limits, as a mugshot being imported), full decode included, before OpenCV decodes their pixels. OpenCV
cannot be the judge: it decodes a JPEG cut short and closed with an end marker without an error, the rest of
the face grey. The extra decodes cost milliseconds against a second or so of face detection.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from matching import alignment, detector, landmarks
from matching.engine import FaceModels
from matching.exceptions import ImageRejectedError, ModelFormatError
from matching.images import image_check
from matching.types import Face, FaceQuality, ImageLimits, ImageRejection, QualityReason

MIN_FACE_WIDTH = 90
YAW_TOLERANCE = 0.18  # nose may sit 32%..68% of the way between the eye centres
PITCH_RANGE = (0.45, 1.15)


def image_decode(*, image: bytes, limits: ImageLimits | None = None) -> npt.NDArray[np.uint8]:
    """Check an uploaded photo against `limits` (default: `ImageLimits()`) and decode it to an RGB
    ``(rows, cols, 3)`` uint8 array; raises ``ImageRejectedError`` with its reason."""
    image_check(data=image, limits=limits or ImageLimits())
    bgr = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageRejectedError("The image could not be decoded.", reason=ImageRejection.CORRUPT)
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
