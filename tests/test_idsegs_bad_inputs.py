"""`skelshop iden idsegssparse|idsegsfull` on bad dumps and references: one line, exit 2 (issue 10)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
from naming_fixtures import faces_of, identities
from original_files import (
    write_original_full_dump,
    write_original_references,
    write_original_sparse_dump,
    write_psd05_scenes,
)
from test_original_compat import run_cli

from skelshop.formats.face_dump import EmbedderInfo, FaceDump, write_face_dump

INFO = EmbedderInfo("dlib_face_recognition_resnet_model_v1", "euclidean", 0.6)


def _good_files(folder: Path) -> tuple[Path, Path, Path]:
    people = identities(2, seed=11)
    rng = np.random.default_rng(12)
    refs = folder / "refs.h5"
    write_original_references(refs, {"Q1": list(faces_of(people[0], 2, rng)),
                                     "Q2": list(faces_of(people[1], 1, rng))})
    scenes = write_psd05_scenes(folder / "v-Scenes.csv", [50], 100)
    faces = folder / "v.faces.h5"
    write_original_sparse_dump(faces, "v.mp4", 100, [(10, 0), (60, 0)],
                               np.concatenate([faces_of(people[0], 1, rng),
                                               faces_of(people[1], 1, rng)]))
    return refs, scenes, faces


def _set(path: Path, name: str, value: object) -> None:
    with h5py.File(path, "a") as h5:
        if name.startswith("@"):
            h5.attrs[name[1:]] = value
        else:
            if name in h5:
                del h5[name]
            h5[name] = value


def _corrupt(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    trees = [i for i in range(len(raw)) if raw.startswith(b"TREE", i)]
    for j in range(trees[-1], trees[-1] + 64):
        raw[j] ^= 0xFF
    path.write_bytes(bytes(raw))


def _nan(path: Path, name: str, value: float = np.nan) -> np.ndarray:
    """The dataset's values with one number replaced by NaN or infinity."""
    with h5py.File(path) as h5:
        values = np.array(h5[name][()], np.float32)
    values[-1, 5] = value
    return values


def _big_dump(path: Path) -> None:
    """A real dump with chunked embeddings (so HDF5 keeps a chunk index mid-file)."""
    rng = np.random.default_rng(13)
    n = 2000
    write_face_dump(path, FaceDump(
        mode="sparse", video="v.mp4", num_frames=100, fps=25.0, embedder=INFO,
        frame=np.sort(rng.integers(0, 100, n)).astype(np.uint32),
        pers=np.arange(n, dtype=np.uint32), embed=rng.normal(size=(n, 128)).astype(np.float32)))


BadFile = Callable[[Path, Path], None]  # (refs, faces) -> damage one of them

CASES: dict[str, tuple[str, BadFile, str]] = {
    "dump: string embeddings": ("faces", lambda r, f: _set(f, "faces/embed", np.full(
        (2, 128), b"x", dtype="S1")), "are not numbers"),
    "dump: 3-column frame_pers": ("faces", lambda r, f: _set(f, "faces/frame_pers", np.array(
        [[10, 0, 0], [60, 0, 0]], np.uint32)), "frame_pers has shape (2, 3)"),
    "dump: non-numeric num_frames": ("faces", lambda r, f: _set(f, "@num_frames", "many"),
                                     "num_frames='many' is not a number"),
    "dump: NaN embedding": ("faces", lambda r, f: _set(f, "faces/embed", _nan(
        f, "faces/embed")), "not finite numbers"),
    "dump: Inf embedding": ("faces", lambda r, f: _set(f, "faces/embed", _nan(
        f, "faces/embed", np.inf)), "not finite numbers"),
    "dump: corrupted mid-file": ("faces", lambda r, f: (_big_dump(f), _corrupt(f)),
                                 "damaged or unreadable face dump"),
    "refs: string data": ("refs", lambda r, f: _set(r, "Q1", np.array([b"a", b"b"])),
                          "'Q1': embeddings are not numbers"),
    "refs: non-numeric threshold": ("refs", lambda r, f: _set(r, "@threshold", "close"),
                                    "threshold='close' is not a number"),
    "refs: negative threshold": ("refs", lambda r, f: _set(r, "@threshold", -0.6),
                                 "not a usable distance threshold"),
    "refs: empty HDF5": ("refs", lambda r, f: h5py.File(r, "w").close(),
                         "holds no reference labels"),
    "refs: NaN embedding": ("refs", lambda r, f: _set(r, "Q1", _nan(r, "Q1")),
                            "not finite numbers"),
    "refs: a person named noclus": ("refs", lambda r, f: _set(r, "noclus", np.zeros((1, 128))),
                                    "'noclus' is reserved"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture) -> None:
    which, damage, fragment = CASES[case]
    refs, scenes, faces = _good_files(tmp_path)
    damage(refs, faces)
    before = {p: p.read_bytes() for p in (refs, scenes, faces)}
    out = tmp_path / "ids.csv"
    code, err = run_cli(["-q", "iden", "idsegssparse", str(refs), str(scenes), str(faces),
                         str(out)], monkeypatch, capsys)
    bad = refs if which == "refs" else faces
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: "), err
    assert fragment in lines[0]
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert {p: p.read_bytes() for p in before} == before


def test_full_dump_with_nan_is_refused_by_idsegsfull(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    refs, scenes, _ = _good_files(tmp_path)
    frames = [np.zeros((0, 128))] * 100
    frames[10] = np.full((1, 128), np.nan)
    faces = tmp_path / "v.full.h5"
    write_original_full_dump(faces, "v.mp4", 100, frames)
    out = tmp_path / "ids.csv"
    code, err = run_cli(["-q", "iden", "idsegsfull", str(refs), str(scenes), str(faces),
                         str(out)], monkeypatch, capsys)
    assert code == 2 and not out.exists()
    assert err.strip().startswith(f"error: {faces}: embeddings (/faces/embed): 1 of 1 are not "
                                  "finite numbers")
