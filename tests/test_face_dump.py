"""Face dumps: round trips of both layouts, the original's files, plain-h5py layout."""

from pathlib import Path

import h5py
import numpy as np
import pytest
from original_files import write_original_full_dump, write_original_sparse_dump

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
        # one entry per frame of the 30-frame video: faces at 3, 3, 9, 12, 20
        want = [0] * 3 + [2] * 6 + [3] * 3 + [4] * 8 + [5] * 10
        assert h5["faces/indices"][()].tolist() == want
        assert h5["faces/frame"][()].tolist() == [0, 3, 6, 9, 12, 15, 20]
        assert h5["faces/pers"].shape == (5,)


def _original_reader_frames(path: Path) -> list[list[int]]:
    """skelshop/face/io.py FaceReader of the original: entry i of /faces/indices is frame i."""
    with h5py.File(path) as h5:
        indices = h5["/faces/indices"]
        rows = []
        for idx in range(len(indices)):
            start_idx = 0 if idx == 0 else indices[idx - 1]
            rows.append(list(range(start_idx, indices[idx])))
        return rows


def test_sampled_full_dump_reads_in_the_originals_reader(tmp_path: Path) -> None:
    dump = _dump("full")  # sampled frames 0, 3, 6, 9, 12, 15, 20 of 30
    write_face_dump(tmp_path / "d.h5", dump)
    rows = _original_reader_frames(tmp_path / "d.h5")
    assert len(rows) == 30  # F = num_frames
    order = np.lexsort((dump.pers, dump.frame))
    by_frame = {int(f): [] for f in dump.frame}
    for row, frame in enumerate(dump.frame[order]):
        by_frame[int(frame)].append(row)
    assert {i: r for i, r in enumerate(rows) if r} == by_frame
    back = read_face_dump(tmp_path / "d.h5")
    assert back.frame.tolist() == [3, 3, 9, 12, 20]
    assert back.processed_frames.tolist() == [0, 3, 6, 9, 12, 15, 20]


def test_full_dump_of_every_frame_and_without_sampled_frames(tmp_path: Path) -> None:
    dump = _dump("full")
    dump.processed_frames = None  # every frame looked at
    write_face_dump(tmp_path / "d.h5", dump)
    back = read_face_dump(tmp_path / "d.h5")
    assert back.processed_frames.tolist() == list(range(30))
    assert back.frame.tolist() == [3, 3, 9, 12, 20]
    assert len(_original_reader_frames(tmp_path / "d.h5")) == 30


def test_reads_our_first_full_layout(tmp_path: Path) -> None:
    """Our first full dumps: one indices entry per *sampled* frame, /faces/frame naming them."""
    with h5py.File(tmp_path / "old.h5", "w") as h5:
        h5.attrs.update({"fmt_type": "full_faces", "fmt_ver": 1, "video": "v.mp4",
                         "num_frames": 30, "fps": 25.0, "embedder": INFO.name,
                         "metric": "euclidean", "threshold": 0.6})
        grp = h5.create_group("faces")
        grp.create_dataset("indices", data=np.array([0, 2, 2, 3, 4, 4, 5], np.uint32))
        grp.create_dataset("frame", data=np.array([0, 3, 6, 9, 12, 15, 20], np.uint32))
        grp.create_dataset("pers", data=np.array([0, 1, 0, 2, 2], np.uint32))
        grp.create_dataset("embed", data=np.zeros((5, 128), np.float32))
    back = read_face_dump(tmp_path / "old.h5")
    assert back.mode == "full"
    assert back.frame.tolist() == [3, 3, 9, 12, 20]
    assert back.pers.tolist() == [0, 1, 0, 2, 2]
    assert back.processed_frames.tolist() == [0, 3, 6, 9, 12, 15, 20]


