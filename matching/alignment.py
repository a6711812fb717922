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

When the face is much larger than the chip, dlib first crops the rotated rectangle (grown by
a margin) and shrinks the crop with its ``pyramid_down<2>`` (integer [1 4 6 4 1] filter,
coordinates mapped by ``p/2 − (1.25, 0.75)``) until one more halving would make the chip
rectangle smaller than the chip; this module does the same, crop and integer arithmetic
included, so large faces are cut bit for bit as well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.landmarks import similarity_transform

CHIP_SIZE = 150
CHIP_PADDING = 0.25
DLIB_ALIGNMENT = "dlib_5point_pad0.25"
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
    """dlib's ``pyramid_down<2>`` for RGB: [1 4 6 4 1] rows then columns, uint16, ``/256``."""
    rows, cols = rgb.shape[:2]
    if rows <= 8 or cols <= 8:
        return np.zeros((0, 0, 3), np.uint8)
    src = rgb.astype(np.uint32)
    out_cols = (cols - 3) // 2
    base = 2 * np.arange(out_cols)
    horizontal = (
        src[:, base] + 4 * src[:, base + 1] + 6 * src[:, base + 2] + 4 * src[:, base + 3]
        + src[:, base + 4]
    )  # fmt: skip
    centre = 2 + 2 * np.arange((rows - 3) // 2)
    vertical = (
        horizontal[centre - 2] + 4 * horizontal[centre - 1] + 6 * horizontal[centre]
        + 4 * horizontal[centre + 1] + horizontal[centre + 2]
    )  # fmt: skip
    return (vertical // 256).astype(np.uint8)


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


def _rotate(
    centre: tuple[float, float], point: tuple[float, float], angle: float
) -> tuple[float, float]:
    cos, sin = math.cos(angle), math.sin(angle)
    dx, dy = point[0] - centre[0], point[1] - centre[1]
    return cos * dx - sin * dy + centre[0], sin * dx + cos * dy + centre[1]


def _rect_corners(rect: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    left, top, right, bottom = rect
    return [(left, top), (right, top), (left, bottom), (right, bottom)]


def _crop_box(rgb: npt.NDArray[np.uint8], details: ChipDetails) -> tuple[int, int, int, int]:
    """The region dlib crops before building its pyramid (rotated rect grown, clipped)."""
    target = details.size * details.size
    grow = 2.0
    rect = _rect_down(details.rect)
    while _rect_area(rect) > target:
        rect = _rect_down(rect)
        grow = grow * 2 + 2
    r = details.rect
    centre = ((r[0] + r[2]) / 2, (r[1] + r[3]) / 2)
    corners = [_rotate(centre, p, details.angle) for p in _rect_corners(r)]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    box = (
        max(min(xs) - grow, 0.0), max(min(ys) - grow, 0.0),
        min(max(xs) + grow, rgb.shape[1] - 1.0), min(max(ys) + grow, rgb.shape[0] - 1.0),
    )  # fmt: skip
    left, top, right, bottom = (math.floor(v + 0.5) for v in box)
    return left, top, right, bottom


def extract_chip(rgb: npt.NDArray[np.uint8], details: ChipDetails) -> npt.NDArray[np.uint8]:
    """Cut the ``size`` x ``size`` RGB chip described by ``details`` out of ``rgb``."""
    left, top, right, bottom = _crop_box(rgb, details)
    if right < left or bottom < top:  # the face lies entirely outside the image
        return np.zeros((details.size, details.size, 3), np.uint8)
    image = rgb[top : bottom + 1, left : right + 1]
    r = details.rect
    rect = (r[0] - left, r[1] - top, r[2] - left, r[3] - top)
    target = details.size * details.size
    while _rect_area(_rect_down(rect)) > target:
        rect = _rect_down(rect)
        image = _pyramid_down(image)
    centre = ((rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2)
    tl, tr, bl, _ = (_rotate(centre, p, details.angle) for p in _rect_corners(rect))
    last = details.size - 1
    grid = np.arange(details.size, dtype=np.float64)
    cols, rows = np.meshgrid(grid, grid)
    xs = tl[0] + cols * ((tr[0] - tl[0]) / last) + rows * ((bl[0] - tl[0]) / last)
    ys = tl[1] + cols * ((tr[1] - tl[1]) / last) + rows * ((bl[1] - tl[1]) / last)
    return _bilinear(image, xs, ys)
