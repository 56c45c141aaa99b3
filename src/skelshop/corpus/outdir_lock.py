"""One corpus run at a time per OUTDIR: a lock file naming the process that holds it."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from skelshop.errors import SkelshopError

LOCK_NAME = ".skelshop.lock"


def _holder(lock: Path) -> dict | None:
    """The lock's content, or None when it is gone or unreadable (being written)."""
    try:
        data = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _is_stale(holder: dict) -> bool:
    """Only a lock of this host whose process is dead can be taken over safely."""
    try:
        pid = int(holder.get("pid", -1))
    except (TypeError, ValueError):
        return True
    return holder.get("host") == socket.gethostname() and (pid <= 0 or not _pid_alive(pid))


def _describe(holder: dict | None) -> str:
    if holder is None:
        return "another skelshop process"
    since = holder.get("since")
    when = time.strftime(" since %Y-%m-%d %H:%M:%S", time.localtime(since)) \
        if isinstance(since, int | float) else ""
    command = holder.get("command")
    doing = f", running `skelshop {command}`" if isinstance(command, str) and command else ""
    return f"skelshop process {holder.get('pid')} on host {holder.get('host')}{when}{doing}"


def _remove_stale(lock: Path, holder: dict) -> None:
    """Remove a dead run's lock (SIGKILL, power loss), never a live one that replaced it."""
    aside = lock.with_name(f"{lock.name}.{os.getpid()}.stale")
    try:
        os.rename(lock, aside)  # atomic: of two runs taking over, only one moves the file
    except FileNotFoundError:
        return
    if _holder(aside) != holder:  # another run took over in between: put its lock back
        with contextlib.suppress(OSError):
            os.link(aside, lock)
    with contextlib.suppress(OSError):
        aside.unlink()


@contextlib.contextmanager
def outdir_lock(out_dir: Path, command: str = "corpus run") -> Iterator[Path]:
    """Hold OUTDIR/.skelshop.lock for the block; refuse when a live process holds it."""
    lock = out_dir / LOCK_NAME
    content = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                          "since": int(time.time()), "command": command})
    for _attempt in range(3):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _holder(lock)
            if holder is not None and _is_stale(holder):
                _remove_stale(lock, holder)
                continue
            serving = isinstance(holder, dict) and str(holder.get("command", "")
                                                       ).startswith("corpus label")
            wait = ("stop that labelling page (Ctrl-C in its terminal)" if serving
                    else "wait for it to finish")
            raise SkelshopError(out_dir, f"in use by {_describe(holder)} (lock file {lock}); "
                                         f"{wait}, or delete the lock file if that process "
                                         "is gone") from None
        except OSError as err:
            raise SkelshopError(out_dir, f"cannot create the lock file: {err.strerror or err}") \
                from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(content)
        except OSError as err:
            with contextlib.suppress(OSError):
                lock.unlink()
            raise SkelshopError(lock, f"cannot write: {err.strerror or err}") from None
        break
    else:
        raise SkelshopError(out_dir, f"could not take over the stale lock file {lock}")
    try:
        yield lock
    finally:
        if (_holder(lock) or {}).get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                lock.unlink()