def test_reads_original_full_dump_as_embedall_writes_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frames = [rng.normal(size=(k, 128)) for k in (0, 2, 0, 1, 0, 0)]
    write_original_full_dump(tmp_path / "orig.h5", "/data/news.mp4", 6, frames)
    dump = read_face_dump(tmp_path / "orig.h5")
    assert dump.mode == "full" and dump.video == "news.mp4" and dump.num_frames == 6
    assert dump.frame.tolist() == [1, 1, 3]
    assert dump.pers.tolist() == [0, 1, 0]
    assert dump.processed_frames.tolist() == list(range(6))
    np.testing.assert_allclose(dump.embed, np.concatenate(frames).astype(np.float32))


def test_reads_original_sparse_dump_as_embedselect_writes_it(tmp_path: Path) -> None:
    embed = np.random.default_rng(2).normal(size=(3, 128))
    write_original_sparse_dump(tmp_path / "orig.h5", "/data/news.mp4", 50,
                               [(4, 0), (4, 1), (9, 0)], embed)
    dump = read_face_dump(tmp_path / "orig.h5")
    assert dump.mode == "sparse" and dump.embedder.name == ORIGINAL_EMBEDDER
    assert dump.frame.tolist() == [4, 4, 9] and dump.pers.tolist() == [0, 1, 0]


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


def _original_sparse(path: Path, **changes: object) -> Path:
    """An original-style sparse dump (2 faces), then one thing changed with plain h5py."""
    write_original_sparse_dump(path, "v.mp4", 50, [(4, 0), (9, 0)],
                               np.random.default_rng(3).normal(size=(2, 128)))
    with h5py.File(path, "a") as h5:
        for name, value in changes.items():
            if name.startswith("attr_"):
                h5.attrs[name[5:]] = value
            else:
                del h5[f"faces/{name}"]
                h5[f"faces/{name}"] = value
    return path


NAN_EMBED = np.zeros((2, 128), np.float32)
NAN_EMBED[1, 7] = np.nan
INF_EMBED = np.zeros((2, 128), np.float32)
INF_EMBED[0, 0] = -np.inf

BAD_DUMPS = {
    "string embeddings": ({"embed": np.full((2, 128), b"x", dtype="S1")},
                          "embeddings .* are not numbers"),
    "string embeddings, 1-D": ({"embed": np.array([b"0.1 0.2", b"0.3"])}, "are not numbers"),
    "3-column frame_pers": ({"frame_pers": np.array([[4, 0, 1], [9, 0, 1]], np.uint32)},
                            r"frame_pers has shape \(2, 3\)"),
    "frame_pers rows != faces": ({"frame_pers": np.array([[4, 0]], np.uint32)},
                                 r"frame_pers has shape \(1, 2\)"),
    "negative frames": ({"frame_pers": np.array([[-4, 0], [9, 0]], np.int64)},
                        "outside 0"),
    "float frames": ({"frame_pers": np.array([[4.5, 0], [9, 0]])}, "not whole numbers"),
    "non-numeric num_frames": ({"attr_num_frames": "lots"}, "num_frames='lots' is not a number"),
    "fractional num_frames": ({"attr_num_frames": 2.5}, "num_frames=2.5 is not a count"),
    "negative num_frames": ({"attr_num_frames": -3}, "num_frames=-3 is not a count"),
    "NaN num_frames": ({"attr_num_frames": float("nan")}, "not a finite number"),
    "non-numeric fps": ({"attr_fps": "fast"}, "fps='fast' is not a number"),
    "negative fps": ({"attr_fps": -25.0}, "fps=-25.0 is negative"),
    "non-numeric threshold": ({"attr_threshold": "close"}, "threshold='close' is not a number"),
    "negative threshold": ({"attr_threshold": -0.6}, "not a usable distance threshold"),
    "NaN embedding": ({"embed": NAN_EMBED}, r"1 of 2 are not finite .* row 1"),
    "Inf embedding": ({"embed": INF_EMBED}, r"1 of 2 are not finite .* row 0"),
    "3-D embeddings": ({"embed": np.zeros((2, 4, 32), np.float32)}, "not one row per face"),
    "bbox of another shape": ({"bbox": np.zeros((2, 3), np.float32)}, r"bbox has shape \(2, 3\)"),
    "seg of another length": ({"seg": np.zeros(5, np.int32)}, r"seg has shape \(5,\)"),
}


