"""`skelshop corpus label` as a real process, and Debian's chromium for the page tests."""

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


class LabelPage:
    """`skelshop corpus label` running as a real process; its stderr is collected."""

    def __init__(self, outdir: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "skelshop", "-q", "corpus", "label", str(outdir),
             "--port", "0", "--no-browser"], stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        self.url = ""
        while not self.url:
            try:
                line = self.lines.get(timeout=120)
            except queue.Empty:
                self.proc.kill()
                raise AssertionError(f"corpus label printed no URL: {self.log}") from None
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
            self.proc.kill()
            raise
        self.pump.join(timeout=30)  # it ends with the process's stderr
        while not self.lines.empty():
            self.log.append(self.lines.get())
        return code
