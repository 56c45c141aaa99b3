"""Identification precision/recall/F over (video, shot, track) and clustering scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skelshop.cluster.metrics import Scores, bcubed_scores, nmi, pairwise_scores
from skelshop.errors import SkelshopError
from skelshop.formats.identity import NOCLUS, is_person_name
from skelshop.formats.truth import Key, TruthRow


@dataclass
class Evaluation:
    """All scores of one prediction file."""

    tracks: int  # truth rows scored
    unmatched: int  # truth rows with no prediction row
    identification: Scores
    true_positives: int
    false_positives: int
    false_negatives: int
    pairwise: Scores
    bcubed: Scores
    nmi: float
    unscored: list[Key] = field(default_factory=list)  # predicted tracks the truth lacks


def evaluate(pred: dict[Key, str], truth: list[TruthRow], video: str | None = None,
             truth_path: str | Path = "") -> Evaluation:
    """Score predictions on the truth rows; predicted tracks without truth are listed, not scored.

    With `video`, only that video's truth rows are scored.
    """
    if video is not None:
        name = Path(video).name
        truth = [t for t in truth if t.video == name]
        if not truth:
            raise SkelshopError(truth_path, f"no truth rows for --video {name}")
    tp = fp = fn = unmatched = 0
    for t in truth:
        label = pred.get((t.video, t.seg, t.skel_id))
        unmatched += label is None
        named = label is not None and is_person_name(label)
        if named and label == t.label and t.in_refs:
            tp += 1
        else:
            fp += named
            fn += t.in_refs
    identification = Scores(tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0)
    truth_ids = _codes([t.label for t in truth])
    pred_labels = [pred.get((t.video, t.seg, t.skel_id), NOCLUS) for t in truth]
    pred_ids = _codes(pred_labels)
    pred_ids[np.array([p == NOCLUS for p in pred_labels], dtype=bool)] = -1
    truth_keys = {(t.video, t.seg, t.skel_id) for t in truth}
    unscored = sorted(k for k in pred if k not in truth_keys)
    return Evaluation(len(truth), unmatched, identification, tp, fp, fn,
                      pairwise_scores(truth_ids, pred_ids), bcubed_scores(truth_ids, pred_ids),
                      nmi(truth_ids, pred_ids), unscored)


def _codes(labels: list[str]) -> np.ndarray:
    _, codes = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)
    return codes.astype(np.int64)
