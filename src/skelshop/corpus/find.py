"""`skelshop corpus find`: the shots of a corpus where the person in some photos appears.

From the stored model alone (no reference library): the photos are embedded by the model's
embedder; a track is the person when one of its faces is within the embedding space's
same-person threshold of a photo, or when its cluster is the one the photos fall into by
the model's `predict` rule (so a shot where the person looks unlike the photos is still
found through the faces of him the clustering joined). Merges of names.csv count.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skelshop.corpus.manual_names import names_path
from skelshop.corpus.shot_times import shot_seconds
from skelshop.errors import SkelshopError
from skelshop.formats.cluster_model import read_cluster_model
from skelshop.formats.corpus import read_corpus
from skelshop.formats.corpus_names import read_corpus_names
from skelshop.formats.identifications import cluster_name
from skelshop.formats.identity import NOCLUS
from skelshop.formats.sightings import Sighting
from skelshop.space import space_of


def embed_photos(photos: list[Path], embedder: str) -> tuple[np.ndarray, list[str]]:
    """(P, D) embeddings of the largest face of each photo, and a line per photo left out."""
    from skelshop.faces.models import DEFAULT_EMBEDDER_BACKEND
    from skelshop.media.images import UnreadableImage
    from skelshop.references.embedding import ReferenceEmbedder

    try:
        model = ReferenceEmbedder("largest", embedder, DEFAULT_EMBEDDER_BACKEND)
    except (KeyError, ValueError) as err:
        raise SkelshopError(None, f"cannot load the model's embedder {embedder!r}: {err}") \
            from None
    vectors, problems = [], []
    for photo in photos:
        try:
            vectors.append(model.embed_image(photo))
        except UnreadableImage as err:
            problems.append(f"{photo}: {err}")
        except OSError as err:
            problems.append(f"{photo}: cannot read ({err.strerror or err})")
    return np.asarray(vectors, np.float32).reshape(len(vectors), model.embedder.dim), problems


def find_person(out_dir: Path, photos: list[Path],
                thresh: float | None = None) -> tuple[list[Sighting], list[str]]:
    """Shots where the photos' person appears, nearest first within each video; problems."""
    for photo in photos:
        if not photo.is_file():
            raise SkelshopError(photo, "no such photo")
    model = read_cluster_model(out_dir / "model.h5")
    entries = {str(e.video): e for e in read_corpus(out_dir / "corpus.csv", check_files=False)}
    query, problems = embed_photos(photos, model.embedder.name)
    if len(query) == 0 and len(photos) == 1:  # name the photo once, then what is wrong
        raise SkelshopError(photos[0], problems[0].removeprefix(f"{photos[0]}: ")
                            if problems else "no face found in the photo")
    if len(query) == 0:
        raise SkelshopError(out_dir, "no face found in any photo: " + "; ".join(problems))
    space = space_of(model.embedder, model.embed.shape[1])
    limit = space.threshold if thresh is None else float(thresh)
    face_dist = space.distances(query, model.embed).min(axis=0)
    # each face's track, by its (video, shot, track id)
    track_of = {key: t for t, key in enumerate(zip(model.track_video.tolist(),
                                                   model.track_seg.tolist(),
                                                   model.track_pers.tolist(), strict=True))}
    face_track = np.array([track_of[k] for k in zip(model.face_video.tolist(),
                                                    model.face_seg.tolist(),
                                                    model.face_pers.tolist(), strict=True)],
                          dtype=np.int64)
    track_dist = np.full(len(model.track_label), np.inf)
    np.minimum.at(track_dist, face_track, face_dist)
    names = read_corpus_names(names_path(out_dir))
    clusters = _clusters_of(model, query)
    wanted = {names.resolve(cluster_name(c)) for c in clusters}
    track_clus = [names.resolve(cluster_name(int(c))) if c >= 0 else NOCLUS
                  for c in model.track_label.tolist()]
    best: dict[tuple[str, int], Sighting] = {}
    times_of: dict[str, list[tuple[float, float]]] = {}
    for t, (dist, clus) in enumerate(zip(track_dist.tolist(), track_clus, strict=True)):
        if dist > limit and clus not in wanted:
            continue
        video = model.videos[int(model.track_video[t])]
        seg = int(model.track_seg[t])
        if video not in times_of:
            entry = entries.get(video)
            times_of[video] = shot_seconds(entry) if entry is not None else []
        times = times_of[video]
        start, end = times[seg] if seg < len(times) else (float("nan"), float("nan"))
        found = Sighting(video, seg, start, end, float(dist), clus if clus in wanted else NOCLUS)
        key = (video, seg)
        if key not in best or found.distance < best[key].distance:
            best[key] = found
    rows = sorted(best.values(), key=lambda s: (s.video, s.seg))
    return rows, problems


def _clusters_of(model: object, query: np.ndarray) -> set[int]:
    """The clusters the photos fall into by the model's own rule."""
    from skelshop.cluster.estimators import estimator_from_model

    estimator = estimator_from_model(model)
    return {int(c) for c in estimator.predict(query).tolist() if c >= 0}
