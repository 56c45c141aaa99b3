"""Files built with plain h5py exactly as the original SkelShop writes them (frankier/skelshop).

- face dumps: `skelshop/face/io.py` (FaceWriter, create_face_grp) with `skelshop/dump.py`'s
  add_basic_metadata (attributes `video` = base name, `num_frames` = OpenCV's container count,
  imutils' count_frames) and `skelshop/utils/h5py.py`'s h5out (libver earliest..v110);
- reference embeddings: `skelshop/cmd/iden/embedrefs.py` (`h5f[label] = embeddings`, a list of
  128-D float64 vectors, `[]` for a label without a usable face);
- scenes: PySceneDetect 0.5's CSV, which the original's `--group-fmt psd` read.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from os.path import basename
from pathlib import Path

import h5py
import numpy as np

EMBED_SIZE = 128


def _h5out(path: Path) -> h5py.File:
    return h5py.File(path, "w", libver=("earliest", "v110"), rdcc_nbytes=16777216, rdcc_w0=1,
                     rdcc_nslots=8297)


def _grow(ds: h5py.Dataset, extra: int) -> None:
    ds.resize(len(ds) + extra, axis=0)


def write_original_full_dump(path: Path, video: str, num_frames: int,
                             frames: Sequence[np.ndarray]) -> None:
    """`skelshop face embedall`: one `indices` entry per decoded frame, faces of frame i after it."""
    with _h5out(path) as h5f:
        h5f.attrs["video"] = basename(video)
        h5f.attrs["num_frames"] = num_frames
        group = h5f.create_group("/faces")
        group.create_dataset("indices", (0,), dtype=np.uint32, maxshape=(None,))
        group.create_dataset("embed", (0, EMBED_SIZE), dtype=np.float32,
                             maxshape=(None, EMBED_SIZE))
        cur_idx = 0
        for faces in frames:  # FaceWriter.write_frame_faces, sparse=False
            cur_idx += len(faces)
            _grow(group["indices"], 1)
            group["indices"][-1] = cur_idx
            if len(faces):
                _grow(group["embed"], len(faces))
                group["embed"][-len(faces):] = faces


def write_original_sparse_dump(path: Path, video: str, num_frames: int,
                               targets: Sequence[tuple[int, int]], embed: np.ndarray) -> None:
    """`skelshop face embedselect`: `frame_pers` (frame, person) rows, grown frame by frame."""
    with _h5out(path) as h5f:
        h5f.attrs["video"] = basename(video)
        h5f.attrs["num_frames"] = num_frames
        group = h5f.create_group("/faces")
        group.create_dataset("frame_pers", (0, 2), dtype=np.uint32, maxshape=(None, 2))
        group.create_dataset("embed", (0, EMBED_SIZE), dtype=np.float32,
                             maxshape=(None, EMBED_SIZE))
        start = 0
        while start < len(targets):  # one write_frame_faces call per frame
            stop = start
            while stop < len(targets) and targets[stop][0] == targets[start][0]:
                stop += 1
            count = stop - start
            _grow(group["frame_pers"], count)
            group["frame_pers"][-count:] = targets[start:stop]
            _grow(group["embed"], count)
            group["embed"][-count:] = embed[start:stop]
            start = stop


def write_original_references(path: Path, labels: Mapping[str, list[np.ndarray]]) -> None:
    """`skelshop iden embedrefs`: one dataset per label folder, `[]` when no image had one face."""
    with _h5out(path) as h5f:
        h5f.attrs["fmt_type"] = "reference_embeddings"
        h5f.attrs["fmt_ver"] = 1
        h5f.attrs["embedding"] = "dlib"
        for entry, embeddings in labels.items():
            h5f[entry] = [np.asarray(e, dtype=np.float64) for e in embeddings]


def write_psd05_scenes(path: Path, cuts: list[int], end: int, fps: float = 25.0) -> Path:
    """PySceneDetect 0.5's CSV (0-based start frames, exclusive end frames), as in the original."""
    bounds = [0, *cuts, end]

    def tc(frame: int) -> str:
        secs = frame / fps
        return f"00:{int(secs // 60):02d}:{secs % 60:06.3f}"

    lines = ["Timecode List:," + ",".join(tc(c) for c in cuts),
             "Scene Number,Start Frame,Start Timecode,Start Time (seconds),End Frame,"
             "End Timecode,End Time (seconds),Length (frames),Length (timecode),Length (seconds)"]
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        lines.append(f"{i + 1},{a},{tc(a)},{a / fps:.3f},{b},{tc(b)},{b / fps:.3f},{b - a},"
                     f"{tc(b - a)},{(b - a) / fps:.3f}")
    path.write_text("\n".join(lines) + "\n")
    return path
