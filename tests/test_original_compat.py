"""`skelshop iden idsegs*` on files exactly as the original SkelShop writes them (issue 9).

The original's dumps record OpenCV's container frame count, a few frames off the scenes file;
its `embedrefs` writes `[]` for a label whose images had no usable face; its full dumps hold an
`indices` entry per decoded frame.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
from naming_fixtures import faces_of, identities
from original_files import (
    write_original_full_dump,
    write_original_references,
    write_original_sparse_dump,
    write_psd05_scenes,
)

from skelshop.cli.main import main

DECODED_FRAMES = 203  # what a decoder delivers and PySceneDetect's scenes file ends at
OPENCV_COUNT = 200  # what the original wrote as num_frames


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture) -> tuple[int, str]:
    """The real entry point; exit code and stderr."""
    monkeypatch.setattr(sys, "argv", ["skelshop", *args])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


@pytest.fixture()
def people() -> np.ndarray:
    """Three identity centres: Q42, Q9 and a stranger."""
    return identities(3, seed=5)


@pytest.fixture()
def original_refs(tmp_path: Path, people: np.ndarray) -> Path:
    """The original's reference file: Q42 two images, Q7 no usable face (`[]`), Q9 one."""
    rng = np.random.default_rng(6)
    path = tmp_path / "refs.h5"
    write_original_references(path, {"Q42": list(faces_of(people[0], 2, rng)), "Q7": [],
                                     "Q9": list(faces_of(people[1], 1, rng))})
    return path


def _rows(path: Path) -> list[tuple[str, str, str]]:
    with path.open(newline="") as handle:
        return [(r["seg"], r["skel_id"], r["label"]) for r in csv.DictReader(handle)]


def test_idsegssparse_on_the_originals_files(tmp_path: Path, people: np.ndarray,
                                             original_refs: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(7)
    scenes = write_psd05_scenes(tmp_path / "news-Scenes.csv", [100], DECODED_FRAMES)
    targets = [(10, 0), (20, 0), (150, 0), (160, 1), (201, 0)]  # 201: past OpenCV's count
    embed = np.concatenate([faces_of(people[0], 2, rng), faces_of(people[1], 1, rng),
                            faces_of(people[2], 1, rng), faces_of(people[1], 1, rng)])
    faces = tmp_path / "news.faces.h5"
    write_original_sparse_dump(faces, "/corpus/news.mp4", OPENCV_COUNT, targets, embed)
    out = tmp_path / "ids.csv"
    code, err = run_cli(["iden", "idsegssparse", str(original_refs), str(scenes), str(faces),
                         str(out)], monkeypatch, capsys)
    assert code == 0, err
    assert _rows(out) == [("0", "0", "Q42"), ("1", "0", "Q9")]
    assert err.count("'Q7' has no embeddings") == 1 and "Traceback" not in err


def test_idsegsfull_on_the_originals_full_dump(tmp_path: Path, people: np.ndarray,
                                               original_refs: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(8)
    frames = [np.zeros((0, 128))] * DECODED_FRAMES
    for f in range(5, 16):
        frames[f] = faces_of(people[0], 1, rng)
    for f in [*range(120, 131), 201]:
        frames[f] = faces_of(people[1], 1, rng)
    faces = tmp_path / "news.full.h5"
    write_original_full_dump(faces, "/corpus/news.mp4", OPENCV_COUNT, frames)
    scenes = write_psd05_scenes(tmp_path / "news-Scenes.csv", [100], DECODED_FRAMES)
    out = tmp_path / "ids.csv"
    code, err = run_cli(["-q", "iden", "idsegsfull", str(original_refs), str(scenes), str(faces),
                         str(out)], monkeypatch, capsys)
    assert code == 0, err
    assert _rows(out) == [("0", "0", "Q42"), ("1", "0", "Q9")]


def test_scenes_of_another_video_still_refused(tmp_path: Path, people: np.ndarray,
                                               original_refs: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(9)
    faces = tmp_path / "news.faces.h5"
    write_original_sparse_dump(faces, "news.mp4", OPENCV_COUNT, [(10, 0)],
                               faces_of(people[0], 1, rng))
    scenes = write_psd05_scenes(tmp_path / "other-Scenes.csv", [100], 300)
    out = tmp_path / "ids.csv"
    code, err = run_cli(["-q", "iden", "idsegssparse", str(original_refs), str(scenes),
                         str(faces), str(out)], monkeypatch, capsys)
    assert code == 2 and not out.exists()
    assert err.strip() == (f"error: {scenes}: scenes end at frame 300 but the video of {faces} "
                           "has 200 frames: is this the scenes file of that video?")
