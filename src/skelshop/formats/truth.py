"""The one reader of ground-truth identity files for `skelshop eval`.

Format: CSV with columns `video,seg,skel_id,label` and optionally `in_refs`.
- one row per (video, shot, track) that a person looked at; `label` names who it is
  (any name for people outside the references, e.g. `carphone-man`);
- `in_refs` (`true`/`false`, default `true`): whether that person is in the reference
  library, i.e. whether an identifier is expected to name them. People outside it still
  count for clustering scores, and naming them anything is a false positive.
- `video` may be a path or a file name: rows are matched on the file name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.csv_table import read_csv_table

COLUMNS = ("video", "seg", "skel_id", "label")
PREDICTION_COLUMNS = ("seg", "skel_id", "label")
Key = tuple[str, int, int]  # (video file name, shot, track)
TRUE_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class TruthRow:
    """Who one (video, shot, track) really is."""

    video: str
    seg: int
    skel_id: int
    label: str
    in_refs: bool = True


def read_truth(path: str | Path) -> list[TruthRow]:
    """Read a ground-truth CSV; duplicate keys and bad rows are errors naming the line."""
    rows, seen = [], set()
    for lineno, rec in read_csv_table(path, COLUMNS, "truth file", skip_comments=True):
        try:
            row = TruthRow(Path(rec["video"]).name, int(rec["seg"]), int(rec["skel_id"]),
                           rec["label"].strip(),
                           TRUE_WORDS[(rec.get("in_refs") or "true").strip().lower()])
        except (KeyError, ValueError):
            raise SkelshopError(path, f"row {lineno}: bad row") from None
        if not row.label:
            raise SkelshopError(path, f"row {lineno}: empty label")
        key = (row.video, row.seg, row.skel_id)
        if key in seen:
            raise SkelshopError(path, f"row {lineno}: duplicate row for {key}")
        seen.add(key)
        rows.append(row)
    if not rows:
        raise SkelshopError(path, "no truth rows")
    return rows


def read_predictions(path: str | Path, video: str | None = None) -> dict[Key, str]:
    """Labels by (video file name, seg, skel_id) of identities.csv or a `seg,skel_id,label` CSV.

    A `seg,skel_id,label` CSV (one video's, as `idsegs*` and `applymap` write) says nothing
    of its video: `video` names it, and is required. For identities.csv, `video` keeps
    only that video's rows.
    """
    rows = read_csv_table(path, PREDICTION_COLUMNS, "prediction CSV")
    has_video = bool(rows) and "video" in rows[0][1]
    if not has_video and not video:
        raise SkelshopError(path, "a seg,skel_id,label CSV does not say which video it is of; "
                                  "pass --video NAME (the video's file name in the truth)")
    wanted = Path(video).name if video else None
    out: dict[Key, str] = {}
    for lineno, rec in rows:
        try:
            name = Path(rec["video"]).name if has_video else wanted
            key = (name or "", int(rec["seg"]), int(rec["skel_id"]))
        except ValueError:
            raise SkelshopError(path, f"line {lineno}: bad row") from None
        if wanted is not None and key[0] != wanted:
            continue
        if key in out:
            raise SkelshopError(path, f"line {lineno}: a second row for video {key[0]}, shot "
                                      f"{key[1]}, track {key[2]}")
        out[key] = rec["label"]
    if wanted is not None and has_video and not out:
        raise SkelshopError(path, f"no rows for --video {wanted}")
    return out
