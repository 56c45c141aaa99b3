"""The names given to clusters so far, saved to the identifications CSV on every change."""

from __future__ import annotations

import threading
from pathlib import Path

from skelshop.formats.identifications import (
    Identification,
    cluster_index,
    read_identifications,
    write_identifications,
)


class LabelStore:
    """Thread-safe cluster → name map that rewrites its CSV atomically after each change."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._labels: dict[str, str] = {}
        if self.path.exists():
            self._labels = {row.clus: row.label for row in read_identifications(self.path)}

    def labels(self) -> dict[str, str]:
        """A copy of the current cluster → name map."""
        with self._lock:
            return dict(self._labels)

    def set(self, clus: str, label: str) -> dict[str, str]:
        """Name a cluster (an empty name removes it) and save; returns the new map."""
        if cluster_index(clus) is None:
            raise ValueError(f"{clus!r} is not a cluster name")
        label = " ".join(label.split())  # names are single-line; stray whitespace is noise
        with self._lock:
            if self._labels.get(clus, "") != label:
                if label:
                    self._labels[clus] = label
                else:
                    self._labels.pop(clus, None)
                self._save()
            return dict(self._labels)

    def _save(self) -> None:
        write_identifications(
            self.path, [Identification(label=lab, clus=c) for c, lab in self._labels.items()]
        )
