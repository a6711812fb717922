"""Plain values that cross from ``matching`` to its callers (frozen dataclasses only)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CheckedImage",
    "Face",
    "FaceQuality",
    "ImageLimits",
    "ImageRejection",
    "QualityReason",
    "SampleFace",
]


class ImageRejection(StrEnum):
    """Why a photo was refused before any face work (stable values; import reports and API bodies carry them)."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"  # more bytes than ImageLimits.max_bytes
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"  # an image, but not JPEG, PNG or JPEG 2000
    TOO_MANY_PIXELS = (
        "too_many_pixels"  # the header declares more than max_pixels: a decompression bomb
    )
    TOO_SMALL = "too_small"
    ABSURD_ASPECT_RATIO = "absurd_aspect_ratio"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class ImageLimits:
    """The limits every photo is checked against, mugshot or probe (the gateway fills them from settings).

    `min_side`: below 48 pixels on the short side a photo cannot show a face well enough to compare; roster
    thumbnails of 96 x 120 still pass. `max_aspect`: mugshots are 4:5 or 3:4 and a frontal + profile composite
    about 2:1; beyond 3:1 it is a banner, a strip of pixels or a crafted header, not a booking photo.
    """

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    min_side: int = 48
    max_aspect: float = 3.0


@dataclass(frozen=True)
class CheckedImage:
    """What the checks proved about a photo's bytes: its real format (jpeg, png or jp2) and size."""

    format: str
    width: int
    height: int


class QualityReason(StrEnum):
    """Why a detected face should not be used for matching (stable codes)."""

    FACE_TOO_SMALL = "face_too_small"
    NOT_FRONTAL = "not_frontal"


@dataclass(frozen=True)
class FaceQuality:
    """Quality measures of one face and the reasons, if any, it is unusable.

    ``yaw_ratio`` is where the nose sits between the eye centres (0.5 = frontal);
    ``pitch_ratio`` is the nose's distance below the eye line over the eye distance
    (about 0.77 on dlib's template). ``face_width`` is the detection box width in pixels.
    """

    usable: bool
    reasons: tuple[QualityReason, ...]
    face_width: int
    yaw_ratio: float
    pitch_ratio: float


@dataclass(frozen=True)
class Face:
    """One face in a photo: box, 5 landmarks, the 128-number descriptor and its quality.

    ``box`` is (left, top, right, bottom), inclusive pixel coordinates as dlib reports
    them; ``landmarks`` are the 5 parts (eye corners, base of the nose) in pixels.
    """

    box: tuple[int, int, int, int]
    detection_score: float
    landmarks: tuple[tuple[int, int], ...]
    descriptor: tuple[float, ...]
    quality: FaceQuality
    model: str


@dataclass(frozen=True)
class SampleFace:
    """A public sample image shipped by an installed package; never a real person's record.

    ``label`` always starts with "SAMPLE"; ``source`` names the package and image, and
    ``variant`` says how a mated copy was made from the original ("original", "flipped",
    "cropped", "brighter", …). ``png`` is the encoded image.
    """

    label: str
    source: str
    subject: str
    variant: str
    png: bytes
