"""Headline benchmark: corpus-scale face clustering, side by side, in one run.

    python benchmarks/cluster.py [--sizes 10000 100000 1000000] [--k 5] [--cap 900]
                                 [--out benchmarks/results/cluster.txt]

Data: `skelshop.cluster.synthetic.face_like` (128-D, unit norm, Zipf-sized identities,
~0.35 within / ~0.8 between identities) with ground truth. Every method runs in its own
fresh subprocess, so its wall time includes numba compilation, and its peak memory
(max RSS, input embeddings included) is its own. Methods:

- ours/<backend>: `build_knn_graph` (exact, pynndescent, faiss HNSW, hnswlib) + our RNN-DBSCAN
  with edges over 0.6 (dlib's threshold) dropped, as `skelshop iden clus` runs it
- original: sklearn-ann's RnnDBSCAN on sklearn-ann's PyNNDescentTransformer (pynndescent
  defaults), the original SkelShop stack
- paper: our RNN-DBSCAN exactly as the paper (no edge cap), on the ours/pynndescent graph;
  paper+cannot: the same with the group shots' cannot-links split (it merges people, so
  it shows what the split does)
- same-graph: sklearn-ann's RnnDBSCAN on the graph ours/pynndescent built, so only the
  clustering code differs (its time is clus_s; ours on that graph is in the notes)
- ours+cannot/pynndescent: ours/pynndescent as `corpus run` fits it (the `RnnDbscan`
  estimator), with the cannot-links of synthetic group shots (`group_shot_pairs`: 30 % of
  tracks share a shot with 1-5 other people) enforced by splitting
- sklearn DBSCAN and HDBSCAN on the embeddings (exact)
- incremental: the synthetic faces as a corpus (`synthetic_corpus`: group shots are shots
  of their own whose tracks overlap in time, so `corpus run`'s cannot-links are the group
  shots' pairs; the other tracks each a shot; 100 tracks per video, videos in random
  order), fitted on the first 90 % of the videos as `corpus run` fits (`cluster_fixed`,
  pynndescent), then the other 10 % added as a re-run on the grown corpus adds them
  (`extend_clustering`); its time is the add alone (total_s), the notes give the fit's
  and a full refit's times, the share of the old faces keeping their cluster, how well
  the add's search finds the added faces' nearest kept faces (its index, rebuilt after
  the add, against an exact search on 2000 sampled added faces), and the refit's BCubed
  F (its b3F is the grown clustering's)

Two F columns. `b3F` scores each face's own label (noise faces as singletons). `b3F_trk`
(b3F tracks) is the BCubed F of the per-track labels skelshop writes, which is what a
user sees: every method's face labels are pooled into track labels by the product's own
function (`corpus_clustering.nodes.pooled_labels` under the default `vote` pooling, on the
synthetic corpus: a track takes the label most of its faces got; a tie or no votes is
noise), each face is scored with its track's label, and each unclustered (`noclus`) track
is a singleton cluster of its own, as identities.csv shows it (one person seen once). The
incremental row's track labels are the ones `extend_clustering` itself wrote (old tracks
keep theirs). Peers (sklearn DBSCAN, sklearn-ann, ...) are pooled by the same rule, so
the comparison stays fair.

`viol` counts cannot-link violations: track pairs seen in one shot that the method's
track labels (majority of their faces) put in one cluster.

Each run gets `--cap` seconds and a 12 GiB address-space limit; a method that runs out of
either is reported as such, and methods whose cost grows quadratically are not started at
a size where the previous size's time projects past the cap (near-linear ones always run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MEM_CAP_BYTES = 12 << 30
DBSCAN_EPS = 0.5  # best pairwise F on the 10k set over eps {0.45, 0.5, 0.55} x min_samples {3, 5}
MAX_DIST = 0.6  # dlib's same-person threshold, for `rnn_dbscan(max_distance=...)`
DBSCAN_MIN_SAMPLES = 3
HDBSCAN_MIN_SAMPLES = 3


# --------------------------------------------------------------------------- workers


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def _emit(**values: object) -> None:
    print(json.dumps(values), flush=True)


def _save_graph(out: Path, indices: np.ndarray, distances: np.ndarray) -> None:
    np.save(out / "graph_indices.npy", indices)
    np.save(out / "graph_distances.npy", distances)


def work_ours(backend: str, x: np.ndarray, k: int, out: Path) -> None:
    from skelshop.cluster.knn import build_knn_graph
    from skelshop.cluster.rnn_dbscan import rnn_dbscan

    start = time.perf_counter()
    graph = build_knn_graph(x, k, backend=backend, seed=0, threads=2, exact_below=0)
    built = time.perf_counter()
    result = rnn_dbscan(graph, max_distance=MAX_DIST)
    done = time.perf_counter()
    np.save(out / "labels.npy", result.labels)
    _save_graph(out, graph.indices, graph.distances)
    _emit(graph_s=built - start, clus_s=done - built, peak_gb=_peak_gb())


def work_ours_cannot(backend: str, x: np.ndarray, k: int, out: Path, data: Path) -> None:
    from skelshop.cluster.estimators import RnnDbscan
    from skelshop.cluster.knn import build_knn_graph

    track = np.load(data.with_name(data.stem + "_track.npy"))
    pairs = np.load(data.with_name(data.stem + "_pairs.npy"))
    start = time.perf_counter()
    graph = build_knn_graph(x, k, backend=backend, seed=0, threads=2, exact_below=0)
    built = time.perf_counter()
    model = RnnDbscan(k=k, max_dist=MAX_DIST).fit(x, graph=graph, groups=track, cannot_link=pairs)
    done = time.perf_counter()
    np.save(out / "labels.npy", model.labels_)
    _emit(graph_s=built - start, clus_s=done - built, peak_gb=_peak_gb(),
          viol_fit=model.n_violations_fit_)


TRACKS_PER_VIDEO = 100
ADD_FRAC = 0.1


def synthetic_corpus(x: np.ndarray, track: np.ndarray, shot_of: np.ndarray,
                     seed: int = 0) -> tuple[object, np.ndarray]:
    """The faces as a corpus: (CorpusFaces, original row of each corpus face).

    A group shot's tracks share one shot of one video, their faces at frames 0, 10, 20, so
    their spans overlap; every other track is a shot of its own.
    """
    from skelshop.corpus_clustering.faces import CorpusFaces
    from skelshop.formats.face_dump import EmbedderInfo

    n_tracks = int(track.max()) + 1
    n_shots = int(shot_of.max(initial=-1)) + 1
    unit = np.where(shot_of >= 0, shot_of, n_shots + np.arange(n_tracks))
    units, unit_of_track = np.unique(unit, return_inverse=True)
    unit_order = np.random.default_rng(seed).permutation(len(units))
    rank = np.empty(len(units), dtype=np.int64)
    rank[unit_order] = np.arange(len(units))
    track_rank = rank[unit_of_track]
    order = np.lexsort((np.arange(n_tracks), track_rank))  # tracks in corpus order
    size = np.bincount(track_rank, minlength=len(units))
    unit_start = np.concatenate([[0], np.cumsum(size)[:-1]])  # tracks before each unit
    unit_video = unit_start // TRACKS_PER_VIDEO
    track_video = unit_video[track_rank]
    video_first_unit = np.searchsorted(unit_video, unit_video)
    track_seg = (np.arange(len(units)) - video_first_unit)[track_rank]
    corpus_track = np.empty(n_tracks, dtype=np.int64)
    corpus_track[order] = np.arange(n_tracks)
    rows = np.lexsort((np.arange(len(track)), corpus_track[track]))
    group = corpus_track[track[rows]]
    first = np.searchsorted(group, group)
    frame = 10 * (np.arange(len(rows)) - first)
    pers = np.arange(n_tracks) - unit_start[track_rank[order]]  # place in its shot, per corpus track
    n_videos = int(track_video.max()) + 1
    names = [f"/synthetic/v{v:05d}.mp4" for v in range(n_videos)]
    faces = CorpusFaces(EmbedderInfo("dlib-resnet-v1", "euclidean", 0.6), names,
                        [n[:-4] + ".faces.h5" for n in names], np.ascontiguousarray(x[rows]),
                        track_video[order][group].astype(np.int32), frame.astype(np.int64),
                        pers[group].astype(np.int64), track_seg[order][group].astype(np.int32),
                        group.astype(np.int64), track_video[order].astype(np.int32),
                        track_seg[order].astype(np.int32), pers.astype(np.int64))
    return faces, rows


def work_incremental(x: np.ndarray, k: int, out: Path, data: Path) -> None:
    from skelshop.cluster.synthetic import group_shots
    from skelshop.corpus_clustering.faces import subset_faces
    from skelshop.corpus_clustering.incremental import extend_clustering
    from skelshop.corpus_clustering.outputs import cluster_model
    from skelshop.corpus_clustering.run import ClusSettings, cluster_fixed

    track = np.load(data.with_name(data.stem + "_track.npy"))
    identity = np.load(data.with_name(data.stem + "_identity.npy"))
    faces, rows = synthetic_corpus(x, track, group_shots(track, identity, seed=0))
    cut = round((int(faces.track_video.max()) + 1) * (1 - ADD_FRAC))
    settings = ClusSettings(ann_lib="pynndescent", k=k, threads=2)
    old, old_rows = subset_faces(faces, np.flatnonzero(faces.track_video < cut))
    start = time.perf_counter()
    fitted = cluster_fixed(old, settings, "bench", progress=False)
    fit_s = time.perf_counter() - start
    model = cluster_model(fitted, settings)
    _emit(fit_s=fit_s)
    start = time.perf_counter()
    grown, ext = extend_clustering(model, faces, settings, "bench", progress=False)
    add_s = time.perf_counter() - start
    _emit(add_s=add_s, peak_gb=_peak_gb())
    labels = np.full(len(x), -1, dtype=np.int32)
    labels[rows] = grown.face_labels
    np.save(out / "labels.npy", labels)
    np.save(out / "track_labels.npy", grown.track_labels)  # per corpus track, as written
    kept = grown.face_labels[old_rows] == fitted.face_labels
    _emit(**add_search_recall(faces, faces.video_idx >= cut))
    start = time.perf_counter()
    refit = cluster_fixed(faces, settings, "bench", progress=False)
    refit_s = time.perf_counter() - start
    refit_labels = np.full(len(x), -1, dtype=np.int32)
    refit_labels[rows] = refit.face_labels
    np.save(out / "labels_refit.npy", refit_labels)
    np.save(out / "track_labels_refit.npy", refit.track_labels)
    _emit(fit_s=fit_s, add_s=add_s, refit_s=refit_s, peak_gb=_peak_gb(),
          old_kept=float(kept.mean()), added=int((faces.track_video >= cut).sum()),
          predicted=ext.predicted_tracks, new_clusters=ext.new_clusters,
          viol_grown=grown.violations, viol_refit=refit.violations)


RECALL_SAMPLE = 2000


def add_search_recall(faces: object, is_new: np.ndarray, seed: int = 0) -> dict:
    """How well the add's search of its new faces against the kept ones finds their nearest:
    the same index (`knn.KnnIndex` over the corpus, kept faces part 0, as `extend_clustering`
    builds it) against an exact search, on sampled added faces."""
    from skelshop.cluster.knn.exact import nearest_sq
    from skelshop.cluster.knn.query import KnnIndex
    from skelshop.corpus_clustering.nodes import make_nodes

    space = make_nodes(faces, "vote").space
    index = KnnIndex(faces.embed, space, seed, threads=2, part=is_new.astype(np.int64))
    rng = np.random.default_rng(seed)
    new_rows, old_rows = np.flatnonzero(is_new), np.flatnonzero(~is_new)
    sample = np.sort(rng.choice(new_rows, size=min(RECALL_SAMPLE, len(new_rows)), replace=False))
    d_ivf, ivf = index.search(faces.embed[sample], 5, parts=(0,))[0]
    sq, exact = nearest_sq(space.prepare(faces.embed[sample]), index.x[old_rows], 5)
    exact = old_rows[exact]
    d_exact = space.from_native(sq, "sqeuclidean")
    return {"ivf_recall1": float((ivf[:, 0] == exact[:, 0]).mean()),
            "ivf_recall5": float(np.mean([len(np.intersect1d(a, b)) / 5
                                          for a, b in zip(ivf, exact, strict=True)])),
            "ivf_dist_ratio": float(np.mean(d_ivf[:, 0] / np.maximum(d_exact[:, 0], 1e-12))),
            "ivf_sample": len(sample)}


def work_original(x: np.ndarray, k: int, out: Path) -> None:
    import scipy.sparse as sp
    from sklearn_ann.cluster.rnn_dbscan import RnnDBSCAN
    from sklearn_ann.kneighbors.pynndescent import PyNNDescentTransformer

    start = time.perf_counter()
    transformer = PyNNDescentTransformer(n_neighbors=k, n_jobs=2)
    # pynndescent >= 0.5.13 returns a csr_array, which sklearn-ann 0.1.4 cannot read
    # (it calls `getnnz`): the original stack fails as installed; convert, as a user must.
    matrix = sp.csr_matrix(transformer.fit_transform(x))
    built = time.perf_counter()
    _emit(graph_s=built - start)
    labels = RnnDBSCAN(n_neighbors=k, input_guarantee="kneighbors").fit(matrix).labels_
    done = time.perf_counter()
    np.save(out / "labels.npy", np.asarray(labels))
    indices, _ = transformer.index_.neighbor_graph
    is_self = indices == np.arange(len(x))[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    np.save(out / "graph_indices.npy", indices[~is_self].reshape(len(x), -1))
    _emit(graph_s=built - start, clus_s=done - built, peak_gb=_peak_gb())


def work_same_graph(graph_dir: Path, out: Path) -> None:
    import scipy.sparse as sp
    from sklearn_ann.cluster.rnn_dbscan import RnnDBSCAN

    from skelshop.cluster.knn.graph import KnnGraph
    from skelshop.cluster.rnn_dbscan import rnn_dbscan

    indices = np.load(graph_dir / "graph_indices.npy")
    distances = np.load(graph_dir / "graph_distances.npy")
    n, k = indices.shape
    graph = KnnGraph(indices, distances)
    start = time.perf_counter()
    ours = rnn_dbscan(graph)
    _emit(ours_clus_s=time.perf_counter() - start)
    np.save(out / "labels_ours.npy", ours.labels)
    # sklearn's layout: each row lists itself first at distance 0, then its k neighbours
    idx = np.hstack([np.arange(n)[:, None], indices]).ravel()
    dst = np.hstack([np.zeros((n, 1), np.float32), distances]).ravel()
    matrix = sp.csr_matrix((dst, idx, np.arange(0, n * (k + 1) + 1, k + 1)), shape=(n, n))
    start = time.perf_counter()
    theirs = RnnDBSCAN(n_neighbors=k, input_guarantee="kneighbors").fit(matrix).labels_
    _emit(theirs_clus_s=time.perf_counter() - start)
    np.save(out / "labels.npy", np.asarray(theirs))


def work_paper(graph_dir: Path, out: Path) -> None:
    from skelshop.cluster.knn.graph import KnnGraph
    from skelshop.cluster.rnn_dbscan import rnn_dbscan

    graph = KnnGraph(np.load(graph_dir / "graph_indices.npy"),
                     np.load(graph_dir / "graph_distances.npy"))
    start = time.perf_counter()
    labels = rnn_dbscan(graph).labels
    _emit(clus_s=time.perf_counter() - start, peak_gb=_peak_gb())
    np.save(out / "labels.npy", labels)


def work_paper_cannot(graph_dir: Path, data: Path, out: Path) -> None:
    from skelshop.cluster.estimators import RnnDbscan
    from skelshop.cluster.knn.graph import KnnGraph

    graph = KnnGraph(np.load(graph_dir / "graph_indices.npy"),
                     np.load(graph_dir / "graph_distances.npy"))
    x = np.load(data)
    track = np.load(data.with_name(data.stem + "_track.npy"))
    pairs = np.load(data.with_name(data.stem + "_pairs.npy"))
    start = time.perf_counter()
    model = RnnDbscan(k=graph.k).fit(x, graph=graph, groups=track, cannot_link=pairs)
    _emit(clus_s=time.perf_counter() - start, peak_gb=_peak_gb(),
          viol_fit=model.n_violations_fit_)
    np.save(out / "labels.npy", model.labels_)


def work_sklearn(name: str, x: np.ndarray, out: Path) -> None:
    from sklearn.cluster import DBSCAN, HDBSCAN

    start = time.perf_counter()
    if name == "dbscan":
        model = DBSCAN(eps=DBSCAN_EPS, min_samples=DBSCAN_MIN_SAMPLES, n_jobs=2).fit(x)
    else:
        model = HDBSCAN(min_cluster_size=max(2, HDBSCAN_MIN_SAMPLES),
                        min_samples=HDBSCAN_MIN_SAMPLES, n_jobs=2).fit(x)
    done = time.perf_counter()
    np.save(out / "labels.npy", np.asarray(model.labels_))
    _emit(clus_s=done - start, peak_gb=_peak_gb())


def worker(args: argparse.Namespace) -> None:
    out = Path(args.out_dir)
    if args.worker == "same-graph":
        work_same_graph(Path(args.graph_dir), out)
        return
    if args.worker == "paper":
        work_paper(Path(args.graph_dir), out)
        return
    if args.worker == "paper+cannot":
        work_paper_cannot(Path(args.graph_dir), Path(args.data), out)
        return
    x = np.load(args.data)
    if args.worker.startswith("ours/"):
        work_ours(args.worker.split("/", 1)[1], x, args.k, out)
    elif args.worker.startswith("ours+cannot/"):
        work_ours_cannot(args.worker.split("/", 1)[1], x, args.k, out, Path(args.data))
    elif args.worker == "incremental":
        work_incremental(x, args.k, out, Path(args.data))
    elif args.worker == "original":
        work_original(x, args.k, out)
    else:
        work_sklearn(args.worker.split("/", 1)[1], x, out)


# --------------------------------------------------------------------------- driver


@dataclass
class Method:
    """A benchmarked method and how its cost grows with N (for skipping hopeless sizes)."""

    name: str
    label: str
    growth: float  # exponent of N in its running time
    needs_hnswlib: bool = False
    last: tuple[int, float] | None = None  # (N, seconds) of its last finished run
    failed_at: int | None = None
    failure: str = ""


@dataclass
class Row:
    """One table line."""

    n: int
    method: str
    values: dict = field(default_factory=dict)
    status: str = ""


# Only methods growing this fast are skipped on a projection: a near-linear one's small-N
# time is mostly fixed cost (numba compilation: 76 s at 10k on a loaded machine), which
# would project far past its real time; the cap stops it if it does run long.
QUADRATIC = 1.5
SHARED_GRAPH = ("paper", "paper+cannot", "same-graph")  # cluster the graph ours/pynndescent built
METHODS = [
    Method("ours/exact", "ours, exact kNN (BLAS)", 2.0),
    Method("ours/pynndescent", "ours, pynndescent", 1.1),
    Method("ours/faiss", "ours, faiss HNSW", 1.1),
    Method("ours/hnswlib", "ours, hnswlib", 1.1, needs_hnswlib=True),
    Method("ours+cannot/pynndescent", "ours, pynndescent, cannot-links split", 1.1),
    Method("paper", "ours uncapped (paper), our pynnd graph", 1.1),
    Method("paper+cannot", "uncapped (paper), cannot-links split", 1.1),
    Method("original", "sklearn-ann RnnDBSCAN + pynndescent", 1.1),
    Method("same-graph", "sklearn-ann RnnDBSCAN, our pynnd graph", 1.1),
    Method("sklearn/dbscan", f"sklearn DBSCAN eps={DBSCAN_EPS} ms={DBSCAN_MIN_SAMPLES}", 2.0),
    Method("sklearn/hdbscan", f"sklearn HDBSCAN ms={HDBSCAN_MIN_SAMPLES}", 2.0),
    Method("incremental", "corpus: fit 90 % (pynnd), add 10 %", 1.1),
]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEM_CAP_BYTES, MEM_CAP_BYTES))


def run_worker(args: list[str], cap: float) -> tuple[dict, str]:
    """Run one worker subprocess; merge its JSON lines; say how it ended."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=cap,
                              preexec_fn=_limit_memory, env=env)
        out, status = proc.stdout, "" if proc.returncode == 0 else _failure(proc.stderr)
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
        status = f"did not finish within the {cap:.0f} s cap"
    values: dict = {}
    for line in out.splitlines():
        if line.startswith("{"):
            values.update(json.loads(line))
    return values, status


