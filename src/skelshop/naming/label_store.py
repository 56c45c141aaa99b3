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


class CorpusNameStore:
    """A corpus's names.csv as the labelling page changes it: names, merges, split tracks.

    The same interface as `LabelStore` (labels, set, skipped_before, path) plus merges
    ("same person as") and "not this person" records; every change is saved at once.
    """

    def __init__(self, path: str | Path):
        from skelshop.formats.corpus_names import read_corpus_names

        self.path = Path(path)
        self._lock = threading.Lock()
        self._names = read_corpus_names(self.path)
        self.skipped_before: list[str] = []

    def labels(self) -> dict[str, str]:
        """Cluster → name, merged clusters showing the name of the cluster they joined."""
        with self._lock:
            return self._labels_locked()

    def merges(self) -> dict[str, str]:
        """Cluster → the cluster it was said to be the same person as."""
        with self._lock:
            return dict(self._names.same_as)

    def not_this(self) -> list[tuple[str, int, int, str]]:
        """(video, shot, track, cluster) of every track split off a cluster."""
        with self._lock:
            return [(n.video, n.seg, n.skel_id, n.clus) for n in self._names.not_this]

    def set(self, clus: str, label: str) -> dict[str, str]:
        """Name a cluster (its own name: a merge of it is undone; empty: unnamed) and save."""
        if cluster_index(clus) is None:
            raise ValueError(f"{clus!r} is not a cluster name")
        label = clean_label(label)
        with self._lock:
            names = self._names
            merged = clus in names.same_as
            if (merged and label == names.name_of(clus)) or (
                    not merged and names.names.get(clus, "") == label):
                return self._labels_locked()  # nothing changes
            names.same_as.pop(clus, None)
            if label:
                names.names[clus] = label
            else:
                names.names.pop(clus, None)
            self._save()
            return self._labels_locked()

    def merge(self, clus: str, other: str) -> None:
        """Say `clus` is the same person as `other` ('' undoes it) and save."""
        if cluster_index(clus) is None or (other and cluster_index(other) is None):
            raise ValueError("not a cluster name")
        with self._lock:
            names = self._names
            if other and names.resolve(other) == clus:
                raise ValueError(f"{other} is already merged into {clus}")
            if other == clus:
                raise ValueError("a cluster is the same person as itself")
            if other:
                own = names.names.pop(clus, None)  # its name is the other's from now on...
                target = names.resolve(other)
                if own and not names.names.get(target):  # ...unless the other has none yet
                    names.names[target] = own
                names.same_as[clus] = other
            else:
                names.same_as.pop(clus, None)
            self._save()

    def split(self, clus: str, video: str, seg: int, skel_id: int) -> None:
        """Record that a track is not the person of `clus` and save."""
        from skelshop.formats.corpus_names import NotThisPerson

        record = NotThisPerson(video, int(seg), int(skel_id), clus)
        with self._lock:
            if record not in self._names.not_this:
                self._names.not_this.append(record)
                self._save()

    def unsplit(self, clus: str, video: str, seg: int, skel_id: int) -> None:
        """Undo `split`: the track is the person of `clus` after all; save."""
        from skelshop.formats.corpus_names import NotThisPerson

        record = NotThisPerson(video, int(seg), int(skel_id), clus)
        with self._lock:
            if record in self._names.not_this:
                self._names.not_this = [n for n in self._names.not_this if n != record]
                self._save()

    def _labels_locked(self) -> dict[str, str]:
        clusters = set(self._names.names) | set(self._names.same_as)
        found = {c: self._names.name_of(c) for c in clusters}
        return {c: name for c, name in found.items() if name}

    def _save(self) -> None:
        from skelshop.formats.corpus_names import write_corpus_names

        write_corpus_names(self.path, self._names)
