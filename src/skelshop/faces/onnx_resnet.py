"""dlib's face ResNet as an ONNX graph: built once from the .dat, cached, run by ONNX Runtime."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from skelshop.faces.dlib_dat import (
    AddPrevOp,
    AffineOp,
    ConvOp,
    DlibNet,
    FcOp,
    InputOp,
    PoolOp,
    ReluOp,
    SkipOp,
    TagOp,
    read_dlib_net,
)
from skelshop.formats.atomic import atomic_path

# Bump when the graph built from the same .dat changes, so stale cached graphs are not reused.
GRAPH_VERSION = 1
OPSET = 17
INPUT_NAME = "chips"  # uint8 (n, rows, cols, 3) RGB, as the aligner cuts them
OUTPUT_NAME = "descriptors"  # float32 (n, 128)


def model_cache_dir() -> Path:
    """Where built models are cached: $SKELSHOP_MODEL_CACHE, else ~/.cache/skelshop/models."""
    env = os.environ.get("SKELSHOP_MODEL_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skelshop" / "models"


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_onnx_path(dat_path: str | Path, cache_dir: str | Path | None = None) -> Path:
    """The ONNX graph of a dlib .dat, built on first use and cached by the .dat's sha256."""
    cache = Path(cache_dir) if cache_dir is not None else model_cache_dir()
    target = cache / f"{file_sha256(dat_path)}-g{GRAPH_VERSION}.onnx"
    if not target.is_file():
        model = build_onnx(read_dlib_net(dat_path))
        # Workers may build at once: each writes its own temp file, the rename is atomic.
        with atomic_path(target) as tmp:
            tmp.write_bytes(model.SerializeToString())
    return target


def _out_size(size: int, window: int, stride: int, pad: int) -> int:
    # dlib and ONNX (floor mode) agree: 1 + (in + 2*pad - window) / stride.
    return 1 + (size + 2 * pad - window) // stride


def build_onnx(net: DlibNet):  # -> onnx.ModelProto
    """Translate a dlib net (forward-order ops) into an ONNX model with a dynamic batch."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    inits: list = []
    counter = iter(range(1 << 30))

    def const(array: np.ndarray, stem: str) -> str:
        name = f"{stem}_{next(counter)}"
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], stem: str, **attrs) -> str:
        out = f"{stem}_{next(counter)}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    ops = list(net.ops)
    first = ops.pop(0)
    if not isinstance(first, InputOp):
        raise ValueError("a dlib net starts with its input layer")
    rows, cols = first.size
    x = node("Cast", [INPUT_NAME], "float", to=TensorProto.FLOAT)
    # dlib's input_rgb_image: (pixel - mean) / 256 in float; dividing by 256 is exact.
    x = node("Sub", [x, const(np.asarray(first.mean_rgb, np.float32), "mean")], "centred")
    x = node("Mul", [x, const(np.asarray(1.0 / 256.0, np.float32), "scale")], "scaled")
    x = node("Transpose", [x], "nchw", perm=[0, 3, 1, 2])
    shape = (3, rows, cols)  # (channels, rows, cols) of the current value
    tags: dict[int, tuple[str, tuple[int, int, int]]] = {}

    i = 0
    while i < len(ops):
        op = ops[i]
        if isinstance(op, ConvOp):
            weight = op.weight.astype(np.float64)
            bias = (op.bias if op.bias is not None else np.zeros(len(weight))).astype(np.float64)
            if i + 1 < len(ops) and isinstance(ops[i + 1], AffineOp):
                # Fold the following affine (inference batch norm) into the filters.
                aff = ops[i + 1]
                weight = weight * aff.gamma.astype(np.float64)[:, None, None, None]
                bias = bias * aff.gamma + aff.beta
                i += 1
            kh, kw = weight.shape[2:]
            (sy, sx), (py, px) = op.stride, op.padding
            x = node("Conv", [x, const(weight.astype(np.float32), "w"),
                              const(bias.astype(np.float32), "b")], "conv",
                     kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px])
            shape = (weight.shape[0], _out_size(shape[1], kh, sy, py),
                     _out_size(shape[2], kw, sx, px))
        elif isinstance(op, AffineOp):
            k = len(op.gamma)
            x = node("Mul", [x, const(op.gamma.reshape(1, k, 1, 1), "gamma")], "affine")
            x = node("Add", [x, const(op.beta.reshape(1, k, 1, 1), "beta")], "affine")
        elif isinstance(op, ReluOp):
            x = node("Relu", [x], "relu")
        elif isinstance(op, PoolOp):
            if op.window == (0, 0):  # dlib's avg_pool_everything / max_pool_everything
                x = node("GlobalAveragePool" if op.kind == "avg" else "GlobalMaxPool", [x], "gpool")
                shape = (shape[0], 1, 1)
            else:
                (wy, wx), (sy, sx), (py, px) = op.window, op.stride, op.padding
                attrs = dict(kernel_shape=[wy, wx], strides=[sy, sx], pads=[py, px, py, px])
                if op.kind == "avg":  # dlib averages over the pixels inside the image only
                    attrs["count_include_pad"] = 0
                x = node("AveragePool" if op.kind == "avg" else "MaxPool", [x], "pool", **attrs)
                shape = (shape[0], _out_size(shape[1], wy, sy, py), _out_size(shape[2], wx, sx, px))
        elif isinstance(op, TagOp):
            tags[op.id] = (x, shape)
        elif isinstance(op, SkipOp):
            x, shape = tags[op.id]
        elif isinstance(op, AddPrevOp):
            other, other_shape = tags[op.id]
            # dlib's add_prev: the output takes the larger size on each axis; a value outside
            # one input counts as zero there (extra channels, and rows/columns at the end).
            big = tuple(max(a, b) for a, b in zip(shape, other_shape, strict=True))
            x = _pad_to(x, shape, big, node, const)
            other = _pad_to(other, other_shape, big, node, const)
            x = node("Add", [x, other], "add")
            shape = big
        elif isinstance(op, FcOp):
            x = node("Flatten", [x], "flat", axis=1)
            if op.weight.shape[0] != int(np.prod(shape)):
                raise ValueError(f"fc expects {op.weight.shape[0]} inputs, gets {shape}")
            x = node("MatMul", [x, const(op.weight, "fc")], "fc")
        else:
            raise ValueError(f"unsupported op {op!r}")
        i += 1

    nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME]))
    graph = helper.make_graph(
        nodes, "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, ["n", rows, cols, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["n", net.output_dim])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="skelshop")
    model.ir_version = 8  # readable by every ONNX Runtime that knows opset 17
    onnx.checker.check_model(model)
    return model


def _pad_to(x: str, shape: tuple[int, int, int], big: tuple[int, int, int], node, const) -> str:
    """Zero-pad an NCHW value at the end of the channel, row and column axes up to `big`."""
    extra = [b - s for s, b in zip(shape, big, strict=True)]
    if not any(extra):
        return x
    pads = np.asarray([0, 0, 0, 0, 0, *extra], dtype=np.int64)
    return node("Pad", [x, const(pads, "pads")], "pad")
