"""The per-shot checkpoint of an extraction: an append-only log of each finished shot's faces.

`<dump>.shots` sits next to the dump it will become. Its first record says what the run is
(video, its size and modification time, every setting); each later record holds one or more
finished shots' faces (`ShotFaces`) and the state to resume after them. Records are framed
(length, CRC-32) and synced to disk one by one, so a run killed at any moment, SIGKILL
included, leaves a log whose complete records are valid: the next run with the same video
and settings keeps them, drops a torn last record, and goes on after the last finished shot.
A log of another video or other settings is started afresh. The finished dump is written
from the log (`formats.face_dump.write_face_dump` with the chips streamed), then the log is
deleted.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skelshop.formats.atomic import write_error

MAGIC = b"SKSHOTS1"
_FRAME = struct.Struct("<QI")  # payload length, CRC-32 of the payload
SUFFIX = ".shots"

# Per-face arrays of a record, with their dtypes and trailing shapes (chip: optional).
FIELDS = {
    "frame": (np.uint32, ()),
    "pers": (np.uint32, ()),
    "seg": (np.int32, ()),
    "bbox": (np.float32, (4,)),
    "quality": (np.float32, ()),
    "chip_bbox": (np.float32, (5,)),
}


@dataclass
class ShotFaces:
    """The kept faces of finished shots (sorted by frame, then track) and the resume state."""

    embed: np.ndarray  # float32 (n, D)
    arrays: dict[str, np.ndarray]  # FIELDS
    chip: np.ndarray | None  # uint8 (n, 150, 150, 3), when chips are kept
    resume_frame: int  # the first frame after these shots: the next shot's first frame
    state: dict = field(default_factory=dict)  # counters to carry on with (JSON values)

    def __len__(self) -> int:
        return len(self.embed)


def log_path(dump_path: str | Path) -> Path:
    """Where the checkpoint of the dump at `dump_path` lives."""
    dump_path = Path(dump_path)
    return dump_path.with_name(dump_path.name + SUFFIX)


def video_stamp(video: str | Path) -> dict:
    """What identifies a video file's content cheaply: path, size, modification time."""
    st = os.stat(video)
    return {"video": str(video), "size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns)}


def _encode(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # chips: the log takes about what the dump will
    return buffer.getvalue()


def _record(payload: bytes) -> bytes:
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def _read_records(path: Path) -> Iterator[tuple[bytes, int]]:
    """The complete, intact records of a log, one at a time, each with the byte offset
    just after it (a log is read record by record: it holds the chips of a whole video)."""
    if not path.is_file():
        return
    with open(path, "rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            return
        pos = len(MAGIC)
        while True:
            head = fh.read(_FRAME.size)
            if len(head) < _FRAME.size:
                return
            length, crc = _FRAME.unpack(head)
            payload = fh.read(length)
            if len(payload) < length or zlib.crc32(payload) != crc:
                return  # torn by a kill mid-write: everything before it stands
            pos += _FRAME.size + length
            yield payload, pos


def _decode_shots(payload: bytes) -> ShotFaces:
    with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
        meta = json.loads(bytes(npz["meta"]).decode())
        return ShotFaces(
            embed=np.asarray(npz["embed"], dtype=np.float32),
            arrays={name: np.asarray(npz[name], dtype=dtype) for name, (dtype, _) in FIELDS.items()},
            chip=np.asarray(npz["chip"], dtype=np.uint8) if "chip" in npz.files else None,
            resume_frame=int(meta["resume_frame"]), state=dict(meta["state"]),
        )


class ShotLog:
    """Appends finished shots to the checkpoint of one dump; reads back what it holds."""

    def __init__(self, dump_path: str | Path, run: dict):
        """Open the log of `dump_path` for a run described by `run` (JSON values): kept if
        an earlier run wrote it with the same description, else started afresh."""
        self.path = log_path(dump_path)
        self.run = json.loads(json.dumps(run, sort_keys=True, default=str))  # as read back
        self.resumed: ShotFaces | None = None  # the last logged record
        kept, end = False, 0
        for number, (payload, end_at) in enumerate(_read_records(self.path)):
            if number == 0:
                try:
                    kept = json.loads(payload.decode()) == self.run
                except ValueError:
                    kept = False
                if not kept:
                    break
            else:
                self.resumed = _decode_shots(payload)
            end = end_at
        try:
            if kept:
                with open(self.path, "r+b") as fh:
                    fh.truncate(end)  # a torn last record
            else:
                self.resumed = None
                self.path.parent.mkdir(parents=True, exist_ok=True)  # as atomic outputs do
                header = _record(json.dumps(self.run, sort_keys=True).encode())
                with open(self.path, "wb") as fh:
                    fh.write(MAGIC + header)
                    fh.flush()
                    os.fsync(fh.fileno())
        except OSError as err:
            raise write_error(self.path, err) from None

    @property
    def resume_frame(self) -> int:
        """The first frame not covered by the shots already logged (0 for a fresh log)."""
        return self.resumed.resume_frame if self.resumed else 0

    @property
    def state(self) -> dict:
        """The resume state of the last logged shot (empty for a fresh log)."""
        return dict(self.resumed.state) if self.resumed else {}

    def append(self, shots: ShotFaces) -> None:
        """Add finished shots' faces; they are on disk when this returns."""
        arrays = {name: np.asarray(shots.arrays[name], dtype=dtype).reshape((-1, *shape))
                  for name, (dtype, shape) in FIELDS.items()}
        arrays["embed"] = np.asarray(shots.embed, dtype=np.float32)
        if shots.chip is not None:
            arrays["chip"] = np.asarray(shots.chip, dtype=np.uint8)
        meta = {"resume_frame": int(shots.resume_frame), "state": shots.state}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        try:
            with open(self.path, "ab") as fh:
                fh.write(_record(_encode(arrays)))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as err:
            raise write_error(self.path, err) from None

    def shots(self) -> Iterator[ShotFaces]:
        """Every logged record, in order (read from disk: chips are not held in memory)."""
        for number, (payload, _) in enumerate(_read_records(self.path)):
            if number:
                yield _decode_shots(payload)

    def remove(self) -> None:
        """Delete the log (its dump is complete)."""
        with contextlib.suppress(OSError):  # a leftover log is started afresh next time
            self.path.unlink(missing_ok=True)


def logged_records(dump_path: str | Path) -> int:
    """How many finished-shot records the checkpoint of `dump_path` holds (read only)."""
    return max(0, sum(1 for _ in _read_records(log_path(dump_path))) - 1)
