"""YuNet (libfacedetection's network) as an ONNX graph, from the weights in the yuface wheel.

libfacedetection runs its 53 convolutions with its own loops (one dot product per output
value); ONNX Runtime runs the same layers with its tuned kernels. The graph is built from
the library's own parameter table (`param_pConvInfo`: channels, filters, kind, ReLU, weight
and bias pointers) read through ctypes, so no weight is copied into this project, and the
outputs are decoded here as the library decodes them (priors, sigmoid, sqrt(cls * obj),
stable sort, greedy NMS at IoU 0.45, integer truncation), giving the same detections.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

# Bump when the graph built from the same library changes (cached graphs are keyed by it).
GRAPH_VERSION = 1
OPSET = 17
INPUT_NAME = "bgr"  # uint8 (1, rows, cols, 3): the BGR image padded to multiples of 32
_LAYERS = 53
_STRIDES = (8, 16, 32)
# detection_output's settings in the library
_NMS_IOU = 0.45
_MIN_CONFIDENCE = 0.2
_TOP_K = 1000
_KEEP_TOP_K = 512
_MAX_FACES = 1024  # what the library's result buffer holds
# Filters per layer of the network objectdetect_cnn runs (layer 0: the 3x3 stride-2 stem as a
# 1x1 over 32 channels; then pointwise/depthwise pairs: backbone, neck, then the cls, reg,
# obj and kps heads of the three levels). Another table is another network: refused.
_FILTERS = ((16, 16, 16, 16, 16, 32, 32, 32, 32) + (64,) * 20
            + (1,) * 6 + (4,) * 6 + (1,) * 6 + (10,) * 6)


class _ConvInfo(ctypes.Structure):
    _fields_ = [("channels", ctypes.c_int), ("num_filters", ctypes.c_int),
                ("is_depthwise", ctypes.c_bool), ("is_pointwise", ctypes.c_bool),
                ("with_relu", ctypes.c_bool), ("weights", ctypes.POINTER(ctypes.c_float)),
                ("biases", ctypes.POINTER(ctypes.c_float))]


def read_layers(library: str | Path) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """(weights, biases, is_depthwise) of the library's 53 layers, in its order.

    Pointwise weights are (filters, channels); depthwise (channels, 9), the 3x3 window
    row by row.
    """
    lib = ctypes.CDLL(str(library))
    table = (_ConvInfo * _LAYERS).in_dll(lib, "param_pConvInfo")
    layers = []
    for info in table:
        channels, filters = int(info.channels), int(info.num_filters)
        if info.is_depthwise == info.is_pointwise:
            raise ValueError("unsupported layer kind in libfacedetection's table")
        cols = 9 if info.is_depthwise else filters
        weights = np.ctypeslib.as_array(info.weights, (cols * channels,)).copy()
        weights = weights.reshape(cols, channels)
        biases = np.ctypeslib.as_array(info.biases, (filters,)).copy()
        layers.append((weights.T.copy() if info.is_depthwise else weights, biases,
                       bool(info.is_depthwise)))
    kinds = tuple(d for _, _, d in layers)
    if (tuple(len(b) for _, b, _ in layers) != _FILTERS or layers[0][0].shape[1] != 32
            or kinds != (False,) + (False, True) * ((_LAYERS - 1) // 2)):
        raise ValueError(f"{library}: its layer table is not the YuNet network this graph "
                         "is built for")
    return layers


def build_onnx(layers: list[tuple[np.ndarray, np.ndarray, bool]]):  # -> onnx.ModelProto
    """The network of libfacedetection's objectdetect_cnn as an ONNX model."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    inits: list = []
    names = iter(range(1 << 30))

    def fresh(prefix: str) -> str:
        return f"{prefix}{next(names)}"

    def const(array: np.ndarray) -> str:
        name = fresh("w")
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name))
        return name

    def relu(x: str) -> str:
        out = fresh("relu")
        nodes.append(helper.make_node("Relu", [x], [out]))
        return out

    def conv(x: str, index: int, relu_after: bool) -> str:
        weights, biases, depthwise = layers[index]
        out = fresh("conv")
        if depthwise:
            channels = weights.shape[0]
            nodes.append(helper.make_node(
                "Conv", [x, const(weights.reshape(channels, 1, 3, 3)), const(biases)], [out],
                kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=channels))
        else:
            filters, channels = weights.shape
            nodes.append(helper.make_node(
                "Conv", [x, const(weights.reshape(filters, channels, 1, 1)), const(biases)],
                [out], kernel_shape=[1, 1]))
        return relu(out) if relu_after else out

    def dp(x: str, first: int, relu_after: bool = True) -> str:
        return conv(conv(x, first, False), first + 1, relu_after)

    def unit(x: str, first: int) -> str:
        return dp(dp(x, first), first + 2)

    def pool(x: str) -> str:
        out = fresh("pool")
        nodes.append(helper.make_node("MaxPool", [x], [out], kernel_shape=[2, 2],
                                      strides=[2, 2]))
        return out

    def up_add(small: str, big: str) -> str:
        up, out = fresh("up"), fresh("add")
        scales = const(np.array([1, 1, 2, 2], np.float32))
        nodes.append(helper.make_node("Resize", [small, "", scales], [up], mode="nearest"))
        nodes.append(helper.make_node("Add", [up, big], [out]))
        return out

    # Layer 0: the library's 3x3 stride-2 convolution on the image, stored as a 1x1 over
    # the 27 values of each window (3 rows x 3 columns x B, G, R; padded to 32 channels).
    w0, b0, _ = layers[0]
    filters = w0.shape[0]
    first = w0[:, :27].reshape(filters, 3, 3, 3).transpose(0, 3, 1, 2)  # (f, bgr, ky, kx)
    as_float, planar, x = fresh("float"), fresh("planar"), fresh("conv")
    nodes.append(helper.make_node("Cast", [INPUT_NAME], [as_float], to=TensorProto.FLOAT))
    nodes.append(helper.make_node("Transpose", [as_float], [planar], perm=[0, 3, 1, 2]))
    nodes.append(helper.make_node("Conv", [planar, const(first), const(b0)], [x],
                                  kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 0, 0]))
    x = pool(dp(relu(x), 1))
    x = unit(unit(x, 3), 7)
    fb1 = unit(pool(x), 11)
    fb2 = unit(pool(fb1), 15)
    fb3 = unit(pool(fb2), 19)
    fb3 = dp(fb3, 27)
    fb2 = dp(up_add(fb3, fb2), 25)
    fb1 = dp(up_add(fb2, fb1), 23)
    outputs = []
    # heads per level (cls, reg, kps, obj): layers 29/35/47/41 + 2 * level
    for level, feature in enumerate((fb1, fb2, fb3)):
        for head, first_layer in (("cls", 29), ("reg", 35), ("kps", 47), ("obj", 41)):
            name = f"{head}{level}"
            out = dp(feature, first_layer + 2 * level, relu_after=False)
            nodes.append(helper.make_node("Identity", [out], [name]))
            outputs.append(name)
    graph = helper.make_graph(
        nodes, "yunet",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, [1, "rows", "cols", 3])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, None, None, None])
         for n in outputs],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def decode(heads: list[np.ndarray]) -> np.ndarray:
    """The library's result rows, int16 (n, 16): score x 100, x, y, w, h, 5 landmarks, 0.

    Scores are computed for every anchor; boxes and landmarks only for the candidates.
    """
    levels = [tuple(h[0].transpose(1, 2, 0) for h in heads[4 * i: 4 * i + 4])
              for i in range(len(_STRIDES))]
    conf = np.sqrt(np.concatenate([_sigmoid(c.reshape(-1)) * _sigmoid(o.reshape(-1))
                                   for c, _, _, o in levels])).astype(np.float32)
    keep = np.flatnonzero(conf >= _MIN_CONFIDENCE)
    keep = keep[np.argsort(-conf[keep], kind="stable")][:_TOP_K]
    boxes = np.zeros((len(keep), 4), np.float32)
    marks = np.zeros((len(keep), 10), np.float32)
    start = 0
    for (c, r, k, _), stride in zip(levels, _STRIDES, strict=True):
        rows, cols = c.shape[:2]
        mine = (keep >= start) & (keep < start + rows * cols)
        at = keep[mine] - start
        start += rows * cols
        if not len(at):
            continue
        prior = np.stack([at % cols, at // cols], 1).astype(np.float32) * np.float32(stride)
        pred = r.reshape(-1, 4)[at]
        centre = pred[:, :2] * np.float32(stride) + prior
        size = np.exp(pred[:, 2:]) * np.float32(stride)
        boxes[mine] = np.concatenate([centre - size / 2, centre + size / 2], 1)
        points = k.reshape(-1, 5, 2)[at] * np.float32(stride) + prior[:, None, :]
        marks[mine] = points.reshape(-1, 10)
    chosen = _greedy_nms(boxes)[:min(_KEEP_TOP_K, _MAX_FACES)]
    out = np.zeros((len(chosen), 16), np.int16)
    if chosen:
        b, m = boxes[chosen], marks[chosen]
        out[:, 0] = np.trunc(conf[keep[chosen]] * np.float32(100))
        out[:, 1:3] = np.trunc(b[:, :2])
        out[:, 3:5] = np.trunc(b[:, 2:] - b[:, :2])
        out[:, 5:15] = np.trunc(m)
    return out


def _sigmoid(values: np.ndarray) -> np.ndarray:
    """The library's sigmoid (input clipped to +-88.376 first), in float32."""
    clipped = np.clip(values, np.float32(-88.3762626647949), np.float32(88.3762626647949))
    return np.float32(1) / (np.float32(1) + np.exp(-clipped))


def _greedy_nms(boxes: np.ndarray) -> list[int]:
    """Rows of `boxes` (best score first) that overlap no kept better-scored box by more
    than _NMS_IOU, with the library's JaccardOverlap in float32."""
    x1, y1, x2, y2 = (boxes[:, i, None] for i in range(4))
    w = np.minimum(x2, x2.T) - np.maximum(x1, x1.T)
    h = np.minimum(y2, y2.T) - np.maximum(y1, y1.T)
    inter = w * h
    area = (x2 - x1) * (y2 - y1)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where((w > 0) & (h > 0), inter / (area + area.T - inter), np.float32(0))
    suppressed = np.zeros(len(boxes), bool)
    chosen = []
    for i in range(len(boxes)):
        if not suppressed[i]:
            chosen.append(i)
            suppressed |= iou[i] > _NMS_IOU
    return chosen


def padded_input(bgr: np.ndarray) -> np.ndarray:
    """The image as the network's input: uint8 (1, rows, cols, 3), zero-padded at the bottom
    and right to multiples of 32 (as the library pads)."""
    height, width = bgr.shape[:2]
    out = np.zeros((1, -(-height // 32) * 32, -(-width // 32) * 32, 3), np.uint8)
    out[0, :height, :width] = bgr
    return out
