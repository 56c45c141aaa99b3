"""The rules that keep unknown faces from being named, on embeddings placed at known distances."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from skelshop.formats.face_dump import EmbedderInfo, FaceDump, write_face_dump
from skelshop.formats.references import ReferenceSet, write_references
from skelshop.identify.direct import DirectParams, identify_tracks, reference_radii
from skelshop.identify.distances import ReferenceMatrix
from skelshop.identify.scoring import nearest_people
from skelshop.identify.settings import FaceRules

DLIB = EmbedderInfo("dlib_face_recognition_resnet_model_v1", "euclidean", 0.6)
DIM = 8
E = np.eye(DIM, dtype=np.float32)
# Person A at the origin, person B one unit along axis 1 (different people ~1 apart).
REFS = ReferenceSet(DLIB, ["a", "b"], [np.zeros((1, DIM), np.float32), E[1:2].copy()])
NO_RULE = FaceRules(0.0, 0.0, 0.0, 1, 0.0, False, clear_threshold=0.0)


def _face(to_a: float, toward_b: float = 0.0) -> np.ndarray:
    """A face `to_a` from A, moved `toward_b` of the way towards B (so nearer B's side)."""
    off = np.sqrt(max(to_a ** 2 - toward_b ** 2, 0.0))
    return (toward_b * E[1] + off * E[2]).astype(np.float32)


def _name(faces: list[np.ndarray], rules: FaceRules, heights: list[float] | None = None,
          clarity: list[float] | None = None, refs: ReferenceSet = REFS) -> list[str]:
    """Labels given to one track holding `faces` (boxes `heights` tall, `clarity` clear)."""
    n = len(faces)
    heights = heights or [120.0] * n
    clarity = clarity or [0.5] * n
    bbox = np.asarray([[0, 0, h, h] for h in heights], np.float32)
    quality = np.asarray([c * min(1.0, h / 100.0) for c, h in zip(clarity, heights,
                                                                   strict=True)], np.float32)
    found = identify_tracks(refs, np.stack(faces), np.zeros(n, np.int64), np.zeros(n, np.int64),
                            DirectParams.sparse(DLIB, rules=rules), bbox=bbox, quality=quality)
    return [f.label for f in found]


def test_nearest_people_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    refs = ReferenceSet(DLIB, ["p", "q", "empty", "r"],
                        [rng.normal(size=(3, DIM)).astype(np.float32),
                         rng.normal(size=(1, DIM)).astype(np.float32),
                         np.zeros((0, DIM), np.float32),
                         rng.normal(size=(2, DIM)).astype(np.float32)])
    faces = rng.normal(size=(200, DIM)).astype(np.float32)
    brute = np.stack([np.linalg.norm(faces[:, None] - e[None], axis=2).min(1)
                      if len(e) else np.full(len(faces), np.inf) for e in refs.embeddings], 1)
    order = np.sort(brute, axis=1)
    reach = float(np.median(order[:, 1]))  # half the faces have a second person within reach
    near = nearest_people(ReferenceMatrix.from_references(refs), faces, reach)
    within = order[:, 0] <= reach
    assert 0 < within.sum() < len(faces)
    assert np.array_equal(near.best, np.where(within, brute.argmin(1), -1))
    np.testing.assert_allclose(near.best_dist, np.where(within, order[:, 0], np.inf), atol=1e-5)
    np.testing.assert_allclose(near.second_dist, np.where(order[:, 1] <= reach, order[:, 1],
                                                          np.inf), atol=1e-5)


def test_main_rules_name_what_the_rules_reject() -> None:
    # One small, soft face 0.55 from A and only 0.05 nearer A than B: main names it.
    face = _face(0.55, 0.45)
    assert _name([face], FaceRules.main(), [30.0], [0.02]) == ["a"]
    assert _name([face], dataclasses.replace(NO_RULE, min_face_px=40)) == ["a"]
    assert _name([face], dataclasses.replace(NO_RULE, min_face_px=40), [30.0]) == []
    assert _name([face], dataclasses.replace(NO_RULE, min_clarity=0.1), clarity=[0.02]) == []
    assert _name([face], dataclasses.replace(NO_RULE, margin=0.1)) == []
    assert _name([face], dataclasses.replace(NO_RULE, min_votes=2)) == []
    assert _name([face, face], dataclasses.replace(NO_RULE, min_votes=2)) == ["a"]


def test_agreement_needs_most_faces_for_one_person() -> None:
    a, b = _face(0.3), E[1] + _face(0.3)
    rules = dataclasses.replace(NO_RULE, agreement=0.6)
    assert _name([a, a, b], rules) == ["a"]
    assert _name([a, b], rules) == []  # half and half: nobody
    assert _name([a, b], NO_RULE) in (["a"], ["b"])


def test_clear_faces_must_come_nearer() -> None:
    rules = dataclasses.replace(NO_RULE, clear_threshold=0.5, clear_face_px=100,
                                clear_clarity=0.3)
    lookalike = _face(0.56)
    assert _name([lookalike] * 3, rules, [200.0] * 3, [0.6] * 3) == []  # large and clear
    assert _name([lookalike] * 3, rules, [60.0] * 3, [0.6] * 3) == ["a"]  # small: 0.6 holds
    assert _name([_face(0.4)] * 3, rules, [200.0] * 3, [0.6] * 3) == ["a"]


def test_calibration_tightens_spread_out_references() -> None:
    spread = ReferenceSet(DLIB, ["wide", "tight", "single"],
                          [np.stack([_face(0.0), E[3] * 0.6, E[4] * 0.6]),
                           np.stack([_face(0.0), E[3] * 0.2]), E[5:6] * 3])
    radii = reference_radii(spread, 0.6, dataclasses.replace(NO_RULE, calibrate=True))
    assert radii[0] < 0.6 and radii[1] == radii[2] == 0.6
    assert np.all(reference_radii(spread, 0.6, NO_RULE) == 0.6)


def test_dump_without_boxes_is_not_judged_on_them() -> None:
    found = identify_tracks(REFS, np.stack([_face(0.3)] * 2), np.zeros(2, np.int64),
                            np.zeros(2, np.int64), DirectParams.sparse(DLIB))
    assert [f.label for f in found] == ["a"]


@pytest.mark.parametrize("extra,named", [((), []), (("--main-rules",), ["a"])])
def test_idsegssparse_options_choose_the_rules(tmp_path: Path, extra: tuple[str, ...],
                                               named: list[str]) -> None:
    from skelshop.cli.iden_refs import idsegssparse

    refs = tmp_path / "refs.h5"
    write_references(refs, REFS)
    faces = tmp_path / "v.faces.h5"
    # A stranger's track: one soft 30-px face just within A's radius.
    write_face_dump(faces, FaceDump(
        mode="sparse", video="v.mp4", num_frames=50, fps=25.0, embedder=DLIB,
        frame=np.asarray([10], np.uint32), pers=np.asarray([0], np.uint32),
        embed=_face(0.55, 0.45)[None], seg=np.zeros(1, np.int32),
        bbox=np.asarray([[0, 0, 30, 30]], np.float32), quality=np.asarray([0.006], np.float32)))
    scenes = tmp_path / "v.txt"
    scenes.write_text("")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(idsegssparse, [str(refs), str(scenes), str(faces), str(out),
                                               *extra])
    assert result.exit_code == 0, result.output
    rows = out.read_text().splitlines()[1:]
    assert [r.split(",")[2] for r in rows] == named
