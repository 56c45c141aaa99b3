"""The report page and subtitles from report contents: every track shown, words, layout."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from skelshop.report.contents import Appearance, ReportContents, VideoSection
from skelshop.report.page import render
from skelshop.report.subtitles import write_subtitles

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
NAMED_BY = {"noclus": "none"}


def _contents(rows: list[tuple[str, int, int, float, float, str]],
              durations: dict[str, float]) -> ReportContents:
    """Report contents as gather() makes them, from (video, seg, track, start, end, label) rows."""
    sections = {}
    for video, length in durations.items():
        shots = sorted({(s, e) for v, _, _, s, e, _ in rows if v == video}) or [(0.0, length)]
        sections[video] = VideoSection(video, length, shots)
    people: dict[str, list[Appearance]] = {}
    for video, seg, track, start, end, label in rows:
        named_by = NAMED_BY.get(label, "cluster" if re.fullmatch(r"c\d+", label) else "direct")
        app = Appearance(f"/media/{video}", seg, track, start, end, label, named_by,
                         0.25 if named_by == "direct" else None, None)
        sections[video].appearances.setdefault(seg, []).append(app)
        people.setdefault(app.person_key, []).append(app)
    return ReportContents(list(sections.values()), people, 0.6)


class _Text(HTMLParser):
    """The page's visible text (no tags, no attributes, no style)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip = tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip = False

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """Whitespace-normalised visible text of a page."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


NO_REFS = _contents([
    ("franck.mp4", 0, 0, 0.0, 200.0, "noclus"),
    ("cap12.mp4", 0, 0, 0.0, 53.5, "c0"),
    ("cap13.mp4", 0, 0, 0.0, 30.6, "c0"),
    ("carphone.mp4", 0, 0, 0.0, 4.0, "noclus"),
], {"franck.mp4": 200.0, "cap12.mp4": 53.5, "cap13.mp4": 30.6, "carphone.mp4": 4.0})


def test_every_track_is_on_the_page_without_references() -> None:
    html = render(NO_REFS)
    text = visible_text(html)
    # franck, on screen for 3:20 in one unclustered track, is in "Who appears" with his time.
    who = text.split("Who appears", 1)[1].split("Videos", 1)[0]
    assert "Unnamed person in franck.mp4, shot 0 3:20 on screen" in who
    assert "Unnamed person in carphone.mp4, shot 0 0:04 on screen" in who
    assert "Unnamed person 0 1:24 on screen · 2 shots · 2 videos" in who
    assert html.count('class="person"') == 3
    assert html.count('class="gallery"') == 3, "a gallery for every person, unclustered ones too"
    assert "0 people named · 3 unnamed people" in text


def test_page_uses_words_and_plurals() -> None:
    contents = _contents([("a.mp4", 0, 0, 0.0, 5.0, "ann"), ("a.mp4", 1, 0, 5.0, 9.0, "c7")],
                         {"a.mp4": 9.0})
    text = visible_text(render(contents))
    assert "1 video · 2 shots · 2 face tracks · 1 person named · 1 unnamed person" in text
    assert not re.search(r"\b1 (people|clusters|videos|shots|tracks)\b", text)
    assert "d=" not in text
    assert "distance to the closest reference photo 0.25; the same person is below 0.60" in text
    # Raw labels appear only where the page says what they are.
    for match in re.finditer(r"\b(noclus|c\d+)\b", text):
        assert text[match.end():].startswith(" in the CSV files"), text[match.start() - 40:match.end() + 40]
    assert "Unnamed person 7" in text and "person 7" in text


def test_subtitles_name_clusters_by_default(tmp_path: Path) -> None:
    contents = _contents([("a.mp4", 0, 0, 0.0, 5.0, "ann\n\nWEBVTT --> x"),
                          ("a.mp4", 0, 1, 0.0, 5.0, "c3"),
                          ("a.mp4", 1, 0, 5.0, 9.0, "c12"),
                          ("a.mp4", 2, 0, 9.0, 10.0, "noclus")], {"a.mp4": 10.0})
    [vtt] = write_subtitles(contents, tmp_path / "all")
    text = vtt.read_text()
    assert "00:00:00.000 --> 00:00:05.000\nann WEBVTT -> x, person c3\n" in text
    assert "00:00:05.000 --> 00:00:09.000\nperson c12\n" in text
    assert "00:00:09.000" not in text.split("00:00:05.000 --> 00:00:09.000")[1], \
        "an unclustered track gets no cue"
    [named] = write_subtitles(contents, tmp_path / "named", named_only=True)
    assert "person c" not in named.read_text() and "ann" in named.read_text()


def _many_short_shots() -> ReportContents:
    rows = []
    labels = ["Alexandria Ocasio-Cortez Jr.", "c12", "noclus", "Bob"]
    for i in range(40):
        rows.append(("a-rather-long-video-file-name-of-a-news-broadcast.mp4", i, 0, i * 0.4,
                     i * 0.4 + 0.4, labels[i % 4]))
        if i % 5 == 0:
            rows.append(("a-rather-long-video-file-name-of-a-news-broadcast.mp4", i, 1, i * 0.4,
                         i * 0.4 + 0.4, "Maximilian Wolfgang von Habsburg-Lothringen"))
    rows.append(("a-rather-long-video-file-name-of-a-news-broadcast.mp4", 40, 0, 16.0, 80.0, "Bob"))
    return _contents(rows, {"a-rather-long-video-file-name-of-a-news-broadcast.mp4": 80.0})


# Every box that holds text must lie within its shot card, every card within its video, and
# nothing may widen the page beyond the viewport.
OVERFLOW_JS = """() => {
  const bad = [];
  const inside = (a, b) => a.left >= b.left - 0.5 && a.right <= b.right + 0.5;
  for (const shot of document.querySelectorAll('.shot')) {
    const box = shot.getBoundingClientRect();
    for (const el of shot.querySelectorAll('.time, .track, .label'))
      if (!inside(el.getBoundingClientRect(), box)) bad.push('shot child ' + el.textContent);
    if (!inside(box, shot.closest('.video').getBoundingClientRect())) bad.push('shot ' + shot.textContent);
  }
  for (const el of document.querySelectorAll('.person, .gallery, .video'))
    if (el.getBoundingClientRect().right > window.innerWidth + 0.5) bad.push('card ' + el.className);
  if (document.documentElement.scrollWidth > window.innerWidth) bad.push('page wider than viewport');
  return bad;
}"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not at /usr/bin/chromium")
@pytest.mark.parametrize("width", [390, 1280])
def test_short_shots_stay_in_their_boxes(tmp_path: Path, width: int) -> None:
    from playwright.sync_api import sync_playwright

    html = render(_many_short_shots(), "skelshop report: a long corpus name for a narrow phone")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.set_content(html)
            bad = page.evaluate(OVERFLOW_JS)
            page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
        finally:
            browser.close()
    assert bad == [], bad
    assert (tmp_path / f"report-{width}.png").stat().st_size > 0
