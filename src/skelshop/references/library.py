"""A REF argument: a folder of label folders (embedded on the fly) or a reference HDF5 file."""

from __future__ import annotations

from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.references import ReferenceSet, read_references
from skelshop.references.embedding import EmbedReport, embed_reference_folder


def load_reference_library(
    ref: str | Path, multi_face: str = "skip", progress: bool = True
) -> tuple[ReferenceSet, EmbedReport | None]:
    """Reference embeddings from a folder or a file; the report is None for files."""
    ref = Path(ref)
    if ref.is_dir():
        return embed_reference_folder(ref, multi_face=multi_face, progress=progress)
    if ref.is_file():
        return read_references(ref), None
    raise SkelshopError(ref, "no such reference folder or file")
