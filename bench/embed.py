"""Benchmark: faces/s of the ONNX face pipeline against dlib-bin's own, on SAMPLE images.

Both pipelines (CNN detection, 5-point landmarks, 150x150 chip, ResNet descriptor) run on the
same public sample images in the same process; ONNX Runtime is limited to one thread so
the comparison is per core. Prints one JSON line last:
``faces_per_s``, ``dlib_faces_per_s``, ``ratio``, ``embed_ms_per_face`` (alignment +
descriptor, one face, one core), ``max_abs_diff`` (descriptors, ours vs dlib-bin),
``target_ratio_met`` (≥ 10x with max_abs_diff < 1e-4) and ``embed_target_met`` (≤ 15 ms).

Usage: ``.venv/bin/python -m bench.embed [--rounds 5]``. Models are built into
``$FACE_MODEL_DIR`` (default ``var/models``) if they are not there yet, and the parity
figures are recorded in that directory's registry.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import cv2
import dlib
import numpy as np

from matching import alignment, pipeline
from matching.registry import (
    DESCRIPTOR,
    DETECTOR,
    LANDMARKS,
    build_face_models,
    registry_record_parity,
    source_model_dir,
)
from matching.samples import sample_faces, sample_mated_variants
from matching.services import face_models_load

REPO = Path(__file__).resolve().parent.parent


def _images() -> list[np.ndarray]:
    originals = sample_faces(lfw_count=4)
    samples = [*originals, *sample_mated_variants(originals[0])]
    out = []
    for sample in samples:
        bgr = cv2.imdecode(np.frombuffer(sample.png, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"{sample.label} does not decode")
        out.append(np.ascontiguousarray(bgr[:, :, ::-1]))
    return out


def _dlib_pipeline(
    images: list[np.ndarray],
) -> tuple[float, list[np.ndarray], list[tuple[int, ...]], list[list[tuple[int, int]]]]:
    models = source_model_dir()
    cnn = dlib.cnn_face_detection_model_v1(str(models / f"{DETECTOR}.dat"))
    predictor = dlib.shape_predictor(str(models / f"{LANDMARKS}.dat"))
    encoder = dlib.face_recognition_model_v1(str(models / f"{DESCRIPTOR}.dat"))
    start = time.perf_counter()
    vectors: list[np.ndarray] = []
    boxes: list[tuple[int, ...]] = []
    parts: list[list[tuple[int, int]]] = []
    for rgb in images:
        for det in cnn(rgb, 0):
            shape = predictor(rgb, det.rect)
            vectors.append(np.asarray(encoder.compute_face_descriptor(rgb, shape, 0)))
            rect = det.rect
            boxes.append((rect.left(), rect.top(), rect.right(), rect.bottom()))
            parts.append([(p.x, p.y) for p in shape.parts()])
    return time.perf_counter() - start, vectors, boxes, parts


def _iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0]) + 1) * max(
        0, min(a[3], b[3]) - max(a[1], b[1]) + 1
    )
    area = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return inter / (area - inter)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    directory = Path(os.environ.get("FACE_MODEL_DIR", REPO / "var" / "models"))
    build_face_models(directory=directory)
    models = face_models_load(directory=directory, threads=1)
    images = _images()
    pipeline.faces_from_rgb(images[0], models=models)  # load sessions outside the timing

    round_times, faces = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        faces = [face for rgb in images for face in pipeline.faces_from_rgb(rgb, models=models)]
        round_times.append(time.perf_counter() - start)
    ours = np.asarray([face.descriptor for face in faces])

    dlib_seconds, dlib_vectors, dlib_boxes, dlib_parts = _dlib_pipeline(images)
    theirs = np.asarray(dlib_vectors)
    same_count = len(theirs) == len(ours)
    max_abs_diff = float(np.abs(ours - theirs).max()) if same_count else float("inf")
    min_iou = min(
        (_iou(f.box, b) for f, b in zip(faces, dlib_boxes, strict=False)), default=0.0
    ) if same_count else 0.0  # fmt: skip
    landmark_px = float(
        np.abs(np.subtract([f.landmarks for f in faces], dlib_parts)).max()
    ) if same_count else float("inf")  # fmt: skip

    embed_times = []
    for rgb, face in zip(images, faces, strict=False):
        start = time.perf_counter()
        chip = alignment.extract_chip(rgb, alignment.chip_details(face.landmarks))
        pipeline.chips_embed(chip[None], models=models)
        embed_times.append(time.perf_counter() - start)

    faces_per_s = len(faces) / statistics.median(round_times)
    dlib_faces_per_s = len(theirs) / dlib_seconds
    ratio = faces_per_s / dlib_faces_per_s
    embed_ms = 1000 * statistics.median(embed_times)
    common = {"faces": len(ours), "reference": "dlib-bin " + dlib.__version__}
    registry_record_parity(
        directory=directory, name=DETECTOR, results={"min_iou": min_iou, **common}
    )
    registry_record_parity(
        directory=directory, name=LANDMARKS, results={"max_px": landmark_px, **common}
    )
    registry_record_parity(
        directory=directory, name=DESCRIPTOR,
        results={"max_abs_diff": max_abs_diff, "faces": len(ours), "reference": "dlib-bin "
                 + dlib.__version__, "images": "scikit-image SAMPLE images + mated variants"},
    )  # fmt: skip
    print(
        json.dumps(
            {
                "benchmark": "embed",
                "images": len(images),
                "faces": len(ours),
                "faces_per_s": round(faces_per_s, 2),
                "dlib_faces_per_s": round(dlib_faces_per_s, 2),
                "ratio": round(ratio, 2),
                "embed_ms_per_face": round(embed_ms, 2),
                "max_abs_diff": max_abs_diff,
                "min_iou": min_iou,
                "landmark_max_px": landmark_px,
                "target_ratio_met": ratio >= 10 and max_abs_diff < 1e-4,
                "embed_target_met": embed_ms <= 15,
                "ort_threads": 1,
            }
        )
    )


if __name__ == "__main__":
    main()
