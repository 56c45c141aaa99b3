"""`skelshop iden applymap`: names onto segsout rows with a real CSV parser."""

import subprocess
import sys
from pathlib import Path

import pytest

from skelshop.formats.identity import read_identities


def skelshop(*args: str | Path) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess."""
    return subprocess.run([sys.executable, "-m", "skelshop", "-q", *map(str, args)],
                          capture_output=True, text=True, timeout=120, check=False)


SEGS = "seg,skel_id,label\n0,0,c0\n0,1,noclus\n1,0,c2\n2,3,c0\n3,1,c7\n"


@pytest.fixture
def segs(tmp_path: Path) -> Path:
    path = tmp_path / "video.segsout.csv"
    path.write_text(SEGS)
    return path


@pytest.fixture
def ids(tmp_path: Path) -> Path:
    path = tmp_path / "ids.csv"
    path.write_text('label,clus\n"Smith, John",c0\nQ76,c2\nQ1,c9\n')
    return path


def test_keep_unlabeled(segs: Path, ids: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    proc = skelshop("iden", "applymap", segs, ids, out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().splitlines() == [
        "seg,skel_id,label", '0,0,"Smith, John"', "0,1,noclus", "1,0,Q76", '2,3,"Smith, John"',
        "3,1,c7"]
    assert "3 rows named, 2 kept unnamed, 0 dropped; 1 named clusters not in this file" in proc.stderr


def test_filter_unlabeled(segs: Path, ids: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    proc = skelshop("iden", "applymap", segs, ids, out, "--filter-unlabeled")
    assert proc.returncode == 0, proc.stderr
    assert [(r.seg, r.skel_id, r.label) for r in read_identities(out)] == [
        (0, 0, "Smith, John"), (1, 0, "Q76"), (2, 3, "Smith, John")]


def test_times_are_kept(ids: Path, tmp_path: Path) -> None:
    segs = tmp_path / "timed.csv"
    segs.write_text("seg,skel_id,label,start,end\n0,0,c0,0.000,1.500\n1,2,c5,1.500,3.250\n")
    out = tmp_path / "out.csv"
    assert skelshop("iden", "applymap", segs, ids, out).returncode == 0
    assert out.read_text().splitlines() == [
        "seg,skel_id,label,start,end", '0,0,"Smith, John",0.000,1.500', "1,2,c5,1.500,3.250"]


@pytest.mark.parametrize(("ids_text", "problem"), [
    ("label,clus\nA,c0\nB,c0\n", "line 3: cluster c0 is already named 'A' on line 2"),
    ("label,clus\nA,noclus\n", "line 2: 'noclus' is not a cluster name (c<number>)"),
    ("label,clus\nA,franck\n", "line 2: 'franck' is not a cluster name (c<number>)"),
    ("label\nA\n", "not a valid identifications CSV: missing column(s) clus"),
])
def test_bad_identifications(segs: Path, tmp_path: Path, ids_text: str, problem: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(ids_text)
    out = tmp_path / "out.csv"
    proc = skelshop("iden", "applymap", segs, bad, out)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {bad}: {problem}"
    assert not out.exists()


def test_bad_segs_leave_no_output(ids: Path, tmp_path: Path) -> None:
    segs = tmp_path / "segs.csv"
    segs.write_text("seg,skel_id,label\n0,zero,c0\n")
    out = tmp_path / "out.csv"
    proc = skelshop("iden", "applymap", segs, ids, out)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {segs}: line 2")
    assert not out.exists()


def test_originals_skipped_rows(segs: Path, tmp_path: Path) -> None:
    """The original's whoisthis wrote `,c2` for a skipped cluster: it stays unnamed."""
    ids = tmp_path / "cluster.identifications.csv"
    ids.write_text("label,clus\nQ76,c0\n,c2\n,c7\n")
    out = tmp_path / "out.csv"
    proc = skelshop("iden", "applymap", segs, ids, out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().splitlines() == [
        "seg,skel_id,label", "0,0,Q76", "0,1,noclus", "1,0,c2", "2,3,Q76", "3,1,c7"]
    proc = skelshop("iden", "applymap", segs, ids, out, "--filter-unlabeled")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().splitlines() == ["seg,skel_id,label", "0,0,Q76", "2,3,Q76"]


@pytest.mark.parametrize("which", ["segs", "ids", "link"])
def test_output_over_an_input_is_refused(segs: Path, ids: Path, tmp_path: Path,
                                         which: str) -> None:
    before = {p: p.read_bytes() for p in (segs, ids)}
    out = {"segs": segs, "ids": ids, "link": tmp_path / "link.csv"}[which]
    if which == "link":
        out.symlink_to(segs)
    proc = skelshop("iden", "applymap", segs, ids, out)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {out}: "), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in (segs, ids)} == before
