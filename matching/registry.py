"""Model registry: what each face model is, where it came from, and whether it matches dlib.

The county has to be able to say, for any descriptor in its gallery, which model made it,
from which published file, under which licence, and how closely the converted model agrees
with the original. ``registry.json`` next to the built models holds that: the source
package and version, SHA-256 of the source ``.dat`` and of each built file, the licence, a
description of the model's input, and parity results recorded by the tests/benchmark.

Library code takes the model directory as a path; Django callers pass
``settings.FACE_MODEL_DIR``. Other ONNX models (YuNet, SFace, a county's licensed model)
are added with ``registry_register_external`` and an ``InputSpec``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import onnx

from matching import dlib_format, onnx_export
from matching.detector import DetectorConfig
from matching.exceptions import ModelFormatError, ModelMissingError
from matching.landmarks import save_predictor

REGISTRY_FILE = "registry.json"
SOURCE_PACKAGE = "face_recognition_models"
DLIB_LICENCE = (
    "Public domain (Davis King, dlib-models README: 'released into the public domain'); "
    "training-data provenance caveats apply"
)
DESCRIPTOR = "dlib_face_recognition_resnet_model_v1"
DETECTOR = "mmod_human_face_detector"
LANDMARKS = "shape_predictor_5_face_landmarks"
BUILD_VERSION = 2  # bump when the conversion itself changes, to force a rebuild


@dataclass(frozen=True)
class InputSpec:
    """How a descriptor model wants its input: enough for the pipeline to feed it.

    Chips are cut with dlib's 5-point alignment (``alignment``, padding 0.25) at ``size``.
    ``dtype`` "uint8" feeds raw pixels (the model normalises them itself, as the converted
    dlib graph does; ``mean``/``scale`` then only document it); "float32" feeds
    ``(pixel − mean) · scale``. ``color`` and ``layout`` give channel order and axis order.
    """

    layout: str  # "NHWC" or "NCHW"
    size: tuple[int, int]  # rows, cols
    color: str  # "RGB" or "BGR"
    dtype: str  # "uint8" or "float32"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: float = 1.0
    alignment: str = "dlib_5point_pad0.25"
    output_dim: int = 128


@dataclass(frozen=True)
class ModelRecord:
    """One registered model file and its provenance."""

    name: str
    kind: str  # "descriptor", "detector" or "landmarks"
    file: str
    sha256: str
    licence: str
    source_package: str
    source_version: str
    source_file: str
    source_sha256: str
    input: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    parity: dict[str, Any] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks (model files are tens of megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_model_dir() -> Path:
    """Directory of the ``.dat`` files inside the installed ``face_recognition_models``."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelMissingError(f"the {SOURCE_PACKAGE} package is not installed")
    return Path(spec.origin).parent / "models"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write then rename, so a crashed build never leaves a half-written model behind."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    Path(temp).chmod(0o644)  # mkstemp makes 0600; web and worker users must read models
    Path(temp).replace(path)


def registry_load(*, directory: Path) -> dict[str, ModelRecord]:
    """Read ``registry.json``; raise ``ModelMissingError`` when models were never built."""
    path = directory / REGISTRY_FILE
    if not path.exists():
        raise ModelMissingError(f"no face models in {directory}; run manage.py build_face_models")
    raw = json.loads(path.read_text())
    return {name: ModelRecord(**record) for name, record in raw["models"].items()}


def _registry_save(directory: Path, records: dict[str, ModelRecord]) -> None:
    payload = {
        "build_version": BUILD_VERSION,
        "updated": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "models": {name: asdict(record) for name, record in records.items()},
    }
    _atomic_write(directory / REGISTRY_FILE, json.dumps(payload, indent=2).encode())


def _is_current(directory: Path, sources: dict[str, str]) -> bool:
    """True when every built file exists, hashes as recorded, and came from these sources."""
    try:
        raw = json.loads((directory / REGISTRY_FILE).read_text())
        records = registry_load(directory=directory)
    except (OSError, ModelMissingError, ValueError, TypeError, KeyError):
        return False
    if raw.get("build_version") != BUILD_VERSION:
        return False
    for name, source_hash in sources.items():
        record = records.get(name)
        if record is None or record.source_sha256 != source_hash:
            return False
        built = directory / record.file
        if not built.exists() or sha256_file(built) != record.sha256:
            return False
    return True


