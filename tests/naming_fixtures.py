"""Small real files for the naming tests: face dumps, references, prototypes, a cluster model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from skelshop.corpus.artifacts import VideoArtifacts, source_stamp
from skelshop.formats.corpus import CorpusEntry, write_corpus
from skelshop.formats.face_dump import EmbedderInfo, FaceDump, write_face_dump
from skelshop.formats.prototypes import Prototype, write_prototypes
from skelshop.formats.references import ReferenceSet, write_references

DLIB = EmbedderInfo("dlib_face_recognition_resnet_model_v1", "euclidean", 0.6)
DIM = 128


def skelshop(*args: str | Path) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess."""
    return subprocess.run([sys.executable, "-m", "skelshop", "-q", *map(str, args)],
                          capture_output=True, text=True, timeout=300, check=False)


def identities(n: int, seed: int = 0) -> np.ndarray:
    """Identity centres about 0.9 apart, like different people under dlib's model."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n, DIM))
    return (0.65 * centres / np.linalg.norm(centres, axis=1, keepdims=True)).astype(np.float32)


def faces_of(centre: np.ndarray, n: int, rng: np.random.Generator, spread: float = 0.2) -> np.ndarray:
    """`n` faces about `spread` from a centre, like one person's faces."""
    noise = rng.normal(size=(n, DIM))
    noise *= spread / np.linalg.norm(noise, axis=1, keepdims=True)
    return (centre + noise).astype(np.float32)


def write_dump(path: Path, embed: np.ndarray, frames: list[int], tracks: list[int],
               num_frames: int = 500, embedder: EmbedderInfo = DLIB) -> Path:
    """A sparse face dump holding the given faces."""
    write_face_dump(path, FaceDump(
        mode="sparse", video=str(path.with_suffix(".mp4")), num_frames=num_frames, fps=25.0,
        embedder=embedder, frame=np.asarray(frames, np.uint32), pers=np.asarray(tracks, np.uint32),
        embed=embed, seg=np.zeros(len(frames), np.int32)))
    return path


def stand_in_video(folder: Path) -> VideoArtifacts:
    """A corpus run's files of one video whose contents are never decoded (only its size and
    time are read), with a one-shot scenes file."""
    video = folder / "v.mp4"
    video.write_bytes(b"stands for a video: only its size and time are read")
    art = VideoArtifacts(video, folder / "v-Scenes.csv", folder / "v.faces.h5",
                         folder / "v.segsout.csv")
    art.scenes.write_text("Timecode List:\nScene Number,Start Frame,End Frame\n1,1,500\n")
    return art


def write_finished_dump(art: VideoArtifacts, settings: dict, embed: np.ndarray | None = None,
                        embedder: EmbedderInfo = DLIB) -> None:
    """A one-face dump of `art`'s video as a corpus run stamps it (source and `settings`)."""
    write_face_dump(art.faces, FaceDump(
        mode="sparse", video=str(art.video), num_frames=10, fps=25.0, embedder=embedder,
        frame=np.array([1], np.uint32), pers=np.array([0], np.uint32),
        embed=np.zeros((1, DIM), np.float32) if embed is None else embed,
        seg=np.zeros(1, np.int32), extra_attrs={**source_stamp(art.video), **settings}))


def write_refs(path: Path, people: dict[str, np.ndarray], embedder: EmbedderInfo = DLIB) -> Path:
    """A reference HDF5 with the given embeddings per label."""
    labels = sorted(people)
    write_references(path, ReferenceSet(embedder, labels, [people[label] for label in labels]))
    return path


def write_protos(path: Path, rows: list[tuple[int, int, int, int]]) -> Path:
    """A prototypes CSV of (clus_idx, video_idx, frame_num, pers_id) rows."""
    write_prototypes(path, [Prototype(*row) for row in rows])
    return path


def write_corpus_csv(path: Path, dumps: list[Path]) -> Path:
    """A corpus CSV listing the dumps (videos named after them)."""
    write_corpus(path, [CorpusEntry(video=d.with_suffix(".mp4"), faces=d) for d in dumps])
    return path