def _failure(stderr: str) -> str:
    if "MemoryError" in stderr or "Unable to allocate" in stderr or "bad_alloc" in stderr:
        return f"out of memory (cap {MEM_CAP_BYTES >> 30} GiB)"
    last = [line for line in stderr.strip().splitlines() if line.strip()]
    return "failed: " + (last[-1][:80] if last else "killed")


@dataclass
class TrackView:
    """The synthetic faces as `corpus run` sees them, for pooling labels as the product does."""

    faces: object  # CorpusFaces
    nodes: object  # Nodes under the default vote pooling
    rows: np.ndarray  # original row of each corpus face
    y: np.ndarray  # ground-truth identity of each corpus face


def track_view(x: np.ndarray, y: np.ndarray, track: np.ndarray) -> TrackView:
    """The same synthetic corpus the incremental worker builds (same seed, same track numbers)."""
    from skelshop.cluster.synthetic import group_shots
    from skelshop.corpus_clustering.nodes import make_nodes

    faces, rows = synthetic_corpus(x, track, group_shots(track, y, seed=0))
    return TrackView(faces, make_nodes(faces, "vote"), rows, y[rows])


def track_bcubed_f(view: TrackView, face_labels: np.ndarray | None = None,
                   track_labels: np.ndarray | None = None) -> float:
    """BCubed F of per-track labels (pooled by the product from face labels unless given),
    each face scored with its track's label, each unclustered track a singleton."""
    from skelshop.cluster.metrics import bcubed_scores
    from skelshop.corpus_clustering.nodes import pooled_labels

    if track_labels is None:
        _, track_labels = pooled_labels(view.faces, view.nodes,
                                        np.asarray(face_labels)[view.rows])
    track_labels = np.asarray(track_labels, dtype=np.int64).copy()
    noclus = track_labels < 0
    track_labels[noclus] = track_labels.max(initial=-1) + 1 + np.arange(int(noclus.sum()))
    return bcubed_scores(view.y, track_labels[view.faces.group]).f1


