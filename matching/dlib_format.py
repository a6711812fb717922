"""Pure-NumPy reader for dlib's serialized model files (``.dat``).

The county runs dlib's public-domain face models without linking dlib: this module reads
the three files shipped in the ``face_recognition_models`` package and returns plain NumPy
arrays that ``onnx_export`` turns into ONNX graphs and ``landmarks`` runs directly.

The encodings follow ``dlib/serialize.h``, ``dlib/cuda/tensor.h``, ``dlib/dnn/core.h`` and
``dlib/dnn/layers.h`` (see docs/matching.md, "Models and pipeline"). Two facts shape the
design: floats outside tensors are variable-length ``(mantissa, exponent)`` pairs, and
tag/skip layers leave no type marker in the file, so the reader returns the layers as a flat
inner-to-outer sequence with anonymous markers, and each network's builder knows where its
tags and skips are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from matching.exceptions import ModelFormatError

FloatArray = npt.NDArray[np.float32]

_FLOAT_INF = 32000
_FLOAT_NINF = 32001
_FLOAT_NAN = 32002


class DlibReader:
    """Sequential decoder over the bytes of one dlib ``.dat`` file."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _fail(self, what: str) -> ModelFormatError:
        return ModelFormatError(f"dlib file: {what} at byte {self.pos}")

    def integer(self) -> int:
        """Read dlib's packed integer: a control byte (sign bit, byte count) then |value| LE."""
        data, pos = self.data, self.pos
        if pos >= len(data):
            raise self._fail("unexpected end of file")
        control = data[pos]
        size = control & 0x0F
        if size == 0 or size > 8 or control & 0x70:
            raise self._fail(f"bad integer control byte {control:#x}")
        value = int.from_bytes(data[pos + 1 : pos + 1 + size], "little")
        self.pos = pos + 1 + size
        return -value if control & 0x80 else value

    def real(self) -> float:
        """Read a float/double stored as ``int64 mantissa`` then ``int16 exponent``."""
        mantissa = self.integer()
        exponent = self.integer()
        if exponent == _FLOAT_INF:
            return math.inf
        if exponent == _FLOAT_NINF:
            return -math.inf
        if exponent == _FLOAT_NAN:
            return math.nan
        return math.ldexp(mantissa, exponent)

    def reals(self, count: int) -> FloatArray:
        """Read ``count`` packed floats into a float32 array (used for matrices and leaves)."""
        out = np.empty(count, dtype=np.float64)
        data = self.data
        pos = self.pos
        ldexp = math.ldexp
        for i in range(count):
            # Inlined integer() twice: this loop decodes ~1.2 M landmark leaf values.
            control = data[pos]
            size = control & 0x0F
            mantissa = int.from_bytes(data[pos + 1 : pos + 1 + size], "little")
            if control & 0x80:
                mantissa = -mantissa
            pos += 1 + size
            control = data[pos]
            size = control & 0x0F
            exponent = int.from_bytes(data[pos + 1 : pos + 1 + size], "little")
            if control & 0x80:
                exponent = -exponent
            pos += 1 + size
            if exponent >= _FLOAT_INF:
                self.pos = pos
                raise self._fail("non-finite float in a model matrix")
            out[i] = ldexp(mantissa, exponent)
        self.pos = pos
        return out.astype(np.float32)

    def boolean(self) -> bool:
        """Read a bool, serialized as the ASCII character '1' or '0'."""
        byte = self.byte()
        if byte not in (ord("0"), ord("1")):
            raise self._fail(f"bad bool byte {byte:#x}")
        return byte == ord("1")

    def byte(self) -> int:
        """Read one raw byte (``char``/``uint8_t`` are not packed)."""
        if self.pos >= len(self.data):
            raise self._fail("unexpected end of file")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def string(self) -> str:
        """Read a ``std::string``: packed length then raw bytes."""
        length = self.integer()
        raw = self.data[self.pos : self.pos + length]
        if len(raw) != length:
            raise self._fail("truncated string")
        self.pos += length
        return raw.decode("latin-1")

    def expect_string(self, *allowed: str) -> str:
        """Read a layer's version string and check it is one the reader understands."""
        start = self.pos
        value = self.string()
        if value not in allowed:
            self.pos = start
            raise self._fail(f"expected one of {allowed}, found {value!r}")
        return value

    def tensor(self) -> FloatArray:
        """Read a ``resizable_tensor``: version 2, four dims, raw little-endian float32."""
        version = self.integer()
        if version != 2:
            raise self._fail(f"unsupported tensor version {version}")
        dims = tuple(self.integer() for _ in range(4))
        count = dims[0] * dims[1] * dims[2] * dims[3]
        end = self.pos + 4 * count
        if end > len(self.data):
            raise self._fail("truncated tensor")
        array = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos = end
        return array.reshape(dims).astype(np.float32)

    def alias_tensor(self) -> tuple[int, ...]:
        """Read an ``alias_tensor`` header (version and dims only, no data)."""
        version = self.integer()
        if version != 1:
            raise self._fail(f"unsupported alias_tensor version {version}")
        return tuple(self.integer() for _ in range(4))

    def matrix(self) -> FloatArray:
        """Read a ``dlib::matrix<float>``: negative dims (new format), then packed floats."""
        rows = abs(self.integer())
        cols = abs(self.integer())
        return self.reals(rows * cols).reshape(rows, cols)

    def at_end(self) -> bool:
        """Tell whether every byte has been consumed (a cheap check on the whole parse)."""
        return self.pos == len(self.data)


