"""Loaded face models: ONNX Runtime sessions created lazily, once per process.

Creating a session costs tens of milliseconds and the landmark cascade takes memory, so a
Celery worker or web process loads each model the first time it needs it and keeps it.
Sessions are keyed by the model file's recorded hash, and the file is re-hashed on first
load, so a model replaced on disk without a rebuild is refused rather than used silently.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnxruntime as ort

from matching.detector import DetectorConfig
from matching.dlib_format import ShapePredictor
from matching.exceptions import ModelHashMismatchError
from matching.landmarks import load_predictor
from matching.registry import (
    DESCRIPTOR,
    DETECTOR,
    LANDMARKS,
    ModelRecord,
    registry_load,
    sha256_file,
)

_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str, int], Any] = {}


@dataclass(frozen=True)
class FaceModels:
    """Which models to use: a built model directory and the threads ONNX Runtime may use.

    A plain value, so it can cross from ``gateway`` into ``matching`` and be rebuilt from
    settings in each worker process.
    """

    directory: Path
    threads: int = 1
    descriptor: str = DESCRIPTOR
    detector: str = DETECTOR
    landmarks: str = LANDMARKS

    def record(self, name: str) -> ModelRecord:
        return _cached(("registry", str(self.directory), 0), lambda: registry_load(
            directory=self.directory))[name]  # fmt: skip

    def descriptor_session(self) -> Any:
        return self._session(self.descriptor)

    def detector_session(self) -> Any:
        return self._session(self.detector)

    def detector_config(self) -> DetectorConfig:
        return DetectorConfig.from_json(self.record(self.detector).config)

    def shape_predictor(self) -> ShapePredictor:
        record = self.record(self.landmarks)
        path = self._verified_path(record)
        return _cached(("landmarks", record.sha256, 0), lambda: load_predictor(path))

    def _verified_path(self, record: ModelRecord) -> Path:
        path = self.directory / record.file

        def check() -> Path:
            if sha256_file(path) != record.sha256:
                raise ModelHashMismatchError(f"{path} does not match its registry hash")
            return path

        return _cached(("verified", record.sha256, 0), check)

    def _session(self, name: str) -> Any:
        record = self.record(name)
        path = self._verified_path(record)

        def create() -> Any:
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        return _cached(("session", record.sha256, self.threads), create)


def _cached(key: tuple[str, str, int], factory: Any) -> Any:
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = factory()
        return _CACHE[key]


def engine_reset() -> None:
    """Forget loaded models (after a rebuild, or in tests that build into a new directory)."""
    with _LOCK:
        _CACHE.clear()
