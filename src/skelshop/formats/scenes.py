"""Shot lists: the one reader and writer of PySceneDetect CSVs and ffprobe cut lists.

Frame numbers are decoded frame indices (0-based; the CSV shows them 1-based as PySceneDetect
does). The CSV's timecode and seconds columns are the frames' real times when the shot list
carries them (`ShotList.seconds`, from the decoded timestamps), so they stay right for
variable-frame-rate video, where `frame / fps` is not a frame's time.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelshop.errors import SkelshopError
from skelshop.formats.atomic import atomic_text
from skelshop.formats.scene_formats import SCENE_FORMATS

__all__ = ["SCENE_FORMATS", "ShotList", "guess_format", "read_shots", "write_shots_csv"]

# Frame numbers above this are no video's (10^12 frames is 1300 years at 24 fps); it also
# keeps every number well inside int64.
MAX_FRAME = 10**12


@dataclass(frozen=True)
class ShotList:
    """Shots of one video as half-open frame ranges [starts[i], starts[i+1])."""

    starts: np.ndarray  # int64, strictly increasing, starts[0] == 0
    end: int | None  # frame after the last shot; None when the file does not say
    # float64 (len + 1,): seconds at each shot's first frame, then at the end of the last
    # shot; None when not known (an ffprobe cut list, a CSV without times).
    seconds: np.ndarray | None = None
    # Line of the scenes file each start comes from (0: the implicit start at frame 0).
    lines: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.starts) == 0 or self.starts[0] != 0:
            raise ValueError("a shot list starts at frame 0")
        if self.seconds is not None and len(self.seconds) != len(self.starts) + 1:
            raise ValueError("shot seconds need one entry per shot and one for the end")

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

    def shot_seconds(self, shot: int) -> tuple[float, float] | None:
        """[start, end) seconds of one shot from the frames' timestamps; None when not known."""
        if self.seconds is None:
            return None
        return float(self.seconds[shot]), float(self.seconds[shot + 1])

    def line_of(self, shot: int) -> int | None:
        """The scenes-file line that starts a shot (None for the implicit first shot)."""
        if self.lines is None or not self.lines[shot]:
            return None
        return self.lines[shot]

    def with_times(self, frame_times: np.ndarray, end_time: float) -> ShotList:
        """This shot list with its seconds taken from each decoded frame's time."""
        times = np.append(np.asarray(frame_times, dtype=np.float64), float(end_time))
        # A start past the last decoded frame (a scenes file a frame or two longer than the
        # video, within tolerance) is at the video's end.
        seconds = np.append(times[np.minimum(self.starts, len(times) - 1)], float(end_time))
        return ShotList(self.starts, self.end, seconds, self.lines)

    @classmethod
    def from_cuts(cls, cuts: list[int] | np.ndarray, end: int | None,
                  lines: list[int] | None = None) -> ShotList:
        """A shot list from the frames where new shots begin (0 and repeats are dropped).

        `lines` (one per cut) records where each cut came from, for error messages.
        """
        cut_array = np.asarray(cuts, dtype=np.int64).reshape(-1)
        line_of = {0: 0}
        for i, cut in enumerate(cut_array.tolist()):
            line_of.setdefault(int(cut), lines[i] if lines is not None else 0)
        starts = np.unique(np.concatenate([[0], cut_array]))
        if end is not None:
            starts = starts[starts < max(end, 1)]
        kept = tuple(line_of[int(s)] for s in starts) if lines is not None else None
        return cls(starts.astype(np.int64), end, None, kept)


def guess_format(path: str | Path) -> str:
    """`ffprobe` for .txt cut lists, `psd` otherwise."""
    return "ffprobe" if Path(path).suffix.lower() == ".txt" else "psd"


