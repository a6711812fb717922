"""The 150x150 face chip, cut exactly as dlib's ``get_face_chip_details`` + ``extract_image_chip``.

The descriptor was trained on chips cut this way, so any drift in the crop (a different
template, centre convention or interpolation) shows up directly as descriptor error. Steps
(``dlib/image_transforms/interpolation.h``):

1. fit a least-squares similarity from dlib's 5-point template (padded by 0.25, scaled to
   150) to the detected parts (integer points, as dlib stores them);
2. the chip's rectangle is 150·scale wide, centred on the image of the chip centre (75, 75),
   with ``centered_drect``'s ``(w − 1)/2`` half-width, rotated by the fitted angle;
3. chip pixel (0,0), (149,0), (0,149) map to the rotated rectangle's corners, and every pixel
   is read with dlib's bilinear interpolation (double precision, truncated to uint8, black
   outside the image).

When the face is much larger than the chip dlib first shrinks the image with its 2x pyramid.
That case uses the same level choice and coordinate mapping (``p/2 − (1.25, 0.75)``) but a
separable [1 4 6 4 1] filter in place of dlib's exact pyramid kernel, so very large faces
agree with dlib closely rather than bit for bit (see docs/matching.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from matching.landmarks import similarity_transform

CHIP_SIZE = 150
CHIP_PADDING = 0.25
FIVE_POINT_TEMPLATE = np.array(
    [
        (0.8595674595992, 0.2134981538014),
        (0.6460604764104, 0.2289674387677),
        (0.1205750620789, 0.2137274526848),
        (0.3340850613712, 0.2290642403242),
        (0.4901123135679, 0.6277975316475),
    ]
)


@dataclass(frozen=True)
class ChipDetails:
    """Where the chip sits in the image: rectangle (l, t, r, b), rotation angle, chip size."""

    rect: tuple[float, float, float, float]
    angle: float
    size: int


def chip_details(
    points: tuple[tuple[int, int], ...] | npt.NDArray[np.float64],
    *,
    size: int = CHIP_SIZE,
    padding: float = CHIP_PADDING,
) -> ChipDetails:
    """dlib's ``get_face_chip_details`` for the 5-point landmark model."""
    template = (padding + FIVE_POINT_TEMPLATE) / (2 * padding + 1) * size
    linear, shift = similarity_transform(template, np.asarray(points, np.float64))
    unit = linear @ np.array([1.0, 0.0])
    angle = math.atan2(unit[1], unit[0])
    scale = math.hypot(unit[0], unit[1])
    cx, cy = linear @ np.array([size / 2.0, size / 2.0]) + shift
    half = (size * scale - 1) / 2
    return ChipDetails(rect=(cx - half, cy - half, cx + half, cy + half), angle=angle, size=size)


def _rect_area(rect: tuple[float, float, float, float]) -> float:
    return max(0.0, rect[2] - rect[0] + 1) * max(0.0, rect[3] - rect[1] + 1)


def _rect_down(rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``pyramid_down<2>::rect_down``."""
    return (rect[0] / 2 - 1.25, rect[1] / 2 - 0.75, rect[2] / 2 - 1.25, rect[3] / 2 - 0.75)


def _pyramid_down(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Halve an image, sampling where ``pyramid_down<2>`` maps its output pixels."""
    kernel = np.array([1, 4, 6, 4, 1], np.float64) / 16
    blurred = cv2.sepFilter2D(rgb.astype(np.float64), -1, kernel, kernel)
    rows, cols = (rgb.shape[0] - 3) // 2, (rgb.shape[1] - 3) // 2
    xs = 2 * np.arange(cols, dtype=np.float64) + 2.5
    ys = 2 * np.arange(rows, dtype=np.float64) + 1.5
    grid_x, grid_y = np.meshgrid(xs, ys)
    return _bilinear(blurred, grid_x, grid_y)


def _bilinear(
    image: npt.NDArray[np.generic], xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64]
) -> npt.NDArray[np.uint8]:
    """dlib's ``interpolate_bilinear`` for RGB: black outside, truncation to uint8."""
    left, top = np.floor(xs).astype(np.intp), np.floor(ys).astype(np.intp)
    inside = (left >= 0) & (top >= 0) & (left + 1 < image.shape[1]) & (top + 1 < image.shape[0])
    left, top = np.where(inside, left, 0), np.where(inside, top, 0)
    lr = (xs - np.floor(xs))[..., None]
    tb = (ys - np.floor(ys))[..., None]
    source = image.astype(np.float64)
    tl, tr = source[top, left], source[top, left + 1]
    bl, br = source[top + 1, left], source[top + 1, left + 1]
    value = (1 - tb) * ((1 - lr) * tl + lr * tr) + tb * ((1 - lr) * bl + lr * br)
    chip: npt.NDArray[np.uint8] = np.clip(value, 0, 255).astype(np.uint8)  # truncates
    chip[~inside] = 0
    return chip


def extract_chip(rgb: npt.NDArray[np.uint8], details: ChipDetails) -> npt.NDArray[np.uint8]:
    """Cut the ``size`` x ``size`` RGB chip described by ``details`` out of ``rgb``."""
    rect = details.rect
    image = rgb
    target = details.size * details.size
    while _rect_area(_rect_down(rect)) > target:
        rect = _rect_down(rect)
        image = _pyramid_down(image)
    cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
    cos, sin = math.cos(details.angle), math.sin(details.angle)

    def rotate(x: float, y: float) -> tuple[float, float]:
        dx, dy = x - cx, y - cy
        return cos * dx - sin * dy + cx, sin * dx + cos * dy + cy

    tl, tr, bl = rotate(rect[0], rect[1]), rotate(rect[2], rect[1]), rotate(rect[0], rect[3])
    last = details.size - 1
    grid = np.arange(details.size, dtype=np.float64)
    cols, rows = np.meshgrid(grid, grid)
    xs = tl[0] + cols * ((tr[0] - tl[0]) / last) + rows * ((bl[0] - tl[0]) / last)
    ys = tl[1] + cols * ((tr[1] - tl[1]) / last) + rows * ((bl[1] - tl[1]) / last)
    return _bilinear(image, xs, ys)
