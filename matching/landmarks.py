"""dlib's 5-point landmark cascade (``shape_predictor``) in NumPy.

A regression-tree cascade is not a neural network, so it runs here rather than in ONNX. The
arithmetic follows ``dlib/image_processing/shape_predictor.h`` step for step (float32 shape,
float32 similarity applied to the pixel offsets, rounding of sample points, integer mean of
R, G and B as the intensity, leaves added one tree after another), because one pixel read
differently at an early level changes every later split. Trees are evaluated 500 at a time
with array indexing, which is what makes this fast in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from matching.dlib_format import ShapePredictor

Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class Landmarks:
    """Part positions in image pixels: ``points`` as dlib computes them, ``exact`` unrounded."""

    points: tuple[tuple[int, int], ...]
    exact: tuple[tuple[float, float], ...]


def save_predictor(predictor: ShapePredictor, path: Path) -> None:
    """Store the decoded cascade as ``.npz`` (decoding the ``.dat`` floats takes seconds)."""
    with path.open("wb") as handle:
        np.savez(
            handle,
            initial_shape=predictor.initial_shape,
            split_idx=predictor.split_idx,
            split_thresh=predictor.split_thresh,
            leaves=predictor.leaves,
            anchor_idx=predictor.anchor_idx,
            deltas=predictor.deltas,
        )


def load_predictor(path: Path) -> ShapePredictor:
    """Load a cascade written by ``save_predictor``."""
    with np.load(path, allow_pickle=False) as data:
        return ShapePredictor(
            initial_shape=data["initial_shape"],
            split_idx=data["split_idx"],
            split_thresh=data["split_thresh"],
            leaves=data["leaves"],
            anchor_idx=data["anchor_idx"],
            deltas=data["deltas"],
            meta={"levels": int(data["leaves"].shape[0])},
        )


def similarity_transform(
    source: npt.NDArray[np.float64], target: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Least-squares similarity (Umeyama), as dlib's ``find_similarity_transform``.

    Returns the 2x2 linear part and the translation mapping ``source`` points onto ``target``.
    """
    mean_from, mean_to = source.mean(axis=0), target.mean(axis=0)
    centred_from, centred_to = source - mean_from, target - mean_to
    sigma_from = float((centred_from**2).sum(axis=1).mean())
    cov = centred_to.T @ centred_from / len(source)
    u, d, vt = np.linalg.svd(cov)
    s = np.eye(2)
    det = np.linalg.det(cov)
    if det < 0 or (det == 0 and np.linalg.det(u) * np.linalg.det(vt) < 0):
        s[1, 1] = -1
    rotation = u @ s @ vt
    scale = 1.0 if sigma_from == 0 else float(np.trace(np.diag(d) @ s)) / sigma_from
    linear = scale * rotation
    return linear, mean_to - linear @ mean_from


def _intensity(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """dlib's ``get_pixel_intensity`` for RGB: integer mean of the three channels."""
    return (rgb.astype(np.uint16).sum(axis=2) // 3).astype(np.float32)


def predict(
    rgb: npt.NDArray[np.uint8],
    box: Rect,
    *,
    predictor: ShapePredictor,
    gray: npt.NDArray[np.float32] | None = None,
) -> Landmarks:
    """Run the cascade on ``rgb`` inside the detection ``box`` (dlib inclusive rectangle).

    ``gray`` may be passed when several faces of one image are processed, to compute the
    intensity image once.
    """
    intensity = _intensity(rgb) if gray is None else gray
    rows, cols = intensity.shape
    left, top, right, bottom = box
    unit_scale = np.array([right - left, bottom - top], np.float64)
    unit_origin = np.array([left, top], np.float64)
    initial = predictor.initial_shape.reshape(-1, 2)
    shape = predictor.initial_shape.astype(np.float32).copy()
    trees = np.arange(predictor.split_idx.shape[1])
    nodes = predictor.split_idx.shape[2]
    for level in range(predictor.leaves.shape[0]):
        linear, _ = similarity_transform(
            initial.astype(np.float64), shape.reshape(-1, 2).astype(np.float64)
        )
        offsets = predictor.deltas[level] @ linear.astype(np.float32).T
        anchors = shape.reshape(-1, 2)[predictor.anchor_idx[level]]
        points = (offsets + anchors).astype(np.float64) * unit_scale + unit_origin
        pixel = np.floor(points + 0.5).astype(np.intp)
        inside = (
            (pixel[:, 0] >= 0) & (pixel[:, 0] < cols) & (pixel[:, 1] >= 0) & (pixel[:, 1] < rows)
        )
        values = np.zeros(len(pixel), np.float32)
        values[inside] = intensity[pixel[inside, 1], pixel[inside, 0]]
        idx = predictor.split_idx[level]
        thresh = predictor.split_thresh[level]
        node = np.zeros(len(trees), np.intp)
        while True:
            active = node < nodes
            if not active.any():
                break
            current = np.minimum(node, nodes - 1)
            pairs = idx[trees, current]
            go_left = (values[pairs[:, 0]] - values[pairs[:, 1]]) > thresh[trees, current]
            node = np.where(active, np.where(go_left, 2 * node + 1, 2 * node + 2), node)
        leaves = predictor.leaves[level][trees, node - nodes]
        # Sequential float32 sums, in tree order, as dlib's ``current_shape += leaf`` loop.
        shape = np.add.accumulate(np.vstack([shape[None], leaves]), axis=0, dtype=np.float32)[-1]
    exact = shape.reshape(-1, 2).astype(np.float64) * unit_scale + unit_origin
    rounded = np.floor(exact + 0.5).astype(int)
    return Landmarks(
        points=tuple((int(x), int(y)) for x, y in rounded),
        exact=tuple((float(x), float(y)) for x, y in exact),
    )
