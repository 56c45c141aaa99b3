"""Page-serving commands (`corpus label`, `iden whoisthis`) as real processes, Debian's
chromium for the page tests, and what the corpus-label tests read back."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(),
                                    reason="Debian's chromium is not at /usr/bin/chromium")


@contextmanager
def browser_page(url: str, width: int = 1280) -> Iterator[Page]:
    """Debian's chromium (headless, through Playwright) showing `url`; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(url)
            yield page
        finally:
            browser.close()


class PageProcess:
    """A skelshop command serving a page (`--port 0 --no-browser`) as a real process; its
    stderr is collected in `log`, the page's address is `url`."""

    def __init__(self, *args: str | Path, url_timeout: float = 120):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "skelshop", *map(str, args), "--port", "0", "--no-browser"],
            stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        self.url = ""
        while not self.url:
            try:
                line = self.lines.get(timeout=url_timeout)
            except queue.Empty:
                self.proc.kill()
                raise AssertionError(f"{args} printed no URL: {self.log}") from None
            self.log.append(line)
            self.url = next((w for w in line.split() if w.startswith("http://")), "")

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def stop(self) -> int:
        """Ctrl-C, and wait for the process to end; what it printed since is in `log`."""
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # never leave a server behind a failed test
            raise
        self.pump.join(timeout=30)  # it ends with the process's stderr
        while not self.lines.empty():
            self.log.append(self.lines.get())
        return code


class LabelPage(PageProcess):
    """`skelshop corpus label OUTDIR` running as a real process."""

    def __init__(self, outdir: Path):
        super().__init__("-q", "corpus", "label", outdir)


def whoisthis(*args: str | Path) -> PageProcess:
    """`skelshop iden whoisthis ARGS` running as a real process."""
    return PageProcess("iden", "whoisthis", *args, url_timeout=60)


def labels_by_shot(out: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """A corpus's identities.csv as (video name, shot) -> (label, named_by); the corpora of
    these tests have one person per shot."""
    from skelshop.formats.corpus_identities import read_corpus_identities

    rows = read_corpus_identities(out / "identities.csv")
    found = {(Path(r.video).name, r.seg): (r.label, r.named_by) for r in rows}
    assert len(found) == len(rows), "one person per shot in these videos"
    return found


def franck_and_capman(ids: dict[tuple[str, int], tuple[str, str]]) -> tuple[str, str]:
    """The clusters of Franck (shot 0) and the capman (shot 1) in videos one.mp4 and two.mp4:
    each man one cluster across the two videos, c0 and c1."""
    franck, capman = ids[("one.mp4", 0)][0], ids[("one.mp4", 1)][0]
    assert ids[("two.mp4", 0)][0] == franck and ids[("two.mp4", 1)][0] == capman
    assert {franck, capman} == {"c0", "c1"}
    return franck, capman