@pytest.mark.parametrize("case", list(BAD_DUMPS))
def test_bad_dumps_are_refused_naming_the_file(tmp_path: Path, case: str) -> None:
    changes, message = BAD_DUMPS[case]
    if "bbox" in changes or "seg" in changes:  # optional datasets the original did not write
        path = tmp_path / "d.h5"
        write_original_sparse_dump(path, "v.mp4", 50, [(4, 0), (9, 0)], np.zeros((2, 128)))
        with h5py.File(path, "a") as h5:
            for name, value in changes.items():
                h5[f"faces/{name}"] = value
    else:
        path = _original_sparse(tmp_path / "d.h5", **changes)
    with pytest.raises(SkelshopError, match=message) as err:
        read_face_dump(path)
    assert err.value.path == str(path)


def test_bad_full_dumps(tmp_path: Path) -> None:
    def full(indices: list[int], frame: list[int] | None, n: int) -> Path:
        path = tmp_path / "f.h5"
        with h5py.File(path, "w") as h5:
            h5["faces/indices"] = np.array(indices, np.uint32)
            if frame is not None:
                h5["faces/frame"] = np.array(frame, np.uint32)
            h5["faces/embed"] = np.zeros((n, 128), np.float32)
        return path

    with pytest.raises(SkelshopError, match="indices do not match"):
        read_face_dump(full([0, 2, 1], None, 2))
    with pytest.raises(SkelshopError, match="indices do not match"):
        read_face_dump(full([0, 1, 2], None, 3))
    with pytest.raises(SkelshopError, match="frame 1, which /faces/frame says was not sampled"):
        read_face_dump(full([0, 1, 1, 2], [0, 2], 2))
    with pytest.raises(SkelshopError, match="not increasing"):
        read_face_dump(full([0, 1, 1, 2], [2, 0], 2))
    with pytest.raises(SkelshopError, match="past the 3 frames"):
        read_face_dump(full([0, 1, 1], [0, 7], 1))


def _real_dump(path: Path, n: int = 3000) -> bytes:
    rng = np.random.default_rng(4)
    write_face_dump(path, FaceDump(
        mode="sparse", video="v.mp4", num_frames=5000, fps=25.0, embedder=INFO,
        frame=np.sort(rng.integers(0, 5000, n)).astype(np.uint32),
        pers=np.arange(n, dtype=np.uint32), embed=rng.normal(size=(n, 128)).astype(np.float32),
        seg=np.zeros(n, np.int32), bbox=rng.uniform(size=(n, 4)).astype(np.float32),
        quality=rng.uniform(size=n).astype(np.float32)))
    return path.read_bytes()


def test_corrupted_metadata_mid_file_is_one_error(tmp_path: Path) -> None:
    raw = _real_dump(tmp_path / "real.h5")
    # The B-tree nodes past the root are HDF5's index of the embedding chunks (mid-file).
    nodes = [i for i in range(len(raw)) if raw.startswith(b"TREE", i)]
    assert nodes, "an HDF5 file with chunked datasets has B-tree nodes"
    damaged = bytearray(raw)
    for j in range(nodes[-1], nodes[-1] + 64):
        damaged[j] ^= 0xFF
    bad = tmp_path / "bad.h5"
    bad.write_bytes(bytes(damaged))
    with pytest.raises(SkelshopError, match="damaged or unreadable face dump") as err:
        read_face_dump(bad)
    assert err.value.path == str(bad)


def test_flipped_bytes_anywhere_give_a_dump_or_one_error(tmp_path: Path) -> None:
    raw = _real_dump(tmp_path / "real.h5")
    bad = tmp_path / "bad.h5"
    refused = 0
    for step in range(1, 32):
        offset = len(raw) * step // 32
        damaged = bytearray(raw)
        damaged[offset:offset + 512] = b"\xff" * 512  # all ones: NaN where floats were
        bad.write_bytes(bytes(damaged))
        try:
            read_face_dump(bad)
        except SkelshopError as err:  # anything else is a traceback for the user
            assert err.path == str(bad)
            refused += 1
    assert refused > 0  # most of the file is embeddings: NaN there is refused, not used
