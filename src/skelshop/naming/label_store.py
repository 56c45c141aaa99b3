"""The names given to clusters so far, saved to the identifications CSV on every change."""

from __future__ import annotations

import threading
from pathlib import Path

from skelshop.formats.identifications import (
    Identification,
    clean_label,
    cluster_index,
    read_identification_table,
    write_identifications,
)


class LabelStore:
    """Thread-safe cluster → name map that rewrites its CSV atomically after each change."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._labels: dict[str, str] = {}
        # Clusters the file lists with an empty label: skipped in an earlier session.
        self.skipped_before: list[str] = []
        if self.path.exists():
            table = read_identification_table(self.path)
            self._labels = {row.clus: row.label for row in table.named}
            self.skipped_before = table.skipped

    def labels(self) -> dict[str, str]:
        """A copy of the current cluster → name map."""
        with self._lock:
            return dict(self._labels)

    def set(self, clus: str, label: str) -> dict[str, str]:
        """Name a cluster (an empty name removes it) and save; returns the new map.

        ValueError (saying why) for a name that cannot be saved, e.g. with a NUL byte.
        """
        if cluster_index(clus) is None:
            raise ValueError(f"{clus!r} is not a cluster name")
        label = clean_label(label)  # single-line, no control characters
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
