"""A sample archive pip cannot download is found on pip's index page, as pip would find it."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from skelshop.errors import SkelshopError
from skelshop.samples import fetch

PKG = next(p for p in fetch.PACKAGES if p.client == "pypi-file")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_index(tmp_path: Path, sample_media: Path) -> Iterator[tuple[str, Path]]:
    """A PEP 503 simple index on 127.0.0.1 whose page links the cached archive elsewhere."""
    root = tmp_path / "index"
    project = PKG.spec.split("==")[0]
    (root / "simple" / project).mkdir(parents=True)
    (root / "files" / "ab").mkdir(parents=True)
    shutil.copy(sample_media.parent / "downloads" / PKG.filename, root / "files" / "ab")
    (root / "simple" / project / "index.html").write_text(
        f'<a href="../../files/ab/other-1.0.tar.gz">other</a>\n'
        f'<a href="../../files/ab/{PKG.filename}#sha256={PKG.sha256}">{PKG.filename}</a>\n')
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", root
    finally:
        server.shutdown()
        server.server_close()


def test_archive_found_on_the_configured_index(local_index, tmp_path: Path, monkeypatch) -> None:
    index, _ = local_index
    monkeypatch.setenv("PIP_INDEX_URL", index)
    got = fetch._download(PKG, tmp_path)
    assert got.name == PKG.filename and fetch._sha256(got) == PKG.sha256


def test_missing_or_altered_archive_is_one_error(local_index, tmp_path: Path,
                                                 monkeypatch) -> None:
    index, root = local_index
    monkeypatch.setenv("PIP_INDEX_URL", index)
    archive = root / "files" / "ab" / PKG.filename
    archive.write_bytes(archive.read_bytes()[:-10])
    (tmp_path / "a").mkdir()
    with pytest.raises(SkelshopError, match="sha256 mismatch"):
        fetch._download(PKG, tmp_path / "a")
    assert not list((tmp_path / "a").iterdir())
    archive.unlink()
    (tmp_path / "b").mkdir()
    with pytest.raises(SkelshopError, match="download failed"):
        fetch._download(PKG, tmp_path / "b")
    assert not list((tmp_path / "b").iterdir())
