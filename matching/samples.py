"""Public sample faces shipped inside installed packages, for the demo and for tests.

No real mugshot is ever used outside the county's own deployment. The demo gallery and the
matching tests use images that packages already ship: scikit-image's ``astronaut`` (NASA
portrait of Eileen Collins, public domain) and ``camera`` (the classic "cameraman"), plus
the small face crops of scikit-image's ``lfw_subset`` upscaled. Each is labelled SAMPLE.
"Mated" variants (flipped, cropped, brighter, darker, slightly rotated) stand in for a
second photo of the same person, so a probe can be shown finding its gallery match first.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from matching.types import SampleFace

Image = npt.NDArray[Any]


def _skimage_data() -> Path:
    """scikit-image's bundled data folder, found without importing the package."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("SAMPLE faces need scikit-image (a dev dependency)")
    return Path(spec.origin).parent / "data"


def _skimage_image(name: str) -> Image:
    """Load an image file bundled with scikit-image (``skimage/data``), never downloading."""
    path = _skimage_data() / f"{name}.png"
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def _lfw_faces(count: int) -> list[Image]:
    path = _skimage_data() / "lfw_subset.npy"
    faces = np.load(path)[:count]  # the first 100 of 200 are faces, 25x25 grey in [0, 1]
    out = []
    for face in faces:
        grey = (np.clip(face, 0, 1) * 255).astype(np.uint8)
        big = cv2.resize(grey, (200, 200), interpolation=cv2.INTER_CUBIC)
        canvas = cv2.copyMakeBorder(big, 60, 60, 60, 60, cv2.BORDER_REPLICATE)
        out.append(np.ascontiguousarray(np.repeat(canvas[:, :, None], 3, axis=2)))
    return out


def _encode(rgb: Image) -> bytes:
    ok, buffer = cv2.imencode(".png", rgb[:, :, ::-1])
    if not ok:
        raise ValueError("PNG encoding failed")
    return buffer.tobytes()


def _rotate(rgb: Image, degrees: float) -> Image:
    rows, cols = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((cols / 2, rows / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (cols, rows), borderMode=cv2.BORDER_REFLECT)


VARIANTS: dict[str, Callable[[Image], Image]] = {
    "flipped": lambda img: np.ascontiguousarray(img[:, ::-1]),
    "cropped": lambda img: np.ascontiguousarray(
        img[img.shape[0] // 20 :, img.shape[1] // 20 : img.shape[1] - img.shape[1] // 20]
    ),
    "brighter": lambda img: cv2.convertScaleAbs(img, alpha=1.0, beta=35),
    "darker": lambda img: cv2.convertScaleAbs(img, alpha=0.75, beta=0),
    "rotated": lambda img: _rotate(img, 6.0),
}


def sample_faces(*, lfw_count: int = 0) -> list[SampleFace]:
    """The original sample portraits (one per subject), labelled SAMPLE.

    ``lfw_count`` adds up to 100 upscaled ``lfw_subset`` crops as extra subjects (low
    resolution; useful as distractors in a demo gallery).
    """
    samples = [
        SampleFace(
            label="SAMPLE – astronaut (scikit-image)",
            source="scikit-image:skimage/data/astronaut.png",
            subject="sample-astronaut",
            variant="original",
            png=_encode(_skimage_image("astronaut")),
        )
    ]
    for index, face in enumerate(_lfw_faces(min(lfw_count, 100))):
        samples.append(
            SampleFace(
                label=f"SAMPLE – lfw_subset #{index} (scikit-image)",
                source=f"scikit-image:skimage/data/lfw_subset.npy[{index}]",
                subject=f"sample-lfw-{index}",
                variant="original",
                png=_encode(face),
            )
        )
    return samples


def sample_mated_variants(
    sample: SampleFace, *, variants: tuple[str, ...] = tuple(VARIANTS)
) -> list[SampleFace]:
    """Copies of ``sample`` altered as a second photo of the same person might be."""
    bgr = cv2.imdecode(np.frombuffer(sample.png, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{sample.label}: PNG does not decode")
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    return [
        SampleFace(
            label=f"{sample.label} [{name}]",
            source=sample.source,
            subject=sample.subject,
            variant=name,
            png=_encode(VARIANTS[name](rgb)),
        )
        for name in variants
    ]
