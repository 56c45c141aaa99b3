"""Write outputs through a temp file renamed into place, so no half-written file survives."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it to `path` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_text(path: str | Path, newline: str = "") -> Iterator:
    """Open a text file for writing that appears at `path` only when complete."""
    with atomic_path(path) as tmp, tmp.open("w", newline=newline, encoding="utf-8") as handle:
        yield handle
