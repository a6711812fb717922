"""Placeholder booking photos: small PNGs that no one could take for a real person.

Each shows a grey head-and-shoulders silhouette, the word SYNTHETIC and the booking number, and is stored with
`Mugshot.synthetic=True`. The silhouette's colours come from the person, so the placeholders of one person's
bookings look alike and different people's do not: enough to exercise the gallery and release paths, and
honest about not being a face. Bytes go through Django's default storage under the same content-addressed
name the model uses.
"""

from __future__ import annotations

import hashlib

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from gateway.records.models import Mugshot, Pose, mugshot_upload_to

__all__ = ["MUGSHOT_HEIGHT", "MUGSHOT_WIDTH", "mugshot_columns", "mugshot_placeholder"]

MUGSHOT_WIDTH = 96
MUGSHOT_HEIGHT = 120


def mugshot_placeholder(*, booking_number: str, person_number: int) -> bytes:
    """Render one placeholder PNG (about 2 kB)."""
    import cv2  # imported here: only runs that ask for mugshots pay for OpenCV

    tint = np.random.default_rng(person_number).integers(70, 200, 3)
    image = np.full((MUGSHOT_HEIGHT, MUGSHOT_WIDTH, 3), 235, dtype=np.uint8)
    colour = tuple(int(v) for v in tint)
    cv2.ellipse(image, (48, 52), (22, 28), 0, 0, 360, colour, -1)
    cv2.ellipse(image, (48, 125), (44, 36), 0, 180, 360, colour, -1)
    cv2.putText(image, "SYNTHETIC", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 200), 1)
    cv2.putText(image, booking_number, (4, 112), cv2.FONT_HERSHEY_PLAIN, 0.7, (0, 0, 0), 1)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
        raise RuntimeError("PNG encoding failed")
    return encoded.tobytes()


def _store(data: bytes) -> tuple[str, str]:
    sha256 = hashlib.sha256(data).hexdigest()
    name = mugshot_upload_to(Mugshot(sha256=sha256), "")
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(data))
    return name, sha256


def mugshot_columns(
    *,
    booking_ids: np.ndarray,
    booking_numbers: np.ndarray,
    person_numbers: np.ndarray,
    captured_at: np.ndarray,
) -> dict[str, np.ndarray]:
    """Render, store and describe one placeholder per booking given (all arrays aligned)."""
    names: list[str] = []
    hashes: list[str] = []
    sizes: list[int] = []
    for booking_number, person_number in zip(
        booking_numbers.tolist(), person_numbers.tolist(), strict=True
    ):
        data = mugshot_placeholder(booking_number=booking_number, person_number=person_number)
        name, sha256 = _store(data)
        names.append(name)
        hashes.append(sha256)
        sizes.append(len(data))
    n = len(names)
    return {
        "booking_id": booking_ids,
        "image": np.array(names, dtype=object),
        "sha256": np.array(hashes, dtype=object),
        "size_bytes": np.array(sizes, dtype=np.int64),
        "width": np.full(n, MUGSHOT_WIDTH, dtype=np.int64),
        "height": np.full(n, MUGSHOT_HEIGHT, dtype=np.int64),
        "image_format": np.full(n, "png", dtype=object),
        "pose": np.full(n, Pose.FRONTAL.value, dtype=object),
        "captured_at": captured_at,
        "synthetic": np.ones(n, dtype=bool),
    }
