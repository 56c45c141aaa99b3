"""`skelshop corpus label`: the labelling page on a corpus OUTDIR, saving to names.csv.

The prototype pictures are made when the page is opened, into OUTDIR/label/ (c<k>/*.png):
from the face chips the sparse dumps hold (no video decoding), else cut from the video
frames (`naming.writeprotos`). Each picture is tied to its track, so the page can split a
track off its cluster ("not this person"). Names, merges and splits go to names.csv at
once; `corpus run` and `report` use them from then on. OUTDIR is held (its lock file)
while the page serves, so no run rewrites the clusters being named.
"""

from __future__ import annotations

import logging
import socket
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from skelshop.corpus.manual_names import names_path
from skelshop.corpus.outdir_lock import LOCK_NAME, outdir_lock
from skelshop.errors import SkelshopError
from skelshop.formats.atomic import atomic_path
from skelshop.formats.corpus import CorpusEntry, read_corpus
from skelshop.formats.face_dump import read_face_dump
from skelshop.formats.identifications import cluster_name
from skelshop.formats.proto_index import ProtoIndexRow, write_proto_index
from skelshop.formats.prototypes import Prototype, read_prototypes
from skelshop.naming.labelling_server import LOOPBACK, TrackKey
from skelshop.naming.writeprotos import picture_name, write_prototype_pictures
from skelshop.output_guard import check_outputs

log = logging.getLogger(__name__)
LABEL_DIR = "label"


def label_folder(out_dir: Path) -> Path:
    """Where `corpus label` puts the prototype pictures."""
    return out_dir / LABEL_DIR


def check_label_corpus(out_dir: Path) -> None:
    """Refuse, in one line, an OUTDIR that is no corpus or has no clusters to name."""
    if not out_dir.exists():
        raise SkelshopError(out_dir, "no such folder; give the OUTDIR of a `skelshop corpus run`")
    if not out_dir.is_dir():
        raise SkelshopError(out_dir, "is not a folder; give the OUTDIR of a `skelshop corpus run`")
    if not (out_dir / "corpus.csv").is_file():
        raise SkelshopError(out_dir, "not a corpus (no corpus.csv here); run `skelshop corpus "
                                     "run VIDEOS... OUTDIR` first")
    if not (out_dir / "protos.csv").is_file():
        raise SkelshopError(out_dir, "the corpus has no clusters to name (no protos.csv: its "
                                     "last `corpus run` found no faces to cluster)")
    names = names_path(out_dir)
    if names.exists() and not names.is_file():
        raise SkelshopError(names, "is not a regular file; the page saves the names there, "
                                   "so move it out of the way")


def make_label_pictures(out_dir: Path, progress: bool = True) -> dict[str, TrackKey]:
    """Write every prototype's picture under OUTDIR/label/; returns picture -> its track."""
    check_label_corpus(out_dir)
    corpus_csv, protos_csv = out_dir / "corpus.csv", out_dir / "protos.csv"
    entries = read_corpus(corpus_csv, check_files=False)
    protos = read_prototypes(protos_csv)
    if not protos:
        raise SkelshopError(protos_csv, "holds no clusters to name (every track of the corpus "
                                        "is unclustered)")
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


def check_port(port: int | None) -> None:
    """Refuse a --port that cannot be listened on now, before minutes of picture making."""
    if port is None or port == 0:  # the default falls back to any free port
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as the server will bind: a port left in TIME_WAIT by an earlier page is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError as err:
            raise SkelshopError(None, f"cannot listen on {LOOPBACK}:{port} "
                                      f"({err.strerror or err}); choose another --port, or "
                                      "leave it out for a free one") from None


def label_corpus(out_dir: Path, port: int | None, refs: Path | None, open_browser: bool,
                 say: Callable[[str], object], progress: bool = True) -> None:
    """Make the pictures, then serve the labelling page on the corpus until Ctrl-C.

    OUTDIR is held (its lock file) the whole time: a `corpus run` or `report` meanwhile
    would rewrite or read the clusters being named, so they are refused, as this page is
    while one of them runs.
    """
    from skelshop.naming.label_store import CorpusNameStore
    from skelshop.naming.reference_labels import reference_labels
    from skelshop.naming.whoisthis import serve_labelling_page

    if not (out_dir / LOCK_NAME).exists():  # else say first that a run holds it
        check_label_corpus(out_dir)
    folder = label_folder(out_dir)
    check_outputs(inputs=[out_dir / "corpus.csv", out_dir / "protos.csv", refs],
                  files=[names_path(out_dir)], folders=[folder])
    check_port(port)
    with outdir_lock(out_dir, command="corpus label"):
        check_label_corpus(out_dir)
        # names.csv first: a damaged one is refused before any picture is made, and
        # nothing is written to it until the page changes a name.
        store = CorpusNameStore(names_path(out_dir))
        suggestions = reference_labels(refs) if refs is not None else []
        tracks = make_label_pictures(out_dir, progress=progress)
        serve_labelling_page(folder, store, port, suggestions, open_browser, say,
                             image_tracks=tracks)
