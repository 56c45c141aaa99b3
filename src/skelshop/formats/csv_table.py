"""Reading and writing the CSV tables of the other format modules, with one set of checks."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.atomic import atomic_text


def read_csv_table(path: str | Path, columns: Sequence[str], what: str,
                   skip_comments: bool = False) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a CSV with a header that has at least `columns`.

    A missing file, missing columns, a binary file or malformed CSV is a SkelshopError.
    """
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, f"no such {what}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = (line for line in handle if not (skip_comments and line.startswith("#")))
            reader = csv.DictReader(lines)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise SkelshopError(path, f"not a valid {what}: missing column(s) {', '.join(missing)}")
            rows = []
            for rec in reader:
                rows.append((reader.line_num, {k: v or "" for k, v in rec.items() if k is not None}))
            return rows
    except UnicodeDecodeError:
        raise SkelshopError(path, f"not a valid {what}: not UTF-8 text") from None
    except csv.Error as err:
        raise SkelshopError(path, f"malformed CSV ({err})") from None


def write_csv_table(path: str | Path, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Write a header and rows atomically (the file appears only when complete)."""
    with atomic_text(path) as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)
