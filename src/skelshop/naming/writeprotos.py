"""Write each cluster prototype's face as `OUTDIR/c<k>/v<video>f<frame>p<track>.png`."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from skelshop.errors import SkelshopError
from skelshop.faces.embedder import DlibFaceEmbedder
from skelshop.formats.atomic import atomic_path
from skelshop.formats.corpus import CorpusEntry
from skelshop.formats.face_dump import FaceDump, read_face_dump
from skelshop.formats.identifications import cluster_name
from skelshop.formats.identity import read_identities
from skelshop.formats.proto_index import ProtoIndexRow, write_proto_index
from skelshop.formats.prototypes import Prototype
from skelshop.media.video import FrameReader
from skelshop.naming.face_chip import cut_face_picture

log = logging.getLogger(__name__)


@dataclass
class WriteProtosReport:
    """What writeprotos wrote and what it had to leave out (one message per problem)."""

    written: int = 0
    problems: list[str] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)  # pictures in OUTDIR not from these prototypes


def picture_name(proto: Prototype) -> str:
    """The file name of a prototype's picture inside its cluster folder."""
    return f"v{proto.video_idx:03d}f{proto.frame_num:05d}p{proto.pers_id}.png"


def picture_path(outdir: Path, proto: Prototype) -> Path:
    """Where a prototype's picture goes."""
    return outdir / cluster_name(proto.clus_idx) / picture_name(proto)


def _write_png(path: Path, bgr: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", bgr)
    if not ok:
        raise OSError(f"could not encode {path.name}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())


class _Aligner:
    """Re-runs alignment for dumps that store a detector box but no chip rectangle."""

    def __init__(self) -> None:
        self._embedder: DlibFaceEmbedder | None = None

    def chip_bbox(self, bgr: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The chip rectangle (x1, y1, x2, y2, angle) of the face inside `box`."""
        if self._embedder is None:  # loading the models costs time: only when needed
            self._embedder = DlibFaceEmbedder()
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        return self._embedder.align(rgb, box).chip_bbox


def _face_rows(dump: FaceDump) -> dict[tuple[int, int], int]:
    return {(int(f), int(p)): i for i, (f, p) in enumerate(zip(dump.frame, dump.pers, strict=True))}


def _write_video(entry: CorpusEntry, video_idx: int, protos: list[Prototype], outdir: Path,
                 aligner: _Aligner, report: WriteProtosReport,
                 tick: Callable[[int], object]) -> None:
    """Decode one video once, in order, and write the pictures of its prototypes."""
    where = f"video {video_idx} ({entry.video})"
    try:
        dump = read_face_dump(entry.faces)
    except SkelshopError as err:
        report.problems.append(f"{where}: skipped, {err}")
        tick(len(protos))
        return
    if dump.chip_bbox is None and dump.bbox is None:
        report.problems.append(f"{where}: skipped, {entry.faces} stores no face boxes")
        tick(len(protos))
        return
    rows = _face_rows(dump)
    by_frame: dict[int, list[tuple[Prototype, int]]] = defaultdict(list)
    for proto in protos:
        row = rows.get((proto.frame_num, proto.pers_id))
        if row is None:
            past = dump.num_frames and proto.frame_num >= dump.num_frames
            why = (f"is past the end of the video ({dump.num_frames} frames)" if past
                   else "has no face in the dump")
            report.problems.append(f"{where}: prototype of {cluster_name(proto.clus_idx)} at "
                                   f"frame {proto.frame_num}, track {proto.pers_id} {why}")
            tick(1)
            continue
        by_frame[proto.frame_num].append((proto, row))
    if not by_frame:
        return
    last = max(by_frame)
    reader: FrameReader | None = None
    try:
        reader = FrameReader(entry.video)
        for frame_num, bgr in reader:
            for proto, row in by_frame.pop(frame_num, []):
                if dump.chip_bbox is not None:
                    chip_bbox = dump.chip_bbox[row]
                else:  # checked above: a dump without either is skipped
                    assert dump.bbox is not None
                    chip_bbox = aligner.chip_bbox(bgr, dump.bbox[row])
                _write_png(picture_path(outdir, proto), cut_face_picture(bgr, chip_bbox))
                report.written += 1
                tick(1)
            if frame_num >= last:
                break
    except SkelshopError as err:
        report.problems.append(f"{where}: {err}")
    except OSError as err:
        report.problems.append(f"{where}: could not write a picture ({err})")
    for frame_num, waiting in sorted(by_frame.items()):
        decoded = reader.decoded if reader is not None else 0
        for proto, _ in waiting:
            report.problems.append(
                f"{where}: prototype of {cluster_name(proto.clus_idx)} at frame {frame_num}, "
                f"track {proto.pers_id} was not written (the video gave {decoded} frames)")
            tick(1)


def count_members(corpus: list[CorpusEntry]) -> Counter[str] | None:
    """Tracks per cluster label over every video's segsout CSV; None unless all are readable."""
    counts: Counter[str] = Counter()
    for entry in corpus:
        if entry.segsout is None or not entry.segsout.is_file():
            return None
        try:
            counts.update(row.label for row in read_identities(entry.segsout))
        except SkelshopError as err:
            log.warning("not counting cluster members: %s", err)
            return None
    return counts


def write_prototype_pictures(protos: list[Prototype], corpus: list[CorpusEntry], outdir: str | Path,
                             progress: bool = True) -> WriteProtosReport:
    """Write every prototype's picture, reading each video once; problems are reported, not fatal."""
    outdir = Path(outdir)
    report = WriteProtosReport()
    by_video: dict[int, list[Prototype]] = defaultdict(list)
    for proto in protos:
        if not 0 <= proto.video_idx < len(corpus):
            report.problems.append(
                f"prototype of {cluster_name(proto.clus_idx)} names video {proto.video_idx}, "
                f"but the corpus has {len(corpus)} videos (0..{len(corpus) - 1})")
            continue
        by_video[proto.video_idx].append(proto)
    for clus_idx in {p.clus_idx for p in protos}:
        (outdir / cluster_name(clus_idx)).mkdir(parents=True, exist_ok=True)
    aligner = _Aligner()
    with tqdm(total=sum(map(len, by_video.values())), unit="face", desc="prototypes",
              disable=not progress) as bar:
        for video_idx in sorted(by_video):
            _write_video(corpus[video_idx], video_idx, by_video[video_idx], outdir, aligner,
                         report, bar.update)
    wanted = {picture_path(outdir, p) for p in protos}
    report.stale = sorted(f for f in outdir.glob("c*/*.png") if f not in wanted)
    members = count_members(corpus)
    clusters = sorted({p.clus_idx for p in protos})
    write_proto_index(outdir, [
        ProtoIndexRow(
            clus=cluster_name(k),
            members=members.get(cluster_name(k), 0) if members is not None else None,
            images=sum(1 for f in (outdir / cluster_name(k)).glob("*.png")),
        )
        for k in clusters
    ])
    return report
