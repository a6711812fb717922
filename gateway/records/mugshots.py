"""Mugshot validation and storage: every image is decoded for real before a byte of it is kept.

The checks themselves are `matching.images` (through `matching.services.image_check`): one set of rules for a
mugshot being imported and for a probe or gallery photo being embedded, with the limits this module reads from
the settings (`photo_limits`). Here they get the gateway's error (code IMAGE_REJECTED, the reason in `extra`).

Storage is by content hash (`mugshots/ab/abcdef…`), so the same photo attached to two bookings is kept once and
re-importing a file never duplicates bytes or rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.records.models import Booking, Mugshot, Pose, mugshot_upload_to
from matching import exceptions as matching_errors
from matching.services import image_check
from matching.types import ImageLimits, ImageRejection

__all__ = [
    "ImageRejectedError",
    "ValidatedImage",
    "mugshot_pose_from_label",
    "mugshot_store",
    "mugshot_validate",
    "photo_limits",
]


class ImageRejectedError(GatewayError):
    """An image that failed validation; `reason` says which check, `extra` carries the figures."""

    code = GatewayErrorCode.IMAGE_REJECTED

    def __init__(
        self, message: str, *, reason: ImageRejection, extra: dict[str, Any] | None = None
    ):
        super().__init__(message, extra={"reason": str(reason), **(extra or {})})
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ValidatedImage:
    """What a successful decode proved about the bytes: the real format and size, and their hash."""

    format: str  # "jpeg", "png" or "jp2"
    width: int
    height: int
    sha256: str
    size: int


def photo_limits() -> ImageLimits:
    """The photo limits from the settings (MUGSHOT_MAX_BYTES, _MAX_PIXELS, _MIN_SIDE, _MAX_ASPECT), for
    mugshots and probes alike."""
    return ImageLimits(
        max_bytes=int(settings.MUGSHOT_MAX_BYTES),
        max_pixels=int(settings.MUGSHOT_MAX_PIXELS),
        min_side=int(settings.MUGSHOT_MIN_SIDE),
        max_aspect=float(settings.MUGSHOT_MAX_ASPECT),
    )


def mugshot_validate(*, data: bytes) -> ValidatedImage:
    """Decode `data` completely and return its real format and dimensions, or raise ImageRejectedError."""
    try:
        checked = image_check(data=data, limits=photo_limits())
    except matching_errors.ImageRejectedError as error:
        raise ImageRejectedError(str(error), reason=error.reason, extra=error.extra) from error
    return ValidatedImage(
        format=checked.format,
        width=checked.width,
        height=checked.height,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


_POSE_BY_LABEL = {
    # ANSI/NIST-ITL Type-10 field 10.020 (POS) and NIEM pose codes.
    "f": Pose.FRONTAL,
    "l": Pose.LEFT_PROFILE,
    "r": Pose.RIGHT_PROFILE,
    # Words vendors and rosters use.
    "frontal": Pose.FRONTAL,
    "front": Pose.FRONTAL,
    "full face": Pose.FRONTAL,
    "full-face frontal": Pose.FRONTAL,
    "left": Pose.LEFT_PROFILE,
    "left profile": Pose.LEFT_PROFILE,
    "left_profile": Pose.LEFT_PROFILE,
    "right": Pose.RIGHT_PROFILE,
    "right profile": Pose.RIGHT_PROFILE,
    "right_profile": Pose.RIGHT_PROFILE,
}


def mugshot_pose_from_label(*, label: str | None) -> Pose:
    """Map a source's pose label (Type-10 F/L/R/A/D, or a word) to our Pose.

    Angled (A) and 3D-determined (D) poses have no place in the model and become UNKNOWN, as does anything
    unrecognised: a wrong pose label would mislead matching more than a missing one.
    """
    if not label:
        return Pose.UNKNOWN
    return _POSE_BY_LABEL.get(label.strip().lower(), Pose.UNKNOWN)


def mugshot_store(
    *,
    booking: Booking,
    data: bytes,
    pose: str = "unknown",
    captured_at: datetime | None = None,
    synthetic: bool = False,
) -> Mugshot:
    """Validate `data` and attach it to `booking`, keeping the original bytes under their content hash.

    Idempotent on (booking, sha256): storing the same bytes again returns the existing row unchanged, so a
    re-import never adds a second photo. The same bytes on another booking reuse the stored file. Raises
    ImageRejectedError (code IMAGE_REJECTED, `reason` in extra) for anything mugshot_validate refuses.
    """
    image = mugshot_validate(data=data)
    existing = Mugshot.objects.filter(booking=booking, sha256=image.sha256).first()
    if existing is not None:
        return existing
    mugshot = Mugshot(
        booking=booking,
        sha256=image.sha256,
        size_bytes=image.size,
        width=image.width,
        height=image.height,
        image_format=image.format,
        pose=pose if pose in Pose.values else mugshot_pose_from_label(label=pose),
        captured_at=captured_at,
        synthetic=synthetic,
    )
    mugshot.image.name = _file_save(path=mugshot_upload_to(mugshot, ""), data=data)
    mugshot.full_clean()
    try:
        with transaction.atomic():
            mugshot.save()
    except IntegrityError:
        # A concurrent import stored the same photo for this booking between our check and our insert.
        return Mugshot.objects.get(booking=booking, sha256=image.sha256)
    return mugshot


def _file_save(*, path: str, data: bytes) -> str:
    """Save bytes at their content-hash path once; an existing file with that hash already holds them."""
    if default_storage.exists(path):
        return path
    saved = default_storage.save(path, ContentFile(data))
    if saved != path:
        # Another process wrote the same hash first and the storage picked a new name for ours; the
        # content is identical, so keep the canonical file.
        default_storage.delete(saved)
    return path
