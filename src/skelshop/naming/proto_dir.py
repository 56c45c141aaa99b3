"""What a prototype image folder holds: one `c<k>` folder of images per cluster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.identifications import cluster_index
from skelshop.formats.proto_index import read_proto_index

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})


@dataclass(frozen=True)
class ClusterImages:
    """A cluster's prototype images (paths relative to the folder) and its size."""

    clus: str
    images: list[str]
    members: int | None  # tracks in the cluster, when writeprotos could count them

    @property
    def size(self) -> int:
        """How big the cluster is, for ordering: members when known, else images."""
        return self.members if self.members is not None else len(self.images)


def is_served_image(path: Path) -> bool:
    """Whether a file may be served as a prototype image (by its suffix)."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def scan_proto_dir(protodir: str | Path) -> list[ClusterImages]:
    """List the clusters of a prototype folder, largest first (then by cluster number)."""
    protodir = Path(protodir)
    if not protodir.is_dir():
        raise SkelshopError(protodir, "no such prototype folder")
    index = read_proto_index(protodir) or {}
    clusters = []
    for sub in protodir.iterdir():
        if not sub.is_dir() or cluster_index(sub.name) is None:
            continue
        images = sorted(f"{sub.name}/{f.name}" for f in sub.iterdir()
                        if f.is_file() and is_served_image(f))
        entry = index.get(sub.name)
        clusters.append(ClusterImages(sub.name, images, entry.members if entry else None))
    if not clusters:
        raise SkelshopError(protodir, "holds no c<k> cluster folders (run `iden writeprotos` first)")
    clusters.sort(key=lambda c: (-c.size, cluster_index(c.clus)))
    return clusters