def build_face_models(*, directory: Path, force: bool = False) -> dict[str, ModelRecord]:
    """Convert dlib's three public-domain face models into ``directory`` (idempotent).

    When the directory already holds models built from the same source files (checked by
    hash), nothing is rebuilt and parity results recorded earlier are kept.
    """
    directory.mkdir(parents=True, exist_ok=True)
    source_dir = source_model_dir()
    files = {name: source_dir / f"{name}.dat" for name in (DESCRIPTOR, DETECTOR, LANDMARKS)}
    for path in files.values():
        if not path.exists():
            raise ModelMissingError(f"{path} is missing from {SOURCE_PACKAGE}")
    sources = {name: sha256_file(path) for name, path in files.items()}
    if not force and _is_current(directory, sources):
        return registry_load(directory=directory)
    version = importlib.metadata.version(SOURCE_PACKAGE)
    common: dict[str, Any] = {
        "licence": DLIB_LICENCE,
        "source_package": SOURCE_PACKAGE,
        "source_version": version,
    }
    records = {
        DESCRIPTOR: _build_descriptor(directory, files[DESCRIPTOR], sources[DESCRIPTOR], common),
        DETECTOR: _build_detector(directory, files[DETECTOR], sources[DETECTOR], common),
        LANDMARKS: _build_landmarks(directory, files[LANDMARKS], sources[LANDMARKS], common),
    }
    _registry_save(directory, records)
    return records


def _write_onnx(directory: Path, name: str, model: onnx.ModelProto) -> tuple[str, str]:
    path = directory / f"{name}.onnx"
    _atomic_write(path, model.SerializeToString())
    return path.name, sha256_file(path)


def _build_descriptor(
    directory: Path, source: Path, digest: str, common: dict[str, Any]
) -> ModelRecord:
    net = dlib_format.read_dlib_net(dlib_format.read_file(source))
    file, sha = _write_onnx(directory, DESCRIPTOR, onnx_export.descriptor_to_onnx(net))
    spec = InputSpec(
        layout="NHWC", size=(150, 150), color="RGB", dtype="uint8",
        mean=net.input_mean_rgb, scale=1 / 256,
    )  # fmt: skip
    return ModelRecord(
        name=DESCRIPTOR, kind="descriptor", file=file, sha256=sha, source_file=source.name,
        source_sha256=digest, input=asdict(spec), config={"loss": net.loss_options}, **common,
    )  # fmt: skip


def _build_detector(
    directory: Path, source: Path, digest: str, common: dict[str, Any]
) -> ModelRecord:
    net = dlib_format.read_dlib_net(dlib_format.read_file(source))
    file, sha = _write_onnx(directory, DETECTOR, onnx_export.detector_to_onnx(net))
    options = net.loss_options
    windows = options["detector_windows"]
    nms = options["overlaps_nms"]
    if not isinstance(windows, list) or len(windows) != 1 or not isinstance(nms, dict):
        raise ModelFormatError("detector: exactly one detection window expected")
    config = DetectorConfig(
        mean_rgb=net.input_mean_rgb,
        window=windows[0],
        pyramid_padding=net.input_options["pyramid_padding"],
        pyramid_outer_padding=net.input_options["pyramid_outer_padding"],
        nms_iou=nms["iou_thresh"],
        nms_covered=nms["percent_covered_thresh"],
    )
    return ModelRecord(
        name=DETECTOR, kind="detector", file=file, sha256=sha, source_file=source.name,
        source_sha256=digest, config=config.as_json(),
        input={"layout": "NCHW", "dtype": "float32", "description":
               "normalised tiled pyramid canvas built by matching.detector.tiled_pyramid"},
        **common,
    )  # fmt: skip


def _build_landmarks(
    directory: Path, source: Path, digest: str, common: dict[str, Any]
) -> ModelRecord:
    predictor = dlib_format.read_shape_predictor(dlib_format.read_file(source))
    path = directory / f"{LANDMARKS}.npz"
    temp = directory / f".{LANDMARKS}.tmp.npz"
    save_predictor(predictor, temp)
    temp.replace(path)
    return ModelRecord(
        name=LANDMARKS, kind="landmarks", file=path.name, sha256=sha256_file(path),
        source_file=source.name, source_sha256=digest,
        input={"description": "RGB image and a detection box; 5 parts (eye corners, nose)"},
        **common,
    )  # fmt: skip


def registry_record_parity(*, directory: Path, name: str, results: dict[str, Any]) -> None:
    """Store parity figures (against dlib-bin) on a model's record, with the time measured."""
    records = registry_load(directory=directory)
    record = records[name]
    parity = {**results, "measured": datetime.now(tz=UTC).isoformat(timespec="seconds")}
    records[name] = ModelRecord(**{**asdict(record), "parity": parity})
    _registry_save(directory, records)


def registry_register_external(
    *, directory: Path, name: str, path: Path, kind: str, spec: InputSpec, licence: str,
    source: str,
) -> ModelRecord:  # fmt: skip
    """Register another ONNX face model (YuNet, SFace, a licensed model) by description.

    The file is hashed where it lies; the pipeline feeds descriptor models according to
    ``spec`` (layout, size, colour order, mean and scale).
    """
    records = registry_load(directory=directory)
    digest = sha256_file(path)
    record = ModelRecord(
        name=name, kind=kind, file=str(path), sha256=digest, licence=licence,
        source_package=source, source_version="", source_file=path.name, source_sha256=digest,
        input=asdict(spec),
    )  # fmt: skip
    records[name] = record
    _registry_save(directory, records)
    return record
