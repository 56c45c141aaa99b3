"""`skelshop corpus label`: the labelling page on a corpus OUTDIR, saving to names.csv.

The prototype pictures are made when the page is opened, into OUTDIR/label/ (c<k>/*.png):
from the face chips the sparse dumps hold (no video decoding), else cut from the video
frames (`naming.writeprotos`). Each picture is tied to its track, so the page can split a
track off its cluster ("not this person"). Names, merges and splits go to names.csv at
once; `corpus run` and `report` use them from then on.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from skelshop.corpus.manual_names import names_path
from skelshop.errors import SkelshopError
from skelshop.formats.atomic import atomic_path
from skelshop.formats.corpus import CorpusEntry, read_corpus
from skelshop.formats.face_dump import read_face_dump
from skelshop.formats.identifications import cluster_name
from skelshop.formats.proto_index import ProtoIndexRow, write_proto_index
from skelshop.formats.prototypes import Prototype, read_prototypes
from skelshop.naming.labelling_server import TrackKey
from skelshop.naming.writeprotos import picture_name, write_prototype_pictures
from skelshop.output_guard import check_outputs

log = logging.getLogger(__name__)
LABEL_DIR = "label"


def label_folder(out_dir: Path) -> Path:
    """Where `corpus label` puts the prototype pictures."""
    return out_dir / LABEL_DIR


def make_label_pictures(out_dir: Path, progress: bool = True) -> dict[str, TrackKey]:
    """Write every prototype's picture under OUTDIR/label/; returns picture -> its track."""
    corpus_csv, protos_csv = out_dir / "corpus.csv", out_dir / "protos.csv"
    for path in (corpus_csv, protos_csv):
        if not path.is_file():
            raise SkelshopError(out_dir, f"no {path.name} here; run `skelshop corpus run` on "
                                         "videos with faces first")
    entries = read_corpus(corpus_csv, check_files=False)
    protos = read_prototypes(protos_csv)
    if not protos:
        raise SkelshopError(protos_csv, "holds no clusters to name")
    folder = label_folder(out_dir)
    by_video: dict[int, list[Prototype]] = defaultdict(list)
    for proto in protos:
        if not 0 <= proto.video_idx < len(entries):
            raise SkelshopError(protos_csv, f"names video {proto.video_idx}, but the corpus "
                                            f"has {len(entries)}")
        by_video[proto.video_idx].append(proto)
    tracks: dict[str, TrackKey] = {}
    from_frames: list[Prototype] = []
    for video_idx, wanted in sorted(by_video.items()):
        from_frames += _write_chips(entries[video_idx], video_idx, wanted, folder, tracks)
    if from_frames:  # dumps without chips (full mode): cut from the frames
        report = write_prototype_pictures(from_frames, entries, folder, progress=progress)
        for problem in report.problems:
            log.warning("%s", problem)
    keep = {folder / name for name in tracks}
    for stale in folder.glob("c*/*.png"):
        if stale not in keep:
            stale.unlink()
    pictures = Counter(name.split("/")[0] for name in tracks)
    members = _member_counts(out_dir / "model.h5")
    write_proto_index(folder, [ProtoIndexRow(clus, members.get(clus) if members else None, n)
                               for clus, n in sorted(pictures.items())])
    return tracks


def _member_counts(model_path: Path) -> Counter[str] | None:
    """Tracks per cluster in the stored model (before merges: merged clusters count apart)."""
    from skelshop.formats.cluster_model import read_cluster_model

    if not model_path.is_file():
        return None
    model = read_cluster_model(model_path)
    return Counter(cluster_name(int(lab)) for lab in model.track_label.tolist() if lab >= 0)


def _write_chips(entry: CorpusEntry, video_idx: int, protos: list[Prototype], folder: Path,
                 tracks: dict[str, TrackKey]) -> list[Prototype]:
    """Pictures of one video's prototypes from its dump's chips; returns those it could not."""
    dump = read_face_dump(entry.faces, with_chips=True)
    rows = {(int(f), int(p)): i for i, (f, p) in enumerate(zip(dump.frame, dump.pers,
                                                                 strict=True))}
    seg = dump.seg if dump.seg is not None else np.zeros(len(dump), np.int32)
    left = []
    for proto in protos:
        row = rows.get((proto.frame_num, proto.pers_id))
        if row is None:
            log.warning("%s: no face at frame %d, track %d for a prototype of %s", entry.faces,
                        proto.frame_num, proto.pers_id, cluster_name(proto.clus_idx))
            continue
        name = f"{cluster_name(proto.clus_idx)}/{picture_name(proto)}"
        tracks[name] = (str(entry.video), int(seg[row]), int(proto.pers_id))
        if dump.chip is None:
            left.append(proto)
            continue
        ok, data = cv2.imencode(".png", cv2.cvtColor(dump.chip[row], cv2.COLOR_RGB2BGR))
        if not ok:
            raise SkelshopError(entry.faces, f"could not encode the face at frame "
                                             f"{proto.frame_num}")
        (folder / cluster_name(proto.clus_idx)).mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / name) as tmp:
            tmp.write_bytes(data.tobytes())
    return left


def label_corpus(out_dir: Path, port: int | None, refs: Path | None, open_browser: bool,
                 say: Callable[[str], object], progress: bool = True) -> None:
    """Make the pictures, then serve the labelling page on the corpus until Ctrl-C."""
    from skelshop.naming.label_store import CorpusNameStore
    from skelshop.naming.reference_labels import reference_labels
    from skelshop.naming.whoisthis import serve_labelling_page

    folder = label_folder(out_dir)
    check_outputs(inputs=[out_dir / "corpus.csv", out_dir / "protos.csv", refs],
                  files=[names_path(out_dir)], folders=[folder])
    tracks = make_label_pictures(out_dir, progress=progress)
    store = CorpusNameStore(names_path(out_dir))
    suggestions = reference_labels(refs) if refs is not None else []
    serve_labelling_page(folder, store, port, suggestions, open_browser, say,
                         image_tracks=tracks)
