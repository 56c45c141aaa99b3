"""Cluster naming holds direct identification's evidence standard (identify.settings.FaceRules).

A cluster of strangers, each face only somewhat near a reference, gets no name; a known
person's cluster does; a stranger's or a dissolve ghost's track that fell into the known
person's cluster does not take its name. Tiny synthetic embeddings, real dumps, a real
clustering.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from naming_fixtures import DIM, DLIB, faces_of, identities

from skelshop.corpus.naming import cluster_names
from skelshop.corpus_clustering.faces import load_corpus_faces
from skelshop.corpus_clustering.run import ClusSettings, cluster_fixed
from skelshop.formats.corpus import CorpusEntry, write_corpus
from skelshop.formats.face_dump import EmbedderInfo, FaceDump, write_face_dump
from skelshop.formats.identifications import cluster_name
from skelshop.formats.references import ReferenceSet
from skelshop.identify.settings import FaceRules
from skelshop.naming.idclus import ClusterPrototypes, name_clusters, name_clusters_by_votes

TOY = EmbedderInfo("dlib_face_recognition_resnet_model_v1", "euclidean", 0.6)
SMALL = 8
E = np.eye(SMALL, dtype=np.float32)
# Person a at the origin, person b one unit along axis 1.
REFS = ReferenceSet(TOY, ["a", "b"], [np.zeros((1, SMALL), np.float32), E[1:2].copy()])


def _toward(to_a: float, toward_b: float, axis: int) -> np.ndarray:
    """A face `to_a` from a, `toward_b` of it along b's axis, the rest along `axis`."""
    return (toward_b * E[1] + np.sqrt(to_a ** 2 - toward_b ** 2) * E[axis]).astype(np.float32)