# --------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class Conv:
    """``con_`` layer: OIHW filters, one bias per filter, stride and symmetric padding."""

    weight: FloatArray
    bias: FloatArray
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class Affine:
    """``affine_`` layer (or ``bn_`` folded into one): per-channel ``x * gamma + beta``."""

    gamma: FloatArray
    beta: FloatArray


@dataclass(frozen=True)
class Relu:
    """``relu_`` layer."""


@dataclass(frozen=True)
class Pool:
    """``max_pool_``/``avg_pool_``; a window of 0 means pooling over the whole plane."""

    kind: str
    window: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class AddPrev:
    """``add_prev_``: element-wise sum with a tagged earlier output (zero-padded)."""


@dataclass(frozen=True)
class Dense:
    """``fc_`` layer; ``weight`` is (inputs, outputs) because dlib computes ``x · W``."""

    weight: FloatArray
    bias: FloatArray | None


@dataclass(frozen=True)
class Marker:
    """A tag or skip layer: the file records only that a wrapper was there."""


Layer = Conv | Affine | Relu | Pool | AddPrev | Dense | Marker


@dataclass(frozen=True)
class DlibNet:
    """A deserialized dlib network: its input/loss settings and its layers, input first."""

    input_kind: str
    input_mean_rgb: tuple[float, float, float]
    input_options: dict[str, int]
    loss_kind: str
    loss_options: dict[str, object]
    layers: tuple[Layer, ...]


def _read_conv(r: DlibReader, version: str) -> Conv:
    params = r.tensor().reshape(-1)
    filters = r.integer()
    rows, cols = r.integer(), r.integer()
    stride = (r.integer(), r.integer())
    padding = (r.integer(), r.integer())
    r.alias_tensor()
    r.alias_tensor()
    for _ in range(4):
        r.real()
    use_bias = r.boolean() if version in ("con_5", "con_6") else True
    if version == "con_6" and r.boolean():
        raise ModelFormatError("con_6 with fused relu is not supported")
    inputs = (params.size - filters) // (filters * rows * cols)
    weight = params[: filters * inputs * rows * cols].reshape(filters, inputs, rows, cols)
    bias = params[filters * inputs * rows * cols :] if use_bias else np.zeros(filters, np.float32)
    if bias.size != filters:
        raise ModelFormatError("con_ parameter tensor has an unexpected size")
    return Conv(weight=weight, bias=bias.astype(np.float32), stride=stride, padding=padding)


def _read_bn_as_affine(r: DlibReader) -> Affine:
    """Fold a saved batch-norm layer into the affine layer dlib substitutes at inference."""
    params = r.tensor().reshape(-1)
    r.alias_tensor()
    r.alias_tensor()
    r.tensor()  # means of the last batch
    r.tensor()  # invstds of the last batch
    running_means = r.tensor().reshape(-1)
    running_variances = r.tensor().reshape(-1)
    r.integer()
    r.integer()
    for _ in range(4):
        r.real()
    eps = r.real()
    half = params.size // 2
    gamma = params[:half] / np.sqrt(running_variances + eps)
    beta = params[half:] - gamma * running_means
    return Affine(gamma=gamma.astype(np.float32), beta=beta.astype(np.float32))


def _read_affine(r: DlibReader, version: str) -> Affine:
    if version in ("bn_con2", "bn_fc2"):
        return _read_bn_as_affine(r)
    params = r.tensor().reshape(-1)
    r.alias_tensor()
    r.alias_tensor()
    r.integer()  # mode: per channel (conv) or per element (fc)
    if version == "affine_2" and r.boolean():
        raise ModelFormatError("disabled affine layers are not supported")
    half = params.size // 2
    return Affine(gamma=params[:half].copy(), beta=params[half:].copy())


