"""The model registry: idempotent builds, hashes, tamper detection, external models."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from matching import alignment, pipeline
from matching.engine import FaceModels, engine_reset
from matching.exceptions import ModelHashMismatchError, ModelMissingError
from matching.registry import (
    DESCRIPTOR,
    DETECTOR,
    LANDMARKS,
    REGISTRY_FILE,
    InputSpec,
    build_face_models,
    registry_load,
    registry_record_parity,
    registry_register_external,
    sha256_file,
)
from matching.samples import sample_faces


@pytest.fixture
def model_copy(model_dir: Path, tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "models"
    shutil.copytree(model_dir, target)
    engine_reset()
    yield target
    engine_reset()


def test_registry_records_provenance(model_dir: Path) -> None:
    records = registry_load(directory=model_dir)
    assert set(records) == {DESCRIPTOR, DETECTOR, LANDMARKS}
    for record in records.values():
        assert record.source_package == "face_recognition_models"
        assert "public domain" in record.licence.lower()
        assert record.sha256 == sha256_file(model_dir / record.file)
    assert records[DESCRIPTOR].input["size"] == [150, 150]
    assert records[DETECTOR].config["window"] == [80, 80]


def test_rebuild_is_a_no_op_when_current(model_copy: Path) -> None:
    onnx_file = model_copy / f"{DESCRIPTOR}.onnx"
    before = onnx_file.stat().st_mtime_ns
    build_face_models(directory=model_copy)
    assert onnx_file.stat().st_mtime_ns == before


def test_changed_model_file_is_rebuilt_or_refused(model_copy: Path) -> None:
    onnx_file = model_copy / f"{DETECTOR}.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes() + b"tampered")
    with pytest.raises(ModelHashMismatchError):
        FaceModels(directory=model_copy).detector_session()
    build_face_models(directory=model_copy)
    engine_reset()
    assert FaceModels(directory=model_copy).detector_session() is not None


def test_missing_models_say_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(ModelMissingError, match="build_face_models"):
        registry_load(directory=tmp_path)


def test_parity_and_external_models_are_recorded(model_copy: Path, tmp_path: Path) -> None:
    registry_record_parity(directory=model_copy, name=DESCRIPTOR, results={"max_abs_diff": 2e-7})
    external = tmp_path / "sface.onnx"
    external.write_bytes(b"not really a model, only hashed here")
    spec = InputSpec(layout="NCHW", size=(112, 112), color="BGR", dtype="float32")
    registry_register_external(
        directory=model_copy, name="sface", path=external, kind="descriptor", spec=spec,
        licence="Apache-2.0", source="opencv_zoo",
    )  # fmt: skip
    raw = json.loads((model_copy / REGISTRY_FILE).read_text())
    assert raw["models"][DESCRIPTOR]["parity"]["max_abs_diff"] == 2e-7
    assert raw["models"]["sface"]["input"]["color"] == "BGR"
    assert raw["models"]["sface"]["sha256"] == sha256_file(external)


def test_external_descriptor_model_is_fed_by_its_input_spec(model_copy: Path) -> None:
    """A registered ONNX model (here a toy one: mean colour of a BGR NCHW float chip) runs
    in the same pipeline, fed according to its InputSpec."""
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["chips"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["descriptors"], axis=1),
        ],
        "toy",
        [helper.make_tensor_value_info("chips", TensorProto.FLOAT, ["N", 3, 112, 112])],
        [helper.make_tensor_value_info("descriptors", TensorProto.FLOAT, ["N", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = model_copy / "toy.onnx"
    onnx.save(model, path)
    spec = InputSpec(layout="NCHW", size=(112, 112), color="BGR", dtype="float32",
                     mean=(10.0, 20.0, 30.0), scale=0.5, output_dim=3)  # fmt: skip
    registry_register_external(
        directory=model_copy, name="toy", path=path, kind="descriptor", spec=spec,
        licence="test only", source="tests",
    )  # fmt: skip
    engine_reset()
    toy = FaceModels(directory=model_copy, descriptor="toy")
    rgb = pipeline.image_decode(image=sample_faces()[0].png)
    (face,) = pipeline.faces_from_rgb(rgb, models=toy)
    chip = alignment.extract_chip(rgb, alignment.chip_details(face.landmarks, size=112))
    expected = (
        chip[:, :, ::-1].reshape(-1, 3).astype(np.float64).mean(axis=0) - [10, 20, 30]
    ) * 0.5
    np.testing.assert_allclose(face.descriptor, expected, rtol=1e-4)
    assert face.model == "toy"
