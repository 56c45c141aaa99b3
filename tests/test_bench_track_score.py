"""The benchmark's per-track score (`b3F_trk`): the product's pooled track labels, noclus as singletons."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from skelshop.cluster.metrics import bcubed_scores
from skelshop.cluster.synthetic import face_like_tracks

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "cluster.py"


@pytest.fixture(scope="module")
def bench():
    """benchmarks/cluster.py as a module."""
    spec = importlib.util.spec_from_file_location("bench_cluster", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_cluster"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synth():
    """A small synthetic face set with tracks."""
    return face_like_tracks(2000, seed=0)


def test_truth_labels_score_one(bench, synth) -> None:
    """Face labels equal to the identities pool to tracks that score a perfect 1."""
    view = bench.track_view(synth.x, synth.identity, synth.track)
    assert bench.track_bcubed_f(view, synth.identity) == pytest.approx(1.0)


def test_noclus_tracks_are_singletons(bench, synth) -> None:
    """All-noise face labels: every track its own cluster, not one big noise cluster, and
    not each face alone (a track's faces stay together)."""
    view = bench.track_view(synth.x, synth.identity, synth.track)
    noise = np.full(len(synth.x), -1, dtype=np.int32)
    got = bench.track_bcubed_f(view, noise)
    expected = bcubed_scores(synth.identity, synth.track).f1
    assert got == pytest.approx(expected)
    assert got > bcubed_scores(synth.identity, np.arange(len(synth.x))).f1


def test_a_track_takes_its_majority(bench, synth) -> None:
    """One face of a three-face track relabelled: its track still takes the majority label."""
    view = bench.track_view(synth.x, synth.identity, synth.track)
    sizes = np.bincount(synth.track)
    track = int(np.flatnonzero(sizes == 3)[0])
    labels = synth.identity.copy()
    labels[np.flatnonzero(synth.track == track)[0]] = int(synth.identity.max()) + 1
    assert bench.track_bcubed_f(view, labels) == pytest.approx(1.0)
    assert bcubed_scores(synth.identity, labels).f1 < 1.0
