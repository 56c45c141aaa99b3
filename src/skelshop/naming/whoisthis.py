"""Run the labelling page until Ctrl-C; every change is already on disk when it stops."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from skelshop.naming.browser import open_in_browser
from skelshop.naming.label_store import CorpusNameStore, LabelStore
from skelshop.naming.labelling_server import LabellingApp, TrackKey, open_server


def serve_labelling_page(protodir: str | Path, store: LabelStore | CorpusNameStore,
                         port: int | None, suggestions: list[str], open_browser: bool,
                         say: Callable[[str], object],
                         image_tracks: dict[str, TrackKey] | None = None) -> None:
    """Serve the page on 127.0.0.1, print its URL, and stop cleanly on Ctrl-C."""
    app = LabellingApp(protodir, store, suggestions, image_tracks)
    for clus in app.stray_clusters():
        say(f"warning: {store.path} names {clus}, which {protodir} does not hold; kept as is")
    server = open_server(app, port)
    say(f"whoisthis: {len(app.clusters)} clusters, {len(store.labels())} named so far")
    say(f"open {server.url}  (Ctrl-C stops; every change is saved to {store.path} at once)")
    if open_browser and not open_in_browser(server.url):
        say("no graphical browser found: open the address above yourself")
    # Serving runs in a thread so Ctrl-C only ever interrupts the wait below, never the
    # server halfway through accepting a request.
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                               daemon=True)
    serving.start()
    try:
        while serving.is_alive():
            serving.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        # Joins request threads, so a save in progress finishes before the process ends.
        server.server_close()
    say(f"stopped; {len(store.labels())} names are in {store.path}")
