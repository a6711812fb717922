"""dlib's MMOD CNN face detector around an ONNX Runtime session: the image pyramid and decoding.

dlib does not run the detector once per scale. It packs every level of a ``pyramid_down<6>``
pyramid into one tiled canvas (``compute_tiled_image_pyramid_details``), runs the network
once on it, then maps each positive output cell back through the tile it fell in. This
module reproduces that exactly, in NumPy, so detections match dlib-bin box for box:

* level sizes ``floor(5/6 · n)`` until the height drops under 5 pixels;
* tiles in one column, then a second column stacked upwards from the bottom-right, with 10
  pixels between tiles and 11 around the canvas; empty canvas is 0 after normalisation
  (the mean colour);
* each level is a bilinear resize (align-corners, float32, like ``tt::resize_bilinear``) of
  the previous level, computed on the normalised values as dlib's input layer does;
* an output cell (c, r) maps to input point (8c + 14, 8r + 14) through the three stride-2
  5x5 convolutions; the 80x80 window centred there is mapped to the nearest tile and scaled
  up by ``point_up`` (``p · 6/5 + 0.3`` per level);
* greedy non-maximum suppression in descending score with dlib's ``test_box_overlap``
  (intersection over the *bounding box* of the pair, threshold read from the model file).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

PYRAMID_RATE = 5.0 / 6.0
MIN_LEVEL_HEIGHT = 5

Rect = tuple[int, int, int, int]  # dlib rectangle: left, top, right, bottom, inclusive


@dataclass(frozen=True)
class DetectorConfig:
    """Settings of the MMOD detector, read from its ``.dat`` file at build time."""

    mean_rgb: tuple[float, float, float]
    window: tuple[int, int]
    pyramid_padding: int
    pyramid_outer_padding: int
    nms_iou: float
    nms_covered: float

    def as_json(self) -> dict[str, Any]:
        return {
            "mean_rgb": list(self.mean_rgb),
            "window": list(self.window),
            "pyramid_padding": self.pyramid_padding,
            "pyramid_outer_padding": self.pyramid_outer_padding,
            "nms_iou": self.nms_iou,
            "nms_covered": self.nms_covered,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DetectorConfig:
        return cls(
            mean_rgb=(data["mean_rgb"][0], data["mean_rgb"][1], data["mean_rgb"][2]),
            window=(data["window"][0], data["window"][1]),
            pyramid_padding=int(data["pyramid_padding"]),
            pyramid_outer_padding=int(data["pyramid_outer_padding"]),
            nms_iou=float(data["nms_iou"]),
            nms_covered=float(data["nms_covered"]),
        )


@dataclass(frozen=True)
class Detection:
    """One face found by the detector: dlib-style inclusive integer box and raw score."""

    box: Rect
    score: float


def _intersects(a: Rect, b: Rect) -> bool:
    return max(a[0], b[0]) <= min(a[2], b[2]) and max(a[1], b[1]) <= min(a[3], b[3])


def pyramid_layout(
    rows: int, cols: int, *, padding: int, outer: int
) -> tuple[list[Rect], int, int]:
    """Tile rectangles of every pyramid level and the canvas size, as dlib computes them."""
    sizes = [(rows, cols)]
    nr, nc = rows, cols
    while True:
        nr, nc = math.floor(PYRAMID_RATE * nr), math.floor(PYRAMID_RATE * nc)
        if nr * nc == 0 or nr < MIN_LEVEL_HEIGHT:
            break
        sizes.append((nr, nc))
    total_height = sum(h + padding for h, _ in sizes) - 2 * padding
    height, prev_width = 0, 0
    for h, w in sizes:
        if w <= cols - prev_width - padding and (height - rows) * 2 >= total_height - rows:
            break
        height += h + padding
        prev_width = w
    height -= padding
    rects: list[Rect] = []
    y = outer
    index = 0
    while y < height + outer and index < len(sizes):
        h, w = sizes[index]
        rects.append((outer, y, outer + w - 1, y + h - 1))
        y += h + padding
        index += 1
    y -= padding
    while index < len(sizes):
        h, w = sizes[index]
        right, bottom = outer + cols - 1, y - 1
        rect = (right - (w - 1), bottom - (h - 1), right, bottom)
        if _intersects(rects[0], rect):
            break
        rects.append(rect)
        y -= h + padding
        index += 1
    return rects, height + 2 * outer, cols + 2 * outer


def resize_bilinear(src: npt.NDArray[np.float32], rows: int, cols: int) -> npt.NDArray[np.float32]:
    """Align-corners bilinear resize of a (C, H, W) float32 array, in dlib's float arithmetic."""
    src_rows, src_cols = src.shape[1], src.shape[2]
    y_scale = np.float32(src_rows - 1) / np.float32(max(rows - 1, 1))
    x_scale = np.float32(src_cols - 1) / np.float32(max(cols - 1, 1))
    ys = np.arange(rows, dtype=np.float32) * y_scale
    xs = np.arange(cols, dtype=np.float32) * x_scale
    top = np.floor(ys).astype(np.intp)
    left = np.floor(xs).astype(np.intp)
    bottom = np.minimum(top + 1, src_rows - 1)
    right = np.minimum(left + 1, src_cols - 1)
    tb = (ys - top.astype(np.float32))[None, :, None]
    lr = (xs - left.astype(np.float32))[None, None, :]
    one = np.float32(1)
    upper, lower = src[:, top, :], src[:, bottom, :]
    upper_row = (one - lr) * upper[:, :, left] + lr * upper[:, :, right]
    lower_row = (one - lr) * lower[:, :, left] + lr * lower[:, :, right]
    return ((one - tb) * upper_row + tb * lower_row).astype(np.float32)


