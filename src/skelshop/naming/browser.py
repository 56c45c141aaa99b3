"""Open a URL in a graphical browser, only when one can be shown."""

from __future__ import annotations

import os
import sys
import webbrowser


def graphical_session() -> bool:
    """Whether a browser window could appear (a display on Linux; always on macOS and Windows)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_in_browser(url: str) -> bool:
    """Open `url` in a graphical browser; False when there is none (a text browser would take
    over the terminal the server is printing to, so those are never used)."""
    if not graphical_session():
        return False
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    if type(browser) is webbrowser.GenericBrowser:  # lynx, w3m, links: console browsers
        return False
    try:
        return bool(browser.open(url, new=2))
    except OSError:
        return False
