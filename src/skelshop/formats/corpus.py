"""The one reader and writer of corpus description CSVs (a row per video)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.csv_table import read_csv_table, write_csv_table

REQUIRED = ("video", "faces")
KNOWN = ("video", "faces", "segsout", "group", "group_typ")


@dataclass
class CorpusEntry:
    """One video of a corpus with its artifacts (absolute paths) and passthrough columns."""

    video: Path
    faces: Path
    segsout: Path | None = None
    group: Path | None = None
    group_typ: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _resolve(value: str, base: Path | None, path: Path, lineno: int, column: str) -> Path:
    candidate = Path(value)
    if candidate.is_absolute():
        return candidate
    if base is None:
        raise SkelshopError(
            path, f"line {lineno}: {column} {value!r} is relative; pass --corpus-base"
        )
    return base / candidate


def read_corpus(path: str | Path, corpus_base: str | Path | None = None,
                check_files: bool = True) -> list[CorpusEntry]:
    """Read a corpus CSV, resolving relative paths against `corpus_base`."""
    path = Path(path)
    base = Path(corpus_base) if corpus_base is not None else None
    entries = []
    for lineno, rec in read_csv_table(path, REQUIRED, "corpus CSV"):
        def get(col: str, rec: dict = rec, lineno: int = lineno) -> Path | None:
            value = (rec.get(col) or "").strip()
            return _resolve(value, base, path, lineno, col) if value else None

        faces = get("faces")
        if faces is None:
            raise SkelshopError(path, f"line {lineno}: empty faces column")
        entry = CorpusEntry(
            video=get("video") or Path(""),
            faces=faces,
            segsout=get("segsout"),
            group=get("group"),
            group_typ=(rec.get("group_typ") or "").strip() or None,
            extra={k: v for k, v in rec.items() if k not in KNOWN},
        )
        if check_files and not entry.faces.is_file():
            raise SkelshopError(path, f"line {lineno}: face dump {entry.faces} does not exist")
        entries.append(entry)
    if not entries:
        raise SkelshopError(path, "the corpus has no videos")
    return entries


def write_corpus(path: str | Path, entries: list[CorpusEntry]) -> None:
    """Write a corpus CSV with absolute paths and any passthrough columns."""
    extra_cols = sorted({k for e in entries for k in e.extra})
    write_csv_table(path, [*KNOWN, *extra_cols], (
        [e.video, e.faces, e.segsout or "", e.group or "", e.group_typ or "",
         *(e.extra.get(c, "") for c in extra_cols)]
        for e in entries
    ))