def tiled_pyramid(
    rgb: npt.NDArray[np.uint8], *, config: DetectorConfig
) -> tuple[npt.NDArray[np.float32], list[Rect]]:
    """Build the normalised ``(1, 3, H, W)`` canvas the detector network runs on."""
    rows, cols = rgb.shape[:2]
    rects, canvas_rows, canvas_cols = pyramid_layout(
        rows, cols, padding=config.pyramid_padding, outer=config.pyramid_outer_padding
    )
    canvas = np.zeros((3, canvas_rows, canvas_cols), np.float32)
    mean = np.asarray(config.mean_rgb, np.float32)[:, None, None]
    level = (rgb.transpose(2, 0, 1).astype(np.float32) - mean) / np.float32(256)
    left, top, right, bottom = rects[0]
    canvas[:, top : bottom + 1, left : right + 1] = level
    for left, top, right, bottom in rects[1:]:
        level = resize_bilinear(level, bottom - top + 1, right - left + 1)
        canvas[:, top : bottom + 1, left : right + 1] = level
    return canvas[None], rects


def _nearest_rect(rects: list[Rect], x: float, y: float) -> int:
    best, best_distance = 0, math.inf
    for index, (left, top, right, bottom) in enumerate(rects):
        if left <= x <= right and top <= y <= bottom:
            return index
        nx, ny = min(max(x, left), right), min(max(y, top), bottom)
        distance = math.hypot(nx - x, ny - y)
        if distance < best_distance:
            best, best_distance = index, distance
    return best


def _to_image_space(
    rects: list[Rect], box: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    cx = math.floor((box[0] + box[2]) / 2 + 0.5)
    cy = math.floor((box[1] + box[3]) / 2 + 0.5)
    level = _nearest_rect(rects, cx, cy)
    ox, oy = rects[level][0], rects[level][1]
    corners = [box[0] - ox, box[1] - oy, box[2] - ox, box[3] - oy]
    for _ in range(level):
        corners = [value / PYRAMID_RATE + 0.3 for value in corners]
    return corners[0], corners[1], corners[2], corners[3]


def _round_rect(box: tuple[float, float, float, float]) -> Rect:
    left, top, right, bottom = (math.floor(value + 0.5) for value in box)
    return left, top, right, bottom


def _area(rect: Rect) -> int:
    return max(0, rect[2] - rect[0] + 1) * max(0, rect[3] - rect[1] + 1)


def _overlaps(a: Rect, b: Rect, *, iou: float, covered: float) -> bool:
    """dlib's ``test_box_overlap``: intersection over the pair's bounding box, or coverage."""
    inner = _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    if inner == 0:
        return False
    outer = _area((min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])))
    return inner / outer > iou or inner / _area(a) > covered or inner / _area(b) > covered


def decode(
    scores: npt.NDArray[np.float32],
    rects: list[Rect],
    *,
    config: DetectorConfig,
    threshold: float = 0.0,
) -> list[Detection]:
    """Turn the network's score map into image-space detections after NMS, best first."""
    rows, cols = np.nonzero(scores > threshold)
    half_w, half_h = (config.window[0] - 1) / 2, (config.window[1] - 1) / 2
    candidates: list[tuple[float, tuple[float, float, float, float]]] = []
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        x, y = 8 * c + 14, 8 * r + 14  # three stride-2, unpadded 5x5 convolutions
        box = (x - half_w, y - half_h, x + half_w, y + half_h)
        candidates.append((float(scores[r, c]), _to_image_space(rects, box)))
    candidates.sort(key=lambda item: -item[0])
    kept: list[Detection] = []
    for score, box in candidates:
        rect = _round_rect(box)
        if any(
            _overlaps(k.box, rect, iou=config.nms_iou, covered=config.nms_covered) for k in kept
        ):
            continue
        kept.append(Detection(box=rect, score=score))
    return kept