def evaluate(row: Row, y: np.ndarray, x: np.ndarray, folder: Path, k: int,
             track: np.ndarray, pairs: np.ndarray, view: TrackView) -> None:
    """Add F scores, cannot-link violations and graph recall for what the worker left."""
    from skelshop.cluster.cannot_link import count_violations, group_vote
    from skelshop.cluster.knn.exact import exact_search
    from skelshop.cluster.metrics import bcubed_scores, pairwise_scores

    labels_path = folder / "labels.npy"
    refit_path = folder / "labels_refit.npy"
    if refit_path.exists():
        refit_labels = np.load(refit_path)
        row.values["refit_bcubed_f"] = bcubed_scores(y, refit_labels).f1
        refit_tracks = folder / "track_labels_refit.npy"
        row.values["refit_track_f"] = track_bcubed_f(
            view, refit_labels, np.load(refit_tracks) if refit_tracks.exists() else None)
    if labels_path.exists():
        labels = np.load(labels_path)
        row.values["pairwise_f"] = pairwise_scores(y, labels).f1
        row.values["bcubed_f"] = bcubed_scores(y, labels).f1
        tracks_path = folder / "track_labels.npy"
        row.values["track_f"] = track_bcubed_f(
            view, labels, np.load(tracks_path) if tracks_path.exists() else None)
        row.values["clusters"] = int(labels.max(initial=-1)) + 1
        row.values["noise"] = float((labels < 0).mean())
        track_labels = group_vote(labels, track, int(track.max()) + 1)
        row.values["viol"] = count_violations(track_labels, pairs)
    graph_path = folder / "graph_indices.npy"
    if graph_path.exists():
        indices = np.load(graph_path)[:, :k]
        rng = np.random.default_rng(0)
        rows = np.sort(rng.choice(len(x), size=min(1000, len(x)), replace=False))
        _, truth = exact_search(x[rows], x, k + 1)
        hits = sum(len(np.intersect1d(t[t != r][:k], indices[r]))
                   for r, t in zip(rows, truth, strict=True))
        row.values["recall"] = hits / (len(rows) * k)


