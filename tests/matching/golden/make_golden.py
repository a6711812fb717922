"""Make ``golden.json``: dlib-bin's own outputs on the public SAMPLE images.

Run from the repository root: ``.venv/bin/python -m tests.matching.golden.make_golden``.
dlib-bin is a test/reference dependency only; the parity tests compare the ONNX pipeline
with these numbers and re-run a few of them live against dlib. Each image's SHA-256 is kept
so that a change in the inputs (a new OpenCV or scikit-image release re-encoding the SAMPLE
images differently) is reported as such; re-run this script then.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import dlib
import numpy as np

from matching.registry import DESCRIPTOR, DETECTOR, LANDMARKS, source_model_dir
from matching.samples import sample_faces, sample_mated_variants

GOLDEN = Path(__file__).with_name("golden.json")


def _rgb(png: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("sample PNG does not decode")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def main() -> None:
    models = source_model_dir()
    detector = dlib.cnn_face_detection_model_v1(str(models / f"{DETECTOR}.dat"))
    predictor = dlib.shape_predictor(str(models / f"{LANDMARKS}.dat"))
    encoder = dlib.face_recognition_model_v1(str(models / f"{DESCRIPTOR}.dat"))
    originals = sample_faces(lfw_count=4)
    images = [*originals, *sample_mated_variants(originals[0])]
    records = []
    for sample in images:
        rgb = _rgb(sample.png)
        faces = []
        for det in detector(rgb, 0):
            rect = det.rect
            shape = predictor(rgb, rect)
            descriptor = encoder.compute_face_descriptor(rgb, shape, 0)
            faces.append(
                {
                    "box": [rect.left(), rect.top(), rect.right(), rect.bottom()],
                    "score": det.confidence,
                    "landmarks": [[p.x, p.y] for p in shape.parts()],
                    "descriptor": [round(float(v), 7) for v in descriptor],
                }
            )
        records.append(
            {
                "label": sample.label,
                "variant": sample.variant,
                "png_sha256": hashlib.sha256(sample.png).hexdigest(),
                "faces": faces,
            }
        )
    GOLDEN.write_text(json.dumps({"dlib_version": dlib.__version__, "images": records}, indent=1))


if __name__ == "__main__":
    main()
