"""Mugshot validation and storage: every image is decoded for real before a byte of it is kept.

Why so strict: mugshots arrive from vendors, livescan exports and inline base64 in NIEM messages, and a file
name or a declared format is only a claim. An image that cannot be fully decoded is useless to face matching
and may be hostile (a decompression bomb declares a huge canvas in a few hundred bytes), so the checks run
cheapest first and the pixel limit is enforced from the header, before any pixel is decoded.

Storage is by content hash (`mugshots/ab/abcdef…`), so the same photo attached to two bookings is kept once and
re-importing a file never duplicates bytes or rows.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from PIL import Image, UnidentifiedImageError

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.models.records import Booking, Mugshot, Pose, mugshot_upload_to

__all__ = [
    "ImageRejectedError",
    "ImageRejectionReason",
    "ValidatedImage",
    "mugshot_pose_from_label",
    "mugshot_store",
    "mugshot_validate",
]

# Below this many pixels on the short side an image cannot show a face well enough to compare; roster
# thumbnails of 96 x 120 still pass. Settings may override (MUGSHOT_MIN_SIDE, MUGSHOT_MAX_ASPECT).
DEFAULT_MIN_SIDE = 48
# Mugshots are 4:5 or 3:4 and a frontal + profile composite is about 2:1; beyond 3:1 it is a banner, a strip
# of pixels or a crafted header, not a booking photo.
DEFAULT_MAX_ASPECT = 3.0

# The formats booking systems actually produce for mugshots (ANSI/NIST Type-10 CGA JPEGB/JPEGL/PNG/JP2).
_ACCEPTED_FORMATS = ("JPEG", "PNG", "JPEG2000")

# Magic numbers of other image formats, so a GIF or TIFF is reported as "unsupported" rather than "not an
# image": the county should convert it, not wonder what the file was.
_OTHER_IMAGE_MAGIC = {
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"RIFF": "WEBP",
}

_ACCEPTED_MAGIC = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"\x00\x00\x00\x0cjP  \r\n\x87\n",  # JPEG 2000 file (JP2)
    b"\xff\x4f\xff\x51",  # JPEG 2000 codestream
)
_PNG_IEND = b"IEND\xaeB`\x82"  # the IEND chunk type followed by its fixed CRC
_JPEG_EOI = b"\xff\xd9"


class ImageRejectionReason(StrEnum):
    """Why an image was refused; stable values that import reports and API clients can rely on."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"  # more bytes than MUGSHOT_MAX_BYTES
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    TOO_MANY_PIXELS = (
        "too_many_pixels"  # header declares more than MUGSHOT_MAX_PIXELS: a decompression bomb
    )
    TOO_SMALL = "too_small"
    ABSURD_ASPECT_RATIO = "absurd_aspect_ratio"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"


class ImageRejectedError(GatewayError):
    """An image that failed validation; `reason` says which check, `extra` carries the figures."""

    code = GatewayErrorCode.IMAGE_REJECTED

    def __init__(
        self, message: str, *, reason: ImageRejectionReason, extra: dict[str, Any] | None = None
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


def _setting(name: str, default: int | float) -> int | float:
    value: int | float = getattr(settings, name, default)
    return value


def mugshot_validate(*, data: bytes) -> ValidatedImage:
    """Decode `data` completely and return its real format and dimensions, or raise ImageRejectedError.

    Order matters: byte size first (cheap), then the header (format, width, height) and the pixel limit,
    then the aspect and minimum size, and only then a full decode, so a bomb never gets its pixels allocated.
    A decode must consume the whole image: a truncated JPEG or PNG is refused even though viewers would
    show the top half, because a half face matches the wrong person.
    """
    max_bytes = int(_setting("MUGSHOT_MAX_BYTES", 20 * 1024 * 1024))
    if not data:
        raise ImageRejectedError("The image is empty.", reason=ImageRejectionReason.EMPTY)
    if len(data) > max_bytes:
        raise ImageRejectedError(
            f"The image is {len(data)} bytes; the limit is {max_bytes}.",
            reason=ImageRejectionReason.TOO_LARGE,
            extra={"size": len(data), "limit": max_bytes},
        )
    image_format, width, height = _read_header(data)
    _check_dimensions(width=width, height=height)
    _decode_fully(data=data, image_format=image_format)
    return ValidatedImage(
        format={"JPEG": "jpeg", "PNG": "png", "JPEG2000": "jp2"}[image_format],
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def _read_header(data: bytes) -> tuple[str, int, int]:
    """Identify the format from the bytes and read the declared size without decoding pixels."""
    max_pixels = int(_setting("MUGSHOT_MAX_PIXELS", 40_000_000))
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice its own limit, raises) on huge canvases; both mean a bomb here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_ACCEPTED_FORMATS) as image:
                # Pillow opens a multi-picture JPEG (MPO, from some cameras) as "MPO"; it is a JPEG.
                image_format = "JPEG" if image.format == "MPO" else str(image.format)
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejectedError(
            "The image declares more pixels than allowed (a decompression bomb).",
            reason=ImageRejectionReason.TOO_MANY_PIXELS,
            extra={"limit": max_pixels},
        ) from error
    except UnidentifiedImageError as error:
        raise _unidentified(data) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageRejectedError(
            f"The image header is damaged: {error}.", reason=ImageRejectionReason.CORRUPT
        ) from error
    if width * height > max_pixels:
        raise ImageRejectedError(
            f"The image declares {width} x {height} pixels; the limit is {max_pixels} pixels.",
            reason=ImageRejectionReason.TOO_MANY_PIXELS,
            extra={"width": width, "height": height, "limit": max_pixels},
        )
    return image_format, width, height


