"""Shot lists: the one reader and writer of PySceneDetect CSVs and ffprobe cut lists."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelshop.errors import SkelshopError
from skelshop.formats.atomic import atomic_text

SCENE_FORMATS = ("psd", "ffprobe")


@dataclass(frozen=True)
class ShotList:
    """Shots of one video as half-open frame ranges [starts[i], starts[i+1])."""

    starts: np.ndarray  # int64, strictly increasing, starts[0] == 0
    end: int | None  # frame after the last shot; None when the file does not say

    def __post_init__(self) -> None:
        if len(self.starts) == 0 or self.starts[0] != 0:
            raise ValueError("a shot list starts at frame 0")

    def __len__(self) -> int:
        return len(self.starts)

    def shot_of(self, frames: np.ndarray | int) -> np.ndarray:
        """Shot index of each frame number."""
        return np.searchsorted(self.starts, frames, side="right") - 1

    def bounds(self, shot: int, num_frames: int | None = None) -> tuple[int, int]:
        """[start, end) of one shot; the last shot ends at `end` or `num_frames`."""
        start = int(self.starts[shot])
        if shot + 1 < len(self.starts):
            return start, int(self.starts[shot + 1])
        last = self.end if self.end is not None else num_frames
        if last is None:
            raise ValueError("the shot list does not say where the last shot ends")
        return start, int(last)

    @classmethod
    def from_cuts(cls, cuts: list[int] | np.ndarray, end: int | None) -> ShotList:
        """A shot list from the frames where new shots begin (0 and repeats are dropped)."""
        starts = np.unique(np.concatenate([[0], np.asarray(cuts, dtype=np.int64)]))
        if end is not None:
            starts = starts[starts < max(end, 1)]
        return cls(starts.astype(np.int64), end)


def guess_format(path: str | Path) -> str:
    """`ffprobe` for .txt cut lists, `psd` otherwise."""
    return "ffprobe" if Path(path).suffix.lower() == ".txt" else "psd"


def read_shots(path: str | Path, fmt: str | None = None) -> ShotList:
    """Read a PySceneDetect CSV (0.5 and current layouts) or an ffprobe cut list."""
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such scenes file")
    fmt = fmt or guess_format(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SkelshopError(path, "not a text scenes file") from None
    if fmt == "ffprobe":
        return _read_ffprobe(path, text)
    if fmt == "psd":
        return _read_psd(path, text)
    raise SkelshopError(path, f"unknown scenes format {fmt!r} (use psd or ffprobe)")


def _read_ffprobe(path: Path, text: str) -> ShotList:
    cuts = []
    for lineno, line in enumerate(text.splitlines(), 1):
        token = line.strip()
        if not token:
            continue
        try:
            cuts.append(int(float(token)))
        except ValueError:
            raise SkelshopError(path, f"line {lineno}: not a frame number: {token[:40]!r}") from None
    return ShotList.from_cuts(cuts, None)


def _read_psd(path: Path, text: str) -> ShotList:
    rows = list(csv.reader(text.splitlines()))
    header_at = next(
        (i for i, row in enumerate(rows) if row and "Start Frame" in row), None
    )
    if header_at is None:
        raise SkelshopError(path, "not a PySceneDetect CSV (no 'Start Frame' header)")
    header = rows[header_at]
    col_start, col_end = header.index("Start Frame"), header.index("End Frame")
    starts, ends = [], []
    for lineno, row in enumerate(rows[header_at + 1 :], header_at + 2):
        if not row or not any(cell.strip() for cell in row):
            continue
        try:
            starts.append(int(row[col_start]))
            ends.append(int(row[col_end]))
        except (ValueError, IndexError):
            raise SkelshopError(path, f"line {lineno}: bad scene row") from None
    if not starts:
        raise SkelshopError(path, "no scenes in file")
    # PySceneDetect >= 0.6 writes 1-based start frames and inclusive (1-based) end frames;
    # 0.5 wrote 0-based starts and exclusive ends. The first scene tells them apart.
    offset = 1 if starts[0] == 1 else 0
    begin = np.asarray(starts, dtype=np.int64) - offset
    if begin[0] != 0 or np.any(np.diff(begin) <= 0):
        raise SkelshopError(path, "scene start frames must begin at the first frame and increase")
    return ShotList(begin, int(ends[-1]))


def _timecode(frame: int, fps: float) -> str:
    secs = frame / fps
    hours, rem = divmod(secs, 3600)
    minutes, seconds = divmod(rem, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{seconds:06.3f}"


def write_shots_csv(path: str | Path, shots: ShotList, fps: float) -> None:
    """Write PySceneDetect's current CSV layout (1-based start, inclusive end frames)."""
    if shots.end is None:
        raise ValueError("writing a scenes CSV needs the video's frame count")
    with atomic_text(path) as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["Timecode List:", *(_timecode(int(s), fps) for s in shots.starts[1:])])
        out.writerow([
            "Scene Number", "Start Frame", "Start Timecode", "Start Time (seconds)",
            "End Frame", "End Timecode", "End Time (seconds)", "Length (frames)",
            "Length (timecode)", "Length (seconds)",
        ])
        for idx in range(len(shots)):
            start, end = shots.bounds(idx)
            length = end - start
            out.writerow([
                idx + 1, start + 1, _timecode(start, fps), f"{start / fps:.3f}",
                end, _timecode(end, fps), f"{end / fps:.3f}", length,
                _timecode(length, fps), f"{length / fps:.3f}",
            ])
