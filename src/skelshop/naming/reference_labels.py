"""Just the labels of a reference library, for name suggestions (nothing is embedded)."""

from __future__ import annotations

from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.references import read_references


def reference_labels(ref: str | Path) -> list[str]:
    """Label folder names of a reference folder, or the labels of a reference HDF5 file."""
    ref = Path(ref)
    if ref.is_dir():
        # As embedrefs reads them: real folders only, symbolic links are not followed.
        return sorted(p.name for p in ref.iterdir()
                      if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    if ref.is_file():
        return list(read_references(ref).labels)
    raise SkelshopError(ref, "no such reference folder or file")
