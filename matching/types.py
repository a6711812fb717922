"""Plain values that cross from ``matching`` to its callers (frozen dataclasses only)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Face", "FaceQuality", "QualityReason", "SampleFace"]


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
