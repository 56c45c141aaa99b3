"""Write HDF5 outputs so that a full disk (or any failed write) is one clean error, never a crash.

When the HDF5 library's own file driver hits "No space left on device", the file cannot be
closed: HDF5 keeps the half-closed file and its dirty caches, and the interpreter crashes with
a segmentation fault at exit while trying to flush them again. So HDF5 never writes to the disk
itself here: it writes through `_GuardedSink`, a Python file object that reports success to
HDF5 whatever happens, remembers the first OSError, keeps everything written after it in
memory (so HDF5 reads back what it wrote and closes normally), and lets `hdf5_output` raise a
SkelshopError naming the output once HDF5 has closed. The temp file is then removed
(`atomic_path`), so nothing is left at the output path.

Ctrl-C / SIGTERM land in the sink's Python code while HDF5 is in the middle of a call; raising
there would fail that HDF5 call the same way. The sink finishes the operation, remembers the
interrupt and `hdf5_output` raises it once HDF5 has closed the file.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import h5py

from skelshop.errors import SkelshopError
from skelshop.formats.atomic import atomic_path, write_error

T = TypeVar("T")


class _GuardedSink:
    """A seekable binary file for h5py's `fileobj` driver that never fails towards HDF5."""

    def __init__(self, raw: io.FileIO):
        self._fd = raw.fileno()
        self._pos = 0
        self._size = 0
        self.error: OSError | None = None
        self.interrupt: BaseException | None = None
        # After a failure: (offset, bytes) written since, applied over the disk contents.
        self._overlay: list[tuple[int, bytes]] = []

    def _shielded(self, operation: Callable[[], T]) -> T:
        """Run one file operation to completion even if a signal handler raises inside it."""
        while True:
            try:
                return operation()
            except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM as the CLI raises it
                self.interrupt = self.interrupt or exc  # operations are idempotent: redo

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the position (HDF5 seeks before every read and write)."""
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos}.get(whence, self._size)
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        """The current position."""
        return self._pos

    def seekable(self) -> bool:
        """Always seekable."""
        return True

    def write(self, data: bytes | memoryview) -> int:
        """Write at the position; a failed disk write is remembered, never raised."""
        blob, at = bytes(data), self._pos
        self._shielded(lambda: self._write_at(at, blob))
        self._pos = at + len(blob)
        self._size = max(self._size, self._pos)
        return len(blob)

    def _write_at(self, at: int, blob: bytes) -> None:
        if self.error is None:
            try:
                view, done = memoryview(blob), 0
                while done < len(view):  # os.pwrite may write less than asked
                    done += os.pwrite(self._fd, view[done:], at + done)
                return
            except OSError as err:
                self.error = err
        self._overlay.append((at, blob))

    def readinto(self, buffer: memoryview | bytearray) -> int:
        """Read at the position: the disk's bytes with later (in-memory) writes on top."""
        at = self._pos
        want = min(len(buffer), max(0, self._size - at))
        data = self._shielded(lambda: self._read_at(at, want))
        buffer[:want] = data
        self._pos = at + want
        return want

    def _read_at(self, at: int, want: int) -> bytearray:
        data = bytearray(want)
        if want:
            try:
                got = os.pread(self._fd, want, at)
                data[: len(got)] = got
            except OSError as err:
                self.error = self.error or err
        for offset, blob in self._overlay:
            lo, hi = max(offset, at), min(offset + len(blob), at + want)
            if lo < hi:
                data[lo - at: hi - at] = blob[lo - offset: hi - offset]
        return data

    def read(self, size: int = -1) -> bytes:
        """Read `size` bytes (all remaining when negative)."""
        buffer = bytearray(max(0, self._size - self._pos) if size < 0 else size)
        got = self.readinto(buffer)
        return bytes(buffer[:got])

    def truncate(self, size: int | None = None) -> int:
        """Set the file's length (HDF5 sets it to its end of allocation when closing)."""
        size = self._pos if size is None else size
        self._shielded(lambda: self._truncate_to(size))
        self._size = size
        return size

    def _truncate_to(self, size: int) -> None:
        if self.error is None:
            try:
                os.ftruncate(self._fd, size)
            except OSError as err:
                self.error = err

    def flush(self) -> None:
        """Nothing is buffered here; durability comes from fsync in `hdf5_output`."""


@contextlib.contextmanager
def hdf5_output(path: str | Path) -> Iterator[h5py.File]:
    """An HDF5 file open for writing that appears at `path` only when completely written.

    Any write failure (full disk, I/O error, permissions) raises SkelshopError(path, reason)
    after HDF5 has closed cleanly, and leaves no file behind.
    """
    target = Path(path)
    try:
        with atomic_path(target) as tmp, open(tmp, "w+b", buffering=0) as raw:
            sink = _GuardedSink(raw)
            with h5py.File(sink, "w") as h5:
                yield h5
            if sink.interrupt is not None:
                raise sink.interrupt
            if sink.error is not None:
                raise write_error(target, sink.error)
            os.fsync(raw.fileno())  # a delayed-allocation ENOSPC shows up here, not later
    except SkelshopError:
        raise
    except OSError as err:
        raise write_error(target, err) from None
