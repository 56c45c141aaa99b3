"""`whoisthis --thumbview-cmd`: the original terminal route, saving after every answer."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from skelshop.formats.identifications import Identification, read_identifications
from skelshop.formats.proto_index import ProtoIndexRow, write_proto_index


@pytest.fixture
def protodir(tmp_path: Path) -> Path:
    root = tmp_path / "protos"
    sizes = {"c0": 9, "c1": 7, "c2": 5, "c3": 2}
    for clus in sizes:
        (root / clus).mkdir(parents=True)
        (root / clus / "v000f00001p0.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    write_proto_index(root, [ProtoIndexRow(c, n, 1) for c, n in sizes.items()])
    return root


def whoisthis(protodir: Path, out: Path, viewer: str, answers: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "skelshop", "iden", "whoisthis", str(protodir), str(out),
         "--thumbview-cmd", viewer],
        input=answers, capture_output=True, text=True, timeout=120, check=False)


def answer_while_shown(protodir: Path, out: Path, viewer: str, shown: Path,
                       dialogue: list[tuple[str | None, str]]) -> subprocess.CompletedProcess:
    """Answer each question once the viewer shows the expected folder (None: asked again)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "skelshop", "iden", "whoisthis", str(protodir), str(out),
         "--thumbview-cmd", viewer],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None
    count = 0
    for clus, answer in dialogue:
        if clus is not None:
            count += 1
            deadline = time.monotonic() + 60
            while len(shown.read_text().split()) < count if shown.exists() else True:
                assert time.monotonic() < deadline, f"the viewer never showed {clus}"
                time.sleep(0.05)
            assert shown.read_text().split()[count - 1] == str(protodir / clus)
        proc.stdin.write(answer + "\n")
        proc.stdin.flush()
    stdout, stderr = proc.communicate(timeout=60)  # closes stdin: end of input
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def test_answers_are_saved_as_given_and_reopening_resumes(protodir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ids.csv"
    shown = tmp_path / "shown.txt"
    # A stand-in viewer that notes which folder it was asked to show, then stays open.
    viewer = f"sh -c 'echo \"$0\" >> {shown}; exec sleep 60'"
    proc = answer_while_shown(protodir, out, viewer, shown, [
        ("c0", "Ada Lovelace"), ("c1", ""), ("c2", "=c9"), (None, "=c0"), ("c3", "quit")])
    assert proc.returncode == 0, proc.stderr
    assert read_identifications(out) == [Identification("Ada Lovelace", "c0"),
                                         Identification("Ada Lovelace", "c2")]
    assert "c9 has no name yet" in proc.stdout + proc.stderr

    shown.unlink()
    proc = answer_while_shown(protodir, out, viewer, shown, [("c1", "Grace Hopper")])
    assert proc.returncode == 0, proc.stderr
    assert read_identifications(out) == [Identification("Ada Lovelace", "c0"),
                                         Identification("Grace Hopper", "c1"),
                                         Identification("Ada Lovelace", "c2")]


def test_missing_viewer_is_a_clear_error(protodir: Path, tmp_path: Path) -> None:
    proc = whoisthis(protodir, tmp_path / "ids.csv", "no-such-viewer-xyz -t", "")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: no-such-viewer-xyz: cannot start the image viewer")


def test_not_a_prototype_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = whoisthis(tmp_path / "empty", tmp_path / "ids.csv", "true", "")
    assert proc.returncode == 2
    assert "holds no c<k> cluster folders" in proc.stderr


def test_resume_from_the_originals_file_and_control_characters(protodir: Path,
                                                               tmp_path: Path) -> None:
    """`,c1` (the original's skipped row) loads; a name with a control character is asked again."""
    out = tmp_path / "cluster.identifications.csv"
    out.write_text("label,clus\nAda Lovelace,c0\n,c1\n")
    shown = tmp_path / "shown.txt"
    viewer = f"sh -c 'echo \"$0\" >> {shown}; exec sleep 60'"
    proc = answer_while_shown(protodir, out, viewer, shown, [
        ("c1", "Grace\x07Hopper"), (None, "Grace Hopper"), ("c2", "quit")])
    assert proc.returncode == 0, proc.stderr
    assert "not saved: a name cannot contain the control character U+0007" in proc.stderr
    assert read_identifications(out) == [Identification("Ada Lovelace", "c0"),
                                         Identification("Grace Hopper", "c1")]


def test_output_inside_the_prototype_folder_is_refused(protodir: Path) -> None:
    index = protodir / "index.csv"
    before = index.read_bytes()
    proc = whoisthis(protodir, index, "true", "")
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {index}: "), proc.stderr
    assert index.read_bytes() == before