def _unidentified(data: bytes) -> ImageRejectedError:
    for magic, name in _OTHER_IMAGE_MAGIC.items():
        if data.startswith(magic):
            return ImageRejectedError(
                f"{name} images are not accepted; send JPEG, PNG or JPEG 2000.",
                reason=ImageRejectionReason.UNSUPPORTED_FORMAT,
                extra={"format": name},
            )
    if data.startswith(_ACCEPTED_MAGIC):
        return ImageRejectedError(
            "The data starts like a JPEG, PNG or JPEG 2000 image but its header is damaged.",
            reason=ImageRejectionReason.CORRUPT,
        )
    return ImageRejectedError(
        "The data is not a JPEG, PNG or JPEG 2000 image.", reason=ImageRejectionReason.NOT_AN_IMAGE
    )


def _check_dimensions(*, width: int, height: int) -> None:
    min_side = int(_setting("MUGSHOT_MIN_SIDE", DEFAULT_MIN_SIDE))
    max_aspect = float(_setting("MUGSHOT_MAX_ASPECT", DEFAULT_MAX_ASPECT))
    figures = {"width": width, "height": height}
    if min(width, height) < min_side:
        raise ImageRejectedError(
            f"The image is {width} x {height} pixels, too small for a face photo "
            f"(at least {min_side} on each side).",
            reason=ImageRejectionReason.TOO_SMALL,
            extra={**figures, "min_side": min_side},
        )
    if max(width, height) / min(width, height) > max_aspect:
        raise ImageRejectedError(
            f"The image is {width} x {height} pixels, an aspect ratio no booking photo has.",
            reason=ImageRejectionReason.ABSURD_ASPECT_RATIO,
            extra={**figures, "max_aspect": max_aspect},
        )


def _decode_fully(*, data: bytes, image_format: str) -> None:
    """Decode every pixel and check the format's end marker.

    Pillow refuses a short read unless ImageFile.LOAD_TRUNCATED_IMAGES is set, but that is a process-wide
    switch another library may flip, and a PNG cut inside its IEND chunk decodes cleanly; so the end marker
    is checked here as well.
    """
    try:
        with Image.open(io.BytesIO(data), formats=(image_format,)) as image:
            if image_format == "PNG":
                image.verify()  # chunk CRCs, which load() does not check
        with Image.open(io.BytesIO(data), formats=(image_format,)) as image:
            image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        truncated = not _ends_properly(data=data, image_format=image_format) or (
            "truncated" in str(error).lower() or isinstance(error, EOFError)
        )
        raise ImageRejectedError(
            f"The image could not be decoded completely: {error}.",
            reason=ImageRejectionReason.TRUNCATED if truncated else ImageRejectionReason.CORRUPT,
        ) from error
    # A JP2 file may carry metadata boxes after its codestream, so only JPEG and PNG must end on the marker.
    if image_format != "JPEG2000" and not _ends_properly(data=data, image_format=image_format):
        raise ImageRejectedError(
            f"The {image_format} image ends before its end marker (the file was cut short).",
            reason=ImageRejectionReason.TRUNCATED,
        )


def _ends_properly(*, data: bytes, image_format: str) -> bool:
    """Whether the image's end marker is where it belongs; a little trailing padding is tolerated."""
    if image_format == "PNG":
        return _PNG_IEND in data[-64:]
    # JPEG's EOI and JPEG 2000's EOC are the same two bytes. Near the end, not anywhere: an EXIF thumbnail
    # near the start carries an EOI of its own.
    return _JPEG_EOI in data[2:][-1024:]


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
