"""The one reader of dlib's serialised ResNet face descriptor (`dlib_face_recognition_resnet_model_v1.dat`).

dlib writes a network as nested objects, the loss layer first: every `add_layer` writes its
version, then its whole sub-network, then its own layer details, so the stream cannot be read
without knowing the network's type. `FACE_RESNET_V1` spells out that type (dlib's `anet_type`
in `tools/python/src/face_recognition.cpp`) and `read_dlib_net` walks the stream along it,
checking every layer name and hyper-parameter it meets, and returns the network as a list of
operations in forward order (input first). Batch-norm layers stored by training (`bn_con2`)
are turned into affine layers exactly as dlib does when it loads them into `affine_`.

Primitive encodings (dlib/serialize.h, dlib/float_details.h, dlib/cuda/tensor.h):
integers are a control byte (low nibble = byte count, 0x80 = negative) and little-endian bytes;
bools are the characters '0'/'1'; strings are an integer length and bytes; floats and doubles
are an integer mantissa and an int16 exponent (value = mantissa * 2**exponent); tensors are
version 2, four integer sizes and little-endian IEEE float32 values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelshop.errors import SkelshopError

# float_details' exponents that stand for special values.
_INF, _NINF, _NAN = 32000, 32001, 32002
# dlib's layer_mode enum: affine/batch-norm layers of convolutional nets work per channel.
_CONV_MODE = 0


@dataclass(frozen=True)
class InputOp:
    """RGB input: (pixel - mean) / 256 per channel, planes R, G, B."""

    mean_rgb: tuple[float, float, float]
    size: tuple[int, int]  # rows, columns the network was made for


@dataclass(frozen=True)
class ConvOp:
    """Cross-correlation, weights (out, in, kh, kw), bias (out,) or None."""

    weight: np.ndarray
    bias: np.ndarray | None
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class AffineOp:
    """Per-channel y = gamma * x + beta (dlib's inference form of batch norm)."""

    gamma: np.ndarray
    beta: np.ndarray


@dataclass(frozen=True)
class ReluOp:
    """max(x, 0)."""


@dataclass(frozen=True)
class PoolOp:
    """Max or average pooling; window (0, 0) means the whole input (avg_pool_everything)."""

    kind: str  # "max" | "avg"
    window: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class TagOp:
    """Remember the current output under tag `id` (dlib's tagN)."""

    id: int


@dataclass(frozen=True)
class SkipOp:
    """Continue from the output remembered under tag `id` (dlib's skipN)."""

    id: int


@dataclass(frozen=True)
class AddPrevOp:
    """Add the output remembered under tag `id`; shapes that differ are zero-padded to the larger."""

    id: int


@dataclass(frozen=True)
class FcOp:
    """Fully connected without bias on the flattened input: x (n, inputs) @ weight (inputs, outputs)."""

    weight: np.ndarray


Op = InputOp | ConvOp | AffineOp | ReluOp | PoolOp | TagOp | SkipOp | AddPrevOp | FcOp


@dataclass(frozen=True)
class DlibNet:
    """A network read from a .dat file: forward-order ops plus the metric loss's settings."""

    ops: list[Op]
    loss_margin: float
    loss_distance_threshold: float

    @property
    def output_dim(self) -> int:
        """Length of the descriptor the network outputs."""
        last = self.ops[-1]
        assert isinstance(last, FcOp)
        return int(last.weight.shape[1])


# ---- the network type, outermost layer first (mirrors the C++ templates) -------------------

@dataclass(frozen=True)
class _Layer:
    kind: str  # con | affine | relu | max_pool | avg_pool | add_prev | fc
    args: tuple = ()


@dataclass(frozen=True)
class _Tag:
    id: int


@dataclass(frozen=True)
class _Skip:
    id: int


def _block(n: int, stride: int) -> list:
    # block = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>
    return [_Layer("affine"), _Layer("con", (n, 3, 3, 1, 1)), _Layer("relu"),
            _Layer("affine"), _Layer("con", (n, 3, 3, stride, stride))]


def _ares(n: int) -> list:
    # relu<add_prev1<block<N,1,tag1<SUBNET>>>>
    return [_Layer("relu"), _Layer("add_prev", (1,)), *_block(n, 1), _Tag(1)]


def _ares_down(n: int) -> list:
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,2,tag1<SUBNET>>>>>>>
    return [_Layer("relu"), _Layer("add_prev", (2,)), _Layer("avg_pool", (2, 2, 2, 2)), _Skip(1),
            _Tag(2), *_block(n, 2), _Tag(1)]


FACE_RESNET_V1: list = [
    _Layer("fc", (128,)),
    _Layer("avg_pool", (0, 0, 1, 1)),  # avg_pool_everything
    *_ares_down(256),  # alevel0
    *_ares(256), *_ares(256), *_ares_down(256),  # alevel1
    *_ares(128), *_ares(128), *_ares_down(128),  # alevel2
    *_ares(64), *_ares(64), *_ares(64), *_ares_down(64),  # alevel3
    *_ares(32), *_ares(32), *_ares(32),  # alevel4
    _Layer("max_pool", (3, 3, 2, 2)), _Layer("relu"), _Layer("affine"),
    _Layer("con", (32, 7, 7, 2, 2)),
]
FACE_RESNET_V1_INPUT = (150, 150)  # input_rgb_image_sized<150>


class _Stream:
    """dlib's primitive encodings over an in-memory byte string."""

    def __init__(self, data: bytes, path: Path):
        self.data = data
        self.pos = 0
        self.path = path

    def fail(self, problem: str) -> SkelshopError:
        return SkelshopError(self.path, f"not dlib's face ResNet .dat: {problem} at byte {self.pos}")

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise self.fail("file ends early")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int_(self) -> int:
        control = self._take(1)[0]
        size = control & 0x0F
        if size == 0 or size > 8 or control & 0x70:
            raise self.fail(f"bad integer control byte {control:#x}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def float_(self) -> float:
        mantissa = self.int_()
        exponent = self.int_()
        if exponent == _INF:
            return float("inf")
        if exponent == _NINF:
            return float("-inf")
        if exponent == _NAN:
            return float("nan")
        return float(np.ldexp(np.float64(mantissa), exponent))

    def bool_(self) -> bool:
        ch = self._take(1)
        if ch not in (b"0", b"1"):
            raise self.fail(f"bad bool {ch!r}")
        return ch == b"1"

    def str_(self) -> str:
        n = self.int_()
        return self._take(n).decode("latin-1")

    def tensor(self) -> np.ndarray:
        version = self.int_()
        if version != 2:
            raise self.fail(f"tensor version {version}")
        shape = tuple(self.int_() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self._take(4 * count), dtype="<f4")
        return values.astype(np.float32).reshape(shape)

    def alias(self) -> tuple[int, int, int, int]:
        version = self.int_()
        if version != 1:
            raise self.fail(f"alias_tensor version {version}")
        return tuple(self.int_() for _ in range(4))  # type: ignore[return-value]

    def expect(self, value: int, what: str) -> None:
        got = self.int_()
        if got != value:
            raise self.fail(f"{what} is {got}, expected {value}")


def read_dlib_net(path: str | Path, spec: list | None = None,
                  input_size: tuple[int, int] = FACE_RESNET_V1_INPUT) -> DlibNet:
    """Read a dlib metric-loss network of type `spec` (default: the face ResNet v1) from `path`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SkelshopError(path, f"cannot read model file ({exc.strerror})") from None
    stream = _Stream(data, path)
    stream.expect(1, "loss layer version")
    loss = stream.str_()
    if loss != "loss_metric_2":
        raise stream.fail(f"loss {loss!r}, expected 'loss_metric_2'")
    margin, dist_thresh = stream.float_(), stream.float_()
    ops: list[Op] = []
    _read_subnet(stream, spec if spec is not None else FACE_RESNET_V1, 0, ops, input_size)
    if stream.pos != len(data):
        raise stream.fail(f"{len(data) - stream.pos} bytes left over")
    return DlibNet(ops=ops, loss_margin=margin, loss_distance_threshold=dist_thresh)


def _read_subnet(stream: _Stream, spec: list, i: int, ops: list[Op],
                 input_size: tuple[int, int]) -> None:
    """Read spec[i:] (outermost first); append the ops in forward order."""
    item = spec[i]
    if isinstance(item, _Tag | _Skip):
        stream.expect(1, "tag/skip layer version")
        _read_subnet(stream, spec, i + 1, ops, input_size)
        ops.append(TagOp(item.id) if isinstance(item, _Tag) else SkipOp(item.id))
        return
    on_input = i == len(spec) - 1
    version = stream.int_()
    if on_input:
        if version not in (2, 3):
            raise stream.fail(f"input add_layer version {version}")
        ops.append(_read_input(stream, input_size))
    else:
        if version not in (1, 2):
            raise stream.fail(f"add_layer version {version}")
        _read_subnet(stream, spec, i + 1, ops, input_size)
    ops.append(_read_details(stream, item))
    for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, ..._disabled
        stream.bool_()
    stream.tensor()  # x_grad
    stream.tensor()  # cached_output
    if on_input:
        stream.tensor()  # grad_final
        if version >= 3:
            stream.int_()  # _sample_expansion_factor
    elif version == 2:
        stream.tensor()  # params_grad


def _read_input(stream: _Stream, input_size: tuple[int, int]) -> InputOp:
    name = stream.str_()
    if name not in ("input_rgb_image", "input_rgb_image_sized"):
        raise stream.fail(f"input layer {name!r}")
    mean = (stream.float_(), stream.float_(), stream.float_())
    if name == "input_rgb_image_sized":
        size = (stream.int_(), stream.int_())
        if size != input_size:
            raise stream.fail(f"input size {size}, expected {input_size}")
    return InputOp(mean_rgb=mean, size=input_size)


def _read_details(stream: _Stream, layer: _Layer) -> Op:
    name = stream.str_()
    if layer.kind == "con":
        return _read_con(stream, name, layer.args)
    if layer.kind == "affine":
        return _read_affine(stream, name)
    if layer.kind == "relu":
        if name == "relu_2":
            stream.bool_()  # disabled
        elif name != "relu_":
            raise stream.fail(f"layer {name!r}, expected relu")
        return ReluOp()
    if layer.kind in ("max_pool", "avg_pool"):
        if name != f"{layer.kind}_2":
            raise stream.fail(f"layer {name!r}, expected {layer.kind}")
        got = tuple(stream.int_() for _ in range(6))
        window, stride = got[0:2], got[2:4]
        if (*window, *stride) != layer.args:
            raise stream.fail(f"{layer.kind} {got[:4]}, expected {layer.args}")
        return PoolOp(kind=layer.kind[:3], window=window, stride=stride, padding=got[4:6])
    if layer.kind == "add_prev":
        if name != "add_prev_":
            raise stream.fail(f"layer {name!r}, expected add_prev")
        return AddPrevOp(layer.args[0])
    if layer.kind == "fc":
        return _read_fc(stream, name, layer.args)
    raise ValueError(f"unknown layer kind {layer.kind!r}")


def _read_con(stream: _Stream, name: str, args: tuple) -> ConvOp:
    if name not in ("con_4", "con_5", "con_6"):
        raise stream.fail(f"layer {name!r}, expected con")
    params = stream.tensor().reshape(-1)
    num_filters, nr, nc, stride_y, stride_x = (stream.int_() for _ in range(5))
    if (num_filters, nr, nc, stride_y, stride_x) != args:
        raise stream.fail(f"con {(num_filters, nr, nc, stride_y, stride_x)}, expected {args}")
    padding = (stream.int_(), stream.int_())
    filters = stream.alias()
    biases = stream.alias()
    for _ in range(4):  # learning-rate and weight-decay multipliers
        stream.float_()
    use_bias = stream.bool_() if name in ("con_5", "con_6") else True
    if name == "con_6":
        stream.bool_()  # use_relu: a training-time fusion flag
    n_filt = int(np.prod(filters))
    n_bias = int(np.prod(biases)) if use_bias else 0
    if filters[0] != num_filters or n_filt + n_bias != params.size:
        raise stream.fail(f"con parameters {params.size} do not match filters {filters}")
    weight = params[:n_filt].reshape(filters)
    bias = params[n_filt:n_filt + n_bias].copy() if use_bias else None
    return ConvOp(weight=weight.copy(), bias=bias, stride=(stride_y, stride_x), padding=padding)


def _read_affine(stream: _Stream, name: str) -> AffineOp:
    if name == "bn_con2":
        params = stream.tensor().reshape(-1)
        gamma_shape, beta_shape = stream.alias(), stream.alias()
        for _ in range(2):  # means, invstds of the last training batch
            stream.tensor()
        running_means = stream.tensor().reshape(-1)
        running_variances = stream.tensor().reshape(-1)
        stream.int_()  # num_updates
        stream.int_()  # running_stats_window_size
        for _ in range(4):
            stream.float_()
        eps = stream.float_()
        k = int(np.prod(gamma_shape))
        if k != int(np.prod(beta_shape)) or params.size != 2 * k:
            raise stream.fail("batch-norm parameter sizes do not match")
        # affine_(const bn_&) in dlib/dnn/layers.h, in float32 as dlib computes it.
        gamma = params[:k] / np.sqrt(running_variances + np.float32(eps))
        beta = params[k:] - gamma * running_means
        return AffineOp(gamma=gamma.astype(np.float32), beta=beta.astype(np.float32))
    if name not in ("affine_", "affine_2"):
        raise stream.fail(f"layer {name!r}, expected affine or bn_con")
    params = stream.tensor().reshape(-1)
    gamma_shape, _beta_shape = stream.alias(), stream.alias()
    mode = stream.int_()
    if name == "affine_2" and stream.bool_():
        raise stream.fail("disabled affine layer")
    if mode != _CONV_MODE:
        raise stream.fail(f"affine mode {mode}, expected per-channel")
    k = int(np.prod(gamma_shape))
    return AffineOp(gamma=params[:k].copy(), beta=params[k:2 * k].copy())


def _read_fc(stream: _Stream, name: str, args: tuple) -> FcOp:
    if name not in ("fc_2", "fc_3"):
        raise stream.fail(f"layer {name!r}, expected fc")
    num_outputs, num_inputs = stream.int_(), stream.int_()
    if num_outputs != args[0]:
        raise stream.fail(f"fc outputs {num_outputs}, expected {args[0]}")
    params = stream.tensor().reshape(-1)
    weights, _biases = stream.alias(), stream.alias()
    bias_mode = stream.int_()
    for _ in range(4):
        stream.float_()
    use_bias = stream.bool_() if name == "fc_3" else True
    if bias_mode != 1 and use_bias:  # FC_NO_BIAS = 1 in dlib's fc_bias_mode
        raise stream.fail("fc layer with bias, expected fc_no_bias")
    n = num_inputs * num_outputs
    if weights != (num_inputs, num_outputs, 1, 1) and weights[:2] != (num_inputs, num_outputs):
        raise stream.fail(f"fc weights {weights}")
    return FcOp(weight=params[:n].reshape(num_inputs, num_outputs).copy())
