"""`skelshop iden clus fixed|search CORPUS.csv`: cluster every face of a corpus."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from skelshop.cluster.choices import (
    ALGORITHM_NAMES,
    ALGORITHM_PARAMS,
    GRAPH_ALGORITHMS,
    KNN_BACKEND_NAMES,
    POOL_NAMES,
    PROTOTYPE_METHOD_NAMES,
)
from skelshop.errors import SkelshopError
from skelshop.output_guard import check_outputs

if TYPE_CHECKING:  # the clustering stack imports numpy, scipy and sklearn: only when run
    from skelshop.cluster.search import SearchRow
    from skelshop.corpus_clustering.run import ClusOutcome, ClusSettings
    from skelshop.formats.corpus import CorpusEntry

PathArg = click.Path(path_type=Path)


def _say(message: str) -> None:
    click.echo(message, err=True)


def _common_options(func: Callable) -> Callable:
    options = [
        click.argument("corpus_desc", type=PathArg),
        click.option("--corpus-base", type=click.Path(path_type=Path, file_okay=False),
                     help="Folder that relative paths in the corpus CSV are relative to."),
        click.option("--proto-out", type=PathArg, help="Write prototypes CSV here."),
        click.option("--model-out", type=PathArg,
                     help="Write the clustering model here (HDF5, whatever the name)."),
        click.option("--num-protos", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Prototypes per cluster."),
        click.option("--proto-method", type=click.Choice(PROTOTYPE_METHOD_NAMES), default="rnn",
                     show_default=True,
                     help="rnn: most in-cluster reverse neighbours; medoid: most central."),
        click.option("--algorithm", type=click.Choice(ALGORITHM_NAMES), default="rnn-dbscan",
                     show_default=True,
                     help="rnn-dbscan and dbscan run on the kNN graph; the others on all pairs."),
        click.option("--ann-lib", type=click.Choice(KNN_BACKEND_NAMES), default="pynndescent",
                     show_default=True, help="kNN graph backend."),
        click.option("--knn", type=click.IntRange(min=1), default=5, show_default=True,
                     help="k of the kNN graph (RNN-DBSCAN's only parameter)."),
        click.option("--pool", type=click.Choice(POOL_NAMES), default="vote", show_default=True,
                     help="vote: cluster faces, tracks take the majority; min/med: cluster "
                          "tracks by min face distance / medoid face."),
        click.option("--eps", type=float, default=None,
                     help="DBSCAN radius (default: the embedder's same-person threshold)."),
        click.option("--min-samples", type=click.IntRange(min=1), default=3, show_default=True,
                     help="DBSCAN/OPTICS/HDBSCAN density (the point itself included)."),
        click.option("--max-dist", type=float, default=None,
                     help="RNN-DBSCAN: kNN edges longer than this are not edges, so hub "
                          "faces cannot chain identities together (default: the embedder's "
                          "same-person threshold; `inf` for the paper's uncapped graph)."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Seed of the kNN graph backends and samplings."),
        click.option("--threads", type=click.IntRange(min=1), default=None,
                     help="CPU threads (default: all this process may use)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(kwargs: dict) -> ClusSettings:
    from skelshop.corpus_clustering.run import ClusSettings

    if kwargs["pool"] == "min" and kwargs["algorithm"] not in GRAPH_ALGORITHMS:
        raise click.UsageError("--pool min compares tracks through the kNN graph; use it "
                               "with --algorithm rnn-dbscan or dbscan")
    for name in ("eps", "max_dist"):
        value = kwargs[name]
        if value is not None and (math.isnan(value) or value <= 0):
            raise click.BadParameter(f"{value} is not a usable distance",
                                     param_hint="--" + name.replace("_", "-"))
    return ClusSettings(
        algorithm=kwargs["algorithm"], ann_lib=kwargs["ann_lib"], k=kwargs["knn"],
        pool=kwargs["pool"], eps=kwargs["eps"], min_samples=kwargs["min_samples"],
        max_dist=kwargs["max_dist"], seed=kwargs["seed"],
        num_protos=kwargs["num_protos"], proto_method=kwargs["proto_method"],
        threads=kwargs["threads"],
    )


def _entries(kwargs: dict) -> list[CorpusEntry]:
    from skelshop.formats.corpus import read_corpus

    corpus = kwargs["corpus_desc"]
    entries = read_corpus(corpus, kwargs["corpus_base"])
    missing = [str(e.video) for e in entries if e.segsout is None]
    if missing:
        raise SkelshopError(corpus, f"no segsout path for {len(missing)} video(s), e.g. "
                                    f"{missing[0]}; the segsout column is required")
    return entries


def _inputs_and_outputs(kwargs: dict, entries: list[CorpusEntry]) -> tuple[list[Path], list[Path]]:
    """What `clus` reads (corpus CSV, dumps, scenes, videos) and writes (segsout, protos, model)."""
    inputs = [kwargs["corpus_desc"]]
    for entry in entries:
        inputs += [p for p in (entry.faces, entry.group, entry.video) if p and str(p) not in ("", ".")]
    outputs = [e.segsout for e in entries if e.segsout is not None]
    outputs += [p for p in (kwargs["proto_out"], kwargs["model_out"]) if p is not None]
    return inputs, outputs


def _report(outcome: ClusOutcome, written: list[Path]) -> None:
    for note in outcome.notes:
        _say(f"note: {note}")
    labels = outcome.clustering.labels
    what = "faces" if outcome.nodes.pool == "vote" else "tracks"
    noise = int((labels < 0).sum())
    tracks_noise = int((outcome.track_labels < 0).sum())
    _say(f"{outcome.faces.n_faces} faces in {outcome.faces.n_tracks} tracks from "
         f"{len(outcome.faces.videos)} videos: {outcome.clustering.n_clusters} clusters, "
         f"{noise} of {len(labels)} {what} noise, {tracks_noise} tracks noclus")
    for path in written:
        _say(f"wrote {path}")


def _run(ctx: click.Context, kwargs: dict, search: bool) -> None:
    from skelshop.corpus_clustering.faces import load_corpus_faces
    from skelshop.corpus_clustering.outputs import write_outputs
    from skelshop.corpus_clustering.run import cluster_fixed, cluster_search

    settings = _settings(kwargs)
    entries = _entries(kwargs)
    inputs, outputs = _inputs_and_outputs(kwargs, entries)
    # Before any work: a bad --model-out must not fail after segsout and protos were written.
    check_outputs(inputs=inputs, files=outputs)
    progress = bool((ctx.obj or {}).get("progress", True))
    faces = load_corpus_faces(entries, kwargs["corpus_desc"], progress=progress)
    if search:
        used = ALGORITHM_PARAMS[settings.algorithm]
        _say(SEARCH_HEADER)
        outcome = cluster_search(faces, settings, kwargs["corpus_desc"], progress,
                                 on_row=lambda row: _say(_search_line(row, used)))
        assert outcome.best is not None and outcome.search is not None
        _say(f"best ({settings.algorithm}): "
             + " ".join(_search_line(outcome.search[outcome.best], used).split()))
    else:
        outcome = cluster_fixed(faces, settings, kwargs["corpus_desc"], progress)
    written = write_outputs(entries, outcome, settings, kwargs["proto_out"],
                            kwargs["model_out"])
    _report(outcome, written)


SEARCH_HEADER = (f"{'k':>4} {'eps':>6} {'min_s':>5} {'clusters':>8} {'noise':>6} "
                 f"{'silh':>6} {'must':>6} {'cannot':>6} {'agree':>6} {'score':>6}")


def _search_line(row: SearchRow, used: tuple[str, ...]) -> str:
    p = row.params
    k = f"{p.k}" if "k" in used else "-"
    eps = f"{p.eps:.3f}" if "eps" in used else "-"
    min_s = f"{p.min_samples}" if "min_samples" in used else "-"
    sil = "-" if math.isnan(row.silhouette) else f"{row.silhouette:.3f}"
    return (f"{k:>4} {eps:>6} {min_s:>5} {row.n_clusters:>8} {row.noise:>6.3f} "
            f"{sil:>6} {row.tracks.must_link:>6.3f} {row.tracks.cannot_link:>6.3f} "
            f"{row.tracks.agreement:>6.3f} {row.score:>6.3f}")


@click.group()
def clus() -> None:
    """Cluster the faces of every video in a corpus description CSV."""


@clus.command()
@_common_options
@click.pass_context
def fixed(ctx: click.Context, **kwargs: object) -> None:
    """Cluster with the given parameters."""
    _run(ctx, kwargs, search=False)


@clus.command()
@_common_options
@click.pass_context
def search(ctx: click.Context, **kwargs: object) -> None:
    """Try a grid of k (and eps/min-samples), score by silhouette and track agreement, keep the best."""
    _run(ctx, kwargs, search=True)