def read_shots(path: str | Path, fmt: str | None = None) -> ShotList:
    """Read a PySceneDetect CSV (0.5 and current layouts) or an ffprobe cut list."""
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such scenes file")
    fmt = fmt or guess_format(path)
    if fmt not in SCENE_FORMATS:
        raise SkelshopError(path, f"unknown scenes format {fmt!r} (use psd or ffprobe)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SkelshopError(path, "not a text scenes file") from None
    except OSError as err:
        raise SkelshopError(path, f"cannot read ({err.strerror or err})") from None
    if "\x00" in text:
        raise SkelshopError(path, "not a text scenes file (binary data)")
    if fmt == "ffprobe":
        return _read_ffprobe(path, text)
    return _read_psd(path, text)


def _frame_number(path: Path, lineno: int, token: str, what: str = "frame number") -> int:
    """A whole, finite, non-negative frame number, or a one-line error naming the line."""
    shown = repr(token[:40])
    try:
        value = float(token)
    except ValueError:
        raise SkelshopError(path, f"line {lineno}: not a {what}: {shown}") from None
    if not math.isfinite(value):
        raise SkelshopError(path, f"line {lineno}: {what} {shown} is not a finite number")
    if value < 0:
        raise SkelshopError(path, f"line {lineno}: {what} {shown} is negative")
    if value > MAX_FRAME:
        raise SkelshopError(path, f"line {lineno}: {what} {shown} is beyond any video's length")
    if value != int(value):
        raise SkelshopError(path, f"line {lineno}: {what} {shown} is not a whole number")
    return int(value)


def _read_ffprobe(path: Path, text: str) -> ShotList:
    lines = text.splitlines()
    cuts, cut_lines = [], []
    for lineno, line in enumerate(lines, 1):
        token = line.strip()
        if token:
            cuts.append(_frame_number(path, lineno, token))
            cut_lines.append(lineno)
    if lines and not cuts:
        # The original's `ffprobe -show_entries frame=pkt_pts` writes one blank line per cut
        # since ffprobe 5 removed pkt_pts: the cuts were lost, not absent. An empty file is
        # a video without cuts.
        raise SkelshopError(
            path, f"{len(lines)} blank line(s) and no frame numbers: a broken cut extraction "
            "(ffprobe >= 5 writes blank lines for 'frame=pkt_pts'; use 'frame=pts' or "
            "'skelshop shots detect'); an empty file means a video without cuts",
        )
    return ShotList.from_cuts(cuts, None, cut_lines)


def _seconds(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _read_psd(path: Path, text: str) -> ShotList:
    rows = list(csv.reader(text.splitlines()))
    header_at = next(
        (i for i, row in enumerate(rows) if row and "Start Frame" in row), None
    )
    if header_at is None:
        raise SkelshopError(path, "not a PySceneDetect CSV (no 'Start Frame' header)")
    header = rows[header_at]
    if "End Frame" not in header:
        raise SkelshopError(path, f"line {header_at + 1}: no 'End Frame' column in the header")
    col_start, col_end = header.index("Start Frame"), header.index("End Frame")
    time_cols = [header.index(name) if name in header else None
                 for name in ("Start Time (seconds)", "End Time (seconds)")]
    starts, ends, start_secs, end_secs, lines = [], [], [], [], []
    for lineno, row in enumerate(rows[header_at + 1 :], header_at + 2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(col_start, col_end):
            raise SkelshopError(path, f"line {lineno}: bad scene row (too few columns)")
        starts.append(_frame_number(path, lineno, row[col_start].strip(), "start frame"))
        ends.append(_frame_number(path, lineno, row[col_end].strip(), "end frame"))
        lines.append(lineno)
        for col, out in zip(time_cols, (start_secs, end_secs), strict=True):
            out.append(_seconds(row[col]) if col is not None and col < len(row) else None)
    if not starts:
        raise SkelshopError(path, "no scenes in file")
    # PySceneDetect >= 0.6 writes 1-based start frames and inclusive (1-based) end frames;
    # 0.5 wrote 0-based starts and exclusive ends. The first scene tells them apart.
    offset = 1 if starts[0] == 1 else 0
    begin = np.asarray(starts, dtype=np.int64) - offset
    if begin[0] != 0 or np.any(np.diff(begin) <= 0):
        raise SkelshopError(path, "scene start frames must begin at the first frame and increase")
    if ends[-1] <= begin[-1]:
        raise SkelshopError(path, f"line {lines[-1]}: the last scene ends (frame {ends[-1]}) "
                                  "before it starts")
    seconds = None
    times = [*start_secs, end_secs[-1]]
    if all(t is not None for t in times) and all(b > a for a, b in itertools.pairwise(times)):
        seconds = np.asarray(times, dtype=np.float64)
    return ShotList(begin, int(ends[-1]), seconds, (0, *lines[1:]))


def _timecode(secs: float) -> str:
    hours, rem = divmod(secs, 3600)
    minutes, seconds = divmod(rem, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{seconds:06.3f}"


def write_shots_csv(path: str | Path, shots: ShotList, fps: float) -> None:
    """Write PySceneDetect's current CSV layout (1-based start, inclusive end frames).

    Times come from `shots.seconds` (the frames' timestamps) when present, else frame / fps.
    A failed write (full disk) raises SkelshopError naming `path` and leaves nothing there.
    """
    if shots.end is None:
        raise ValueError("writing a scenes CSV needs the video's frame count")

    def at(shot: int) -> tuple[float, float]:
        known = shots.shot_seconds(shot)
        if known is not None:
            return known
        start, end = shots.bounds(shot)
        return start / fps, end / fps

    try:
        with atomic_text(path) as handle:
            out = csv.writer(handle, lineterminator="\n")
            out.writerow(["Timecode List:", *(_timecode(at(i)[0]) for i in range(1, len(shots)))])
            out.writerow([
                "Scene Number", "Start Frame", "Start Timecode", "Start Time (seconds)",
                "End Frame", "End Timecode", "End Time (seconds)", "Length (frames)",
                "Length (timecode)", "Length (seconds)",
            ])
            for idx in range(len(shots)):
                start, end = shots.bounds(idx)
                t_start, t_end = at(idx)
                out.writerow([
                    idx + 1, start + 1, _timecode(t_start), f"{t_start:.3f}",
                    end, _timecode(t_end), f"{t_end:.3f}", end - start,
                    _timecode(t_end - t_start), f"{t_end - t_start:.3f}",
                ])
    except OSError as err:
        raise SkelshopError(path, err.strerror or str(err) or "write failed") from None
