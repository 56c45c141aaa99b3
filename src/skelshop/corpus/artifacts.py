"""Where a corpus run keeps each video's artifacts, and whether they are finished."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from skelshop.faces.embedder import DlibFaceEmbedder
from skelshop.formats.face_dump import FULL, SPARSE, read_dump_attrs, read_dump_space
from skelshop.space import EmbeddingSpace


@dataclass(frozen=True)
class VideoArtifacts:
    """The per-video files of a corpus run."""

    video: Path
    scenes: Path
    faces: Path
    segsout: Path


def artifact_names(videos: list[Path], out_dir: Path) -> list[VideoArtifacts]:
    """Name artifacts after each video's stem, adding a short hash where stems collide."""
    stems = [v.stem for v in videos]
    result = []
    for video, stem in zip(videos, stems, strict=True):
        if stems.count(stem) > 1:
            stem = f"{stem}-{hashlib.sha1(str(video).encode()).hexdigest()[:8]}"
        base = out_dir / "videos" / stem
        result.append(VideoArtifacts(video, base.with_name(f"{stem}-Scenes.csv"),
                                     base.with_name(f"{stem}.faces.h5"),
                                     base.with_name(f"{stem}.segsout.csv")))
    return result


def source_stamp(video: Path) -> dict[str, int | str]:
    """Attributes that tie a dump to the exact source file it was made from."""
    stat = video.stat()
    return {"source_bytes": int(stat.st_size), "source_mtime_ns": int(stat.st_mtime_ns)}


def faces_finished(art: VideoArtifacts, mode: str, settings: dict,
                   space: EmbeddingSpace | None = None) -> bool:
    """Whether the dump exists, is complete, and was made from this video with these settings.

    Its embedding space must compare with `space` (default: the default embedder's).
    """
    if not art.faces.is_file() or not art.scenes.is_file():
        return False
    made_in = read_dump_space(art.faces)
    if made_in is None or not (space or DlibFaceEmbedder.space).comparable(made_in):
        return False
    want = {
        "fmt_type": SPARSE if mode == "sparse" else FULL,
        "video": str(art.video),
        **source_stamp(art.video),
        **settings,
    }
    have = read_dump_attrs(art.faces)
    if have is None:
        return False
    return all(key in have and _same(have[key], value) for key, value in want.items())


def _same(stored: object, wanted: object) -> bool:
    if isinstance(wanted, float):
        return abs(float(stored) - wanted) < 1e-9  # type: ignore[arg-type]
    if isinstance(wanted, int):
        return int(stored) == wanted  # type: ignore[call-overload]
    return str(stored) == str(wanted)