def _boxes(heights: list[float], clarity: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Boxes `heights` tall and the dump quality that gives faces `clarity` (score x sharpness)."""
    bbox = np.asarray([[0, 0, h, h] for h in heights], np.float32)
    quality = np.asarray([c * min(1.0, h / 100.0) for c, h in zip(clarity, heights, strict=True)],
                         np.float32)
    return bbox, quality


def test_a_strangers_cluster_is_not_named_while_the_known_persons_is() -> None:
    clusters, embed, heights, clarity = [], [], [], []

    def add(cluster: int, faces: list[np.ndarray], height: float, clear: float) -> None:
        clusters.extend([cluster] * len(faces))
        embed.extend(faces)
        heights.extend([height] * len(faces))
        clarity.extend([clear] * len(faces))

    # 0: the known person a, small clear-enough faces 0.3 from a reference.
    add(0, [_toward(0.3, 0.0, 2 + i) for i in range(4)], 60.0, 0.4)
    # 1: a stranger 0.55 from a and 0.63 from b: within 0.6 of a, but no 0.1 margin.
    add(1, [_toward(0.55, 0.45, 3 + i) for i in range(4)], 60.0, 0.4)
    # 2: dissolve ghosts near a, but with nothing sharp to show (clarity 0.02).
    add(2, [_toward(0.3, 0.0, 4 + i) for i in range(4)], 60.0, 0.02)
    # 3: a large, clear look-alike 0.55 from a: beyond the clear-face radius 0.5.
    add(3, [_toward(0.55, 0.0, 5 + i % 3) for i in range(4)], 150.0, 0.5)
    # 4: faces of a not in any cluster.
    add(-1, [_toward(0.2, 0.0, 2) for _ in range(3)], 120.0, 0.5)
    bbox, quality = _boxes(heights, clarity)
    labels = np.asarray(clusters)
    faces = np.stack(embed)

    named = name_clusters_by_votes(labels, faces, REFS, 0.6, FaceRules(), bbox, quality)
    assert [(n.clus, n.label) for n in named] == [("c0", "a")]
    assert abs(named[0].dist - 0.3) < 1e-4
    others = labels != 0
    assert name_clusters_by_votes(labels[others], faces[others], REFS, 0.6, FaceRules(),
                                  bbox[others], quality[others]) == []

    # Main's naming takes every one of them (every prototype within 0.6 of a).
    inside = labels >= 0
    order = np.argsort(labels[inside], kind="stable")
    ids, starts = np.unique(labels[inside][order], return_index=True)
    protos = ClusterPrototypes([int(c) for c in ids], faces[inside][order],
                               np.append(starts, inside.sum()).astype(np.int64))
    assert [n.label for n in name_clusters(protos, REFS, 0.6)] == ["a"] * 4


def _write(path: Path, embed: np.ndarray, segs: list[int], tracks: list[int],
           bbox: np.ndarray, quality: np.ndarray) -> Path:
    frames = np.arange(len(segs), dtype=np.uint32) * 10
    write_face_dump(path, FaceDump(
        mode="sparse", video=str(path.with_suffix(".mp4")), num_frames=int(frames[-1]) + 10,
        fps=25.0, embedder=DLIB, frame=frames, pers=np.asarray(tracks, np.uint32),
        embed=embed, seg=np.asarray(segs, np.int32), bbox=bbox, quality=quality))
    return path


def test_strangers_and_ghosts_in_a_known_persons_cluster_do_not_take_its_name(
        tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    centre = identities(3, seed=5)
    known = centre[0]
    # A stranger 0.55 from the known person: within dlib's 0.6, beyond the clear-face radius.
    away = rng.normal(size=DIM)
    away -= (away @ known) / (known @ known) * known
    stranger = (known + 0.55 * away / np.linalg.norm(away)).astype(np.float32)
    embed, segs, tracks, heights, clarity, who = [], [], [], [], [], []
    # one track of 3 faces per shot: (kind, person, spread, face height, clarity) per shot
    plan = ([("known", known, 0.15, 150.0, 0.5)] * 8  # the known person, clear
            + [("ghost", known, 0.15, 80.0, 0.03)] * 3  # ghosts in dissolves: nothing sharp
            + [("stranger", stranger, 0.08, 150.0, 0.5)] * 3)  # a clear stranger
    for track, (kind, person, spread, height, sharp) in enumerate(plan):
        seg = track
        embed.append(faces_of(person, 3, rng, spread=spread))
        segs += [seg] * 3
        tracks += [track] * 3
        heights += [height] * 3
        clarity += [sharp] * 3
        who.append((seg, track, kind))
    bbox, quality = _boxes(heights, clarity)
    dump = _write(tmp_path / "v.faces.h5", np.concatenate(embed), segs, tracks, bbox, quality)
    entries = [CorpusEntry(video=dump.with_suffix(".mp4"), faces=dump)]
    corpus = tmp_path / "corpus.csv"
    write_corpus(corpus, entries)
    settings = ClusSettings(num_protos=5)
    outcome = cluster_fixed(load_corpus_faces(entries, corpus, progress=False), settings, corpus,
                            progress=False)
    refs = ReferenceSet(DLIB, ["known", "other"], [known[None, :], centre[1][None, :]])
    faces = outcome.faces
    cluster_of = {(int(faces.track_seg[t]), int(faces.track_pers[t])): int(c)
                  for t, c in enumerate(outcome.track_labels)}
    known_clusters = {cluster_of[(s, t)] for s, t, kind in who if kind == "known"}
    ghost_clusters = {cluster_of[(s, t)] for s, t, kind in who if kind == "ghost"}
    assert len(known_clusters) == 1 and known_clusters <= ghost_clusters, \
        "the ghosts should fall in the known person's cluster for this test to mean anything"

    def named_tracks(rules: FaceRules) -> dict[str, set[str]]:
        naming = cluster_names(outcome, settings, corpus, refs, tmp_path / "refs.h5",
                               rules=rules)
        by_cluster = {n.clus: n.label for n in naming.named}
        got: dict[str, set[str]] = {}
        for seg, trk, kind in who:
            label = by_cluster.get(cluster_name(cluster_of[(seg, trk)]))
            if label is not None and naming.backs((0, seg, trk)):
                got.setdefault(kind, set()).add(label)
        return got

    # New default: the known person's tracks are named, no ghost or stranger is.
    assert named_tracks(FaceRules()) == {"known": {"known"}}
    # Main's rules named the ghosts after the cluster they fell in.
    assert named_tracks(FaceRules.main()).get("ghost") == {"known"}