def _read_pool(r: DlibReader, version: str) -> Pool:
    window = (r.integer(), r.integer())
    stride = (r.integer(), r.integer())
    padding = (r.integer(), r.integer())
    return Pool(kind=version[:3], window=window, stride=stride, padding=padding)


def _read_dense(r: DlibReader, version: str) -> Dense:
    outputs = r.integer()
    inputs = r.integer()
    params = r.tensor().reshape(-1)
    r.alias_tensor()
    r.alias_tensor()
    has_bias = r.integer() == 0
    for _ in range(4):
        r.real()
    if version == "fc_3":
        has_bias = r.boolean() and has_bias
    matrix = params.reshape(-1, outputs)
    weight = matrix[:inputs].copy()
    bias = matrix[inputs].copy() if has_bias and matrix.shape[0] > inputs else None
    return Dense(weight=weight, bias=bias)


def _read_details(r: DlibReader) -> Layer:
    version = r.string()
    if version.startswith("con_"):
        return _read_conv(r, version)
    if version.startswith(("affine_", "bn_")):
        return _read_affine(r, version)
    if version in ("relu_", "relu_2"):
        if version == "relu_2" and r.boolean():
            raise ModelFormatError("disabled relu layers are not supported")
        return Relu()
    if version in ("max_pool_2", "avg_pool_2"):
        return _read_pool(r, version)
    if version == "add_prev_":
        return AddPrev()
    if version in ("fc_2", "fc_3"):
        return _read_dense(r, version)
    raise ModelFormatError(f"unsupported dlib layer {version!r}")


def _skip_layer_trailer(r: DlibReader, *, on_input: bool) -> None:
    for _ in range(3):
        r.boolean()
    r.tensor()  # x_grad
    r.tensor()  # cached_output
    r.tensor()  # params_grad, or grad_final for a layer sitting on the input
    if on_input:
        r.integer()  # _sample_expansion_factor


def _read_input(r: DlibReader) -> tuple[str, tuple[float, float, float], dict[str, int]]:
    kind = r.expect_string(
        "input_rgb_image_sized", "input_rgb_image", "input_rgb_image_pyramid",
        "input_rgb_image_pyramid2",
    )  # fmt: skip
    mean = (r.real(), r.real(), r.real())
    options: dict[str, int] = {}
    if kind == "input_rgb_image_sized":
        options = {"rows": r.integer(), "cols": r.integer()}
    elif kind == "input_rgb_image_pyramid2":
        options = {"pyramid_padding": r.integer(), "pyramid_outer_padding": r.integer()}
    elif kind == "input_rgb_image_pyramid":
        options = {"pyramid_padding": 10, "pyramid_outer_padding": 11}
    return kind, mean, options


def _read_loss(r: DlibReader) -> tuple[str, dict[str, object]]:
    kind = r.expect_string("loss_metric_", "loss_metric_2", "loss_mmod_")
    if kind == "loss_metric_2":
        return kind, {"margin": r.real(), "distance_threshold": r.real()}
    if kind == "loss_metric_":
        return kind, {"margin": 0.1, "distance_threshold": 0.75}
    return kind, _read_mmod_options(r)


def _read_box_overlap(r: DlibReader) -> dict[str, float]:
    return {"iou_thresh": r.real(), "percent_covered_thresh": r.real()}


def _read_mmod_options(r: DlibReader) -> dict[str, object]:
    version = r.integer()
    if not 1 <= version <= 4:
        raise ModelFormatError(f"unsupported mmod_options version {version}")
    windows: list[tuple[int, int]] = []
    if version == 1:
        windows.append((r.integer(), r.integer()))
    else:
        for _ in range(r.integer()):
            window_version = r.integer()
            windows.append((r.integer(), r.integer()))
            if window_version == 2:
                r.string()
    options: dict[str, object] = {
        "detector_windows": windows,
        "loss_per_false_alarm": r.real(),
        "loss_per_missed_target": r.real(),
        "truth_match_iou_threshold": r.real(),
        "overlaps_nms": _read_box_overlap(r),
        "overlaps_ignore": _read_box_overlap(r),
    }
    if version >= 3:
        options["assume_image_pyramid"] = r.byte()
    if version >= 4:
        options["use_bounding_box_regression"] = r.boolean()
        options["bbr_lambda"] = r.real()
    return options


