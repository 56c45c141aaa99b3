"""`skelshop iden writeprotos` on the sample videos: real frames, real faces, reported skips."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from naming_fixtures import skelshop

from skelshop.faces.detector import YuNetDetector
from skelshop.faces.embedder import DlibFaceEmbedder
from skelshop.formats.corpus import CorpusEntry, write_corpus
from skelshop.formats.face_dump import read_face_dump, write_face_dump
from skelshop.formats.identity import IdentityRow, write_identities
from skelshop.formats.proto_index import read_proto_index
from skelshop.formats.prototypes import Prototype, write_prototypes

pytestmark = pytest.mark.slow
CLUSTER_OF = {"franck": 0, "cap12": 1, "cap13": 1, "carphone": 2}
ORDER = ["franck", "cap12", "cap13", "carphone"]


@pytest.fixture
def corpus(sample_faces: dict, tmp_path: Path) -> tuple[Path, list[Prototype], list[CorpusEntry]]:
    """The four sample videos, every stored face a prototype of its video's cluster."""
    entries, protos = [], []
    for video_idx, name in enumerate(ORDER):
        sample = sample_faces[name]
        dump = read_face_dump(sample.faces)
        segsout = tmp_path / f"{name}.segsout.csv"
        label = f"c{CLUSTER_OF[name]}" if name != "carphone" else "noclus"
        write_identities(segsout, [IdentityRow(int(s), int(p), label)
                                   for s, p in {(int(s), int(p)) for s, p in zip(dump.seg, dump.pers, strict=True)}])
        entries.append(CorpusEntry(video=sample.video, faces=sample.faces, segsout=segsout))
        protos += [Prototype(CLUSTER_OF[name], video_idx, int(f), int(p))
                   for f, p in zip(dump.frame, dump.pers, strict=True)]
    path = tmp_path / "corpus.csv"
    write_corpus(path, entries)
    return path, protos, entries


def test_pictures_show_the_prototype_faces(corpus, tmp_path: Path) -> None:
    corpus_csv, protos, entries = corpus
    protos_csv = tmp_path / "protos.csv"
    write_prototypes(protos_csv, protos)
    outdir = tmp_path / "pictures"
    proc = skelshop("iden", "writeprotos", protos_csv, corpus_csv, outdir)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {len(protos)} of {len(protos)} prototype pictures" in proc.stderr

    detector, embedder = YuNetDetector(), DlibFaceEmbedder()
    dumps = [read_face_dump(e.faces) for e in entries]
    for proto in protos:
        picture = outdir / f"c{proto.clus_idx}" / (
            f"v{proto.video_idx:03d}f{proto.frame_num:05d}p{proto.pers_id}.png")
        bgr = cv2.imread(str(picture))
        assert bgr is not None and bgr.shape == (200, 200, 3), picture
        # The picture holds the very face the dump embedded: re-embedding it lands next to it.
        found = detector.detect(bgr)
        assert len(found) >= 1, picture
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        again = embedder.embed([embedder.align(rgb, found.boxes[np.argmax(found.scores)]).chip])
        dump = dumps[proto.video_idx]
        row = np.flatnonzero((dump.frame == proto.frame_num) & (dump.pers == proto.pers_id))[0]
        assert DlibFaceEmbedder.space.distances(again, dump.embed[row:row + 1])[0, 0] < 0.3, picture
    index = read_proto_index(outdir)
    assert index is not None
    assert {k: (r.members, r.images) for k, r in index.items()} == {
        "c0": (1, sum(p.clus_idx == 0 for p in protos)),
        "c1": (2, sum(p.clus_idx == 1 for p in protos)),
        "c2": (0, sum(p.clus_idx == 2 for p in protos)),
    }


def test_bad_videos_and_rows_are_reported_and_skipped(corpus, tmp_path: Path) -> None:
    corpus_csv, protos, entries = corpus
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video at all")
    entries[1] = CorpusEntry(video=tmp_path / "gone.mp4", faces=entries[1].faces)
    entries[2] = CorpusEntry(video=broken, faces=entries[2].faces)
    write_corpus(corpus_csv, entries)
    franck = [p for p in protos if p.video_idx == 0]
    last = read_face_dump(entries[0].faces).num_frames
    extra = [Prototype(0, 0, last + 100, 0), Prototype(0, 0, 7, 99), Prototype(3, 9, 0, 0)]
    protos_csv = tmp_path / "protos.csv"
    write_prototypes(protos_csv, protos + extra)
    outdir = tmp_path / "pictures"
    proc = skelshop("iden", "writeprotos", protos_csv, corpus_csv, outdir)
    assert proc.returncode == 1, proc.stderr
    good = len(franck) + sum(p.video_idx == 3 for p in protos)
    assert f"wrote {good} of {len(protos) + 3} prototype pictures" in proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: ")]
    assert any(f"video 1 ({tmp_path / 'gone.mp4'}): " in w and "no such video file" in w
               for w in warnings)
    assert any(f"video 2 ({broken}): " in w and "not a readable video" in w for w in warnings)
    assert any(f"frame {last + 100}, track 0 is past the end of the video ({last} frames)" in w
               for w in warnings)
    assert any("frame 7, track 99 has no face in the dump" in w for w in warnings)
    assert any("prototype of c3 names video 9, but the corpus has 4 videos" in w for w in warnings)
    assert len(list((outdir / "c0").glob("*.png"))) == len(franck)
    assert len(list((outdir / "c2").glob("*.png"))) == sum(p.video_idx == 3 for p in protos)


def test_dump_without_chip_rectangles_is_aligned_again(sample_faces: dict, tmp_path: Path) -> None:
    """A dump that stores only detector boxes gets its chips re-aligned from the frame."""
    sample = sample_faces["franck"]
    dump = read_face_dump(sample.faces)
    assert dump.bbox is not None
    dump.chip_bbox = None
    boxes_only = tmp_path / "franck.boxes.h5"
    write_face_dump(boxes_only, dump)
    corpus_csv = tmp_path / "corpus.csv"
    write_corpus(corpus_csv, [CorpusEntry(video=sample.video, faces=boxes_only)])
    protos_csv = tmp_path / "protos.csv"
    write_prototypes(protos_csv, [Prototype(0, 0, int(f), int(p))
                                  for f, p in zip(dump.frame, dump.pers, strict=True)])
    outdir = tmp_path / "pictures"
    proc = skelshop("iden", "writeprotos", protos_csv, corpus_csv, outdir)
    assert proc.returncode == 0, proc.stderr
    detector, embedder = YuNetDetector(), DlibFaceEmbedder()
    for row, (frame, pers) in enumerate(zip(dump.frame, dump.pers, strict=True)):
        bgr = cv2.imread(str(outdir / "c0" / f"v000f{int(frame):05d}p{int(pers)}.png"))
        found = detector.detect(bgr)
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        again = embedder.embed([embedder.align(rgb, found.boxes[np.argmax(found.scores)]).chip])
        assert DlibFaceEmbedder.space.distances(again, dump.embed[row:row + 1])[0, 0] < 0.3
    # No segsout CSVs in this corpus: member counts are unknown, image counts are not.
    index = read_proto_index(outdir)
    assert index is not None and index["c0"].members is None
    assert index["c0"].images == len(dump)
