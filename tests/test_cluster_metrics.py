"""Clustering metrics against brute-force definitions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from skelshop.cluster.metrics import bcubed_scores, nmi, noise_as_singletons, pairwise_scores


def brute_pairwise(truth: list[int], pred: list[int]) -> tuple[float, float]:
    pred = [p if p >= 0 else -1 - i for i, p in enumerate(pred)]  # noise: singletons
    same_t = same_p = both = 0
    for i, j in itertools.combinations(range(len(truth)), 2):
        t, p = truth[i] == truth[j], pred[i] == pred[j]
        same_t += t
        same_p += p
        both += t and p
    return (both / same_p if same_p else 1.0), (both / same_t if same_t else 1.0)


def brute_bcubed(truth: list[int], pred: list[int]) -> tuple[float, float]:
    pred = [p if p >= 0 else -1 - i for i, p in enumerate(pred)]
    n = len(truth)
    precision = recall = 0.0
    for i in range(n):
        same_p = [j for j in range(n) if pred[j] == pred[i]]
        same_t = [j for j in range(n) if truth[j] == truth[i]]
        correct = sum(truth[j] == truth[i] for j in same_p)
        precision += correct / len(same_p)
        recall += correct / len(same_t)
    return precision / n, recall / n


@pytest.mark.parametrize("seed", range(12))
def test_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    truth = rng.integers(0, rng.integers(1, 8), size=n)
    pred = rng.integers(-1, rng.integers(1, 8), size=n)  # -1: noise
    p = pairwise_scores(truth, pred)
    assert (p.precision, p.recall) == pytest.approx(brute_pairwise(truth.tolist(), pred.tolist()))
    b = bcubed_scores(truth, pred)
    assert (b.precision, b.recall) == pytest.approx(brute_bcubed(truth.tolist(), pred.tolist()))


def test_extremes() -> None:
    truth = np.array([0, 0, 0, 1, 1, 2])
    perfect = pairwise_scores(truth, truth + 5)
    assert perfect.f1 == 1.0
    assert bcubed_scores(truth, truth[::-1][::-1]).f1 == 1.0
    assert nmi(truth, truth + 3) == pytest.approx(1.0)
    # all noise: no false pair claimed, every true pair lost
    noise = pairwise_scores(truth, np.full(6, -1))
    assert (noise.precision, noise.recall, noise.f1) == (1.0, 0.0, 0.0)
    assert bcubed_scores(truth, np.full(6, -1)).precision == 1.0
    # one big cluster: every true pair found, precision = true pairs / all pairs
    lump = pairwise_scores(truth, np.zeros(6, int))
    assert lump.recall == 1.0
    assert lump.precision == pytest.approx((3 + 1) / math.comb(6, 2))


def test_noise_counts_as_singletons_not_a_cluster() -> None:
    truth = np.array([0, 0, 1, 1])
    # two noise points of different identities are not "together"
    assert pairwise_scores(truth, np.array([-1, 0, -1, 0])).precision == 0.0
    assert pairwise_scores(truth, np.array([-1, -1, 0, 0])).precision == 1.0
    assert noise_as_singletons(np.array([-1, 2, -1])).tolist() == [3, 2, 4]


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        pairwise_scores(np.array([0, -1]), np.array([0, 0]))
    with pytest.raises(ValueError):
        bcubed_scores(np.array([0, 1]), np.array([0]))
