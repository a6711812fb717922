"""Rebuild dlib's face networks as ONNX graphs so ONNX Runtime can run them without dlib.

The layer sequence comes from ``dlib_format.read_dlib_net`` (input first, tags and skips as
anonymous markers). dlib's file cannot say where tags point, so the walk below encodes the
two layouts these models use, and checks every layer kind against them:

* a single marker is ``tag1`` (start of a residual block: remember the current output);
* two markers in a row are ``tag2`` then ``skip1`` (a down-sampling block: remember the main
  branch, go back to ``tag1`` for the shortcut), and the next ``add_prev`` adds ``tag2``.

``add_prev`` in dlib adds tensors of different shapes by zero-padding the smaller one at the
end of the channel, row and column axes; the graph does the same with ``Pad`` so the 3x3 +
4x4 and 1x1 + 2x2 sums of the face network come out exactly as in dlib. Each affine layer is
folded into the convolution before it (one rounding, well inside the 1e-4 parity target).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from matching.dlib_format import (
    AddPrev,
    Affine,
    Conv,
    Dense,
    DlibNet,
    Layer,
    Marker,
    Pool,
    Relu,
)
from matching.exceptions import ModelFormatError

OPSET = 17
DESCRIPTOR_INPUT = "chips_rgb_u8"
DESCRIPTOR_OUTPUT = "descriptors"
DETECTOR_INPUT = "pyramid_nchw"
DETECTOR_OUTPUT = "scores"


@dataclass
class _Value:
    """A tensor in the graph under construction, with its static (channels, rows, cols)."""

    name: str
    shape: tuple[int, int, int]


class _GraphBuilder:
    """Accumulates ONNX nodes and initializers while tracking static shapes."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, prefix: str, array: np.ndarray) -> str:
        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def conv(self, value: _Value, conv: Conv, affine: Affine | None) -> _Value:
        weight, bias = conv.weight.astype(np.float64), conv.bias.astype(np.float64)
        if affine is not None:
            gamma = affine.gamma.reshape(-1).astype(np.float64)
            beta = affine.beta.reshape(-1).astype(np.float64)
            weight = weight * gamma[:, None, None, None]
            bias = bias * gamma + beta
        out_ch, in_ch, kh, kw = weight.shape
        if in_ch != value.shape[0]:
            raise ModelFormatError(f"conv expects {in_ch} channels, got {value.shape[0]}")
        (sy, sx), (py, px) = conv.stride, conv.padding
        name = self.node(
            "Conv",
            [
                value.name,
                self.const("w", weight.astype(np.float32)),
                self.const("b", bias.astype(np.float32)),
            ],
            kernel_shape=[kh, kw],
            strides=[sy, sx],
            pads=[py, px, py, px],
        )
        rows = 1 + (value.shape[1] + 2 * py - kh) // sy
        cols = 1 + (value.shape[2] + 2 * px - kw) // sx
        return _Value(name, (out_ch, rows, cols))

    def pool(self, value: _Value, pool: Pool) -> _Value:
        if pool.window == (0, 0):
            name = self.node(
                "GlobalAveragePool" if pool.kind == "avg" else "GlobalMaxPool", [value.name]
            )
            return _Value(name, (value.shape[0], 1, 1))
        if pool.padding != (0, 0):
            # Padded dlib pooling clips windows at the border; these models never use it.
            raise ModelFormatError("padded pooling is not supported")
        (wy, wx), (sy, sx) = pool.window, pool.stride
        op = "AveragePool" if pool.kind == "avg" else "MaxPool"
        name = self.node(op, [value.name], kernel_shape=[wy, wx], strides=[sy, sx])
        rows = 1 + (value.shape[1] - wy) // sy
        cols = 1 + (value.shape[2] - wx) // sx
        return _Value(name, (value.shape[0], rows, cols))

    def pad_to(self, value: _Value, shape: tuple[int, int, int]) -> _Value:
        """Zero-pad at the end of each axis, as dlib's ``add_prev`` treats missing elements."""
        extra = [target - have for target, have in zip(shape, value.shape, strict=True)]
        if not any(extra):
            return value
        pads = np.array([0, 0, 0, 0, 0, *extra], dtype=np.int64)
        name = self.node("Pad", [value.name, self.const("pads", pads)], mode="constant")
        return _Value(name, shape)

    def add(self, left: _Value, right: _Value) -> _Value:
        shape = (
            max(left.shape[0], right.shape[0]),
            max(left.shape[1], right.shape[1]),
            max(left.shape[2], right.shape[2]),
        )
        left, right = self.pad_to(left, shape), self.pad_to(right, shape)
        return _Value(self.node("Add", [left.name, right.name]), shape)


