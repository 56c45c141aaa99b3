"""External clustering quality against ground truth: pairwise, BCubed, NMI.

Noise: a predicted label < 0 means "not clustered". Every noise point counts as a
cluster of its own (a singleton), in every metric here. So noise never creates a false
pair (it cannot hurt precision) but loses all of that point's true pairs (it costs
recall), which is what a user of the clusters experiences. Ground truth labels must all
be >= 0 (a true singleton is simply a label used once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix


@dataclass(frozen=True)
class Scores:
    """Precision, recall and their harmonic mean."""

    precision: float
    recall: float

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 0.0 if total == 0 else 2 * self.precision * self.recall / total


def noise_as_singletons(labels: np.ndarray) -> np.ndarray:
    """Give every noise point (label < 0) a fresh label of its own."""
    labels = np.asarray(labels, dtype=np.int64).copy()
    noise = labels < 0
    labels[noise] = labels.max(initial=-1) + 1 + np.arange(int(noise.sum()))
    return labels


def _check(truth: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(truth)
    pred = np.asarray(pred)
    if truth.shape != pred.shape or truth.ndim != 1:
        raise ValueError("truth and prediction must be 1-D arrays of equal length")
    if len(truth) and truth.min() < 0:
        raise ValueError("ground truth labels must be >= 0")
    return truth, noise_as_singletons(pred)


def pairwise_scores(truth: np.ndarray, pred: np.ndarray) -> Scores:
    """Precision and recall over pairs of points put in the same cluster."""
    truth, pred = _check(truth, pred)
    table = contingency_matrix(truth, pred, sparse=True)
    cell = table.data.astype(np.float64)
    together = float((cell * (cell - 1)).sum() / 2)
    pred_sizes = np.asarray(table.sum(axis=0), dtype=np.float64).ravel()
    true_sizes = np.asarray(table.sum(axis=1), dtype=np.float64).ravel()
    pred_pairs = float((pred_sizes * (pred_sizes - 1)).sum() / 2)
    true_pairs = float((true_sizes * (true_sizes - 1)).sum() / 2)
    # No predicted pairs: nothing wrong was claimed (precision 1); likewise for recall.
    return Scores(together / pred_pairs if pred_pairs else 1.0,
                  together / true_pairs if true_pairs else 1.0)


def bcubed_scores(truth: np.ndarray, pred: np.ndarray) -> Scores:
    """BCubed precision and recall (Bagga & Baldwin), averaged over points."""
    truth, pred = _check(truth, pred)
    if len(truth) == 0:
        return Scores(1.0, 1.0)
    table = contingency_matrix(truth, pred, sparse=True).tocoo()
    cell = table.data.astype(np.float64)
    pred_sizes = np.asarray(table.sum(axis=0), dtype=np.float64).ravel()
    true_sizes = np.asarray(table.sum(axis=1), dtype=np.float64).ravel()
    # each of the n_ij points in cell (i, j) has precision n_ij / |pred j|, recall n_ij / |true i|
    n = len(truth)
    precision = float((cell * cell / pred_sizes[table.col]).sum() / n)
    recall = float((cell * cell / true_sizes[table.row]).sum() / n)
    return Scores(precision, recall)


def nmi(truth: np.ndarray, pred: np.ndarray) -> float:
    """Normalised mutual information (arithmetic normalisation), noise as singletons."""
    truth, pred = _check(truth, pred)
    return float(normalized_mutual_info_score(truth, pred))
