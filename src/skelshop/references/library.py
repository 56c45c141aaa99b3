"""A REF argument: a folder of label folders (embedded on the fly) or a reference HDF5 file."""

from __future__ import annotations

from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.faces.models import DEFAULT_EMBEDDER, DEFAULT_EMBEDDER_BACKEND
from skelshop.formats.identifications import clean_label
from skelshop.formats.references import ReferenceSet, read_references
from skelshop.references.embedding import EmbedReport, embed_reference_folder


def load_reference_library(
    ref: str | Path, multi_face: str = "skip", progress: bool = True,
    embedder: str = DEFAULT_EMBEDDER, backend: str = DEFAULT_EMBEDDER_BACKEND,
) -> tuple[ReferenceSet, EmbedReport | None]:
    """Reference embeddings from a folder or a file; the report is None for files."""
    ref = Path(ref)
    if ref.is_dir():
        return embed_reference_folder(ref, multi_face=multi_face, progress=progress,
                                      embedder=embedder, backend=backend)
    if ref.is_file():
        refs = read_references(ref)
        _check_labels(ref, refs.labels)
        return refs, None
    raise SkelshopError(ref, "no such reference folder or file")


def _check_labels(ref: Path, labels: list[str]) -> None:
    """Labels go into CSVs and pages: refuse a file whose labels are not one clean line each."""
    for label in labels:
        try:
            if clean_label(label) != label:
                raise ValueError("it has line breaks, tabs or stray spaces")
        except ValueError as err:
            raise SkelshopError(ref, f"label {label!r} cannot be used: {err}") from None