def fmt_row(row: Row) -> str:
    """A fixed-width table line."""
    v = row.values

    def num(key: str, spec: str) -> str:
        return format(v[key], spec) if key in v else "-"

    total = v.get("graph_s", 0.0) + v.get("clus_s", 0.0) if "clus_s" in v else v.get("add_s")
    cells = [
        f"{row.n:>8}", f"{row.method:<40}",
        f"{num('graph_s', '.1f'):>8}", f"{num('clus_s', '.2f'):>8}",
        f"{format(total, '.1f') if total is not None else '-':>8}",
        f"{num('peak_gb', '.2f'):>6}", f"{num('recall', '.3f'):>6}",
        f"{num('pairwise_f', '.3f'):>6}", f"{num('bcubed_f', '.3f'):>6}",
        f"{num('track_f', '.3f'):>7}",
        f"{num('clusters', 'd'):>7}", f"{num('noise', '.3f'):>6}", f"{num('viol', 'd'):>6}",
    ]
    line = " ".join(cells)
    return f"{line}  {row.status}" if row.status else line


HEADER = (f"{'N':>8} {'method':<40} {'graph_s':>8} {'clus_s':>8} {'total_s':>8} "
          f"{'peakGB':>6} {'recall':>6} {'pairF':>6} {'b3F':>6} {'b3F_trk':>7} {'clusters':>7} {'noise':>6} "
          f"{'viol':>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--cap", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--methods", nargs="+", default=None, help="only these method names")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    parser.add_argument("--worker", default=None)
    parser.add_argument("--data")
    parser.add_argument("--out-dir")
    parser.add_argument("--graph-dir")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    import importlib.util

    from skelshop.cluster.synthetic import face_like_tracks, group_shot_pairs

    lines: list[str] = []
    partial = args.out.with_name(args.out.name + ".part") if args.out is not None else None

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)
        if args.out is not None:  # progress goes to OUT.part; OUT appears complete at the end
            args.out.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text("\n".join(lines) + "\n")

    have_hnswlib = importlib.util.find_spec("hnswlib") is not None
    methods = [m for m in METHODS if args.methods is None or m.name in args.methods]
    say(f"# benchmarks/cluster.py  k={args.k}  cap={args.cap:.0f} s/run  "
        f"memory cap={MEM_CAP_BYTES >> 30} GiB  {time.strftime('%Y-%m-%d %H:%M')}")
    say(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, load average at start "
        f"{os.getloadavg()[0]:.1f} (CPU shared with other jobs: times are upper bounds)")
    say(f"# ours = our kNN graph + our RNN-DBSCAN with kNN edges > {MAX_DIST} dropped "
        "(the `skelshop iden clus` default); 'uncapped (paper)' = the same without the cap")
    say("# times: wall seconds, fresh process per run, numba JIT compilation included "
        "(ours: importing the kNN library too), data loading excluded; peakGB = max RSS incl. the input embeddings; recall = graph recall@k "
        "vs exact neighbours on 1000 sampled rows; pairF/b3F = pairwise/BCubed F1 vs "
        "ground truth, per face (each face its own label), noise counted as singletons")
    say("# b3F_trk = b3F tracks = BCubed F of the per-track labels skelshop writes (face labels "
        "pooled to tracks by `pooled_labels`, vote: a track's majority label; every method, "
        "peers included); noclus tracks as singletons (one person seen once)")
    say(HEADER)
    with tempfile.TemporaryDirectory(prefix="skelshop-bench-") as tmp:
        for n in args.sizes:
            synth = face_like_tracks(n, seed=0)
            x, y, track = synth.x, synth.identity, synth.track
            pairs = group_shot_pairs(track, y, seed=0)
            data = Path(tmp) / f"x{n}.npy"
            np.save(data, x)
            np.save(data.with_name(data.stem + "_track.npy"), track)
            np.save(data.with_name(data.stem + "_pairs.npy"), pairs)
            np.save(data.with_name(data.stem + "_identity.npy"), y)
            view = track_view(x, y, track)
            say(f"# N={n}: {int(track.max()) + 1} tracks, {len(pairs)} cannot-link pairs "
                "from synthetic group shots")
            graph_dirs: dict[str, Path] = {}
            graph_rows: dict[str, Row] = {}
            for m in methods:
                row = Row(n, m.label)
                folder = Path(tmp) / f"{n}-{m.name.replace('/', '-')}"
                folder.mkdir()
                if m.needs_hnswlib and not have_hnswlib:
                    row.status = "not run: hnswlib not installed"
                elif m.failed_at is not None:
                    row.status = f"not run: {m.failure} at N={m.failed_at}"
                elif (m.growth >= QUADRATIC and m.last is not None
                      and m.last[1] * (n / m.last[0]) ** m.growth > args.cap):
                    projected = m.last[1] * (n / m.last[0]) ** m.growth
                    row.status = (f"not run: ~{projected / 3600:.1f} h projected from "
                                  f"N={m.last[0]} (> cap)")
                elif m.name in SHARED_GRAPH and "ours/pynndescent" not in graph_dirs:
                    row.status = "not run: needs the ours/pynndescent graph"
                else:
                    worker_args = [m.name, "--data", str(data), "--k", str(args.k),
                                   "--out-dir", str(folder)]
                    if m.name in SHARED_GRAPH:
                        worker_args += ["--graph-dir", str(graph_dirs["ours/pynndescent"])]
                    start = time.perf_counter()
                    row.values, row.status = run_worker(worker_args, args.cap)
                    elapsed = time.perf_counter() - start
                    if row.status:
                        m.failed_at, m.failure = n, row.status
                    else:
                        m.last = (n, elapsed)
                    if m.name.startswith("ours/") and not row.status:
                        graph_dirs[m.name] = folder
                        graph_rows[m.name] = row
                    if m.name == "same-graph":
                        _same_graph_values(row, folder)
                    evaluate(row, y, x, folder, args.k, track, pairs, view)
                    if "add_s" in row.values:
                        row.status = _incremental_notes(row.values) + (
                            f"; {row.status}" if row.status else "")
                    if "viol_fit" in row.values:
                        row.status = (f"{row.values.pop('viol_fit')} violated before the split"
                                      + (f"; {row.status}" if row.status else ""))
                    if m.name in SHARED_GRAPH and "ours/pynndescent" in graph_rows:
                        shared = graph_rows["ours/pynndescent"].values
                        for key in ("graph_s", "recall"):
                            if key in shared:
                                row.values[key] = shared[key]
                say(fmt_row(row))
            del x, y, track, pairs, view
    say(f"# load average at end {os.getloadavg()[0]:.1f}")
    if partial is not None:
        os.replace(partial, args.out)


