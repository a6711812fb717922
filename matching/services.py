"""Public face-matching services: what ``gateway`` (and Celery tasks) call.

Everything here takes and returns plain values: bytes in, frozen dataclasses out. Model
files live in a directory the caller names (``settings.FACE_MODEL_DIR`` in the gateway).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matching import images, pipeline, registry, samples
from matching.binomial import clopper_pearson_interval, clopper_pearson_upper
from matching.engine import FaceModels, engine_reset
from matching.evaluation import (
    EvaluationReport,
    ThresholdCalibration,
    evaluation_run,
    fpir_at_distance,
    threshold_calibrate,
)
from matching.exceptions import FaceQualityError, MatchingErrorCode
from matching.gate import GateFailure, GateFailureCode, GateResult, evaluation_gate
from matching.search import GalleryIndex, GalleryShard, SearchResult, results_merge
from matching.types import CheckedImage, Face, ImageLimits, QualityReason, SampleFace

# Search, evaluation and its statistics are re-exported so the gateway reaches matching only through this module.
__all__ = [
    "EvaluationReport",
    "FaceModels",
    "GalleryIndex",
    "GalleryShard",
    "GateFailure",
    "GateFailureCode",
    "GateResult",
    "SearchResult",
    "ThresholdCalibration",
    "clopper_pearson_interval",
    "clopper_pearson_upper",
    "evaluation_gate",
    "evaluation_run",
    "face_embed_one",
    "face_models_build",
    "face_models_load",
    "faces_embed",
    "fpir_at_distance",
    "image_check",
    "results_merge",
    "sample_faces",
    "sample_mated_variants",
    "threshold_calibrate",
]


def face_models_build(*, directory: Path, force: bool = False) -> dict[str, Any]:
    """Convert dlib's models into ``directory`` (idempotent) and return the registry.

    Cheap when the models are already built from the same source files.
    """
    records = registry.build_face_models(directory=directory, force=force)
    engine_reset()
    return {name: record.sha256 for name, record in records.items()}


def face_models_load(*, directory: Path, threads: int = 1) -> FaceModels:
    """The models in ``directory``; sessions are created lazily on first use, once per process.

    Raises ``ModelMissingError`` when ``build_face_models`` has not been run.
    """
    models = FaceModels(directory=directory, threads=threads)
    models.record(models.descriptor)
    return models


def image_check(*, data: bytes, limits: ImageLimits) -> CheckedImage:
    """The checks every photo passes, fully decoded (see ``matching.images``); the gateway calls this for
    each mugshot it imports, and ``faces_embed`` makes the same checks on every probe and gallery photo.

    Raises ``ImageRejectedError`` with its ``reason``, ``code`` and figures.
    """
    return images.image_check(data=data, limits=limits)


def faces_embed(
    *, image: bytes, models: FaceModels, upsample: int = 0, limits: ImageLimits | None = None
) -> list[Face]:
    """Every face in an uploaded photo, best detection first, each with quality reasons.

    Raises ``ImageRejectedError`` (with a reason and code) when the upload is not a safe, complete image
    within ``limits`` (default ``ImageLimits()``; the gateway passes the ones from its settings); a photo
    without faces returns an empty list. ``upsample=1`` also finds faces of 40–80 px (dlib's
    ``upsample_num_times``); they are reported ``face_too_small``.
    """
    rgb = pipeline.image_decode(image=image, limits=limits)
    return pipeline.faces_from_rgb(rgb, models=models, upsample=upsample)


_QUALITY_CODES = {
    QualityReason.FACE_TOO_SMALL: MatchingErrorCode.FACE_TOO_SMALL,
    QualityReason.NOT_FRONTAL: MatchingErrorCode.NOT_FRONTAL,
}


def face_embed_one(
    *, image: bytes, models: FaceModels, upsample: int = 0, limits: ImageLimits | None = None
) -> Face:
    """The single usable face of a probe or mugshot.

    Raises ``FaceQualityError`` with code ``no_face``, ``multiple_faces``,
    ``face_too_small`` or ``not_frontal``: a probe with two people in it must not be
    searched as if it were one, since nobody could say whose candidates came back.
    """
    faces = faces_embed(image=image, models=models, upsample=upsample, limits=limits)
    if not faces:
        raise FaceQualityError("no face found", code=MatchingErrorCode.NO_FACE)
    if len(faces) > 1:
        raise FaceQualityError(f"{len(faces)} faces found", code=MatchingErrorCode.MULTIPLE_FACES)
    face = faces[0]
    if not face.quality.usable:
        reason = face.quality.reasons[0]
        raise FaceQualityError(f"face unusable: {reason}", code=_QUALITY_CODES[reason])
    return face


def sample_faces(*, lfw_count: int = 0) -> list[SampleFace]:
    """Public sample portraits shipped by installed packages, each labelled SAMPLE."""
    return samples.sample_faces(lfw_count=lfw_count)


def sample_mated_variants(
    *, sample: SampleFace, variants: tuple[str, ...] = tuple(samples.VARIANTS)
) -> list[SampleFace]:
    """Mated copies of a sample portrait: any of "flipped", "cropped", "brighter", "darker"
    and "rotated" (all by default), each standing in for a second photo of the person."""
    unknown = set(variants) - set(samples.VARIANTS)
    if unknown:
        raise ValueError(f"unknown sample variants: {sorted(unknown)}")
    return samples.sample_mated_variants(sample, variants=variants)
