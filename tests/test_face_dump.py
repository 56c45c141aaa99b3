"""Face dumps: round trips of both layouts, the original's files, plain-h5py layout."""

from pathlib import Path

import h5py
import numpy as np
import pytest

from skelshop.errors import SkelshopError
from skelshop.formats.face_dump import (
    ORIGINAL_EMBEDDER,
    EmbedderInfo,
    FaceDump,
    check_same_embedder,
    read_face_dump,
    write_face_dump,
)

INFO = EmbedderInfo("dlib_face_recognition_resnet_model_v1", "euclidean", 0.6)


def _dump(mode: str, n: int = 5) -> FaceDump:
    rng = np.random.default_rng(0)
    frames = np.array([3, 3, 9, 12, 20][:n], dtype=np.uint32)
    return FaceDump(
        mode=mode, video="v.mp4", num_frames=30, fps=25.0, embedder=INFO,
        frame=frames, pers=np.array([1, 0, 0, 2, 2][:n], dtype=np.uint32),
        embed=rng.normal(size=(n, 128)).astype(np.float32),
        seg=np.array([0, 0, 0, 1, 1][:n], dtype=np.int32),
        bbox=rng.uniform(size=(n, 4)).astype(np.float32),
        quality=rng.uniform(size=n).astype(np.float32),
        chip_bbox=rng.uniform(size=(n, 5)).astype(np.float32),
        processed_frames=np.array([0, 3, 6, 9, 12, 15, 20], np.uint32) if mode == "full" else None,
    )


@pytest.mark.parametrize("mode", ["sparse", "full"])
def test_roundtrip(tmp_path: Path, mode: str) -> None:
    dump = _dump(mode)
    write_face_dump(tmp_path / "d.h5", dump)
    back = read_face_dump(tmp_path / "d.h5")
    order = np.lexsort((dump.pers, dump.frame))
    assert back.mode == mode
    assert back.frame.tolist() == dump.frame[order].tolist()
    assert back.pers.tolist() == dump.pers[order].tolist()
    np.testing.assert_allclose(back.embed, dump.embed[order])
    assert back.seg.tolist() == dump.seg[order].tolist()
    assert back.embedder == INFO
    assert back.fps == 25.0 and back.num_frames == 30


def test_sparse_layout_in_plain_h5py(tmp_path: Path) -> None:
    write_face_dump(tmp_path / "d.h5", _dump("sparse"))
    with h5py.File(tmp_path / "d.h5") as h5:
        assert h5.attrs["fmt_type"] == "sparse_faces"
        for attr in ("fmt_ver", "video", "num_frames", "embedder", "metric", "threshold", "fps"):
            assert attr in h5.attrs
        fp = h5["faces/frame_pers"]
        assert fp.dtype == np.uint32 and fp.shape == (5, 2)
        assert (np.diff(fp[:, 0].astype(int)) >= 0).all()
        assert h5["faces/embed"].dtype == np.float32
        assert h5["faces/seg"].dtype == np.int32
        assert h5["faces/bbox"].shape == (5, 4)
        assert h5["faces/chip_bbox"].shape == (5, 5)


def test_full_layout_in_plain_h5py(tmp_path: Path) -> None:
    write_face_dump(tmp_path / "d.h5", _dump("full"))
    with h5py.File(tmp_path / "d.h5") as h5:
        assert h5.attrs["fmt_type"] == "full_faces"
        assert h5["faces/indices"][()].tolist() == [0, 2, 2, 3, 4, 4, 5]
        assert h5["faces/frame"][()].tolist() == [0, 3, 6, 9, 12, 15, 20]
        assert h5["faces/pers"].shape == (5,)


def test_reads_original_sparse_dump(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "orig.h5", "w") as h5:
        h5.attrs["video"] = "x.mp4"
        h5.attrs["num_frames"] = 10
        h5.create_dataset("faces/frame_pers", data=np.array([[1, 0], [4, 1]], np.uint32))
        h5.create_dataset("faces/embed", data=np.zeros((2, 128), np.float32))
    dump = read_face_dump(tmp_path / "orig.h5")
    assert dump.embedder.name == ORIGINAL_EMBEDDER
    assert dump.seg is None and dump.frame.tolist() == [1, 4]


def test_reads_original_full_dump_without_track_ids(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "orig.h5", "w") as h5:
        h5.create_dataset("faces/indices", data=np.array([0, 2, 3], np.uint32))
        h5.create_dataset("faces/embed", data=np.zeros((3, 128), np.float32))
    dump = read_face_dump(tmp_path / "orig.h5")
    assert dump.frame.tolist() == [1, 1, 2]
    assert dump.pers.tolist() == [0, 1, 0]


def test_empty_dump_roundtrip(tmp_path: Path) -> None:
    empty = _dump("sparse", n=0)
    write_face_dump(tmp_path / "e.h5", empty)
    back = read_face_dump(tmp_path / "e.h5")
    assert len(back) == 0 and back.embed.shape == (0, 128)


def test_bad_dumps(tmp_path: Path) -> None:
    (tmp_path / "t.h5").write_text("not hdf5")
    with pytest.raises(SkelshopError, match="not an HDF5"):
        read_face_dump(tmp_path / "t.h5")
    with h5py.File(tmp_path / "other.h5", "w") as h5:
        h5.create_dataset("x", data=[1])
    with pytest.raises(SkelshopError, match="not a face dump"):
        read_face_dump(tmp_path / "other.h5")


def test_refuses_other_embedder() -> None:
    other = EmbedderInfo("facenet512", "cosine", 0.3)
    with pytest.raises(SkelshopError, match="different models"):
        check_same_embedder(INFO, "a.h5", other, "b.h5")
