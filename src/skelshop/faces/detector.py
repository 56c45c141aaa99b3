"""YuNet face detection (the `yuface` wheel, weights compiled in).

Run by ONNX Runtime on the wheel's own weights by default (faces/yunet_onnx.py: the same
detections, ~3.5x faster on a 720p frame at 544 px), or by the wheel's C library.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yuface
from threadpoolctl import threadpool_limits

from skelshop.faces.yunet_onnx import INPUT_NAME, build_onnx, decode, padded_input, read_layers

log = logging.getLogger(__name__)

# libfacedetection's result buffer: a count, then up to 1024 faces of 16 int16 each (its own
# examples' size, DETECT_BUFFER_SIZE).
_RESULT_BYTES = 0x9000
_ENTRY = "_Z14facedetect_cnnPhS_iii"  # int* facedetect_cnn(uchar* result, uchar* bgr, int w, int h, int step)


class _FaceDetectCnn:
    """libfacedetection's C entry, called through ctypes with one result buffer per thread.

    yuface's own wrapper (`yuface.c_detect`) mallocs a 36 KB result buffer on every call and
    never frees it: resident memory grew by 0.3 MB per second of video (6 samples a second),
    1.5 GB over an hour. It also holds the GIL while the network runs; a ctypes call releases
    it, so decoding in another thread overlaps with detection. Same library, same results
    (the wrapper's 16th column is uninitialised memory; nothing reads it).
    """

    def __init__(self) -> None:
        library = ctypes.CDLL(str(_library_path()))
        self._entry = getattr(library, _ENTRY)
        self._entry.restype = ctypes.c_void_p
        self._entry.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                ctypes.c_int]
        self._local = threading.local()

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        """int16 (n, 16): confidence (0-100), x, y, w, h, five landmarks (x, y), unused."""
        buffer = getattr(self._local, "buffer", None)
        if buffer is None:
            buffer = self._local.buffer = np.zeros(_RESULT_BYTES, np.uint8)
        height, width = bgr.shape[:2]
        self._entry(buffer.ctypes.data, bgr.ctypes.data, width, height, bgr.strides[0])
        count = int(buffer[:4].view(np.int32)[0])
        return buffer[4:4 + 32 * count].view(np.int16).reshape(count, 16).copy()


class _OnnxYuNet:
    """The library's network run by ONNX Runtime (one intra-op thread, no spinning: the
    detection runs beside decoding and alignment, and workers beside each other)."""

    def __init__(self, library: Path) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        model = build_onnx(read_layers(library)).SerializeToString()
        self._session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
        self._input = INPUT_NAME
        self(np.zeros((64, 64, 3), np.uint8))  # shapes that do not chain fail here, not later

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        """int16 (n, 16) as the library returns them (see _FaceDetectCnn)."""
        return decode(self._session.run(None, {self._input: padded_input(bgr)}))


DETECTOR_BACKENDS = ("onnx", "libfacedetection")
_runners: dict[str, object] = {}
_runners_lock = threading.Lock()


def _library_path() -> Path:
    return Path(yuface.__file__).with_name("libfacedetection.so")


def _face_detect_cnn(backend: str = "onnx") -> object:
    """The network's runner for `backend` (loaded once; both are safe to call from several
    threads), falling back to the C library, then to yuface's own wrapper."""
    with _runners_lock:
        if backend not in _runners:
            runner: object | None = None
            if backend == "onnx":
                try:
                    runner = _OnnxYuNet(_library_path())
                except Exception as err:  # onnx and onnxruntime raise types of their own
                    log.warning("yuface: cannot run YuNet with ONNX Runtime (%s); "
                                "using the C library", err)
            if runner is None:
                try:
                    runner = _FaceDetectCnn()
                except (OSError, AttributeError) as err:
                    log.warning("yuface: calling its wrapper (leaks 36 KB per frame): %s", err)
                    runner = yuface.c_detect
            _runners[backend] = runner
        return _runners[backend]


@dataclass
class Detections:
    """Faces found in one image: boxes (n,4) x1,y1,x2,y2, scores (n,) in [0,1], landmarks (n,5,2)."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


class YuNetDetector:
    """YuNet on BGR uint8 images, downscaled so the long side is at most `max_side`."""

    name = "yunet"

    def __init__(self, conf_threshold: float = 0.6, max_side: int = 960, min_size: int = 20,
                 backend: str = "onnx"):
        if backend not in DETECTOR_BACKENDS:
            raise ValueError(f"unknown detector backend {backend!r} "
                             f"(known: {', '.join(DETECTOR_BACKENDS)})")
        self.backend = backend
        self.conf_threshold = conf_threshold
        self.max_side = max_side
        self.min_size = min_size
        # YuNet's OpenMP pool oversubscribes badly when several workers run: one thread each.
        self._limits = threadpool_limits(limits=1, user_api="openmp")
        self._cnn = _face_detect_cnn(backend)

    def detect(self, bgr: np.ndarray, max_side: int | None = None) -> Detections:
        """Detect faces (at a long side of `max_side`, default the detector's); coordinates
        are in the input image's pixels."""
        height, width = bgr.shape[:2]
        scale = min(1.0, (max_side or self.max_side) / max(height, width))
        img = bgr
        if scale < 1.0:
            img = shrunk(bgr, (round(width * scale), round(height * scale)))
        # The detector silently finds nothing on strided views: hand it a contiguous copy.
        img = np.ascontiguousarray(img, dtype=np.uint8)
        raw = self._cnn(img)
        if raw.size == 0:
            return empty_detections()
        raw = raw.astype(np.float32)
        keep = raw[:, 0] / 100.0 >= self.conf_threshold
        raw = raw[keep]
        xywh = raw[:, 1:5] / scale
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
        size_ok = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= self.min_size
        return Detections(
            boxes=boxes[size_ok],
            scores=raw[size_ok, 0] / 100.0,
            landmarks=(raw[size_ok, 5:15] / scale).reshape(-1, 5, 2),
        )


def shrunk(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`img` area-averaged down to `size` (w, h): halved first while it stays at least that big.

    OpenCV's area resize is fast for whole factors and slow for others: 720p to 544 px took
    7.3 ms (a fifth of YuNet's own time), 1080p to 816 px 21 ms; halving first then resizing
    the rest takes half of that, and the pixels differ by 0.14 of 255 on average.
    """
    while img.shape[1] // 2 >= size[0] and img.shape[0] // 2 >= size[1]:
        img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2),
                         interpolation=cv2.INTER_AREA)
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def empty_detections() -> Detections:
    """No face."""
    return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                      np.zeros((0, 5, 2), np.float32))