def _incremental_notes(v: dict) -> str:
    """The incremental row's notes: fit and refit times, old faces kept, the refit's F."""
    notes = [f"fit 90 % {v['fit_s']:.1f} s"]
    if "refit_s" in v:
        notes.append(f"full refit {v['refit_s']:.1f} s")
    if "old_kept" in v:
        notes.append(f"old faces keeping their cluster {100 * v['old_kept']:.2f} %")
    if "ivf_recall1" in v:
        notes.append(f"add's search vs exact on {v['ivf_sample']} added faces: nearest kept face "
                     f"found {v['ivf_recall1']:.4f}, recall@5 {v['ivf_recall5']:.4f}, "
                     f"found/true nearest distance {v['ivf_dist_ratio']:.4f}")
    if "refit_bcubed_f" in v and "bcubed_f" in v:
        notes.append(f"refit b3F {v['refit_bcubed_f']:.3f} "
                     f"(grown - refit {v['bcubed_f'] - v['refit_bcubed_f']:+.4f})")
    if "refit_track_f" in v and "track_f" in v:
        notes.append(f"refit b3F_trk {v['refit_track_f']:.3f} "
                     f"(grown - refit {v['track_f'] - v['refit_track_f']:+.4f})")
    if "viol_refit" in v:
        notes.append(f"refit viol {v['viol_refit']}")
    if "added" in v:
        notes.append(f"{v['added']} tracks added, {v['predicted']} joined old clusters, "
                     f"{v['new_clusters']} new clusters")
    return "; ".join(notes)


def _same_graph_values(row: Row, folder: Path) -> None:
    """Show sklearn-ann's clustering time as clus_s and ours next to it."""
    v = row.values
    ours, theirs = v.pop("ours_clus_s", None), v.pop("theirs_clus_s", None)
    if theirs is not None:
        v["clus_s"] = theirs
    notes = []
    if ours is not None:
        notes.append(f"ours {ours:.2f} s")
    if theirs is not None:
        notes.append(f"sklearn-ann {theirs:.2f} s")
    ours_path, theirs_path = folder / "labels_ours.npy", folder / "labels.npy"
    if ours_path.exists() and theirs_path.exists():
        same = float((np.load(ours_path) == np.load(theirs_path)).mean())
        notes.append(f"same label {same:.4f}")
    row.status = "; ".join(notes) + (f"; sklearn-ann {row.status}" if row.status else "")


if __name__ == "__main__":
    main()