def _walk_layers(builder: _GraphBuilder, value: _Value, layers: tuple[Layer, ...]) -> _Value:
    """Emit the nodes for a dlib layer sequence (input first) and return the last output."""
    tag1: _Value | None = None
    tag2: _Value | None = None
    index = 0
    while index < len(layers):
        layer = layers[index]
        following = layers[index + 1] if index + 1 < len(layers) else None
        if isinstance(layer, Marker):
            if isinstance(following, Marker):
                tag2, value = value, _require(tag1, "skip1 without tag1")
                index += 2
            else:
                tag1, tag2 = value, None
                index += 1
            continue
        if isinstance(layer, Conv):
            affine = following if isinstance(following, Affine) else None
            value = builder.conv(value, layer, affine)
            index += 2 if affine is not None else 1
            continue
        if isinstance(layer, Relu):
            value = _Value(builder.node("Relu", [value.name]), value.shape)
        elif isinstance(layer, Pool):
            value = builder.pool(value, layer)
        elif isinstance(layer, AddPrev):
            value = builder.add(value, _require(tag2 or tag1, "add_prev without a tag"))
        elif isinstance(layer, Dense):
            value = _dense(builder, value, layer)
        else:
            raise ModelFormatError(f"layer {type(layer).__name__} has no ONNX mapping here")
        index += 1
    return value


def _require(value: _Value | None, message: str) -> _Value:
    if value is None:
        raise ModelFormatError(f"unexpected network layout: {message}")
    return value


def _dense(builder: _GraphBuilder, value: _Value, dense: Dense) -> _Value:
    flat = builder.node("Flatten", [value.name], axis=1)
    out = builder.node("MatMul", [flat, builder.const("fc_w", dense.weight)])
    if dense.bias is not None:
        out = builder.node("Add", [out, builder.const("fc_b", dense.bias)])
    return _Value(out, (dense.weight.shape[1], 1, 1))


def _model(builder: _GraphBuilder, name: str, inputs: list[onnx.ValueInfoProto],
           outputs: list[onnx.ValueInfoProto], doc: str) -> onnx.ModelProto:  # fmt: skip
    graph = helper.make_graph(builder.nodes, name, inputs, outputs, builder.initializers)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="custodian.matching"
    )
    model.ir_version = 8
    model.doc_string = doc
    onnx.checker.check_model(model)
    return model


def descriptor_to_onnx(net: DlibNet) -> onnx.ModelProto:
    """ONNX graph for ``dlib_face_recognition_resnet_model_v1``.

    Input: ``(N, 150, 150, 3)`` uint8 RGB chips, as produced by ``alignment.extract_chip``.
    The graph subtracts the per-channel mean read from the file and divides by 256, exactly
    like dlib's ``input_rgb_image_sized``. Output: ``(N, 128)`` raw (unnormalised) descriptors.
    """
    if net.input_kind != "input_rgb_image_sized" or not net.loss_kind.startswith("loss_metric"):
        raise ModelFormatError("not a dlib metric-learning network with a sized RGB input")
    rows, cols = net.input_options["rows"], net.input_options["cols"]
    builder = _GraphBuilder()
    as_float = builder.node("Cast", [DESCRIPTOR_INPUT], to=TensorProto.FLOAT)
    mean = np.asarray(net.input_mean_rgb, np.float32).reshape(1, 1, 1, 3)
    centred = builder.node("Sub", [as_float, builder.const("mean", mean)])
    scaled = builder.node("Mul", [centred, builder.const("scale", np.asarray(1 / 256, np.float32))])
    nchw = builder.node("Transpose", [scaled], perm=[0, 3, 1, 2])
    last = _walk_layers(builder, _Value(nchw, (3, rows, cols)), net.layers)
    builder.nodes[-1].output[0] = DESCRIPTOR_OUTPUT
    width = last.shape[0]
    return _model(
        builder,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info(DESCRIPTOR_INPUT, TensorProto.UINT8, ["N", rows, cols, 3])],
        [helper.make_tensor_value_info(DESCRIPTOR_OUTPUT, TensorProto.FLOAT, ["N", width])],
        "dlib ResNet face descriptor (public domain, Davis King), rebuilt from the .dat file.",
    )


def detector_to_onnx(net: DlibNet) -> onnx.ModelProto:
    """ONNX graph for the convolutional part of ``mmod_human_face_detector``.

    Input: the tiled image pyramid already normalised, ``(1, 3, H, W)`` float32 (see
    ``detector.tiled_pyramid``; building it in NumPy keeps dlib's exact tile layout).
    Output: ``(1, windows, H', W')`` detection scores; ``detector`` decodes them.
    """
    if not net.input_kind.startswith("input_rgb_image_pyramid") or net.loss_kind != "loss_mmod_":
        raise ModelFormatError("not a dlib MMOD detector with an image-pyramid input")
    builder = _GraphBuilder()
    first = builder.node("Identity", [DETECTOR_INPUT])
    last = _walk_layers(builder, _Value(first, (3, 0, 0)), net.layers)
    builder.nodes[-1].output[0] = DETECTOR_OUTPUT
    return _model(
        builder,
        "mmod_human_face_detector",
        [helper.make_tensor_value_info(DETECTOR_INPUT, TensorProto.FLOAT, [1, 3, "H", "W"])],
        [
            helper.make_tensor_value_info(
                DETECTOR_OUTPUT, TensorProto.FLOAT, [1, last.shape[0], "Ho", "Wo"]
            )
        ],
        "dlib MMOD CNN face detector (public domain, Davis King), rebuilt from the .dat file.",
    )
