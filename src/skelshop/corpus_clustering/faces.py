"""All faces of a corpus as one table: embeddings plus the row -> (video, frame, track, shot) map."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from skelshop.errors import SkelshopError
from skelshop.formats.corpus import CorpusEntry
from skelshop.formats.face_dump import EmbedderInfo, FaceDump, read_face_dump
from skelshop.formats.scenes import read_shots
from skelshop.space import EmbeddingSpace

log = logging.getLogger(__name__)


@dataclass
class CorpusFaces:
    """Every face of every video in corpus order; tracks are (video, shot, track id)."""

    embedder: EmbedderInfo
    videos: list[str]
    face_dumps: list[str]
    embed: np.ndarray  # float32 (N, D)
    video_idx: np.ndarray  # int32 (N,) corpus row
    frame: np.ndarray  # int64 (N,)
    pers: np.ndarray  # int64 (N,) track id within the video
    seg: np.ndarray  # int32 (N,) shot index
    group: np.ndarray  # int64 (N,) track index into the track_* arrays
    track_video: np.ndarray  # int32 (T,)
    track_seg: np.ndarray  # int32 (T,)
    track_pers: np.ndarray  # int64 (T,)
    # Face box (N, 4) and quality (N,) from the dumps; None where a dump lacks them.
    bbox: np.ndarray | None = None
    quality: np.ndarray | None = None

    @property
    def n_faces(self) -> int:
        """Number of faces."""
        return len(self.embed)

    @property
    def n_tracks(self) -> int:
        """Number of (video, shot, track) groups."""
        return len(self.track_video)

    def track_spans(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per track: a scene key (video, shot), its first and its last face frame."""
        first = np.full(self.n_tracks, np.iinfo(np.int64).max)
        last = np.full(self.n_tracks, -1, dtype=np.int64)
        np.minimum.at(first, self.group, self.frame)
        np.maximum.at(last, self.group, self.frame)
        scene = self.track_video.astype(np.int64) * (int(self.track_seg.max(initial=0)) + 1) \
            + self.track_seg
        return scene, first, last


def _shot_indices(entry: CorpusEntry, seg: np.ndarray | None, frame: np.ndarray) -> np.ndarray:
    """A dump's stored shot indices, else the shots of the corpus row's scenes file."""
    if seg is not None:
        return np.asarray(seg, dtype=np.int32)
    if entry.group is None:
        raise SkelshopError(entry.faces, "has no shot indices (/faces/seg) and its corpus "
                                         "row names no scenes file (group column)")
    shots = read_shots(entry.group, entry.group_typ)
    return shots.shot_of(frame).astype(np.int32)


def load_corpus_faces(entries: list[CorpusEntry], corpus_path: str | Path,
                      progress: bool = True,
                      visit: Callable[[int, CorpusEntry, FaceDump], None] | None = None,
                      ) -> CorpusFaces:
    """Read every face dump of a corpus; refuse mixed embedders and unusable embeddings.

    Each dump is read once: `visit(corpus row, entry, dump)` sees it while it is in memory
    (a corpus run identifies its tracks directly then, instead of reading it again).
    """
    if not entries:
        raise SkelshopError(corpus_path, "the corpus has no videos")
    embedder: EmbedderInfo | None = None
    space: EmbeddingSpace | None = None
    first_src: Path | None = None
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("embed", "video", "frame", "pers", "seg", "bbox", "quality")}
    boxed = True  # every dump with faces has boxes and qualities
    for video_idx, entry in enumerate(tqdm(entries, desc="face dumps", unit="video",
                                           disable=not progress)):
        dump = read_face_dump(entry.faces)
        if space is not None:
            space.check_comparable(dump.space, first_src or "", entry.faces)
        # The first dump that knows its vectors' dimension is the one others must match.
        if space is None or (not space.dim and dump.space.dim):
            embedder, space, first_src = dump.embedder, dump.space, entry.faces
        if len(dump) == 0:
            log.info("%s: no faces", entry.faces)
            continue
        if not np.isfinite(dump.embed).all():
            raise SkelshopError(entry.faces, "holds embeddings that are not finite numbers")
        parts["embed"].append(dump.embed.astype(np.float32))
        parts["video"].append(np.full(len(dump), video_idx, dtype=np.int32))
        parts["frame"].append(dump.frame.astype(np.int64))
        parts["pers"].append(dump.pers.astype(np.int64))
        parts["seg"].append(_shot_indices(entry, dump.seg, dump.frame))
        boxed = boxed and dump.bbox is not None and dump.quality is not None
        if boxed:
            parts["bbox"].append(np.asarray(dump.bbox, np.float32).reshape(-1, 4))
            parts["quality"].append(np.asarray(dump.quality, np.float32))
        if visit is not None:
            visit(video_idx, entry, dump)
    assert embedder is not None
    if not parts["embed"]:
        raise SkelshopError(corpus_path, "no faces in any face dump of the corpus")
    video_idx = np.concatenate(parts["video"])
    seg = np.concatenate(parts["seg"])
    pers = np.concatenate(parts["pers"])
    keys = np.stack([video_idx.astype(np.int64), seg.astype(np.int64), pers], axis=1)
    tracks, group = np.unique(keys, axis=0, return_inverse=True)
    return CorpusFaces(
        embedder=embedder,
        videos=[str(e.video) for e in entries],
        face_dumps=[str(e.faces) for e in entries],
        embed=np.ascontiguousarray(np.concatenate(parts["embed"])),
        video_idx=video_idx,
        frame=np.concatenate(parts["frame"]),
        pers=pers,
        seg=seg,
        group=group.ravel().astype(np.int64),
        track_video=tracks[:, 0].astype(np.int32),
        track_seg=tracks[:, 1].astype(np.int32),
        track_pers=tracks[:, 2],
        bbox=np.concatenate(parts["bbox"]) if boxed else None,
        quality=np.concatenate(parts["quality"]) if boxed else None,
    )


def subset_faces(faces: CorpusFaces, keep_tracks: np.ndarray) -> tuple[CorpusFaces, np.ndarray]:
    """The faces of some tracks (sorted track indices) as a corpus of their own, and their rows."""
    keep_tracks = np.asarray(keep_tracks, dtype=np.int64)
    rows = np.flatnonzero(np.isin(faces.group, keep_tracks))
    new_group = np.searchsorted(keep_tracks, faces.group[rows])
    return CorpusFaces(
        embedder=faces.embedder, videos=faces.videos, face_dumps=faces.face_dumps,
        embed=np.ascontiguousarray(faces.embed[rows]), video_idx=faces.video_idx[rows],
        frame=faces.frame[rows], pers=faces.pers[rows], seg=faces.seg[rows],
        group=new_group.astype(np.int64), track_video=faces.track_video[keep_tracks],
        track_seg=faces.track_seg[keep_tracks], track_pers=faces.track_pers[keep_tracks],
        bbox=None if faces.bbox is None else faces.bbox[rows],
        quality=None if faces.quality is None else faces.quality[rows],
    ), rows