def resize_rgb(rgb: npt.NDArray[np.uint8], rows: int, cols: int) -> npt.NDArray[np.uint8]:
    """dlib's ``resize_image`` (bilinear) for RGB images, bit for bit.

    dlib computes four columns at a time in float32 lanes that advance by ``4·scale`` and
    truncates both the sample positions and the results; the last columns, where a lane
    would read past the edge, are done in double precision.
    """
    in_rows, in_cols = rgb.shape[:2]
    x_scale = (in_cols - 1) / max(cols - 1, 1)
    y_scale = (in_rows - 1) / max(rows - 1, 1)
    ys = np.add.accumulate(np.array([-y_scale] + [y_scale] * rows))[1:]
    top = np.floor(ys).astype(np.intp)
    bottom = np.minimum(top + 1, in_rows - 1)
    tb = ys - top
    start = -4 * x_scale
    lanes = np.array([start + i * x_scale for i in range(4)]).astype(np.float32)
    step = np.float32(4 * x_scale)
    blocks = []
    for _ in range(cols // 4 + 1):
        lanes = (lanes + step).astype(np.float32)
        if int(lanes[3]) + 1 >= in_cols:
            break
        blocks.append(lanes)
    simd_cols = min(4 * len(blocks), cols)
    out = np.zeros((rows, cols, 3), np.uint8)
    if simd_cols:
        xs = np.concatenate(blocks)[:simd_cols]
        left = np.trunc(xs).astype(np.intp)
        lr = (xs - left.astype(np.float32)).astype(np.float32)
        inv_lr = np.float32(1) - lr
        tb32, inv_tb32 = tb.astype(np.float32)[:, None], (1 - tb).astype(np.float32)[:, None]
        weights = (inv_tb32 * inv_lr, inv_tb32 * lr, tb32 * inv_lr, tb32 * lr)
        source = rgb.astype(np.float32)
        for ch in range(3):
            plane = source[:, :, ch]
            upper, lower = plane[top], plane[bottom]
            value = (
                weights[0] * upper[:, left] + weights[1] * upper[:, left + 1]
                + weights[2] * lower[:, left] + weights[3] * lower[:, left + 1]
            )  # fmt: skip
            out[:, :simd_cols, ch] = np.trunc(value).astype(np.uint8)
    if simd_cols < cols:
        count = cols - simd_cols
        xs64 = np.add.accumulate(np.array([-x_scale + simd_cols * x_scale] + [x_scale] * count))[1:]
        left64 = np.floor(xs64).astype(np.intp)
        right64 = np.minimum(left64 + 1, in_cols - 1)
        frac = (xs64 - left64)[None, :, None]
        tbd = tb[:, None, None]
        data = rgb.astype(np.float64)
        value = (1 - tbd) * ((1 - frac) * data[top][:, left64] + frac * data[top][:, right64]) + (
            tbd * ((1 - frac) * data[bottom][:, left64] + frac * data[bottom][:, right64])
        )
        out[:, simd_cols:] = np.clip(value, 0, 255).astype(np.uint8)
    return out


def _pyramid_up(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``pyramid_up(img, pyramid_down<2>)``: the size ``rect_up`` gives, then ``resize_image``."""
    rows, cols = rgb.shape[:2]
    right = math.floor((cols - 1 + 1.25) * 2 + 0.5)
    bottom = math.floor((rows - 1 + 0.75) * 2 + 0.5)
    return resize_rgb(rgb, bottom + 1, right + 1)


def _rect_down(rect: Rect, levels: int) -> Rect:
    """``pyramid_down<2>::rect_down`` applied ``levels`` times, rounded to a dlib rectangle."""
    corners = [float(v) for v in rect]
    for _ in range(levels):
        corners = [
            corners[0] / 2 - 1.25, corners[1] / 2 - 0.75,
            corners[2] / 2 - 1.25, corners[3] / 2 - 0.75,
        ]  # fmt: skip
    return _round_rect((corners[0], corners[1], corners[2], corners[3]))


def detect(
    rgb: npt.NDArray[np.uint8],
    *,
    session: Any,
    config: DetectorConfig,
    threshold: float = 0.0,
    upsample: int = 0,
) -> list[Detection]:
    """Run the detector on an RGB image; same results as dlib's ``cnn_face_detection_model_v1``
    called with ``upsample_num_times=upsample``.

    Each upsampling doubles the image (dlib's ``pyramid_up``), so faces down to about 40 px
    (one step) are found, at four times the cost.
    """
    image = rgb
    for _ in range(upsample):
        image = _pyramid_up(image)
    canvas, rects = tiled_pyramid(image, config=config)
    input_name = session.get_inputs()[0].name
    scores = session.run(None, {input_name: canvas})[0]
    found = decode(scores[0, 0], rects, config=config, threshold=threshold)
    if upsample == 0:
        return found
    return [Detection(box=_rect_down(d.box, upsample), score=d.score) for d in found]
