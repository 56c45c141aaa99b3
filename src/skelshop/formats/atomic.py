"""Write outputs through a temp file renamed into place, so no half-written file survives."""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Iterator
from pathlib import Path

from skelshop.errors import SkelshopError

# `.NAME.PID.part`: the PID says whose temp file it is, so a later run can tell a dead
# process's leftovers (SIGKILL, power loss) from a live writer's file.
_PART = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.part$")


def temp_name(target: Path) -> Path:
    """The temp file this process writes before renaming it to `target`."""
    return target.with_name(f".{target.name}.{os.getpid()}.part")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_parts(folder: str | Path, name: str | None = None) -> list[Path]:
    """Delete temp files in `folder` (of output `name`, or all) whose writing process is dead."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _PART.match(entry.name)
        if not match or (name is not None and match["name"] != name):
            continue
        if not _alive(int(match["pid"])):
            with contextlib.suppress(OSError):
                entry.unlink()
                removed.append(entry)
    return removed


# Failures that belong to the output being written, whatever file name the OS error carries.
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO})


def write_error(path: str | Path, err: OSError) -> SkelshopError:
    """The one-line error for an output that could not be written (full disk, permission, I/O)."""
    text = str(err).splitlines()[0] if str(err) else ""
    return SkelshopError(path, err.strerror or text or type(err).__name__)


def _is_about_output(err: OSError, target: Path, tmp: Path) -> bool:
    if err.errno in _WRITE_ERRNOS:
        return True
    return err.filename is not None and Path(err.filename) in (target, tmp, target.parent)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it to `path` only if the block succeeds.

    An OS error about the output itself (a full disk, a folder that cannot be made or
    written) becomes a SkelshopError naming `path`; other errors pass through unchanged.
    """
    target = Path(path)
    tmp = temp_name(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(target.parent, target.name)
        yield tmp
        os.replace(tmp, target)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if _is_about_output(err, target, tmp):
            raise write_error(target, err) from None
        raise
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_text(path: str | Path, newline: str = "") -> Iterator:
    """Open a text file for writing that appears at `path` only when complete."""
    with atomic_path(path) as tmp, tmp.open("w", newline=newline, encoding="utf-8") as handle:
        yield handle
