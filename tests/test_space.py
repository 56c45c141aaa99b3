"""EmbeddingSpace (distances, thresholds, kNN radius conversions) and the face model registry."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from skelshop.errors import SkelshopError
from skelshop.faces.models import EMBEDDERS, embedding_space, make_embedder
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace, space_of

COSINE = EmbeddingSpace(name="some_cosine_model", dim=8, metric="cosine", threshold=0.3)


def _rows(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def test_euclidean_distances_match_brute_force() -> None:
    a, b = _rows(7, 128, 0), _rows(5, 128, 1)
    want = np.linalg.norm(a[:, None, :].astype(np.float64) - b[None, :, :], axis=2)
    got = DLIB_RESNET_V1.distances(a, b)
    assert got.shape == (7, 5)
    np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_allclose(DLIB_RESNET_V1.rowwise(a[:5], b), np.diag(want[:5]), atol=1e-4)


def test_cosine_distances_are_one_minus_cosine() -> None:
    a, b = _rows(6, 8, 2), _rows(4, 8, 3)
    cos = (a @ b.T) / np.linalg.norm(a, axis=1)[:, None] / np.linalg.norm(b, axis=1)[None, :]
    np.testing.assert_allclose(COSINE.distances(a, b), 1.0 - cos, atol=1e-5)


def test_threshold_is_inclusive() -> None:
    assert DLIB_RESNET_V1.same_person(0.6)
    assert not DLIB_RESNET_V1.same_person(0.6000001)
    np.testing.assert_array_equal(DLIB_RESNET_V1.same_person(np.array([0.1, 0.6, 0.7])),
                                  [True, True, False])


def test_radius_conversions_agree_with_the_native_measures() -> None:
    a, b = _rows(9, 8, 4), _rows(9, 8, 5)
    for space in (DLIB_RESNET_V1, COSINE):
        pa, pb = space.prepare(a), space.prepare(b)
        sq = ((pa - pb) ** 2).sum(1)
        dist = space.rowwise(a, b)
        np.testing.assert_allclose(space.from_native(sq, "sqeuclidean"), dist, atol=1e-5)
        np.testing.assert_allclose(space.from_native(np.sqrt(sq), "euclidean"), dist, atol=1e-5)
        np.testing.assert_allclose(space.to_native(dist, "sqeuclidean"), sq, atol=1e-4)
        # a radius converted to the native measure keeps exactly the same neighbours
        radius = float(np.median(dist))
        np.testing.assert_array_equal(sq <= space.to_native(radius, "sqeuclidean") + 1e-7,
                                      dist <= radius + 1e-7)
    inner = (COSINE.prepare(a) * COSINE.prepare(b)).sum(1)
    np.testing.assert_allclose(COSINE.from_native(inner, "inner_product"), COSINE.rowwise(a, b),
                               atol=1e-5)
    with pytest.raises(ValueError, match="inner product"):
        DLIB_RESNET_V1.to_native(0.6, "inner_product")
    with pytest.raises(ValueError, match="unknown native"):
        DLIB_RESNET_V1.to_native(0.6, "manhattan")


def test_other_spaces_are_refused_with_one_line() -> None:
    DLIB_RESNET_V1.check_comparable(DLIB_RESNET_V1, "a.h5", "b.h5")
    with pytest.raises(SkelshopError, match=r"b\.h5.*embedded by 'some_cosine_model'.*cannot be compared"):
        DLIB_RESNET_V1.check_comparable(COSINE, "a.h5", "b.h5")
    other_dim = EmbeddingSpace(DLIB_RESNET_V1.name, 512, "euclidean", 0.6)
    with pytest.raises(SkelshopError, match="512-D"):
        DLIB_RESNET_V1.check_comparable(other_dim, "a.h5", "b.h5")
    with pytest.raises(ValueError, match="unsupported metric"):
        EmbeddingSpace("x", 4, "manhattan", 1.0)


def test_registry_knows_the_dlib_space_and_refuses_unknown_models() -> None:
    assert embedding_space("dlib_face_recognition_resnet_model_v1") is DLIB_RESNET_V1
    assert embedding_space("facenet") is None
    assert EMBEDDERS[DLIB_RESNET_V1.name].backends == ("onnx", "dlib")
    with pytest.raises(ValueError, match="unknown embedder 'facenet'"):
        make_embedder("facenet")
    with pytest.raises(ValueError, match="no backend 'tflite'"):
        make_embedder(DLIB_RESNET_V1.name, backend="tflite")


def test_registry_and_space_import_no_heavy_modules() -> None:
    code = ("import sys, skelshop.faces.models, skelshop.space; "
            "heavy = [m for m in ('numpy', 'dlib', 'onnxruntime', 'cv2') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_space_of_a_recorded_embedder() -> None:
    from skelshop.formats.face_dump import EmbedderInfo

    info = EmbedderInfo(name=DLIB_RESNET_V1.name, metric="euclidean", threshold=0.6)
    assert space_of(info) == DLIB_RESNET_V1
    assert space_of(DLIB_RESNET_V1) is DLIB_RESNET_V1
    other = space_of(EmbedderInfo(name="arcface", metric="cosine", threshold=0.4), dim=512)
    assert (other.dim, other.metric, other.threshold) == (512, "cosine", 0.4)
    assert space_of(EmbedderInfo(name="arcface", metric="cosine", threshold=0.4)).dim == 0


def test_comparable_spaces_share_model_metric_and_known_dimension() -> None:
    unknown_dim = EmbeddingSpace(COSINE.name, 0, "cosine", 0.3)
    other_threshold = EmbeddingSpace(COSINE.name, COSINE.dim, "cosine", 0.25)
    assert COSINE.comparable(unknown_dim) and unknown_dim.comparable(COSINE)
    assert COSINE.comparable(other_threshold)  # a threshold is a decision, not the space
    assert not COSINE.comparable(EmbeddingSpace(COSINE.name, 9, "cosine", 0.3))
    assert not COSINE.comparable(EmbeddingSpace(COSINE.name, COSINE.dim, "euclidean", 0.3))
    assert not COSINE.comparable(DLIB_RESNET_V1)


def test_prepare_keeps_the_asked_precision() -> None:
    rows = _rows(3, 8, 2).astype(np.float64) * 3
    assert DLIB_RESNET_V1.prepare(rows).dtype == np.float32
    unit = COSINE.prepare(rows, np.float64)
    assert unit.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-12)
