"""Errors raised by the face-matching component.

Every error carries a stable ``code`` so the gateway can map it to an HTTP status and a
county operator can look it up, without parsing messages. ``matching`` knows nothing
about HTTP.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from matching.types import ImageRejection


class MatchingErrorCode(StrEnum):
    """Stable, machine-readable reasons a face operation failed."""

    MODEL_FORMAT = "model_format"
    MODEL_MISSING = "model_missing"
    MODEL_HASH_MISMATCH = "model_hash_mismatch"
    IMAGE_EMPTY = "image_empty"
    IMAGE_TOO_LARGE = "image_too_large"
    IMAGE_NOT_IMAGE = "image_not_image"
    IMAGE_TRUNCATED = "image_truncated"
    IMAGE_PIXEL_LIMIT = "image_pixel_limit"
    IMAGE_DIMENSIONS = "image_dimensions"
    IMAGE_UNSUPPORTED_FORMAT = "image_unsupported_format"
    IMAGE_CORRUPT = "image_corrupt"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    NOT_FRONTAL = "not_frontal"


class MatchingError(Exception):
    """Base class for every error the matching component raises on purpose."""

    code: MatchingErrorCode = MatchingErrorCode.MODEL_FORMAT

    def __init__(self, message: str, *, code: MatchingErrorCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ModelFormatError(MatchingError):
    """A dlib ``.dat`` file does not have the structure the reader expects."""

    code = MatchingErrorCode.MODEL_FORMAT


class ModelMissingError(MatchingError):
    """The converted models have not been built (run ``manage.py build_face_models``)."""

    code = MatchingErrorCode.MODEL_MISSING


class ModelHashMismatchError(MatchingError):
    """A built model file no longer matches the hash recorded in the registry."""

    code = MatchingErrorCode.MODEL_HASH_MISMATCH


_IMAGE_CODES = {
    ImageRejection.EMPTY: MatchingErrorCode.IMAGE_EMPTY,
    ImageRejection.TOO_LARGE: MatchingErrorCode.IMAGE_TOO_LARGE,
    ImageRejection.NOT_AN_IMAGE: MatchingErrorCode.IMAGE_NOT_IMAGE,
    ImageRejection.UNSUPPORTED_FORMAT: MatchingErrorCode.IMAGE_UNSUPPORTED_FORMAT,
    ImageRejection.TOO_MANY_PIXELS: MatchingErrorCode.IMAGE_PIXEL_LIMIT,
    ImageRejection.TOO_SMALL: MatchingErrorCode.IMAGE_DIMENSIONS,
    ImageRejection.ABSURD_ASPECT_RATIO: MatchingErrorCode.IMAGE_DIMENSIONS,
    ImageRejection.TRUNCATED: MatchingErrorCode.IMAGE_TRUNCATED,
    ImageRejection.CORRUPT: MatchingErrorCode.IMAGE_CORRUPT,
}


class ImageRejectedError(MatchingError):
    """A photo that failed the checks of ``matching.images``: ``reason`` says which, ``code`` is its error
    code, ``extra`` carries the figures (sizes and limits) for the message a clerk or investigator sees."""

    code = MatchingErrorCode.IMAGE_NOT_IMAGE

    def __init__(
        self, message: str, *, reason: ImageRejection, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, code=_IMAGE_CODES[reason])
        self.reason = reason
        self.extra = extra or {}


class FaceQualityError(MatchingError):
    """A photo decodes but cannot be used for matching; ``code`` says why (no face, …)."""

    code = MatchingErrorCode.NO_FACE
