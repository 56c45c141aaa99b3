"""Face-to-person distances: min over each person's reference images, by faiss range search.

Every distance and radius is the references' embedding space's (`skelshop.space`): faiss
searches squared L2 on the rows the space prepares, which the space turns into its metric.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import faiss
import numpy as np
from tqdm import tqdm

from skelshop.formats.references import ReferenceSet
from skelshop.space import EmbeddingSpace

# Faces per range search: bounds the result lists and paces the progress bar.
FACE_BLOCK = 16384
# Pairs whose exact distance is recomputed at once: bounds the float64 temporaries (~64 MiB).
PAIR_CHUNK = 1 << 16
# Candidates are found in float32 and confirmed in float64; this margin (in squared
# distance units) keeps float32 rounding from dropping a true match before confirmation.
_SQ_MARGIN = 1e-3


@dataclass
class ReferenceMatrix:
    """All reference images stacked, each row owned by one person (label index)."""

    vectors: np.ndarray  # float32 (M, D), as `space.prepare` gives them
    offsets: np.ndarray  # int64 (P + 1,): person p owns rows offsets[p]:offsets[p + 1]
    space: EmbeddingSpace

    @classmethod
    def from_references(cls, refs: ReferenceSet, metric: str | None = None,
                        space: EmbeddingSpace | None = None) -> ReferenceMatrix:
        """Stack a reference set in its embedder's space (or `space`; `metric` overrides its metric)."""
        space = space or refs.space
        if metric is not None and metric != space.metric:
            space = dataclasses.replace(space, metric=metric)
        dim = refs.dim or 0
        stacked = (np.concatenate([np.asarray(e, np.float32).reshape(len(e), dim)
                                   for e in refs.embeddings])
                   if len(refs) else np.zeros((0, dim), np.float32))
        offsets = np.concatenate([[0], np.cumsum(refs.counts())]).astype(np.int64)
        return cls(vectors=space.prepare(stacked), offsets=offsets, space=space)

    @property
    def metric(self) -> str:
        """The metric distances are in (the space's)."""
        return self.space.metric

    @property
    def n_people(self) -> int:
        """Number of people (labels), including those without images."""
        return len(self.offsets) - 1

    @property
    def owner(self) -> np.ndarray:
        """Person index of each reference row."""
        return np.repeat(np.arange(self.n_people), np.diff(self.offsets))


@dataclass
class FaceMatches:
    """Sparse (face, person, distance) triplets: each person's nearest image within threshold."""

    face: np.ndarray  # int64 (K,)
    person: np.ndarray  # int64 (K,)
    dist: np.ndarray  # float64 (K,)


def _candidate_pairs(
    faces: np.ndarray, refs: np.ndarray, sq_radius: float, progress: bool, block: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(face, reference row) pairs within a squared-L2 radius: faiss's blocked BLAS range search."""
    index = faiss.IndexFlatL2(refs.shape[1])
    index.add(np.ascontiguousarray(refs, dtype=np.float32))
    found_face, found_ref = [], []
    for start in tqdm(range(0, len(faces), block), desc="distances", unit="block",
                      disable=not progress):
        chunk = np.ascontiguousarray(faces[start:start + block], dtype=np.float32)
        lims, _, ids = index.range_search(chunk, sq_radius)
        counts = np.diff(lims.astype(np.int64))
        found_face.append(np.repeat(np.arange(start, start + len(chunk)), counts))
        found_ref.append(ids)
    return (np.concatenate(found_face).astype(np.int64),
            np.concatenate(found_ref).astype(np.int64))


def _pair_sq_distances(
    a: np.ndarray, ia: np.ndarray, b: np.ndarray, ib: np.ndarray, chunk: int = PAIR_CHUNK,
) -> np.ndarray:
    """Exact (float64) squared distances of the pairs (a[ia[k]], b[ib[k]]), a chunk at a time."""
    out = np.empty(len(ia))
    for start in range(0, len(ia), chunk):
        stop = start + chunk
        diff = a[ia[start:stop]].astype(np.float64) - b[ib[start:stop]]
        out[start:stop] = np.einsum("ij,ij->i", diff, diff)
    return out


def matches_within(
    faces: np.ndarray, refs: ReferenceMatrix, threshold: float, progress: bool = False,
    block: int = FACE_BLOCK,
) -> FaceMatches:
    """Every (face, person) whose min distance over that person's images is <= threshold."""
    space = refs.space
    faces = space.prepare(faces)
    empty = FaceMatches(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(faces) == 0 or len(refs.vectors) == 0:
        return empty
    if faces.shape[1] != refs.vectors.shape[1]:
        raise ValueError(f"face dimension {faces.shape[1]} != reference {refs.vectors.shape[1]}")
    sq_radius = space.to_native(threshold, "sqeuclidean") + _SQ_MARGIN
    face_idx, ref_idx = _candidate_pairs(faces, refs.vectors, sq_radius, progress, block)
    if len(face_idx) == 0:
        return empty
    dist = space.from_native(_pair_sq_distances(faces, face_idx, refs.vectors, ref_idx),
                             "sqeuclidean")
    keep = dist <= threshold
    face_idx, dist = face_idx[keep], dist[keep]
    person = refs.owner[ref_idx[keep]]
    # Min over each person's images: sort by (face, person, distance), keep the first of each pair.
    order = np.lexsort((dist, person, face_idx))
    face_idx, person, dist = face_idx[order], person[order], dist[order]
    first = np.ones(len(order), bool)
    first[1:] = (face_idx[1:] != face_idx[:-1]) | (person[1:] != person[:-1])
    return FaceMatches(face_idx[first], person[first], dist[first])


def person_distances(faces: np.ndarray, refs: ReferenceMatrix, people: np.ndarray) -> np.ndarray:
    """Exact (n_faces, len(people)) distances, each the min over that person's images."""
    faces = refs.space.prepare(faces).astype(np.float64)  # rounded as the references were
    people = np.asarray(people, dtype=np.int64)
    counts = refs.offsets[people + 1] - refs.offsets[people]
    if np.any(counts == 0):
        raise ValueError("a person without reference images has no distance")
    rows = np.concatenate([np.arange(refs.offsets[p], refs.offsets[p + 1]) for p in people])
    ref = refs.vectors[rows].astype(np.float64)
    sq = (faces * faces).sum(1)[:, None] + (ref * ref).sum(1)[None, :] - 2.0 * faces @ ref.T
    dist = refs.space.from_native(sq, "sqeuclidean")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.minimum.reduceat(dist, starts, axis=1)
