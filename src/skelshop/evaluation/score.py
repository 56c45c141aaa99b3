"""Identification precision/recall/F over (video, shot, track) and clustering scores."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelshop.cluster.metrics import Scores, bcubed_scores, nmi, pairwise_scores
from skelshop.errors import SkelshopError
from skelshop.formats.identity import NOCLUS, is_person_name
from skelshop.formats.truth import TruthRow

Key = tuple[str, int, int]


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


def read_predictions(path: str | Path) -> dict[Key, str]:
    """Labels by (video file name, seg, skel_id) from identities.csv or a `seg,skel_id,label` CSV."""
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such prediction file")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not {"seg", "skel_id", "label"} <= set(reader.fieldnames or []):
            raise SkelshopError(path, "needs columns seg, skel_id, label (and video for a corpus)")
        out = {}
        for lineno, rec in enumerate(reader, 2):
            try:
                key = (Path(rec.get("video") or "").name, int(rec["seg"]), int(rec["skel_id"]))
            except (TypeError, ValueError):
                raise SkelshopError(path, f"line {lineno}: bad row") from None
            out[key] = rec["label"]
    return out


def evaluate(pred: dict[Key, str], truth: list[TruthRow]) -> Evaluation:
    """Score predictions on the truth rows (rows of pred without truth are not scored)."""
    if not any(v for v, _, _ in pred):  # a single-video prediction: match on shot and track
        truth = [TruthRow("", t.seg, t.skel_id, t.label, t.in_refs) for t in truth]
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
    return Evaluation(len(truth), unmatched, identification, tp, fp, fn,
                      pairwise_scores(truth_ids, pred_ids), bcubed_scores(truth_ids, pred_ids),
                      nmi(truth_ids, pred_ids))


def _codes(labels: list[str]) -> np.ndarray:
    _, codes = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)
    return codes.astype(np.int64)
