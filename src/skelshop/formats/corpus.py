"""The one reader and writer of corpus description CSVs (a row per video).

Paths in a corpus CSV follow the original SkelShop's rule: absolute, or relative to
`--corpus-base`. A corpus CSV that skelshop writes (`corpus run`) is marked by a last column
`skelshop_base` holding `.` on every row: its relative paths resolve against the folder that
holds the CSV, so the OUTDIR can be used from any working directory and moved as a whole.

Columns are written in the order the original's positional reader expects
(`group,group_typ,faces,segsout`, then `video`); its DictReader-based reader takes the extra
columns as they are, so the original's commands read skelshop's corpus CSVs with
`--corpus-base OUTDIR`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.csv_table import read_csv_table, write_csv_table

log = logging.getLogger(__name__)

REQUIRED = ("video", "faces")
KNOWN = ("video", "faces", "segsout", "group", "group_typ")
# The original's `read_corpus_desc` reads columns 0-3 by position as group, group_typ, faces, segsout.
WRITE_ORDER = ("group", "group_typ", "faces", "segsout", "video")
BASE_COLUMN = "skelshop_base"
BASE_HERE = "."  # the only value written: paths are relative to the CSV's own folder
GROUP_TYPES = ("psd", "ffprobe")  # as skelshop.formats.scenes.SCENE_FORMATS
PATH_COLUMNS = ("video", "faces", "segsout", "group")


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
    if "\0" in value:
        raise SkelshopError(path, f"line {lineno}: {column} holds a NUL byte")
    candidate = Path(value)
    if candidate.is_absolute():
        return candidate
    if base is None:
        raise SkelshopError(
            path, f"line {lineno}: {column} {value!r} is relative; pass --corpus-base"
        )
    return base / candidate


def _is_skelshop_written(rows: list[tuple[int, dict[str, str]]]) -> bool:
    return bool(rows) and all(rec.get(BASE_COLUMN, "").strip() == BASE_HERE for _, rec in rows)


def _base_folder(path: Path, rows: list[tuple[int, dict[str, str]]],
                 corpus_base: str | Path | None) -> Path | None:
    """The folder relative paths resolve against: the CSV's own for skelshop's CSVs."""
    if not _is_skelshop_written(rows):
        return Path(corpus_base) if corpus_base is not None else None
    own = Path(os.path.abspath(path)).parent
    if corpus_base is not None and Path(os.path.abspath(corpus_base)) != own:
        # An old habit (`--corpus-base OUTDIR`) must not send us to OUTDIR/OUTDIR/videos.
        log.warning("%s: written by skelshop, its paths are relative to its own folder %s; "
                    "ignoring --corpus-base %s", path, own, corpus_base)
    return own


def read_corpus(path: str | Path, corpus_base: str | Path | None = None,
                check_files: bool = True) -> list[CorpusEntry]:
    """Read a corpus CSV; relative paths resolve against its folder (skelshop's) or `corpus_base`."""
    path = Path(path)
    rows = read_csv_table(path, REQUIRED, "corpus CSV")
    base = _base_folder(path, rows, corpus_base)
    entries: list[CorpusEntry] = []
    seen: dict[Path, int] = {}
    for lineno, rec in rows:
        def get(col: str, rec: dict = rec, lineno: int = lineno) -> Path | None:
            value = (rec.get(col) or "").strip()
            return _resolve(value, base, path, lineno, col) if value else None

        faces = get("faces")
        if faces is None:
            raise SkelshopError(path, f"line {lineno}: empty faces column")
        group_typ = (rec.get("group_typ") or "").strip() or None
        if group_typ is not None and group_typ not in GROUP_TYPES:
            raise SkelshopError(path, f"line {lineno}: group_typ {group_typ!r} is not one of "
                                      f"{', '.join(GROUP_TYPES)}")
        key = Path(os.path.abspath(faces))
        if key in seen:
            # Counting one dump twice would double its faces in clustering and in the scores.
            raise SkelshopError(path, f"line {lineno}: the face dump {faces} is already on "
                                      f"line {seen[key]}; remove the duplicate row")
        seen[key] = lineno
        entry = CorpusEntry(
            video=get("video") or Path(""),
            faces=faces,
            segsout=get("segsout"),
            group=get("group"),
            group_typ=group_typ,
            extra={k: v for k, v in rec.items() if k not in KNOWN and k != BASE_COLUMN},
        )
        if check_files and not entry.faces.is_file():
            raise SkelshopError(path, f"line {lineno}: face dump {entry.faces} does not exist")
        entries.append(entry)
    if not entries:
        raise SkelshopError(path, "the corpus has no videos")
    return entries


def _relative(value: Path | None, folder: Path) -> str:
    """A path inside `folder` relative to it; anything else absolute."""
    if value is None or str(value) == "":
        return ""
    absolute = Path(os.path.abspath(value))
    return absolute.relative_to(folder).as_posix() if absolute.is_relative_to(folder) \
        else str(absolute)


def write_corpus(path: str | Path, entries: list[CorpusEntry]) -> None:
    """Write a skelshop corpus CSV: paths inside its folder relative to it, others absolute."""
    folder = Path(os.path.abspath(path)).parent
    extra_cols = sorted({k for e in entries for k in e.extra} - {BASE_COLUMN})
    write_csv_table(path, [*WRITE_ORDER, *extra_cols, BASE_COLUMN], (
        [_relative(e.group, folder), e.group_typ or "", _relative(e.faces, folder),
         _relative(e.segsout, folder), _relative(e.video, folder),
         *(e.extra.get(c, "") for c in extra_cols), BASE_HERE]
        for e in entries
    ))
