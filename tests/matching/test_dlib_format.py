"""The dlib serialization primitives, on hand-encoded bytes, and the real model files."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from matching import dlib_format
from matching.dlib_format import AddPrev, Conv, DlibReader, Marker
from matching.exceptions import ModelFormatError
from matching.registry import DESCRIPTOR, DETECTOR, LANDMARKS, source_model_dir


@pytest.mark.parametrize(
    ("raw", "value"),
    [(b"\x01\x00", 0), (b"\x01\x02", 2), (b"\x81\x0a", -10), (b"\x02\x00\x01", 256)],
)
def test_integers_use_control_byte_and_little_endian_magnitude(raw: bytes, value: int) -> None:
    assert DlibReader(raw).integer() == value


def test_float_is_mantissa_then_exponent() -> None:
    # 0.6 as dlib writes a float: mantissa 10066330 (3 bytes), exponent -24.
    reader = DlibReader(b"\x03\x9a\x99\x99\x81\x18")
    assert reader.real() == pytest.approx(0.6, abs=1e-7)
    assert reader.at_end()
    assert DlibReader(b"\x01\x00\x02\x00\x7d").real() == math.inf  # exponent 32000


def test_bad_control_byte_is_a_format_error() -> None:
    with pytest.raises(ModelFormatError):
        DlibReader(b"\x00").integer()


def test_tensor_is_raw_float32_after_dims() -> None:
    data = np.arange(6, dtype="<f4")
    raw = b"\x01\x02" + b"\x01\x01\x01\x02\x01\x03\x01\x01" + data.tobytes()
    tensor = DlibReader(raw).tensor()
    assert tensor.shape == (1, 2, 3, 1)
    np.testing.assert_array_equal(tensor.reshape(-1), data)


def test_string_and_bool() -> None:
    reader = DlibReader(b"\x01\x05relu_1")
    assert reader.string() == "relu_"
    assert reader.boolean() is True
    with pytest.raises(ModelFormatError):
        DlibReader(b"x").boolean()


def test_reals_match_struct_floats() -> None:
    values = [0.5, -0.25, 3.0]
    raw = b"\x01\x01\x81\x01" + b"\x81\x01\x81\x02" + b"\x01\x03\x01\x00"
    np.testing.assert_allclose(DlibReader(raw).reals(3), values)
    assert struct.calcsize("<f") == 4


def test_descriptor_network_structure() -> None:
    net = dlib_format.read_dlib_net((source_model_dir() / f"{DESCRIPTOR}.dat").read_bytes())
    convs = [layer for layer in net.layers if isinstance(layer, Conv)]
    assert len(convs) == 29
    assert convs[0].weight.shape == (32, 3, 7, 7)
    assert sum(isinstance(layer, AddPrev) for layer in net.layers) == 14
    assert sum(isinstance(layer, Marker) for layer in net.layers) == 22  # 18 tags + 4 skips
    assert net.input_options == {"rows": 150, "cols": 150}


def test_detector_and_landmark_files() -> None:
    det = dlib_format.read_dlib_net((source_model_dir() / f"{DETECTOR}.dat").read_bytes())
    assert det.loss_options["detector_windows"] == [(80, 80)]
    assert [c.weight.shape[0] for c in det.layers if isinstance(c, Conv)] == [
        16,
        32,
        32,
        45,
        45,
        45,
        1,
    ]
    sp = dlib_format.read_shape_predictor((source_model_dir() / f"{LANDMARKS}.dat").read_bytes())
    assert sp.leaves.shape == (15, 500, 16, 10)
    assert sp.anchor_idx.max() < 5


def test_truncated_file_is_rejected() -> None:
    data = (source_model_dir() / f"{DETECTOR}.dat").read_bytes()
    with pytest.raises(ModelFormatError):
        dlib_format.read_dlib_net(data[:-100])