def read_dlib_net(data: bytes) -> DlibNet:
    """Decode a dlib DNN file into its layers, ordered from the input outwards.

    The file is written outer-to-inner: a run of wrapper versions (1 for tag/skip layers,
    2 for computational layers, 3 for the layer on the input), then the input layer, then
    each layer's details from the innermost out. Tags and skips become ``Marker`` entries.
    """
    r = DlibReader(data)
    if r.integer() != 1:
        raise ModelFormatError("dlib net: expected an add_loss_layer (version 1) first")
    loss_kind, loss_options = _read_loss(r)
    wrappers: list[int] = []
    while (version := r.integer()) != 3:
        if version not in (1, 2):
            raise ModelFormatError(f"dlib net: unsupported layer wrapper version {version}")
        wrappers.append(version)
    input_kind, mean, input_options = _read_input(r)
    layers: list[Layer] = [_read_details(r)]
    _skip_layer_trailer(r, on_input=True)
    for version in reversed(wrappers):
        if version == 1:
            layers.append(Marker())
            continue
        layers.append(_read_details(r))
        _skip_layer_trailer(r, on_input=False)
    if not r.at_end():
        raise ModelFormatError(f"dlib net: {len(data) - r.pos} trailing bytes")
    return DlibNet(
        input_kind=input_kind,
        input_mean_rgb=mean,
        input_options=input_options,
        loss_kind=loss_kind,
        loss_options=loss_options,
        layers=tuple(layers),
    )


# --------------------------------------------------------------------------- shape predictor


@dataclass(frozen=True)
class ShapePredictor:
    """A dlib regression-tree cascade (``shape_predictor``), as dense arrays.

    ``splits`` is (levels, trees, nodes, 3) with columns idx1, idx2, thresh; ``leaves`` is
    (levels, trees, leaves, 2·parts); ``anchor_idx`` is (levels, features) and ``deltas``
    (levels, features, 2). Shapes are flat ``x0, y0, x1, y1, …`` in the unit detection box.
    """

    initial_shape: FloatArray
    split_idx: npt.NDArray[np.int32]
    split_thresh: FloatArray
    leaves: FloatArray
    anchor_idx: npt.NDArray[np.int32]
    deltas: FloatArray
    meta: dict[str, int] = field(default_factory=dict)


def read_shape_predictor(data: bytes) -> ShapePredictor:
    """Decode ``shape_predictor_*.dat`` into dense arrays (every tree has the same depth)."""
    r = DlibReader(data)
    if r.integer() != 1:
        raise ModelFormatError("shape predictor: unsupported version")
    initial_shape = r.matrix().reshape(-1)
    levels = r.integer()
    split_idx: list[list[list[tuple[int, int]]]] = []
    split_thresh: list[list[FloatArray]] = []
    leaves: list[list[FloatArray]] = []
    for _ in range(levels):
        level_idx, level_thresh, level_leaves = [], [], []
        for _ in range(r.integer()):
            nodes = r.integer()
            pairs, thresh = [], []
            for _ in range(nodes):
                pairs.append((r.integer(), r.integer()))
                thresh.append(r.real())
            leaf_count = r.integer()
            leaf_rows = [r.matrix().reshape(-1) for _ in range(leaf_count)]
            level_idx.append(pairs)
            level_thresh.append(np.asarray(thresh, np.float32))
            level_leaves.append(np.stack(leaf_rows))
        split_idx.append(level_idx)
        split_thresh.append(level_thresh)
        leaves.append(level_leaves)
    anchors = [[r.integer() for _ in range(r.integer())] for _ in range(r.integer())]
    deltas = [[(r.real(), r.real()) for _ in range(r.integer())] for _ in range(r.integer())]
    if not r.at_end():
        raise ModelFormatError("shape predictor: trailing bytes")
    try:
        return ShapePredictor(
            initial_shape=initial_shape.astype(np.float32),
            split_idx=np.asarray(split_idx, np.int32),
            split_thresh=np.asarray(split_thresh, np.float32),
            leaves=np.asarray(leaves, np.float32),
            anchor_idx=np.asarray(anchors, np.int32),
            deltas=np.asarray(deltas, np.float32),
            meta={"levels": levels, "parts": initial_shape.size // 2},
        )
    except ValueError as exc:  # ragged forests: trees of different depths
        raise ModelFormatError("shape predictor: forests are not uniform") from exc


def read_file(path: Path) -> bytes:
    """Read a model file, refusing bzip2-compressed downloads that dlib would also refuse."""
    data = path.read_bytes()
    if data[:3] == b"BZh":
        raise ModelFormatError(f"{path.name} is still bzip2-compressed; decompress it first")
    return data
